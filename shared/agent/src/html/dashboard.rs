//! The dashboard: what the agent predicted and did, next to what
//! dispatchers did, phase by phase. Data gathering over the state port and
//! HTML rendering are plain functions, shared by the dashboard function in
//! AWS and by `atpilot dev`.

use super::esc;
use atpilot_config::Config;
use atpilot_domain::{Category, Phase};
use atpilot_store::State;
use atpilot_store::records::{
    AlertEmailRecord, AlertRecord, ApprovalRecord, ApprovalState, DeadLetterRecord, DecisionRecord, DeliveryState,
    HumanRouting, KillSwitchChange, PhaseRecord,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// A category's effective phase and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseRow {
    pub category: Category,
    pub phase: Phase,
    pub safe: bool,
    /// "configuration" or who set it at run time.
    pub source: String,
}

/// How often one predicted label matched what a human set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// Decisions where both the agent and a human gave this label.
    pub compared: u32,
    pub agreed: u32,
}

impl Agreement {
    fn add(&mut self, predicted: Option<String>, human: Option<String>) {
        if let (Some(p), Some(h)) = (predicted, human) {
            self.compared += 1;
            self.agreed += u32::from(p == h);
        }
    }
    pub(crate) fn rate(&self) -> Option<f64> {
        (self.compared > 0).then(|| self.agreed as f64 / self.compared as f64)
    }
}

/// Agreement of the agent's predictions with dispatchers' routing, per
/// predicted category: every label the agent predicts against the last
/// value a human set for it on the same ticket.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgreementRow {
    pub decisions: u32,
    /// Decisions a human later routed.
    pub routed_by_humans: u32,
    /// The category against the one the human's issue / sub-issue type stands for.
    pub category: Agreement,
    pub queue: Agreement,
    pub priority: Agreement,
    pub issue_type: Agreement,
    pub sub_issue_type: Agreement,
}

/// One decision as `GET /api/decisions` returns it.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub ticket_id: i64,
    pub decided_at: String,
    pub category: String,
    pub predicted: serde_json::Value,
    pub confidence: f64,
    pub phase: Phase,
    pub action: &'static str,
    pub reasons: Vec<String>,
    /// What the category's runbook did for this decision: `null` when no
    /// runbook ran (or none applies), else provider, action, plan, status
    /// (planned, executed, verified, failed, refused), before, after, reason.
    pub runbook: Option<atpilot_domain::RunbookOutcome>,
    /// Whether and how the customer heard of the reply (`null` when no reply was posted).
    pub customer_told: Option<String>,
    /// What atpilot recorded doing for this decision, in words, in order
    /// (internal note, approval, runbook, reply, time entry: the ticket
    /// timeline's titles);
    /// empty when the action writes nothing with a record of its own.
    pub done: Vec<String>,
}

impl From<&DecisionRecord> for DecisionView {
    fn from(d: &DecisionRecord) -> Self {
        let p = &d.prediction;
        DecisionView {
            ticket_id: d.ticket_id.get(),
            decided_at: d.decided_at.to_rfc3339(),
            category: p.category.to_string(),
            predicted: serde_json::json!({
                "category": p.category, "queue_id": p.queue_id, "priority": p.priority,
                "issue_type": p.issue_type, "sub_issue_type": p.sub_issue_type,
                "multi_issue": p.multi_issue, "needs_physical_access": p.needs_physical_access,
            }),
            confidence: p.confidence.get(),
            phase: d.phase,
            action: d.action.name(),
            reasons: d.explanation.clone(),
            runbook: None,
            customer_told: None,
            done: vec![],
        }
    }
}

/// The view of `d` with the writes its action recorded (internal note,
/// runbook run, reply, approval, time entry).
async fn view_with_writes(state: &State, d: &DecisionRecord) -> Result<DecisionView, atpilot_store::StoreError> {
    let mut v = DecisionView::from(d);
    let writes = super::timeline::Writes::load(state, d).await?;
    v.done = writes.entries(d).into_iter().map(|e| e.title).collect();
    v.customer_told = writes.reply.map(|r| r.told);
    if let Some(run) = writes.run {
        v.runbook = Some(run.outcome.unwrap_or_else(|| atpilot_domain::RunbookOutcome {
            provider: String::new(),
            action: String::new(),
            plan: "started; not finished".into(),
            status: atpilot_domain::RunbookStatus::Planned,
            before: Default::default(),
            after: Default::default(),
            reason: None,
            awaiting_callback: false,
        }));
    }
    Ok(v)
}

