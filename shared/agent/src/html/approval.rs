//! The approval pages' markup: the confirmation page a link opens, what the
//! approver sees after deciding, and the refusals. The approval handlers
//! decide what each page says; this room only renders it.

use super::{Page, esc, page};

/// A refusal: nothing was done, and why.
pub(crate) fn error_page(status: u16, message: &str) -> Page {
    page(status, "atpilot approval", &format!("<h1>Nothing was done</h1><p id=message>{}</p>", esc(message)))
}

/// What the confirmation page shows and posts back.
pub(crate) struct ConfirmForm<'a> {
    /// The question the page asks (its heading).
    pub heading: &'a str,
    /// The approver the link was issued to.
    pub approver: &'a str,
    pub id: &'a str,
    /// The approver-bound token of the link (`t`), or empty.
    pub token: &'a str,
    /// The request reference of a Review link (`r`), or empty.
    pub reference: &'a str,
    /// The signed-in person's session form token, posted back as `csrf`.
    pub csrf: Option<&'a str>,
    /// The approve / reject intent of the link that was opened.
    pub intent: Option<&'a str>,
    pub facts: &'a [(String, String)],
    pub reasons: &'a [String],
    /// The reply the approver may edit; `None` when a runbook writes the
    /// reply from its verified result (nothing to edit).
    pub draft: Option<&'a str>,
    /// A decision refused for its form, shown again (status 400).
    pub retry: Option<&'a Retry<'a>>,
}

/// A decision refused for what the form carried ([`ApprovalError::Form`]):
/// the page again, with why and with everything the approver typed, so
/// that nothing they wrote is lost.
///
/// [`ApprovalError::Form`]: crate::handlers::approval::ApprovalError::Form
pub(crate) struct Retry<'a> {
    /// Why it was refused (a sentence the approver can act on).
    pub error: &'a str,
    /// The reply as they sent it, if the form had one.
    pub draft: Option<&'a str>,
    /// The rejection reason they typed, if any.
    pub reason: Option<&'a str>,
    /// What to do next, e.g. "correct it and decide again".
    pub next: &'a str,
    /// The page's status: 400 for a form to correct, 409 when the form was
    /// fine but nothing can be decided now (the kill switch).
    pub status: u16,
}

/// A hidden field, when it has a value.
fn hidden(name: &str, value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!("<input type=hidden name=\"{name}\" value=\"{}\">", esc(value))
    }
}

/// GET: the confirmation page, with the reply the approver may edit (after a
/// refused POST: status 400, why, and what they typed). The
/// form's first submit button is a disabled, hidden one, so pressing Enter
/// (implicit submission) decides nothing; a scripted submit without a
/// button sends no `decision` and is refused.
pub(crate) fn confirm_page(f: &ConfirmForm<'_>) -> Page {
    let facts: String =
        f.facts.iter().map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v))).collect();
    let reasons: String = f.reasons.iter().map(|r| format!("<li>{}</li>", esc(r))).collect();
    let intent_note = match f.intent {
        Some("approve") => "<p>You chose <b>Approve</b>: review the reply, then confirm.</p>",
        Some("reject") => "<p>You chose <b>Reject</b>: say why (optional), then confirm.</p>",
        _ => "",
    };
    let fields = [hidden("t", f.token), hidden("r", f.reference), hidden("csrf", f.csrf.unwrap_or(""))].concat();
    let refused = f.retry.map(|r| {
        format!(
            "<p id=error class=error role=alert>Nothing was decided: {}. What you wrote is kept below: {}.</p>",
            esc(r.error),
            esc(r.next)
        )
    });
    let draft = f.draft.map(|d| f.retry.and_then(|r| r.draft).unwrap_or(d));
    let reason = f.retry.and_then(|r| r.reason).unwrap_or("");
    let body = format!(
        "<h1>{heading}</h1>{refused}{intent_note}<p>Deciding as <b id=approver>{who}</b>.</p><table>{facts}</table><h2>Why</h2><ul>{reasons}</ul>\
<form method=post action=\"{id}\" id=decision>{fields}<button type=submit disabled hidden aria-hidden=true tabindex=-1></button>\
<h2>Reply to the customer</h2>{reply}\
<p><label>Reason if you reject: <input name=reason id=reason size=50 value=\"{reason}\"></label></p>\
<p><button type=submit class=approve name=decision value=approve id=approve>{approve}</button><button type=submit class=reject name=decision value=reject id=reject>Reject</button></p></form>",
        heading = esc(f.heading),
        refused = refused.unwrap_or_default(),
        reason = esc(reason),
        who = esc(f.approver),
        id = esc(f.id),
        reply = match draft {
            // HTML drops one line break right after <textarea>: this one, so a reply's own first line break stays.
            Some(d) => format!("<textarea name=draft id=draft>\n{}</textarea>", esc(d)),
            None => "<p id=reply-from-result>atpilot writes the reply from the runbook's result, once it is read back from the provider: there is nothing to edit here.</p>".into(),
        },
        approve = if f.draft.is_some() { "Approve and send" } else { "Approve" },
    );
    page(f.retry.map(|r| r.status).unwrap_or(200), "atpilot approval", &body)
}

/// The page right after an approval: the writes made (`done`), a temporary
/// password shown this once (never stored), and the time entry as pending
/// (or none, when the runbook did not complete).
pub(crate) fn approved_page(done: &[String], secret: Option<&str>, time_entry_queued: bool) -> Page {
    let done: String = done.iter().map(|d| format!("<li>{}</li>", esc(d))).collect();
    let secret = secret
        .map(|s| format!("<p>Temporary password, shown only this once (atpilot keeps no copy): <code id=temporary-password>{}</code>. Give it to the user by phone; they choose a new one at their next sign-in.</p>", esc(s)))
        .unwrap_or_default();
    let entry = if time_entry_queued {
        "<p>Time entry: <b id=time-entry>pending</b>. Open your link again to see whether it was written.</p>"
    } else {
        "<p>Time entry: <b id=time-entry>none</b>: nothing was resolved, so no time is logged.</p>"
    };
    page(
        200,
        "Approved",
        &format!("<h1 id=result>Approved</h1><p>atpilot has:</p><ul id=done>{done}</ul>{secret}{entry}"),
    )
}

/// The page right after a rejection.
pub(crate) fn rejected_page() -> Page {
    page(
        200,
        "Rejected",
        "<h1 id=result>Rejected</h1><p>Nothing was sent to the customer; an internal note records your decision.</p>",
    )
}

/// A method the approval pages do not serve.
pub(crate) fn method_not_allowed() -> Page {
    page(405, "atpilot approval", "<p>Use the link you received.</p>")
}

/// What a decided request's page adds below who decided and when.
pub(crate) enum DecidedDetail<'a> {
    /// An approval: the real state of its time entry, as a sentence.
    TimeEntry(&'a str),
    /// A rejection or expiry: its note, if any.
    Note(Option<&'a str>),
}

/// A decided request: who decided and when (`decided`), and the detail.
pub(crate) fn decided_page(decided: &str, detail: DecidedDetail<'_>) -> Page {
    let outcome = match detail {
        DecidedDetail::TimeEntry(t) => format!("<p>Time entry: <b id=time-entry>{}</b></p>", esc(t)),
        DecidedDetail::Note(n) => n.map(|n| format!("<p id=note>{}</p>", esc(n))).unwrap_or_default(),
    };
    page(409, "atpilot approval", &format!("<h1>Already decided</h1><p id=message>{}</p>{outcome}", esc(decided)))
}
