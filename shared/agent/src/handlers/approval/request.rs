//! The approval request as approvers receive it: an Adaptive Card in Teams
//! and/or an e-mail (HTML and plain text): with each approver's own links,
//! or, where the pages require sign-in, one Review link for everyone.

use super::token::Links;
use crate::adapters::notify::{Email, TeamsMessage};
use crate::deps::Deps;
use crate::html::esc;
use crate::ports::PortError;
use atpilot_domain::untrusted::{card_text, lines, markdown, one_line};
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
    /// Who asked: the ticket contact's e-mail, as Autotask has it.
    pub requester: String,
    /// What Approve will do, as a sentence (the runbook's plan).
    pub plan: String,
}

/// The ticket's requester for a request: the contact's e-mail, else its id.
pub(crate) async fn requester_of(deps: &Deps, ticket: &TicketSnapshot) -> Result<String, PortError> {
    let r = deps.autotask.requester(ticket).await?;
    Ok(match (r.contact_email, r.contact_id) {
        (Some(email), _) => email,
        (None, Some(id)) => format!("contact {id} (no e-mail address)"),
        (None, None) => "no contact on the ticket".into(),
    })
}

/// The longest customer message a request quotes (the ticket keeps all of it).
const MESSAGE_CHARS: usize = 1_500;

/// What Approve will do for `ticket` in `category`: the runbook's plan
/// (its provider is not called), or the reply-only sentence.
pub(crate) async fn plan_of(
    deps: &Deps,
    category: &atpilot_domain::Category,
    ticket: &TicketSnapshot,
    action_id: &atpilot_domain::ActionId,
) -> Result<String, PortError> {
    let Some(runbook) = deps.config.runbook(category) else {
        return Ok("Nothing: the category has no runbook".into());
    };
    if runbook.kind().replies_with_draft() {
        return Ok("Post the reply below to the customer, set the fields listed as Proposed (the status last, once the time entry is written), and log the measured time; no runbook runs".into());
    }
    let requester = deps.autotask.requester(ticket).await?;
    let target = crate::ports::RunbookTarget { ticket, requester_email: requester.contact_email.as_deref(), action_id };
    Ok(format!(
        "{}; then post a reply written from the verified result and log the measured time",
        deps.runbooks.describe(runbook, &target)
    ))
}

/// One line of a request. atpilot's own values may be formatted; text from
/// the customer or the tenant (`quoted`) is shown as plain text, on one line,
/// under a label that says where it comes from (see `atpilot_domain::untrusted`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fact {
    pub label: String,
    pub value: String,
    /// Written by the customer or taken from the tenant, not by atpilot.
    pub quoted: bool,
}

impl Fact {
    fn own(label: &str, value: String) -> Self {
        Fact { label: label.into(), value, quoted: false }
    }
    fn quoted(label: &str, value: &str) -> Self {
        Fact { label: label.into(), value: one_line(value), quoted: true }
    }
}

