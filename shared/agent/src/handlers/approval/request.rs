//! The approval request as approvers receive it: an Adaptive Card in Teams
//! and/or an e-mail (HTML and plain text), with each approver's own links.

use super::token::{Links, links};
use crate::adapters::notify::{Email, TeamsMessage};
use crate::deps::Deps;
use crate::html::esc;
use crate::ports::PortError;
use atpilot_config::Channel;
use atpilot_domain::{Reason, TicketSnapshot};
use atpilot_store::records::{ApprovalRecord, DecisionRecord};

/// The Adaptive Card version the Teams card declares (Teams incoming webhooks and Workflows render 1.4).
pub const CARD_VERSION: &str = "1.4";

/// What a request shows: everything an approver needs to decide.
pub(crate) struct RequestView<'a> {
    pub approval: &'a ApprovalRecord,
    pub decision: &'a DecisionRecord,
    pub ticket: &'a TicketSnapshot,
    pub company: String,
}

impl RequestView<'_> {
    pub(crate) fn facts(&self) -> Vec<(String, String)> {
        let p = &self.decision.prediction;
        let status = "Complete, once its time entry is written".to_string();
        let mut f = vec![
            ("Ticket".to_string(), format!("{} {}", self.ticket.ticket_number, self.ticket.title)),
            ("Company".into(), self.company.clone()),
            ("Category".into(), p.category.to_string()),
            ("Confidence".into(), format!("{:.0}%", p.confidence.get() * 100.0)),
        ];
        if let Some(q) = p.queue_id {
            f.push(("Proposed queue".into(), q.to_string()));
        }
        if let Some(pr) = p.priority {
            f.push(("Proposed priority".into(), pr.to_string()));
        }
        f.push(("Proposed status".into(), status));
        let risks: Vec<String> = self
            .decision
            .reasons
            .iter()
            .filter_map(|r| if let Reason::RequestRisk { risk } = r { Some(risk.to_string()) } else { None })
            .collect();
        if !risks.is_empty() {
            f.insert(
                0,
                ("Caution".into(), format!("{}. Check with the requester before approving.", risks.join("; "))),
            );
        }
        f.push(("Expires".into(), format!("{} UTC", self.approval.expires_at.format("%Y-%m-%d %H:%M"))));
        f
    }
}

/// The Teams message: an Adaptive Card with Approve / Reject / Open buttons
/// (`Action.OpenUrl`) per approver, since each link is bound to its approver.
pub fn teams_card(view: &RequestView<'_>, approvers: &[(String, Links)]) -> TeamsMessage {
    use serde_json::json;
    let facts: Vec<_> = view.facts().into_iter().map(|(t, v)| json!({"title": t, "value": v})).collect();
    let reasons: Vec<_> = view
        .decision
        .explanation
        .iter()
        .map(|r| json!({"type": "TextBlock", "text": format!("- {r}"), "wrap": true, "spacing": "None"}))
        .collect();
    let mut body = vec![
        json!({"type": "TextBlock", "text": format!("Approval needed: {}", view.decision.prediction.category), "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "FactSet", "facts": facts}),
        json!({"type": "TextBlock", "text": "Why", "weight": "Bolder", "spacing": "Medium"}),
    ];
    body.extend(reasons);
    if let Some(d) = &view.approval.draft {
        body.push(json!({"type": "TextBlock", "text": "Draft reply", "weight": "Bolder", "spacing": "Medium"}));
        body.push(json!({"type": "TextBlock", "text": d, "wrap": true}));
    }
    for (who, l) in approvers {
        body.push(json!({"type": "TextBlock", "text": format!("For {who}:"), "spacing": "Medium", "isSubtle": true}));
        body.push(json!({"type": "ActionSet", "actions": [
            {"type": "Action.OpenUrl", "title": "Approve", "url": l.approve},
            {"type": "Action.OpenUrl", "title": "Reject", "url": l.reject},
            {"type": "Action.OpenUrl", "title": "Open", "url": l.open},
        ]}));
    }
    let card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    });
    TeamsMessage {
        summary: format!(
            "atpilot: approval needed for ticket {} ({})",
            view.ticket.ticket_number, view.decision.prediction.category
        ),
        card,
    }
}

