//! Approvals: a request goes to the category's approvers in Teams (an
//! Adaptive Card) and/or e-mail (SES); each link opens a confirmation page
//! that never changes anything (link scanners and previews fetch links);
//! only the POST from that page decides. Tokens are signed (HMAC-SHA256),
//! expiring, bound to one approver, and single-use through the conditional
//! pending → approved / rejected / expired transition.

use crate::classify::{ClassifyError, Resolution, ResolutionReport, execute_resolution};
use crate::dashboard::esc;
use crate::deps::Deps;
use crate::notify::{Email, TeamsMessage};
use crate::ports::{NewNote, NoteVisibility, PortError};
use atpilot_config::Channel;
use atpilot_domain::*;
use atpilot_store::records::{ApprovalRecord, ApprovalState, DecisionRecord, Transition};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const TOKEN_VERSION: &str = "v1";
/// The Adaptive Card version the Teams card declares (Teams incoming webhooks and Workflows render 1.4).
pub const CARD_VERSION: &str = "1.4";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The approval request.
    pub a: String,
    /// The approver the link was sent to.
    pub e: String,
    /// Expiry, epoch seconds.
    pub x: i64,
}

/// Why a decision was refused. Each maps to an HTTP status and a page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApprovalError {
    #[error("this link is not valid: it was altered or was not issued by atpilot")]
    Forged,
    #[error("this link expired on {0} UTC; the request was not carried out")]
    Expired(String),
    #[error("{0} is not an approver of this category; ask the service manager to add you")]
    NotAnApprover(String),
    #[error("there is no such approval request")]
    Unknown,
    #[error("this request was already {state} by {by} at {at} UTC: a link works once")]
    AlreadyDecided { state: &'static str, by: String, at: String },
    #[error("not carried out: the ticket changed since the request ({0}); atpilot will not act on stale data")]
    Stale(String),
    #[error("{0}")]
    Invalid(String),
    #[error("temporarily unavailable, nothing was changed; try again in a minute ({0})")]
    Unavailable(String),
    #[error("the kill switch is on: atpilot writes nothing, so nothing was decided and the request stays pending; decide again once the switch is off")]
    KillSwitch,
}

impl ApprovalError {
    pub fn status(&self) -> u16 {
        match self {
            ApprovalError::Forged | ApprovalError::NotAnApprover(_) => 403,
            ApprovalError::Expired(_) => 410,
            ApprovalError::Unknown => 404,
            ApprovalError::AlreadyDecided { .. } | ApprovalError::Stale(_) | ApprovalError::KillSwitch => 409,
            ApprovalError::Invalid(_) => 400,
            ApprovalError::Unavailable(_) => 503,
        }
    }
}

impl From<atpilot_store::StoreError> for ApprovalError {
    fn from(e: atpilot_store::StoreError) -> Self {
        ApprovalError::Unavailable(format!("state store: {e}"))
    }
}
impl From<PortError> for ApprovalError {
    fn from(e: PortError) -> Self {
        ApprovalError::Unavailable(format!("Autotask: {e}"))
    }
}
impl From<ClassifyError> for ApprovalError {
    fn from(e: ClassifyError) -> Self {
        ApprovalError::Unavailable(e.to_string())
    }
}

fn mac(key: &[u8], data: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data.as_bytes());
    m
}

/// `v1.<claims>.<signature>`, URL-safe.
pub fn sign_token(key: &[u8], claims: &Claims) -> String {
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{TOKEN_VERSION}.{payload}");
    let sig = B64.encode(mac(key, &signed).finalize().into_bytes());
    format!("{signed}.{sig}")
}

/// Checks the signature (constant time), then the expiry.
pub fn verify_token(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, ApprovalError> {
    let mut parts = token.trim().split('.');
    let (Some(v), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ApprovalError::Forged);
    };
    if v != TOKEN_VERSION {
        return Err(ApprovalError::Forged);
    }
    let sig = B64.decode(sig).map_err(|_| ApprovalError::Forged)?;
    mac(key, &format!("{v}.{payload}")).verify_slice(&sig).map_err(|_| ApprovalError::Forged)?;
    let claims: Claims = B64.decode(payload).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(ApprovalError::Forged)?;
    if claims.x <= now.timestamp() {
        let at = Utc.timestamp_opt(claims.x, 0).single().map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
        return Err(ApprovalError::Expired(at));
    }
    Ok(claims)
}