/// The newest pending approvals the dashboard lists (a full list says so).
const PENDING_SHOWN: usize = 50;

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardData {
    pub kill_switch: bool,
    pub phases: Vec<PhaseRow>,
    pub agreement: BTreeMap<String, AgreementRow>,
    pub decisions: Vec<DecisionView>,
    pub pending_approvals: Vec<ApprovalRecord>,
    pub phase_history: Vec<PhaseRecord>,
    /// What a human must act on (failed time entries…), newest first, each
    /// with how its e-mail fared (none: not tried, e.g. no alert address).
    pub alerts: Vec<(AlertRecord, Option<AlertEmailRecord>)>,
    /// Queue messages set aside because they can never be processed, newest first.
    pub dead_letters: Vec<DeadLetterRecord>,
    /// The kill switch's own flips, newest first (who, when, from where).
    pub kill_switch_history: Vec<KillSwitchChange>,
    /// `autotask.ticket_link`: where a ticket opens in Autotask.
    pub ticket_link: Option<atpilot_config::TicketLink>,
    /// Completed tickets' KB drafts, newest first.
    pub kb_drafts: Vec<atpilot_store::records::KbDraftRecord>,
    /// Proposed customer status updates, newest first.
    pub status_updates: Vec<atpilot_store::records::StatusUpdateRecord>,
}

/// How many status updates the dashboard lists.
pub const UPDATES_SHOWN: usize = 50;

/// The decisions, newest first, as the API returns them.
pub async fn decisions(state: &State, limit: usize) -> Result<Vec<DecisionView>, atpilot_store::StoreError> {
    views(state, &state.recent_decisions(limit).await?).await
}

/// Every decision made on one UTC `day`, newest first, as views.
pub async fn decisions_on(
    state: &State,
    day: chrono::NaiveDate,
) -> Result<Vec<DecisionView>, atpilot_store::StoreError> {
    let mut records = state.decisions_on(day).await?;
    records.reverse();
    views(state, &records).await
}

/// The views of `records`, each with its runbook run.
async fn views(state: &State, records: &[DecisionRecord]) -> Result<Vec<DecisionView>, atpilot_store::StoreError> {
    // Eight decisions at a time, in order (each reads its writes at once).
    let mut out = Vec::with_capacity(records.len());
    for chunk in records.chunks(8) {
        out.extend(futures::future::try_join_all(chunk.iter().map(|d| view_with_writes(state, d))).await?);
    }
    Ok(out)
}

/// Effective phases: configuration, overridden by run-time settings.
pub async fn phases(state: &State, config: &Config) -> Result<Vec<PhaseRow>, atpilot_store::StoreError> {
    let mut rows: BTreeMap<Category, PhaseRow> = config
        .categories
        .iter()
        .map(|(c, cc)| {
            (
                c.clone(),
                PhaseRow { category: c.clone(), phase: cc.phase, safe: cc.safe, source: "configuration".into() },
            )
        })
        .collect();
    for p in state.phases().await? {
        let safe = config.categories.get(&p.category).map(|c| c.safe).unwrap_or(false);
        rows.insert(
            p.category.clone(),
            PhaseRow {
                category: p.category.clone(),
                phase: p.phase,
                safe,
                source: format!("set by {} on {}", p.changed_by, p.changed_at.format("%Y-%m-%d %H:%M UTC")),
            },
        );
    }
    Ok(rows.into_values().collect())
}

/// Compares each decision with the last human routing of its ticket.
pub(crate) fn agreement(decisions: &[(DecisionRecord, Vec<HumanRouting>)]) -> BTreeMap<String, AgreementRow> {
    let mut out: BTreeMap<String, AgreementRow> = BTreeMap::new();
    for (d, humans) in decisions {
        let row = out.entry(d.prediction.category.to_string()).or_default();
        row.decisions += 1;
        // A change of status alone (e.g. completing the ticket) is not a routing to compare.
        let humans: Vec<&HumanRouting> = humans.iter().filter(|h| h.routes()).collect();
        if humans.is_empty() {
            continue;
        }
        row.routed_by_humans += 1;
        // Each label's last value a human set (a later change of the queue alone keeps the category).
        let last = |f: fn(&HumanRouting) -> Option<i64>| humans.iter().rev().find_map(|h| f(h)).map(|v| v.to_string());
        let p = &d.prediction;
        let s = |v: Option<i64>| v.map(|v| v.to_string());
        let category = humans.iter().rev().find_map(|h| h.category.as_ref().map(|c| c.to_string()));
        row.category.add(Some(p.category.to_string()), category);
        row.queue.add(s(p.queue_id.map(|v| v.get())), last(|h| h.queue_id));
        row.priority.add(s(p.priority.map(|v| v.get())), last(|h| h.priority));
        row.issue_type.add(s(p.issue_type.map(|v| v.get())), last(|h| h.issue_type));
        row.sub_issue_type.add(s(p.sub_issue_type.map(|v| v.get())), last(|h| h.sub_issue_type));
    }
    out
}

