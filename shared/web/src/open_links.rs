//! The links an approver was sent to open a request, read back from the
//! outbox so that the local dashboard (no sign-in) can offer "Open as …" on
//! the approvals page. Only atpilot's own parts of a message are read: the
//! link block of an approval e-mail, and the per-approver buttons of a Teams
//! card; a link quoted from ticket text is never taken.

use atpilot_store::records::OutboxRecord;
use serde_json::Value;
use std::collections::HashMap;

/// One approver's Open link of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLink {
    /// Who it was issued to (an approver's e-mail).
    pub who: String,
    /// The link (the approval pages' base, the request id, `?t=…`).
    pub url: String,
    /// Where it was sent: `email` or `teams`.
    pub channel: &'static str,
}

/// The Open link of each approval e-mail and Teams card in the outbox, by
/// approval id. E-mail: the paragraph after the first line (`Approve:`,
/// `Reject:`, `Open:`), sent to one recipient. Teams: each `For <approver>:`
/// text block and the `Open` button of the action set after it
/// (`atpilot_agent`'s `teams_card`). The local notifier keeps every message
/// in the outbox, and whoever sees this dashboard sees the outbox too;
/// deployed, the outbox is empty.
pub fn open_links(outbox: &[OutboxRecord], approvals: &str) -> HashMap<String, Vec<OpenLink>> {
    let base = format!("{}/", approvals.trim_end_matches('/'));
    let mut out: HashMap<String, Vec<OpenLink>> = HashMap::new();
    for m in outbox {
        let found = match m.channel.as_str() {
            "email" if m.to.len() == 1 => email_link(m).map(|l| vec![(m.to[0].clone(), l, "email")]),
            "teams" => Some(card_links(&m.body).into_iter().map(|(who, l)| (who, l, "teams")).collect()),
            _ => None,
        };
        for (who, url, channel) in found.into_iter().flatten() {
            let Some(id) = request_id(&url, &base) else { continue };
            let links = out.entry(id).or_default();
            if !links.iter().any(|l| l.url == url && l.channel == channel) {
                links.push(OpenLink { who, url, channel });
            }
        }
    }
    out
}

/// The approval id a link to the approval pages names, if it is one.
fn request_id(link: &str, base: &str) -> Option<String> {
    let (id, _) = link.strip_prefix(base)?.split_once('?')?;
    let ok = !link.contains(char::is_whitespace) && !id.is_empty() && !id.contains('/');
    ok.then(|| id.to_string())
}

/// The `Open:` line of an approval e-mail's link block.
fn email_link(m: &OutboxRecord) -> Option<String> {
    let block = m.text.as_deref()?.split("\n\n").nth(1)?;
    block.lines().find_map(|l| l.strip_prefix("Open: ")).map(|l| l.trim().to_string())
}

/// `(approver, Open link)` of each per-approver block of a Teams card: a
/// `TextBlock` reading `For <approver>:` (Markdown-escaped) followed by an
/// `ActionSet` with an `Open` button.
fn card_links(body: &str) -> Vec<(String, String)> {
    let Ok(v) = serde_json::from_str::<Value>(body) else { return vec![] };
    let cards = v.get("attachments").and_then(Value::as_array).into_iter().flatten();
    let blocks = cards.filter_map(|a| a.pointer("/content/body").and_then(Value::as_array)).flatten();
    let mut out = vec![];
    let mut who: Option<String> = None;
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("TextBlock") => {
                let text = b.get("text").and_then(Value::as_str).unwrap_or_default();
                who = text.strip_prefix("For ").and_then(|t| t.strip_suffix(':')).map(unescape_markdown);
            }
            Some("ActionSet") => {
                let actions = b.get("actions").and_then(Value::as_array).into_iter().flatten();
                let open = actions
                    .filter(|a| a.get("title").and_then(Value::as_str) == Some("Open"))
                    .find_map(|a| a.get("url").and_then(Value::as_str));
                if let (Some(w), Some(url)) = (who.take(), open) {
                    out.push((w, url.to_string()));
                }
            }
            _ => who = None,
        }
    }
    out
}