/// The links of one approver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub approve: String,
    pub reject: String,
    pub open: String,
}

pub fn links(deps: &Deps, approval: &ApprovalRecord, approver: &str) -> Links {
    let token = sign_token(deps.approval_key.expose(), &Claims { a: approval.id.clone(), e: approver.to_string(), x: approval.expires_at.timestamp() });
    let base = deps.config.approvals.base_url.trim_end_matches('/');
    let page = format!("{base}/{}?t={token}", approval.id);
    Links { approve: format!("{page}&intent=approve"), reject: format!("{page}&intent=reject"), open: page }
}

/// What a request shows: everything an approver needs to decide.
pub struct RequestView<'a> {
    pub approval: &'a ApprovalRecord,
    pub decision: &'a DecisionRecord,
    pub ticket: &'a TicketSnapshot,
    pub company: String,
}

impl RequestView<'_> {
    fn facts(&self) -> Vec<(String, String)> {
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
        let risks: Vec<String> = self.decision.reasons.iter().filter_map(|r| if let Reason::RequestRisk { risk } = r { Some(risk.to_string()) } else { None }).collect();
        if !risks.is_empty() {
            f.insert(0, ("Caution".into(), format!("{}. Check with the requester before approving.", risks.join("; "))));
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
    let reasons: Vec<_> = view.decision.explanation.iter().map(|r| json!({"type": "TextBlock", "text": format!("- {r}"), "wrap": true, "spacing": "None"})).collect();
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
    TeamsMessage { summary: format!("atpilot: approval needed for ticket {} ({})", view.ticket.ticket_number, view.decision.prediction.category), card }
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
        html.push_str(&format!("<h3>Draft reply</h3><pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre>", esc(d)));
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
    Email { to: vec![approver.to_string()], subject: format!("[atpilot] Approve: {} – ticket {}", view.decision.prediction.category, view.ticket.ticket_number), html, text, attachments: vec![] }
}

/// Sends a new request to the category's approvers on its channels.
pub async fn send_request(deps: &Deps, approval: &ApprovalRecord, decision: &DecisionRecord, ticket: &TicketSnapshot) -> Result<(), PortError> {
    let Some(cat) = deps.config.categories.get(&approval.category) else {
        tracing::warn!(category = %approval.category, "approval request without configured approvers: it is listed on the dashboard only");
        return Ok(());
    };
    if cat.approvers.is_empty() {
        tracing::warn!(category = %approval.category, "no approvers configured: the request is listed on the dashboard only");
        return Ok(());
    }
    let company = deps.autotask.company_name(ticket.company_id).await?.unwrap_or_else(|| format!("company {}", ticket.company_id));
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

/// An HTML page and its status.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub status: u16,
    pub html: String,
}

pub(crate) fn page(status: u16, title: &str, body: &str) -> Page {
    Page {
        status,
        html: format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><meta name=robots content=noindex><title>{}</title>\
<style>body{{font-family:system-ui,Segoe UI,sans-serif;max-width:760px;margin:24px auto;padding:0 16px;color:#1d2433}}th{{text-align:left;padding-right:12px}}\
textarea{{width:100%;min-height:160px;font:inherit}}button{{font-size:16px;padding:8px 18px;margin-right:8px}}.approve{{background:#2e7d32;color:#fff;border:0}}.reject{{background:#b3261e;color:#fff;border:0}}</style></head><body>{}</body></html>",
            esc(title),
            body
        ),
    }
}

fn error_page(e: &ApprovalError) -> Page {
    page(e.status(), "atpilot approval", &format!("<h1>Nothing was done</h1><p id=message>{}</p>", esc(&e.to_string())))
}

async fn load(deps: &Deps, id: &str, token: &str, now: DateTime<Utc>) -> Result<(Claims, ApprovalRecord), ApprovalError> {
    let claims = verify_token(deps.approval_key.expose(), token, now)?;
    if claims.a != id {
        return Err(ApprovalError::Forged);
    }
    let approval = deps.state.approval(id).await?.ok_or(ApprovalError::Unknown)?;
    if !deps.config.approvers(&approval.category).iter().any(|a| a.eq_ignore_ascii_case(&claims.e)) {
        return Err(ApprovalError::NotAnApprover(claims.e));
    }
    Ok((claims, approval))
}

pub(crate) fn already(a: &ApprovalRecord) -> ApprovalError {
    ApprovalError::AlreadyDecided {
        state: a.state.as_str(),
        by: a.decided_by.clone().unwrap_or_else(|| "atpilot".into()),
        at: a.decided_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
    }
}

async fn decision_of(deps: &Deps, a: &ApprovalRecord) -> Result<DecisionRecord, ApprovalError> {
    deps.state
        .ticket_decisions(a.ticket_id)
        .await?
        .into_iter()
        .find(|d| d.event_key == a.decision_event_key)
        .ok_or_else(|| ApprovalError::Invalid("the decision behind this request is missing".into()))
}

/// GET: the confirmation page. Never changes state.
pub async fn confirm_page(deps: &Deps, id: &str, token: &str, intent: Option<&str>, now: DateTime<Utc>) -> Page {
    let (claims, a) = match load(deps, id, token, now).await {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    if a.state != ApprovalState::Pending {
        return crate::approval_status::decided_page(deps, &a).await;
    }
    let d = match decision_of(deps, &a).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let ticket = match deps.autotask.ticket(a.ticket_id).await {
        Ok(Some(t)) => t,
        Ok(None) => return error_page(&ApprovalError::Stale("the ticket no longer exists".into())),
        Err(e) => return error_page(&e.into()),
    };
    let company = deps.autotask.company_name(ticket.company_id).await.ok().flatten().unwrap_or_else(|| format!("company {}", ticket.company_id));
    let view = RequestView { approval: &a, decision: &d, ticket: &ticket, company };
    let facts: String = view.facts().iter().map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v))).collect();
    let reasons: String = d.explanation.iter().map(|r| format!("<li>{}</li>", esc(r))).collect();
    let intent_note = match intent {
        Some("approve") => "<p>You chose <b>Approve</b>: review the reply, then confirm.</p>",
        Some("reject") => "<p>You chose <b>Reject</b>: say why (optional), then confirm.</p>",
        _ => "",
    };
    let body = format!(
        "<h1>Approve this action?</h1>{intent_note}<p>Deciding as <b id=approver>{who}</b>.</p><table>{facts}</table><h2>Why</h2><ul>{reasons}</ul>\
<form method=post action=\"{id}\"><input type=hidden name=t value=\"{token}\">\
<h2>Reply to the customer</h2><textarea name=draft id=draft>{draft}</textarea>\
<p><label>Reason if you reject: <input name=reason id=reason size=50></label></p>\
<p><button class=approve name=decision value=approve id=approve>Approve and send</button><button class=reject name=decision value=reject id=reject>Reject</button></p></form>",
        who = esc(&claims.e),
        id = esc(id),
        token = esc(token),
        draft = esc(a.draft.as_deref().unwrap_or("")),
    );
    page(200, "atpilot approval", &body)
}

/// The approver's choice, from the confirmation page's form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecisionForm {
    pub token: String,
    pub decision: String,
    pub draft: Option<String>,
    pub reason: Option<String>,
}

impl DecisionForm {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> DecisionForm {
        let mut f = DecisionForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "t" => f.token = v.into_owned(),
                "decision" => f.decision = v.into_owned(),
                "draft" => f.draft = Some(v.into_owned()),
                "reason" => f.reason = Some(v.into_owned()).filter(|r| !r.trim().is_empty()),
                _ => {}
            }
        }
        f
    }
}