async fn alerts_with_emails(
    state: &State,
) -> Result<Vec<(AlertRecord, Option<AlertEmailRecord>)>, atpilot_store::StoreError> {
    let mut out = Vec::new();
    for a in state.alerts(20).await? {
        let email = state.alert_email(&a.id).await?;
        out.push((a, email));
    }
    Ok(out)
}

pub async fn gather(state: &State, config: &Config, limit: usize) -> Result<DashboardData, atpilot_store::StoreError> {
    let recent = state.recent_decisions(limit).await?;
    let mut paired = Vec::with_capacity(recent.len());
    for d in &recent {
        paired.push((d.clone(), state.human_routings(d.ticket_id).await?));
    }
    Ok(DashboardData {
        kill_switch: config.kill_switch || state.settings().await?.kill_switch,
        phases: phases(state, config).await?,
        agreement: agreement(&paired),
        decisions: views(state, &recent).await?,
        pending_approvals: state.approvals_in_state(ApprovalState::Pending, PENDING_SHOWN).await?,
        phase_history: state.phase_history(20).await?,
        alerts: alerts_with_emails(state).await?,
        dead_letters: state.dead_letters(20).await?,
        kill_switch_history: state.kill_switch_history(10).await?,
        ticket_link: config.autotask.ticket_link.clone(),
        kb_drafts: state.kb_drafts(50).await?,
        status_updates: state.status_updates(UPDATES_SHOWN).await?,
    })
}

/// A ticket number linking to its timeline, and to Autotask when `autotask.ticket_link` is set.
pub fn ticket_cell(ticket: i64, link: Option<&atpilot_config::TicketLink>) -> String {
    let autotask = link
        .map(|l| {
            format!(
                " <a class=autotask href=\"{}\" rel=\"noopener noreferrer\" title=\"Open in Autotask\">Autotask</a>",
                esc(&l.to(ticket))
            )
        })
        .unwrap_or_default();
    format!(
        "<a class=ticket href=\"/tickets/{ticket}\" title=\"What atpilot saw, decided and wrote\">{ticket}</a>{autotask}"
    )
}

fn rate(a: &Agreement) -> String {
    match a.rate() {
        Some(r) => format!("{:.0}% <small>({} of {})</small>", r * 100.0, a.agreed, a.compared),
        None => "<span class=muted>none yet</span>".into(),
    }
}

/// The kill switch's recent flips, as a table beside the switch.
fn kill_switch_history(h: &[KillSwitchChange]) -> String {
    if h.is_empty() {
        return "<p class=muted id=\"kill-switch-history\">Never flipped.</p>".into();
    }
    let rows: String = h
        .iter()
        .map(|c| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                c.changed_at.format("%Y-%m-%d %H:%M:%S UTC"),
                if c.on { "on" } else { "off" },
                esc(&c.changed_by),
                esc(&c.via)
            )
        })
        .collect();
    format!(
        "<table id=\"kill-switch-history\"><tr><th>When</th><th>Switch</th><th>By</th><th>From</th></tr>{rows}</table>"
    )
}

