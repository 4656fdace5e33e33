//! The pages about messages: pending approval requests (`/approvals/`) and
//! the outbox (`/outbox`), where a Teams card is shown as Teams would draw
//! it (title, text, facts, buttons) beside its JSON.

use crate::open_links::{OpenLink, open_links};
use crate::pages::respond;
use crate::{Person, Web};
use atpilot_store::StoreError;
use atpilot_store::records::{ApprovalState, DeliveryRecord};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The newest messages the outbox page shows, and the pending requests the
/// approvals page shows; a full page says that older ones are not shown.
const OUTBOX_SHOWN: usize = 50;
const APPROVALS_SHOWN: usize = 100;

/// One button of a card: its title and, for `Action.OpenUrl`, an http(s) link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardAction {
    pub title: String,
    pub url: Option<String>,
}

/// What an Adaptive Card shows: its text blocks in order (the first is the
/// title), its facts and its buttons. Shapes: adaptivecards.io schema 1.4.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CardView {
    pub texts: Vec<String>,
    pub facts: Vec<(String, String)>,
    pub actions: Vec<CardAction>,
}

fn walk(v: &Value, out: &mut CardView) {
    match v {
        Value::Object(m) => {
            match m.get("type").and_then(Value::as_str) {
                Some("TextBlock") => out.texts.extend(m.get("text").and_then(Value::as_str).map(str::to_string)),
                Some("FactSet") => {
                    for f in m.get("facts").and_then(Value::as_array).into_iter().flatten() {
                        let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                        out.facts.push((s("title"), s("value")));
                    }
                }
                Some(t) if t.starts_with("Action.") => {
                    let url = m
                        .get("url")
                        .and_then(Value::as_str)
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
                    let title = m.get("title").and_then(Value::as_str).unwrap_or(t).to_string();
                    out.actions.push(CardAction { title, url: url.map(str::to_string) });
                }
                _ => {}
            }
            for (k, child) in m {
                if k != "facts" {
                    walk(child, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
        _ => {}
    }
}

/// The card a Teams message carries (the message itself, or its first
/// `application/vnd.microsoft.card.adaptive` attachment); `None` when the
/// body is not JSON.
pub fn card_view(body: &str) -> Option<CardView> {
    let v: Value = serde_json::from_str(body).ok()?;
    let mut out = CardView::default();
    walk(&v, &mut out);
    Some(out)
}

/// Messages that would have gone to Teams and e-mail (the local notifier keeps them).
pub async fn outbox(State(app): State<Arc<Web>>) -> Response {
    let list = match app.state.outbox(OUTBOX_SHOWN).await {
        Ok(l) => l,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let approvals = app.config.approvals.base_url.as_str();
    let items: Vec<minijinja::Value> = list
        .iter()
        .map(|m| {
            let teams = m.channel == "teams";
            let to = if m.to.is_empty() && teams {
                "the Teams channel (its incoming webhook)".into()
            } else {
                m.to.join(", ")
            };
            context! {
                channel => m.channel, subject => m.subject, to, at => m.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                text => if teams { None } else { Some(segments(m.text.as_deref().unwrap_or_default(), approvals)) },
                card => if teams { card_view(&m.body) } else { None },
                json => if teams { Some(pretty(&m.body)) } else { None },
                attachments => m.attachments,
            }
        })
        .collect();
    let cut = (items.len() == OUTBOX_SHOWN).then_some(OUTBOX_SHOWN);
    respond(StatusCode::OK, "outbox.html", "Outbox", "/outbox", context! { items, cut })
}

fn pretty(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.into())
}

/// How a request's messages fared, one line per channel and recipient
/// ("accepted" is the provider's word that it took the message, not that
/// anyone read it).
fn delivery_lines(read: &Result<Vec<DeliveryRecord>, StoreError>) -> Vec<minijinja::Value> {
    let line = |who: String, state: &str, answer: String| context! { who, state, answer };
    match read {
        Ok(d) if d.is_empty() => vec![line("not sent".into(), "", "no approvers or channels".into())],
        Ok(d) => d
            .iter()
            .map(|d| {
                let answer = if d.state.sent() { String::new() } else { d.answer.clone() };
                line(format!("{} {}", d.channel, d.recipient), d.state.as_str(), answer)
            })
            .collect(),
        Err(err) => vec![line("unknown".into(), "", err.to_string())],
    }
}

/// A message's text cut into plain parts and links to this atpilot's own
/// approval pages (`approvals` is `approvals.base_url`), so an approver's
/// links can be followed locally while everything else, ticket text and
/// replies included, stays text: `[(text, is_link)]`.
pub fn segments(text: &str, approvals: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = vec![];
    for w in text.split_inclusive(char::is_whitespace) {
        let t = w.trim_end();
        if !approvals.is_empty() && t.starts_with(approvals) {
            out.push((t.to_string(), true));
            out.push((w[t.len()..].to_string(), false));
        } else {
            match out.last_mut() {
                Some((s, false)) => s.push_str(w),
                _ => out.push((w.to_string(), false)),
            }
        }
    }
    out
}

/// Pending approval requests. A signed-in approver opens each with its
/// Review link; without sign-in (the local dashboard) each request offers
/// the Open link each of its approvers was sent by e-mail or on its Teams
/// card ([`open_links`]).
pub async fn approvals(State(app): State<Arc<Web>>, person: Person) -> Response {
    let list = match app.state.approvals_in_state(ApprovalState::Pending, APPROVALS_SHOWN).await {
        Ok(l) => l,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    // The approval pages' own URL (the approval function's, deployed).
    let base = app.config.approvals.base_url.trim_end_matches('/').to_string();
    let (links, outbox_error) = match person.is_none() {
        false => (HashMap::new(), None),
        true => match app.state.outbox(500).await {
            Ok(outbox) => (open_links(&outbox, &base), None),
            Err(e) => (HashMap::new(), Some(format!("the outbox could not be read ({e})"))),
        },
    };
    let mut rows = Vec::with_capacity(list.len());
    for a in &list {
        let sent = app.state.deliveries(&a.id).await;
        // Only the links of this request's own deliveries: an e-mail to that
        // recipient, or the request's Teams card.
        let delivered = |l: &OpenLink| {
            sent.iter()
                .flatten()
                .any(|d| d.state.sent() && d.channel == l.channel && (l.channel == "teams" || d.recipient == l.who))
        };
        let mut opens: Vec<&OpenLink> = links.get(&a.id).into_iter().flatten().filter(|l| delivered(l)).collect();
        // The same approver's link on both channels is the same link: shown once.
        let mut seen = std::collections::HashSet::new();
        opens.retain(|l| seen.insert(l.url.as_str()));
        let opens: Vec<minijinja::Value> = opens.iter().map(|l| context! { who => l.who, url => l.url }).collect();
        rows.push(context! {
            id => a.id, ticket => a.ticket_id.get(), category => a.category.as_str(),
            expires => a.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(), draft => a.draft,
            sent => delivery_lines(&sent),
            review => person.is_some().then(|| format!("{base}/{}", a.id)),
            opens,
        });
    }
    let cut = (rows.len() == APPROVALS_SHOWN).then_some(APPROVALS_SHOWN);
    let updates = match app.state.status_updates(APPROVALS_SHOWN).await {
        Ok(l) => l,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let updates: Vec<minijinja::Value> = updates
        .iter()
        .filter(|u| u.state == atpilot_store::records::StatusUpdateState::Pending)
        .map(|u| {
            let id = u.id.as_str();
            // Only the links sent to the update's own approvers.
            let opens: Vec<minijinja::Value> = links
                .get(id)
                .into_iter()
                .flatten()
                .filter(|l| l.channel == "email" && u.approvers.contains(&l.who))
                .map(|l| context! { who => l.who, url => l.url })
                .collect();
            context! {
                id, ticket => u.ticket_id.get(), number => u.ticket_number, quiet => format!("{:.0}", u.quiet_days),
                expires => u.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(), draft => u.draft,
                approvers => u.approvers.join(", "), review => person.is_some().then(|| format!("{base}/{id}")), opens,
            }
        })
        .collect();
    let context = context! { rows, outbox_error, cut, updates };
    respond(StatusCode::OK, "approvals.html", "Approvals", "/approvals/", context)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_teams_card_shows_its_title_facts_and_buttons() {
        let body = serde_json::json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {
            "type": "AdaptiveCard", "version": "1.4",
            "body": [{"type": "TextBlock", "text": "Approve: password-reset on ticket 12"}, {"type": "FactSet", "facts": [{"title": "Requester", "value": "Ann <ann@x.example>"}]}],
            "actions": [{"type": "Action.OpenUrl", "title": "Review", "url": "https://msp.example/approvals/a?t=1"}, {"type": "Action.OpenUrl", "title": "Bad", "url": "javascript:alert(1)"}]
        }}]});
        let v = card_view(&body.to_string()).unwrap();
        assert_eq!(v.texts, ["Approve: password-reset on ticket 12"]);
        assert_eq!(v.facts, [("Requester".to_string(), "Ann <ann@x.example>".to_string())]);
        assert_eq!(v.actions[0].url.as_deref(), Some("https://msp.example/approvals/a?t=1"));
        assert_eq!(v.actions[1], CardAction { title: "Bad".into(), url: None }, "only http(s) links");
        assert_eq!(card_view("not json"), None);
    }

    #[test]
    fn only_links_to_the_approval_pages_are_cut_out_and_the_rest_kept() {
        let base = "https://a.example/approvals/";
        let s = segments("Approve: https://a.example/approvals/x?t=1 now\n\"https://evil.example\" end", base);
        assert_eq!(
            s,
            [
                ("Approve: ".to_string(), false),
                ("https://a.example/approvals/x?t=1".to_string(), true),
                (" now\n\"https://evil.example\" end".to_string(), false)
            ]
        );
    }
}
