//! Teams: the short summary card (an Adaptive Card) of the week.

use super::move_name;
use crate::format::{opt_f, opt_pct};
use crate::report::WeeklyReport;
use atpilot_agent::adapters::notify::TeamsMessage;

/// The short Teams summary (an Adaptive Card).
pub fn teams_card(r: &WeeklyReport) -> TeamsMessage {
    let o = &r.outcomes;
    let moves: Vec<String> = r.moves().map(|m| format!("{}: {}", m.category, move_name(&m.evaluation))).collect();
    let facts = serde_json::json!([
        {"title": "Phase moves", "value": if moves.is_empty() { "none".to_string() } else { moves.join(", ") }},
        {"title": "Contracts flagged", "value": format!("{} (±{}% and beyond chance at a {}% false discovery rate)", r.flagged().count(), r.flag.percent, (r.flag.alpha * 1000.0).round() / 10.0)},
        {"title": "Spot check", "value": format!("{} of {} differ", r.spot_check.differing(), r.spot_check.rows.len())},
        {"title": "Autonomous rate", "value": format!("{} ({})", opt_pct(o.autonomous_rate), o.rate_verdict())},
        {"title": "First response p50 / p90", "value": format!("{} s / {} s", opt_f(o.first_response_p50_secs, 1), opt_f(o.first_response_p90_secs, 1))},
    ]);
    let card = serde_json::json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": format!("atpilot weekly report {}", r.week), "wrap": true},
            {"type": "TextBlock", "text": format!("Week {}. The full report with charts and CSV files went to finance and the service manager.", r.periods.week.label()), "wrap": true, "isSubtle": true},
            {"type": "FactSet", "facts": facts},
        ],
    });
    TeamsMessage {
        summary: format!(
            "atpilot weekly report {}: {} phase moves, {} contracts flagged",
            r.week,
            r.moves().count(),
            r.flagged().count()
        ),
        card,
    }
}
