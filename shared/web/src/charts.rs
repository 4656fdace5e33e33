//! The dashboard's charts, drawn server-side with plotters as inline SVG:
//! decisions per day by action, the autonomous share against the day-90
//! target (25–40%), the time to atpilot's reply against the 60 s
//! first-response target, and each category's approval rate against the 80% and
//! 90% lines of the promotion policy. Text in them is numbers, dates and
//! category names (`[a-z0-9-]`), and plotters escapes what it writes.

use atpilot_agent::html::trends::Trends;
use atpilot_domain::targets::{TARGET_AUTONOMOUS_MAX, TARGET_AUTONOMOUS_MIN, TARGET_FIRST_RESPONSE_SECS};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const ACTIONS: &[(&str, RGBColor)] = &[
    ("log-only", RGBColor(176, 186, 204)),
    ("internal-note", RGBColor(110, 142, 201)),
    ("request-approval", RGBColor(230, 159, 0)),
    ("autonomous", RGBColor(46, 125, 50)),
    ("escalate", RGBColor(179, 38, 30)),
];
const INK: RGBColor = RGBColor(29, 36, 51);
const MUTED: RGBColor = RGBColor(138, 147, 166);

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// plotters lays text out with a registered font even for SVG: the weekly
/// report's embedded DejaVu Sans (one copy in the repository).
const FONT: &[u8] = include_bytes!("../../weekly/fonts/DejaVuSans.ttf");

fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> String {
    static FONT_ONCE: std::sync::Once = std::sync::Once::new();
    FONT_ONCE.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::error!("the embedded chart font could not be read");
        }
    });
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.into())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.into()));
        if let Err(e) = drawn {
            tracing::warn!(error = %e, "a dashboard chart could not be drawn");
        }
    }
    out
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Each day's date under its column (the axis' own labels fall between days).
fn day_labels(root: &DrawingArea<SVGBackend, plotters::coord::Shift>, chart: &Chart<'_, '_>, t: &Trends) -> Drawn {
    for (i, d) in t.days.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        let style = ("sans-serif", 11).into_font().color(&MUTED).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(d.day.format("%m-%d").to_string(), (x, y + 6), style))?;
    }
    Ok(())
}

/// Decisions per day, stacked by action (oldest day left).
pub fn decisions_per_day(t: &Trends) -> String {
    let max = t.days.iter().map(|d| d.total()).max().unwrap_or(0).max(1);
    svg(560, 220, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Decisions per day, by action", ("sans-serif", 14).into_font().color(&INK))
            .margin(8)
            .margin_right(120)
            .x_label_area_size(24)
            .y_label_area_size(36)
            .build_cartesian_2d(0f64..t.days.len().max(1) as f64, 0f64..f64::from(max) * 1.1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(0)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 11).into_font().color(&MUTED))
            .draw()?;
        day_labels(root, &chart, t)?;
        for (i, d) in t.days.iter().enumerate() {
            let mut base = 0.0;
            for (action, color) in ACTIONS {
                let n = f64::from(d.counts.get(action).copied().unwrap_or(0));
                if n > 0.0 {
                    let x = i as f64;
                    chart.draw_series([Rectangle::new([(x + 0.15, base), (x + 0.85, base + n)], color.filled())])?;
                    base += n;
                }
            }
        }
        for (k, (action, color)) in ACTIONS.iter().enumerate() {
            let y = 34 + 16 * k as i32;
            root.draw(&Rectangle::new([(446, y), (456, y + 10)], color.filled()))?;
            root.draw(&Text::new(*action, (460, y), ("sans-serif", 11).into_font().color(&INK)))?;
        }
        Ok(())
    })
}

/// A value per day drawn as a line over its target band.
struct DailyLine<'a> {
    caption: &'a str,
    /// The y axis: 0 to `top`, its labels by `label`.
    top: f64,
    label: &'a dyn Fn(&f64) -> String,
    /// The target band (low, high) in y units.
    band: (f64, f64),
    /// (day index + 0.5, value) of the days with a value.
    points: Vec<(f64, f64)>,
    color: RGBColor,
    /// Said in the chart when no day has a value.
    empty: Option<&'a str>,
}

fn daily_line(t: &Trends, l: &DailyLine<'_>) -> String {
    svg(460, 220, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(l.caption, ("sans-serif", 13).into_font().color(&INK))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..t.days.len().max(1) as f64, 0f64..l.top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(l.label)
            .label_style(("sans-serif", 11).into_font().color(&MUTED))
            .draw()?;
        day_labels(root, &chart, t)?;
        let band = [(0.0, l.band.0), (t.days.len() as f64, l.band.1)];
        chart.draw_series([Rectangle::new(band, RGBColor(231, 246, 236).filled())])?;
        chart.draw_series(LineSeries::new(l.points.clone(), l.color.stroke_width(2)))?;
        chart.draw_series(l.points.iter().map(|p| Circle::new(*p, 3, l.color.filled())))?;
        if let Some(text) = l.empty.filter(|_| l.points.is_empty()) {
            root.draw(&Text::new(text, (170, 100), ("sans-serif", 12).into_font().color(&MUTED)))?;
        }
        Ok(())
    })
}