/// What the ticket looks like now against what it looked like when asked.
fn stale_reason(a: &ApprovalRecord, t: &TicketSnapshot, deps: &Deps) -> Option<String> {
    let g = a.guard.as_ref()?;
    if t.status.get() != g.status {
        return Some(if t.status == deps.config.statuses.complete { "it was closed".into() } else { format!("its status changed from {} to {}", g.status, t.status) });
    }
    if t.assigned_resource_id.map(|r| r.get()) != g.assigned_resource_id {
        return Some("it was reassigned".into());
    }
    if t.contract_id.map(|c| c.get()) != g.contract_id {
        return Some("its contract changed".into());
    }
    if t.company_id.get() != g.company_id {
        return Some("its company changed".into());
    }
    None
}

/// The outcome of a POST.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// Carried out: what was written (the time entry follows asynchronously).
    Approved(ResolutionReport),
    Rejected,
}

/// POST: decides, once.
pub async fn decide(deps: &Deps, id: &str, form: &DecisionForm, now: DateTime<Utc>) -> Result<Decided, ApprovalError> {
    let (claims, a) = load(deps, id, &form.token, now).await?;
    if a.state != ApprovalState::Pending {
        return Err(already(&a));
    }
    // Approving or rejecting writes to Autotask: while the switch is on, the request stays pending.
    if deps.state.settings().await?.kill_switch {
        return Err(ApprovalError::KillSwitch);
    }
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(ApprovalError::Invalid(format!("decision must be approve or reject, got {other:?}"))),
    };
    if !approve {
        let mut r = a.clone();
        r.state = ApprovalState::Rejected;
        r.decided_by = Some(claims.e.clone());
        r.decided_at = Some(now);
        r.note = form.reason.clone();
        return match deps.state.decide_approval(&r).await? {
            Transition::Done => {
                let marker = r.action_id.marker();
                let text = format!(
                    "atpilot's proposed {} action was rejected by {}{}.\n{marker}",
                    r.category,
                    claims.e,
                    form.reason.as_deref().map(|x| format!(": {x}")).unwrap_or_default()
                );
                deps.autotask.add_note(r.ticket_id, &NewNote { title: "atpilot suggestion rejected".into(), text, visibility: NoteVisibility::Internal }).await?;
                Ok(Decided::Rejected)
            }
            Transition::Refused(cur) => Err(cur.map(|c| already(&c)).unwrap_or(ApprovalError::Unknown)),
        };
    }
    let ticket = deps.autotask.ticket(a.ticket_id).await?;
    let stale = match &ticket {
        None => Some("it no longer exists".to_string()),
        Some(t) => stale_reason(&a, t, deps),
    };
    if let Some(why) = stale {
        let mut r = a.clone();
        r.state = ApprovalState::Expired;
        r.decided_by = Some(claims.e.clone());
        r.decided_at = Some(now);
        r.note = Some(format!("not carried out: the ticket changed ({why})"));
        if let Transition::Refused(Some(cur)) = deps.state.decide_approval(&r).await? {
            return Err(already(&cur));
        }
        return Err(ApprovalError::Stale(why));
    }
    let ticket = ticket.unwrap_or_else(|| unreachable!("checked above"));
    let d = decision_of(deps, &a).await?;
    let plan = match d.action {
        Action::RequestApproval { plan } => plan,
        _ => return Err(ApprovalError::Invalid("the decision behind this request is not an approval request".into())),
    };
    let Some((contract, kind)) = contract_now(deps, &ticket).await? else {
        return Err(ApprovalError::Stale("its contract can no longer be established".into()));
    };
    let mut r = a.clone();
    r.state = ApprovalState::Approved;
    r.decided_by = Some(claims.e.clone());
    r.decided_at = Some(now);
    if let Some(edited) = form.draft.as_ref().map(|d| d.trim()).filter(|d| !d.is_empty()) {
        if Some(edited) != a.draft.as_deref().map(str::trim) {
            r.note = Some("reply edited by the approver".into());
        }
        r.draft = Some(edited.to_string());
    }
    match deps.state.decide_approval(&r).await? {
        Transition::Done => {}
        Transition::Refused(cur) => return Err(cur.map(|c| already(&c)).unwrap_or(ApprovalError::Unknown)),
    }
    let report = execute(deps, &r, &ticket, contract, kind, plan, false, now).await?;
    Ok(Decided::Approved(report))
}

