//! The e-mail's charts as PNG images, drawn with `plotters` on its bitmap
//! backend and encoded with `png`: Outlook and Gmail drop inline SVG, but
//! show PNGs sent inline by Content-ID. The font (DejaVu Sans, Bitstream
//! Vera licence, `fonts/`) is embedded, so no system font is needed (Lambda
//! has none).
//!
//! * [`approval_png`]: the weekly approval rate per category over the stored
//!   snapshots and this week, against the 80% (demote) and 90% (promote) lines.
//! * [`billing_png`]: each contract's billing change against its own
//!   baseline, flagged contracts in red, the ±flag band in green.

use crate::billing::BillingRow;
use crate::format::opt_change;
use crate::report::WeeklyReport;
use atpilot_domain::ApprovalCounts;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// An RGB colour of the charts.
pub type Rgb = RGBColor;
/// Series colours (the flagged red is the second).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];
/// Flagged contracts' bars.
pub const FLAGGED: RGBColor = RGBColor(214, 39, 40);
const CALM: RGBColor = RGBColor(138, 161, 177);
const BAND: RGBColor = RGBColor(230, 243, 230);
const INK: RGBColor = RGBColor(34, 34, 34);
const MUTED: RGBColor = RGBColor(110, 110, 110);
const WIDTH: u32 = 640;
/// The Content-IDs the e-mail's HTML refers to (`cid:`).
pub const APPROVAL_CHART_CID: &str = "approval-chart@atpilot";
pub const BILLING_CHART_CID: &str = "billing-chart@atpilot";

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws on a white `WIDTH`×`height` canvas and encodes it as PNG. A
/// drawing error yields a plain canvas saying so (the tables carry the figures).
fn png(height: u32, draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Vec<u8> {
    static FONT_ONCE: std::sync::Once = std::sync::Once::new();
    FONT_ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            tracing::error!("the embedded chart font could not be read");
        }
    });
    let mut rgb = vec![255u8; (WIDTH * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, height)).into_drawing_area();
        let drawn = root.fill(&WHITE).map_err(Into::into).and_then(|()| draw(&root));
        if let Err(e) = drawn {
            tracing::warn!(error = %e, "a chart could not be drawn");
            let _ = root.fill(&WHITE);
            let _ = root.draw_text("Chart unavailable: see the table", &text(12, &MUTED), (12, 12));
        }
        let _ = root.present();
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder.write_header().and_then(|mut w| w.write_image_data(&rgb));
    if let Err(e) = written {
        tracing::error!(error = %e, "a chart could not be encoded");
    }
    out
}

fn text(size: u32, color: &'static RGBColor) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(color)
}

/// The weekly approval rate per category: weeks, and per category one rate (or none) per week.
pub fn approval_series(
    history: &[(String, serde_json::Value)],
    r: &WeeklyReport,
) -> (Vec<String>, BTreeMap<String, Vec<Option<f64>>>) {
    let mut weeks: Vec<String> = history.iter().map(|(w, _)| w.clone()).collect();
    weeks.push(r.week.clone());
    let n = weeks.len();
    let mut series: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for (i, (_, snap)) in history.iter().enumerate() {
        for a in snap.get("approvals").and_then(|v| v.as_array()).into_iter().flatten() {
            let (Some(c), Some(w)) = (a.get("category").and_then(|v| v.as_str()), a.get("week")) else { continue };
            let counts: ApprovalCounts = serde_json::from_value(w.clone()).unwrap_or_default();
            if let Some(rate) = counts.rate() {
                series.entry(c.to_string()).or_insert_with(|| vec![None; n])[i] = Some(rate);
            }
        }
    }
    for a in &r.approvals {
        if let Some(rate) = a.week.rate() {
            series.entry(a.category.to_string()).or_insert_with(|| vec![None; n])[n - 1] = Some(rate);
        }
    }
    (weeks, series)
}