/// The dashboard's sections (kill switch, alerts, phases, comparison,
/// approvals, decisions, history), as HTML to place in the pages' layout;
/// every value in them is escaped here.
pub fn sections(d: &DashboardData, form_token: &str) -> String {
    let mut h = String::new();
    h.push_str(&format!(
        r#"<section id="kill-switch"><h2>Kill switch</h2><p>The agent is {}.</p>
<form method="post" action="/kill-switch"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="setting" value="{}"><button type="submit">{}</button></form>{}</section>"#,
        if d.kill_switch { "<span class=kill-on>stopped: it writes nothing to Autotask</span>" } else { "<span class=kill-off>running</span>" },
        if d.kill_switch { "off" } else { "on" },
        if d.kill_switch { "Release the kill switch" } else { "Stop the agent (kill switch)" },
        kill_switch_history(&d.kill_switch_history),
        csrf = esc(form_token),
    ));

    render_alerts(&mut h, &d.alerts, d.ticket_link.as_ref());
    render_dead_letters(&mut h, &d.dead_letters, d.ticket_link.as_ref());
    h.push_str(r#"<section id="phases"><h2>Phases</h2><table><tr><th>Category</th><th>Phase</th><th>Safe</th><th>Source</th><th>Change</th></tr>"#);
    for p in &d.phases {
        let options: String = Phase::ALL
            .iter()
            .map(|ph| {
                format!(
                    "<option value=\"{0}\"{1}>{0}</option>",
                    ph.as_str(),
                    if *ph == p.phase { " selected" } else { "" }
                )
            })
            .collect();
        h.push_str(&format!(
            r#"<tr data-category="{c}"><td>{c}</td><td class="phase">{ph}</td><td>{safe}</td><td class=muted>{src}</td>
<td><form method="post" action="/phases"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="category" value="{c}"><select name="phase" aria-label="phase of {c}">{options}</select> <button type="submit">Set</button></form></td></tr>"#,
            c = esc(p.category.as_str()),
            ph = p.phase,
            safe = if p.safe { "yes" } else { "no" },
            src = esc(&p.source),
            csrf = esc(form_token),
        ));
    }
    h.push_str("</table></section>");

    h.push_str(r#"<section id="agreement"><h2>Shadow comparison: agent vs dispatchers</h2><p class=muted>Each label the agent predicted against the last value a dispatcher set on the same ticket (the category: the one their issue / sub-issue type stands for).</p><table id="agreement-table"><tr><th>Predicted category</th><th>Decisions</th><th>Routed by humans</th><th>Category agreement</th><th>Queue</th><th>Priority</th><th>Issue type</th><th>Sub-issue type</th></tr>"#);
    if d.agreement.is_empty() {
        h.push_str("<tr><td colspan=8 class=muted>No decisions yet.</td></tr>");
    }
    for (cat, a) in &d.agreement {
        h.push_str(&format!(
            "<tr data-agreement=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=category-agreement>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(cat),
            esc(cat),
            a.decisions,
            a.routed_by_humans,
            rate(&a.category),
            rate(&a.queue),
            rate(&a.priority),
            rate(&a.issue_type),
            rate(&a.sub_issue_type)
        ));
    }
    h.push_str("</table></section>");

    h.push_str(r#"<section id="approvals"><h2>Pending approvals</h2><table><tr><th>Ticket</th><th>Category</th><th>Requested</th><th>Expires</th><th></th></tr>"#);
    if d.pending_approvals.is_empty() {
        h.push_str("<tr><td colspan=5 class=muted>None pending.</td></tr>");
    }
    for a in &d.pending_approvals {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a class=open-approval href=\"/approvals/#approval-{}\">Open</a></td></tr>",
            ticket_cell(a.ticket_id.get(), d.ticket_link.as_ref()),
            esc(a.category.as_str()),
            a.created_at.format("%Y-%m-%d %H:%M:%S"),
            a.expires_at.format("%Y-%m-%d %H:%M"),
            esc(&a.id)
        ));
    }
    h.push_str("</table>");
    if d.pending_approvals.len() == PENDING_SHOWN {
        h.push_str(&format!("<p class=muted id=pending-cut>The newest {PENDING_SHOWN} are shown; older ones are on the <a href=\"/approvals/\">approvals page</a> and their tickets' timelines.</p>"));
    }
    h.push_str("</section>");

    render_decisions(&mut h, &d.decisions, d.ticket_link.as_ref());
    super::kb_drafts::render(&mut h, &d.kb_drafts, d.ticket_link.as_ref());
    super::status_updates::render(&mut h, &d.status_updates, d.ticket_link.as_ref(), UPDATES_SHOWN);

    h.push_str(r#"<section id="history"><h2>Phase changes</h2><table><tr><th>When</th><th>Category</th><th>Phase</th><th>By</th><th>Why</th></tr>"#);
    for p in &d.phase_history {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.changed_at.format("%Y-%m-%d %H:%M"),
            esc(p.category.as_str()),
            p.phase,
            esc(&p.changed_by),
            esc(&p.reason)
        ));
    }
    h.push_str("</table></section>");
    h
}