/// The ticket's single contract as Autotask says now, if one is established.
async fn contract_now(deps: &Deps, ticket: &TicketSnapshot) -> Result<Option<(ContractId, ContractKind)>, ApprovalError> {
    let contracts = deps.autotask.company_contracts(ticket.company_id).await?;
    let binding = BillingBinding::derive(ticket.contract_id, ticket.is_project_work(), &contracts, false);
    Ok(binding.contract_id().zip(binding.kind()))
}

#[allow(clippy::too_many_arguments)]
async fn execute(deps: &Deps, a: &ApprovalRecord, ticket: &TicketSnapshot, contract: ContractId, kind: ContractKind, plan: ActionPlan, redelivery: bool, started: DateTime<Utc>) -> Result<ResolutionReport, ApprovalError> {
    let d = decision_of(deps, a).await?;
    let r = Resolution {
        ticket,
        category: &a.category,
        queue_id: d.prediction.queue_id,
        priority: d.prediction.priority,
        contract,
        kind,
        plan,
        action_id: &a.action_id,
        draft: a.draft.as_deref(),
        summary: format!("atpilot resolved this {} request; approved by {}.", a.category, a.decided_by.as_deref().unwrap_or("an approver")),
        redelivery,
        started,
    };
    let report = execute_resolution(deps, &r, &Utc::now).await?;
    let mut done = a.clone();
    done.executed_at = Some(Utc::now());
    deps.state.update_approval(&done, ApprovalState::Approved).await?;
    Ok(report)
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: usize,
    pub re_executed: usize,
}