impl RequestView<'_> {
    pub(crate) fn facts(&self) -> Vec<Fact> {
        let p = &self.decision.prediction;
        let mut f = Vec::new();
        let risks: Vec<String> = self
            .decision
            .reasons
            .iter()
            .filter_map(|r| if let Reason::RequestRisk { risk } = r { Some(risk.to_string()) } else { None })
            .collect();
        if !risks.is_empty() {
            f.push(Fact::quoted(
                "Caution",
                &format!("{}. Check with the requester before approving.", risks.join("; ")),
            ));
        }
        f.push(Fact::quoted("What Approve does", &self.plan));
        f.push(Fact::own("Ticket", self.ticket.ticket_number.clone()));
        f.push(Fact::quoted("Ticket title (from the customer)", &self.ticket.title));
        f.push(Fact::quoted("Requester (from Autotask)", &self.requester));
        let message: String = self.ticket.description.chars().take(MESSAGE_CHARS).collect();
        let more = if self.ticket.description.chars().count() > MESSAGE_CHARS {
            " [… the rest is on the ticket]"
        } else {
            ""
        };
        f.push(Fact::quoted("Customer's message", &format!("{message}{more}")));
        f.push(Fact::quoted("Company (from Autotask)", &self.company));
        f.push(Fact::own("Category", p.category.to_string()));
        f.push(Fact::own("Confidence", format!("{:.0}%", p.confidence.get() * 100.0)));
        if let Some(q) = p.queue_id {
            f.push(Fact::own("Proposed queue", q.to_string()));
        }
        if let Some(pr) = p.priority {
            f.push(Fact::own("Proposed priority", pr.to_string()));
        }
        f.push(Fact::own("Proposed status", "Complete, once its time entry is written".into()));
        f.push(Fact::own("Expires", format!("{} UTC", self.approval.expires_at.format("%Y-%m-%d %H:%M"))));
        f
    }

    /// The reasons, each on one line (they may quote the request or the model).
    pub(crate) fn reasons(&self) -> Vec<String> {
        self.decision.explanation.iter().map(|r| one_line(r)).collect()
    }

    /// The drafted reply's lines (model or template text), control characters made safe.
    pub(crate) fn draft_lines(&self) -> Option<Vec<String>> {
        self.approval.draft.as_deref().map(|d| lines(d).lines().map(str::to_string).collect())
    }
}

/// Plain text in an Adaptive Card: a `RichTextBlock` of one `TextRun`, which
/// renders no Markdown; text functions are broken by `card_text`.
fn plain(text: &str, subtle: bool) -> serde_json::Value {
    serde_json::json!({"type": "RichTextBlock", "spacing": "None", "inlines": [
        {"type": "TextRun", "text": card_text(text), "isSubtle": subtle}
    ]})
}

/// The links a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestLinks {
    /// Without sign-in: each approver's own Approve / Reject / Open links.
    PerApprover(Vec<(String, Links)>),
    /// With sign-in: one Review link; who decides is whoever signs in there.
    Review(String),
}