/// Undoes `atpilot_domain::untrusted::markdown`: a backslash before ASCII
/// punctuation is dropped.
fn unescape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mail(channel: &str, to: &str, text: &str) -> OutboxRecord {
        OutboxRecord {
            id: to.into(),
            at: chrono::Utc::now(),
            channel: channel.into(),
            to: if to.is_empty() { vec![] } else { vec![to.into()] },
            subject: "Approve".into(),
            body: String::new(),
            text: Some(text.into()),
            attachments: vec![],
        }
    }

    /// An approval e-mail as atpilot writes it, with `quoted` (ticket text) below its links.
    fn request(base: &str, id: &str, t: &str, quoted: &str) -> String {
        format!(
            "Approval needed: email\n\nApprove: {base}/{id}?t={t}&intent=approve\nReject: {base}/{id}?t={t}&intent=reject\nOpen: {base}/{id}?t={t}\n\nEach link opens a confirmation page.\n\nCustomer's message: {quoted}\n"
        )
    }

    fn link(who: &str, url: String, channel: &'static str) -> OpenLink {
        OpenLink { who: who.into(), url, channel }
    }

    #[test]
    fn each_request_offers_the_open_link_its_approvers_were_sent_and_never_a_quoted_one() {
        let base = "http://127.0.0.1:1/approvals";
        let outbox = [
            mail("email", "ann@msp.example", &request(base, "act-1", "A", "hello")),
            mail("email", "bob@msp.example", &request(base, "act-1", "B", &format!("\n\nOpen: {base}/act-2?t=EVIL"))),
            mail("email", "cy@msp.example", &request(base, "act-2", "C", "fine")),
            mail("teams", "", &request(base, "act-1", "D", "")),
            mail("email", "ann@msp.example", &request(base, "act-1", "A", "again")),
        ];
        let links = open_links(&outbox, base);
        assert_eq!(
            links["act-1"],
            [
                link("ann@msp.example", format!("{base}/act-1?t=A"), "email"),
                link("bob@msp.example", format!("{base}/act-1?t=B"), "email")
            ]
        );
        assert_eq!(links["act-2"], [link("cy@msp.example", format!("{base}/act-2?t=C"), "email")]);
        assert!(!links.values().flatten().any(|l| l.url.contains("EVIL")), "a quoted link is never taken: {links:?}");
    }

    /// A Teams card shaped as `teams_card` writes it: quoted text in a
    /// RichTextBlock, then one `For <approver>:` block and buttons per approver.
    fn card(base: &str, quoted: &str) -> OutboxRecord {
        let body = serde_json::json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {
        "type": "AdaptiveCard", "version": "1.4", "body": [
            {"type": "TextBlock", "text": "Approval needed: password-reset"},
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": quoted}]},
            {"type": "TextBlock", "text": "For ann\\.o\\-neil@msp\\.example:"},
            {"type": "ActionSet", "actions": [
                {"type": "Action.OpenUrl", "title": "Approve", "url": format!("{base}/act-9?t=A&intent=approve")},
                {"type": "Action.OpenUrl", "title": "Open", "url": format!("{base}/act-9?t=A")}]},
            {"type": "TextBlock", "text": "For bob@msp\\.example:"},
            {"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": format!("{base}/act-9?t=B")}]},
            {"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": format!("{base}/act-9?t=NOBODY")}]},
        ]}}]});
        OutboxRecord { body: body.to_string(), text: None, ..mail("teams", "", "") }
    }

    #[test]
    fn a_teams_card_gives_each_approver_their_open_button_and_nothing_else() {
        let base = "http://127.0.0.1:1/approvals";
        let outbox = [card(base, &format!("For eve@evil.example: Open: {base}/act-9?t=EVIL")), card(base, "again")];
        let links = open_links(&outbox, base);
        assert_eq!(
            links["act-9"],
            [
                link("ann.o-neil@msp.example", format!("{base}/act-9?t=A"), "teams"),
                link("bob@msp.example", format!("{base}/act-9?t=B"), "teams")
            ],
            "each once, unescaped, and no button without its approver"
        );
        assert!(open_links(&[OutboxRecord { body: "not json".into(), ..card(base, "") }], base).is_empty());
    }
}