/// The approval-rate chart (PNG, 640 px wide).
pub fn approval_png(history: &[(String, serde_json::Value)], r: &WeeklyReport) -> Vec<u8> {
    let (weeks, series) = approval_series(history, r);
    let legend_rows = series.len().div_ceil(3) as u32;
    png(280 + 20 * legend_rows, |root| {
        let (plot, legend) = root.split_vertically(280);
        let n = weeks.len() as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(14)
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5..(n - 0.5), 0f64..1.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .y_label_style(text(11, &MUTED))
            .light_line_style(WHITE)
            .draw()?;
        for (v, label) in [(0.8, "80% demote"), (0.9, "90% promote")] {
            let line = vec![(-0.5, v), (n - 0.5, v)];
            chart.draw_series(DashedLineSeries::new(line, 5, 4, MUTED.stroke_width(1)))?;
            let (x, y) = chart.backend_coord(&(n - 0.5, v));
            plot.draw_text(label, &text(10, &MUTED).pos(Pos::new(HPos::Right, VPos::Bottom)), (x - 2, y - 2))?;
        }
        for (i, week) in weeks.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, 0.0));
            plot.draw_text(week, &text(11, &MUTED).pos(Pos::new(HPos::Center, VPos::Top)), (x, y + 6))?;
        }
        for (k, (category, rates)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let points: Vec<(f64, f64)> =
                rates.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as f64, v))).collect();
            chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
            let (lx, ly) = (44 + 200 * (k % 3) as i32, 4 + 20 * (k / 3) as i32);
            legend.draw(&Rectangle::new([(lx, ly), (lx + 10, ly + 10)], color.filled()))?;
            legend.draw_text(category, &text(11, &INK), (lx + 14, ly - 1))?;
        }
        if series.is_empty() {
            let center = Pos::new(HPos::Center, VPos::Center);
            plot.draw_text("No decided approval requests yet", &text(12, &MUTED).pos(center), (320, 140))?;
        }
        Ok(())
    })
}

/// The contracts the billing chart shows: flagged first, then by the size
/// of the change; at most 30.
pub fn billing_rows(r: &WeeklyReport) -> Vec<&BillingRow> {
    let mut rows: Vec<&BillingRow> = r.billing.iter().collect();
    rows.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then(b.headline_change().unwrap_or(0.0).abs().total_cmp(&a.headline_change().unwrap_or(0.0).abs()))
    });
    rows.truncate(30);
    rows
}

/// The billing-change chart (PNG, 640 px wide, 18 px per contract).
pub fn billing_png(r: &WeeklyReport) -> Vec<u8> {
    let rows = billing_rows(r);
    let count = rows.len().max(1);
    png(48 + 18 * count as u32, |root| {
        let (names, rest) = root.split_horizontally(230);
        let (plot, values) = rest.split_horizontally(350);
        // Room for the first and last axis labels.
        let plot = plot.margin(0, 0, 18, 18);
        let m = count as f64;
        let mut chart =
            ChartBuilder::on(&plot).margin_top(24).margin_bottom(24).build_cartesian_2d(-1f64..1f64, 0f64..m)?;
        let band = (r.flag.percent / 100.0).min(1.0);
        chart.draw_series([Rectangle::new([(-band, 0.0), (band, m)], BAND.filled())])?;
        for (v, label) in [(-1.0, "-100%"), (-0.5, "-50%"), (0.0, "0"), (0.5, "+50%"), (1.0, "+100%")] {
            chart.draw_series(LineSeries::new([(v, 0.0), (v, m)], RGBColor(221, 221, 221).stroke_width(1)))?;
            // Backend coordinates are the whole canvas's: label on the root.
            let (x, _) = chart.backend_coord(&(v, m));
            root.draw_text(label, &text(10, &MUTED).pos(Pos::new(HPos::Center, VPos::Top)), (x, 6))?;
        }
        for (i, b) in rows.iter().enumerate() {
            let y = m - i as f64 - 0.5;
            let change = b.headline_change();
            let v = change.unwrap_or(0.0).clamp(-1.0, 1.0);
            let color = if b.flagged { FLAGGED } else { CALM };
            let bar = if v.abs() < 0.005 { v.signum() * 0.005 } else { v };
            chart.draw_series([Rectangle::new([(0.0, y - 0.33), (bar, y + 0.33)], color.filled())])?;
            let (_, py) = chart.backend_coord(&(0.0, y));
            let name: String = b.name.chars().take(34).collect();
            names.draw_text(&name, &text(11, &INK).pos(Pos::new(HPos::Right, VPos::Center)), (224, py))?;
            let value = if change.is_some() { opt_change(change) } else { "new".into() };
            values.draw_text(&value, &text(11, &INK).pos(Pos::new(HPos::Left, VPos::Center)), (6, py))?;
        }
        if rows.is_empty() {
            let center = Pos::new(HPos::Center, VPos::Center);
            plot.draw_text("No contract activity", &text(12, &MUTED).pos(center), (175, 33))?;
        }
        let caption = format!(
            "change against each contract's own baseline (green band: ±{}%; red: flagged, beyond chance)",
            r.flag.percent
        );
        let (_, h) = root.dim_in_pixel();
        root.draw_text(&caption, &text(11, &MUTED).pos(Pos::new(HPos::Center, VPos::Bottom)), (320, h as i32 - 4))?;
        Ok(())
    })
}