/// The Teams message: an Adaptive Card with one Review button (with
/// sign-in) or Approve / Reject / Open buttons per approver (`Action.OpenUrl`).
/// Only atpilot's own words are in `TextBlock`s and the `FactSet` (which
/// render Markdown); everything quoted is a plain `TextRun`.
pub fn teams_card(view: &RequestView<'_>, links: &RequestLinks) -> TeamsMessage {
    use serde_json::json;
    let heading =
        |t: &str| json!({"type": "TextBlock", "text": t, "weight": "Bolder", "spacing": "Medium", "wrap": true});
    let facts = view.facts();
    let own: Vec<_> = facts.iter().filter(|f| !f.quoted).map(|f| json!({"title": f.label, "value": f.value})).collect();
    let mut body = vec![
        json!({"type": "TextBlock", "text": format!("Approval needed: {}", view.decision.prediction.category), "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "FactSet", "facts": own}),
    ];
    for f in facts.iter().filter(|f| f.quoted) {
        body.push(heading(&f.label));
        body.push(plain(&f.value, false));
    }
    body.push(heading("Why"));
    body.extend(view.reasons().iter().map(|r| plain(&format!("- {r}"), false)));
    if let Some(lines) = view.draft_lines() {
        body.push(heading("Draft reply (edit it on the confirmation page)"));
        body.extend(lines.iter().map(|l| plain(l, true)));
    }
    match links {
        RequestLinks::Review(url) => {
            body.push(json!({"type": "TextBlock", "text": "An approver of this category signs in on the page to approve or reject; opening it changes nothing.", "spacing": "Medium", "isSubtle": true, "wrap": true}));
            body.push(
                json!({"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": "Review", "url": url}]}),
            );
        }
        RequestLinks::PerApprover(approvers) => {
            for (who, l) in approvers {
                body.push(json!({"type": "TextBlock", "text": format!("For {}:", markdown(who)), "spacing": "Medium", "isSubtle": true, "wrap": true}));
                body.push(json!({"type": "ActionSet", "actions": [
                    {"type": "Action.OpenUrl", "title": "Approve", "url": l.approve},
                    {"type": "Action.OpenUrl", "title": "Reject", "url": l.reject},
                    {"type": "Action.OpenUrl", "title": "Open", "url": l.open},
                ]}));
            }
        }
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

/// The links in one approver's e-mail.
#[derive(Debug, Clone, Copy)]
pub enum EmailLinks<'a> {
    /// Their own links (without sign-in).
    Own(&'a Links),
    /// The request's Review link (with sign-in).
    Review(&'a str),
}

const BUTTON: &str = "color:#fff;padding:8px 14px;text-decoration:none;border-radius:4px";

/// The e-mail to one approver: HTML and plain text with the same content.
/// atpilot's links come first; quoted text is labelled, on one line, and a
/// drafted reply is a `> ` block, so no customer line can pass for atpilot's.
/// `note`: atpilot's own sentence put first (a reminder says why it came).
pub fn email(view: &RequestView<'_>, approver: &str, links: EmailLinks<'_>, note: Option<&str>) -> Email {
    let category = view.decision.prediction.category.as_str();
    let (text, buttons) = match links {
        EmailLinks::Own(l) => (
            format!(
                "Approval needed: {category}\n\nApprove: {}\nReject: {}\nOpen: {}\n\nEach link opens a confirmation page; nothing happens until you confirm there. These links are for {approver} only.\n\n",
                l.approve, l.reject, l.open
            ),
            format!(
                "<p><a href=\"{}\" style=\"background:#2e7d32;{BUTTON}\">Approve</a> &nbsp; <a href=\"{}\" style=\"background:#b3261e;{BUTTON}\">Reject</a> &nbsp; <a href=\"{}\">Open</a></p>\
<p style=\"color:#8a93a6\">Each link opens a confirmation page; nothing happens until you confirm there. These links are for {} only.</p>",
                esc(&l.approve),
                esc(&l.reject),
                esc(&l.open),
                esc(approver)
            ),
        ),
        EmailLinks::Review(url) => (
            format!(
                "Approval needed: {category}\n\nReview: {url}\n\nThe link opens the request; sign in with your work account to approve or reject it there. Opening it changes nothing.\n\n"
            ),
            format!(
                "<p><a href=\"{}\" style=\"background:#1f5fbf;{BUTTON}\">Review</a></p>\
<p style=\"color:#8a93a6\">The link opens the request; sign in with your work account to approve or reject it there. Opening it changes nothing.</p>",
                esc(url)
            ),
        ),
    };
    let mut text = note.map(|n| format!("{n}\n\n")).unwrap_or_default() + &text;
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:Segoe UI,Arial,sans-serif;color:#1d2433\">{}<h2>Approval needed: {}</h2>{buttons}<table cellpadding=4>",
        note.map(|n| format!("<p><b>{}</b></p>", esc(n))).unwrap_or_default(),
        esc(category)
    );
    for f in view.facts() {
        html.push_str(&format!("<tr><th align=left>{}</th><td>{}</td></tr>", esc(&f.label), esc(&f.value)));
        text.push_str(&format!("{}: {}\n", f.label, f.value));
    }
    html.push_str("</table><h3>Why</h3><ul>");
    text.push_str("\nWhy:\n");
    for r in view.reasons() {
        html.push_str(&format!("<li>{}</li>", esc(&r)));
        text.push_str(&format!("- {r}\n"));
    }
    html.push_str("</ul>");
    if let Some(lines) = view.draft_lines() {
        html.push_str(&format!(
            "<h3>Draft reply</h3><pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre>",
            esc(&lines.join("\n"))
        ));
        text.push_str("\nDraft reply (quoted; edit it on the confirmation page):\n");
        for line in lines {
            text.push_str(&format!("> {line}\n"));
        }
    }
    html.push_str("</body></html>");
    Email {
        to: vec![approver.to_string()],
        subject: one_line(&format!("[atpilot] Approve: {category} – ticket {}", view.ticket.ticket_number)),
        html,
        text,
        attachments: vec![],
        inline: vec![],
    }
}