/// The e-mail to one approver: HTML and plain text with the same content and links.
pub fn email(view: &RequestView<'_>, approver: &str, l: &Links) -> Email {
    let facts = view.facts();
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:Segoe UI,Arial,sans-serif;color:#1d2433\"><h2>Approval needed: {}</h2><table cellpadding=4>",
        esc(view.decision.prediction.category.as_str())
    );
    let mut text = format!("Approval needed: {}\n\n", view.decision.prediction.category);
    for (k, v) in &facts {
        html.push_str(&format!("<tr><th align=left>{}</th><td>{}</td></tr>", esc(k), esc(v)));
        text.push_str(&format!("{k}: {v}\n"));
    }
    html.push_str("</table><h3>Why</h3><ul>");
    text.push_str("\nWhy:\n");
    for r in &view.decision.explanation {
        html.push_str(&format!("<li>{}</li>", esc(r)));
        text.push_str(&format!("- {r}\n"));
    }
    html.push_str("</ul>");
    if let Some(d) = &view.approval.draft {
        html.push_str(&format!(
            "<h3>Draft reply</h3><pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre>",
            esc(d)
        ));
        text.push_str(&format!("\nDraft reply:\n{d}\n"));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\" style=\"background:#2e7d32;color:#fff;padding:8px 14px;text-decoration:none;border-radius:4px\">Approve</a> &nbsp; \
<a href=\"{}\" style=\"background:#b3261e;color:#fff;padding:8px 14px;text-decoration:none;border-radius:4px\">Reject</a> &nbsp; <a href=\"{}\">Open</a></p>\
<p style=\"color:#8a93a6\">Each link opens a confirmation page; nothing happens until you confirm there. This link is for {} only.</p></body></html>",
        esc(&l.approve),
        esc(&l.reject),
        esc(&l.open),
        esc(approver)
    ));
    text.push_str(&format!("\nApprove: {}\nReject: {}\nOpen: {}\n\nEach link opens a confirmation page; nothing happens until you confirm there.\n", l.approve, l.reject, l.open));
    Email {
        to: vec![approver.to_string()],
        subject: format!(
            "[atpilot] Approve: {} – ticket {}",
            view.decision.prediction.category, view.ticket.ticket_number
        ),
        html,
        text,
        attachments: vec![],
    }
}

/// Sends a new request to the category's approvers on its channels.
pub(crate) async fn send_request(
    deps: &Deps,
    approval: &ApprovalRecord,
    decision: &DecisionRecord,
    ticket: &TicketSnapshot,
) -> Result<(), PortError> {
    let Some(cat) = deps.config.categories.get(&approval.category) else {
        tracing::warn!(category = %approval.category, "approval request without configured approvers: it is listed on the dashboard only");
        return Ok(());
    };
    if cat.approvers.is_empty() {
        tracing::warn!(category = %approval.category, "no approvers configured: the request is listed on the dashboard only");
        return Ok(());
    }
    let company = deps
        .autotask
        .company_name(ticket.company_id)
        .await?
        .unwrap_or_else(|| format!("company {}", ticket.company_id));
    let view = RequestView { approval, decision, ticket, company };
    let approvers: Vec<(String, Links)> = cat.approvers.iter().map(|a| (a.clone(), links(deps, approval, a))).collect();
    if cat.channels.contains(&Channel::Teams) {
        deps.notifier.post_teams(&teams_card(&view, &approvers)).await?;
    }
    if cat.channels.contains(&Channel::Email) {
        for (who, l) in &approvers {
            deps.notifier.send_email(&email(&view, who, l)).await?;
        }
    }
    Ok(())
}