/// On a schedule: expires unanswered requests, and carries out approved
/// requests whose execution was interrupted (every step is idempotent).
pub async fn sweep(deps: &Deps, now: DateTime<Utc>) -> Result<SweepReport, ApprovalError> {
    let mut report = SweepReport::default();
    for a in deps.state.approvals_in_state(ApprovalState::Pending, 500).await? {
        if a.expires_at <= now {
            let mut r = a.clone();
            r.state = ApprovalState::Expired;
            r.decided_at = Some(now);
            r.note = Some("nobody answered in time".into());
            if deps.state.decide_approval(&r).await? == Transition::Done {
                report.expired += 1;
            }
        }
    }
    if deps.state.settings().await?.kill_switch {
        // Interrupted executions resume once the switch is off.
        return Ok(report);
    }
    for a in deps.state.approvals_in_state(ApprovalState::Approved, 200).await? {
        let stuck = a.executed_at.is_none() && a.decided_at.is_some_and(|t| now - t > Duration::minutes(2));
        if !stuck {
            continue;
        }
        let Some(ticket) = deps.autotask.ticket(a.ticket_id).await? else { continue };
        let Some((contract, kind)) = contract_now(deps, &ticket).await? else { continue };
        let plan = match decision_of(deps, &a).await?.action {
            Action::RequestApproval { plan } => plan,
            _ => continue,
        };
        execute(deps, &a, &ticket, contract, kind, plan, true, a.decided_at.unwrap_or(now)).await?;
        report.re_executed += 1;
    }
    Ok(report)
}

/// The approval pages over HTTP, for both the Lambda (Function URL) and `atpilot dev`:
/// `GET /approvals/{id}?t=…[&intent=…]` shows, `POST /approvals/{id}` decides.
pub async fn handle_http(deps: &Deps, method: &str, id: &str, query: &str, body: &[u8], now: DateTime<Utc>) -> Page {
    let q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let id_ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !id_ok {
        return error_page(&ApprovalError::Unknown);
    }
    match method {
        "GET" | "HEAD" => confirm_page(deps, id, get("t").unwrap_or(""), get("intent"), now).await,
        "POST" => {
            let form = DecisionForm::parse(body);
            match decide(deps, id, &form, now).await {
                Ok(Decided::Approved(report)) => crate::approval_status::approved_page(&report),
                Ok(Decided::Rejected) => page(200, "Rejected", "<h1 id=result>Rejected</h1><p>Nothing was sent to the customer; an internal note records your decision.</p>"),
                Err(e) => error_page(&e),
            }
        }
        _ => page(405, "atpilot approval", "<p>Use the link you received.</p>"),
    }
}