/// The decisions, newest first, with their reasons and runbook runs.
fn render_decisions(h: &mut String, decisions: &[DecisionView], link: Option<&atpilot_config::TicketLink>) {
    h.push_str(r#"<section id="decisions"><h2>Decisions</h2><table id="decisions-table"><tr><th>When (UTC)</th><th>Ticket</th><th>Category</th><th>Confidence</th><th>Phase</th><th>Action</th><th>Why</th></tr>"#);
    if decisions.is_empty() {
        h.push_str("<tr><td colspan=7 class=muted>No decisions yet: tickets appear here as they arrive.</td></tr>");
    }
    for x in decisions {
        let mut reasons: String = x.reasons.iter().map(|r| format!("<li>{}</li>", esc(r))).collect();
        if let Some(rb) = &x.runbook {
            let detail = rb.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            reasons.push_str(&format!(
                "<li class=runbook>runbook {} {:?}: {}{}</li>",
                esc(&rb.action),
                rb.status,
                esc(&rb.plan),
                esc(&detail)
            ));
        }
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>{}</td><td class=action>{}</td><td><ul class=reasons>{}</ul></td></tr>",
            esc(&x.decided_at[..19.min(x.decided_at.len())].replace('T', " ")),
            ticket_cell(x.ticket_id, link),
            esc(&x.category),
            x.confidence * 100.0,
            x.phase,
            action_cell(x),
            reasons
        ));
    }
    h.push_str("</table></section>");
}

/// The Action column: the decision's action, then what atpilot recorded doing.
fn action_cell(x: &DecisionView) -> String {
    let done: String = x.done.iter().map(|d| format!("<li>{}</li>", esc(d))).collect();
    let done = match (done.is_empty(), x.action) {
        (false, _) => format!("<ul class=done>{done}</ul>"),
        (true, "log-only") => "<div class=muted>nothing written</div>".into(),
        (true, _) => String::new(),
    };
    format!("<b>{}</b>{done}", x.action)
}

/// Alerts: what a human must act on, e.g. a time entry Autotask refused.
fn render_alerts(
    h: &mut String,
    alerts: &[(AlertRecord, Option<AlertEmailRecord>)],
    link: Option<&atpilot_config::TicketLink>,
) {
    h.push_str(r#"<section id="alerts"><h2>Alerts</h2><table><tr><th>When (UTC)</th><th>Ticket id</th><th>What</th><th>Details</th><th>E-mail</th></tr>"#);
    if alerts.is_empty() {
        h.push_str("<tr><td colspan=5 class=muted>No alerts.</td></tr>");
    }
    for (a, email) in alerts {
        h.push_str(&format!(
            "<tr class=alert><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=alert-email>{}</td></tr>",
            a.at.format("%Y-%m-%d %H:%M:%S"),
            a.ticket_id.map(|t| ticket_cell(t.get(), link)).unwrap_or_default(),
            esc(&a.kind),
            esc(&a.message),
            alert_email_cell(a, email.as_ref())
        ));
    }
    h.push_str("</table></section>");
}

/// How an alert's e-mail fared, as the Alerts table's last cell.
fn alert_email_cell(alert: &AlertRecord, email: Option<&AlertEmailRecord>) -> String {
    let Some(e) = email else {
        return match alert.email_tracked {
            true => "<span class=muted>none recorded (no alert address, or still being sent)</span>".into(),
            false => "<span class=muted>not recorded (raised before e-mails were tracked)</span>".into(),
        };
    };
    let tries = if e.attempts == 1 { "1 try".to_string() } else { format!("{} tries", e.attempts) };
    match e.state {
        DeliveryState::Accepted | DeliveryState::Delivered => format!("sent ({tries})"),
        DeliveryState::Retrying => format!("not sent yet ({tries}; retried by the reconciler): {}", esc(&e.answer)),
        DeliveryState::Failed => format!("<b>failed</b> ({tries}): {}", esc(&e.answer)),
    }
}

/// Dead letters: queue messages set aside whole, with why (nothing is lost).
fn render_dead_letters(h: &mut String, dead: &[DeadLetterRecord], link: Option<&atpilot_config::TicketLink>) {
    if dead.is_empty() {
        return;
    }
    h.push_str(r#"<section id="dead-letters"><h2>Dead letters</h2><p class=muted>Messages that can never be processed as they are: kept whole, not retried. Fix the cause, then handle the ticket by hand.</p><table><tr><th>When (UTC)</th><th>Queue</th><th>Ticket id</th><th>Why</th><th>Message</th></tr>"#);
    for d in dead {
        h.push_str(&format!(
            "<tr class=dead-letter><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
            d.at.format("%Y-%m-%d %H:%M:%S"),
            esc(&d.queue),
            d.ticket_id.map(|t| ticket_cell(t.get(), link)).unwrap_or_default(),
            esc(&d.error),
            esc(&d.body)
        ));
    }
    h.push_str("</table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_it_shows() {
        assert_eq!(esc(r#"<script>"a"&'b'</script>"#), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;");
    }
}