/// The autonomous share per day against the day-90 target band (25–40%).
pub fn autonomous_share(t: &Trends) -> String {
    let points =
        t.days.iter().enumerate().filter_map(|(i, d)| d.autonomous_share().map(|s| (i as f64 + 0.5, s))).collect();
    daily_line(
        t,
        &DailyLine {
            caption: "Resolved on its own, of in-scope decisions (target 25–40% by day 90)",
            top: 1.0,
            label: &|y| format!("{:.0}%", y * 100.0),
            band: (TARGET_AUTONOMOUS_MIN, TARGET_AUTONOMOUS_MAX),
            points,
            color: ACTIONS[3].1,
            empty: None,
        },
    )
}

/// The median time from a ticket's creation to atpilot's reply when it
/// acted on its own (its first response), per day, against the day-90
/// first-response target (60 s). Days without such a reply have no point.
pub fn reply_time(t: &Trends) -> String {
    // The axis stops at ten times the target: a slower day is drawn at the top edge.
    let cap = TARGET_FIRST_RESPONSE_SECS * 10.0;
    let points: Vec<(f64, f64)> =
        t.days.iter().enumerate().filter_map(|(i, d)| d.reply_p50_secs.map(|s| (i as f64 + 0.5, s.min(cap)))).collect();
    let top = points.iter().map(|p| p.1).fold(TARGET_FIRST_RESPONSE_SECS * 2.0, f64::max) * 1.1;
    daily_line(
        t,
        &DailyLine {
            caption: "First response when atpilot acts alone, median s (target < 60 s)",
            top,
            label: &|y| format!("{y:.0} s"),
            band: (0.0, TARGET_FIRST_RESPONSE_SECS),
            points,
            color: ACTIONS[1].1,
            empty: Some("No reply in 7 days"),
        },
    )
}

/// Each category's approval rate over 30 days, against the 80% and 90% lines.
pub fn approval_rates(t: &Trends) -> String {
    let rows: Vec<(&str, f64, u32)> =
        t.approval_rates.iter().filter_map(|r| r.rate().map(|x| (r.category.as_str(), x, r.judged))).collect();
    let height = 70 + 22 * rows.len().max(2) as u32;
    svg(460, height, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Approval rate per category, 30 days (lines: 80% and 90%)",
                ("sans-serif", 13).into_font().color(&INK),
            )
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(170)
            .build_cartesian_2d(0f64..1f64, 0f64..rows.len().max(1) as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels(0)
            .x_label_formatter(&|x| format!("{:.0}%", x * 100.0))
            .label_style(("sans-serif", 11).into_font().color(&MUTED))
            .draw()?;
        let m = rows.len() as f64;
        for (i, (category, rate, judged)) in rows.iter().enumerate() {
            let y = m - i as f64 - 1.0;
            let color = if *rate >= 0.9 {
                ACTIONS[3].1
            } else if *rate >= 0.8 {
                ACTIONS[2].1
            } else {
                ACTIONS[4].1
            };
            chart.draw_series([Rectangle::new([(0.0, y + 0.2), (*rate, y + 0.8)], color.filled())])?;
            // The category and how many were judged, left of its bar (root coordinates).
            let (_, py) = chart.backend_coord(&(0.0, y + 0.5));
            let name = format!("{category} ({judged})");
            root.draw(&Text::new(name, (12, py - 6), ("sans-serif", 11).into_font().color(&INK)))?;
        }
        for line in [0.8, 0.9] {
            chart.draw_series(LineSeries::new([(line, 0.0), (line, m.max(1.0))], INK.stroke_width(1)))?;
        }
        if rows.is_empty() {
            root.draw(&Text::new(
                "No approval judged in 30 days",
                (190, 60),
                ("sans-serif", 12).into_font().color(&MUTED),
            ))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atpilot_agent::html::trends::{CategoryRate, DayActions};
    use chrono::NaiveDate;

    fn trends() -> Trends {
        let day = |d: u32, auto: u32, asked: u32| DayActions {
            day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            counts: [("autonomous", auto), ("request-approval", asked)].into_iter().collect(),
            in_scope: auto + asked,
            in_scope_autonomous: auto,
            replies: auto,
            reply_p50_secs: (auto > 0).then(|| 12.5 * f64::from(auto)),
        };
        Trends {
            days: vec![day(28, 1, 3), day(29, 0, 0), day(30, 4, 4)],
            approval_rates: vec![
                CategoryRate { category: "mfa-enrollment".into(), approved: 19, judged: 20 },
                CategoryRate { category: "license-request".into(), approved: 7, judged: 10 },
            ],
        }
    }

    #[test]
    fn the_charts_are_svg_with_their_labels() {
        let t = trends();
        let d = decisions_per_day(&t);
        assert!(d.starts_with("<svg") && d.contains("11-30") && d.contains("request-approval"), "{d}");
        let a = autonomous_share(&t);
        assert!(a.contains("<svg") && a.contains("25–40%") && a.contains("<circle"), "{a}");
        let r = approval_rates(&t);
        assert!(r.contains("mfa-enrollment (20)") && r.contains("license-request (10)"), "{r}");
        let r = reply_time(&t);
        assert!(r.contains("target &lt; 60 s") || r.contains("target < 60 s"), "{r}");
        assert_eq!(r.matches("<circle").count(), 2, "one point per day with replies: {r}");
        assert!(reply_time(&Trends::default()).contains("No reply in 7 days"));
        let empty = approval_rates(&Trends::default());
        assert!(empty.contains("No approval judged in 30 days"), "{empty}");
    }
}
