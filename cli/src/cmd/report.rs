//! `atpilot report weekly`: the weekly metrics run locally, against the
//! embedded sandbox (`--sandbox`) or a real tenant (`--autotask-url`), over
//! the embedded state store, delivering to the outbox (the dashboard's outbox
//! page shows it) and writing the e-mail's HTML and CSV files to disk.

use crate::CliResult;
use crate::output::{self, Kind};
use atpilot_agent::adapters::notify::OutboxNotifier;
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use atpilot_config::Config;
use atpilot_store::State;
use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_weekly::{self as weekly, Options, Sources};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Compute the weekly metrics, move phases, store the snapshot and deliver to the outbox.
    Weekly(WeeklyArgs),
}

#[derive(clap::Args)]
pub struct WeeklyArgs {
    /// Run against an embedded, seeded Autotask sandbox.
    #[arg(long, conflicts_with = "autotask_url")]
    pub sandbox: bool,
    /// A real tenant (REST root or the global URL). Credentials: AUTOTASK_USERNAME,
    /// AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE. Needs --config and --rollout.
    #[arg(long)]
    pub autotask_url: Option<String>,
    /// Directory of the embedded state store (the one `atpilot dev` uses). Default: `.state`;
    /// on `--sandbox`, a temporary store (so the demo activity never mixes with your dev state).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Configuration file (default on the sandbox: the demo configuration).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Directory for the e-mail's HTML (weekly-<week>.html) and its CSV tables (created if missing).
    #[arg(long, default_value = "atpilot-reports")]
    pub output_dir: PathBuf,
    /// Replace files in --output-dir that are not atpilot weekly report files.
    #[arg(long)]
    pub force: bool,
    /// The Monday the reported week ends on (default: the last Monday, 00:00 UTC).
    #[arg(long)]
    pub week_ending: Option<NaiveDate>,
    /// The rollout date (each contract's baseline is the months before it). Default on the sandbox: six weeks before the week's end.
    #[arg(long)]
    pub rollout: Option<NaiveDate>,
    #[arg(long, default_value_t = 3)]
    pub baseline_months: u32,
    /// Time entries in the spot check.
    #[arg(long, default_value_t = 20)]
    pub sample: usize,
    /// Seed of the spot-check sample.
    #[arg(long, default_value_t = 20)]
    pub sample_seed: u64,
    /// Flag billing changes of at least this many percent…
    #[arg(long, default_value_t = 15.0)]
    pub flag_percent: f64,
    /// …and at least this many hours (block hours on Block Hours contracts)…
    #[arg(long, default_value_t = 4.0)]
    pub flag_min_hours: f64,
    /// …or this many tickets on per-ticket contracts…
    #[arg(long, default_value_t = 5.0)]
    pub flag_min_tickets: f64,
    /// …and beyond chance: the false discovery rate of the Benjamini–Hochberg
    /// procedure over every contract's test (0 < alpha < 1).
    #[arg(long, default_value_t = 0.05)]
    pub flag_alpha: f64,
    /// Survey results needed on each side before a CSAT delta is shown.
    #[arg(long, default_value_t = 10)]
    pub min_csat_samples: usize,
    /// Compute and write the report only: no phase moves, no delivery.
    #[arg(long)]
    pub dry_run: bool,
    /// Deliver again even if this week's report was already delivered.
    #[arg(long)]
    pub resend: bool,
    /// Sandbox size.
    #[arg(long, default_value_t = 2000)]
    pub sandbox_tickets: u64,
    /// Sandbox: exactly this many time entries per ticket (e.g. 4 × 250,000 = 1,000,000).
    #[arg(long)]
    pub sandbox_time_entries_per_ticket: Option<u32>,
    /// Sandbox: first record plausible agent activity (decisions, approvals, time entries) for
    /// the weeks before the report. The default on `--sandbox` without `--state` (into the
    /// temporary store); with `--state DIR`, only when asked, so a dev state is never mixed with it.
    #[arg(long, conflicts_with = "no_demo_activity")]
    pub demo_activity: bool,
    /// Sandbox: report on the sandbox's own history only (no agent activity: most figures say n/a).
    #[arg(long)]
    pub no_demo_activity: bool,
    /// Print run time, peak memory and Autotask requests (for scripts/bench-metrics).
    #[arg(long)]
    pub bench: bool,
    /// Run the report this many times in this process (the later runs read the cached baseline).
    #[arg(long, default_value_t = 1, hide = true)]
    pub repeat: u32,
}

pub async fn run(c: Command) -> CliResult {
    match c {
        Command::Weekly(a) => weekly(a).await,
    }
}

/// Peak resident memory of this process (VmHWM), in MB.
fn peak_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The Autotask client and configuration the report reads: a started
/// sandbox (kept running while the report is made) or the tenant at `--autotask-url`.
async fn connect(
    a: &WeeklyArgs,
) -> Result<(Client, Config, Option<Sandbox>), Box<dyn std::error::Error + Send + Sync>> {
    let mut sandbox = None;
    let (client, config) = if a.sandbox {
        let cfg = SandboxConfig {
            tickets: a.sandbox_tickets,
            seed: 1,
            time_entries_per_ticket: a.sandbox_time_entries_per_ticket,
            ..Default::default()
        };
        let sb =
            Sandbox::start(cfg, "127.0.0.1:0".parse()?).await.map_err(|e| format!("cannot start the sandbox: {e}"))?;
        let config = match &a.config {
            Some(p) => Config::load(p)?,
            None => atpilot_local::demo_config(&sb.facts(), "http://127.0.0.1:8080")?,
        };
        let creds = Credentials {
            username: sb.config().user.clone(),
            secret: sb.config().secret.clone(),
            integration_code: sb.config().integration_code.clone(),
            impersonation_resource_id: None,
        };
        let mut cc = ClientConfig::new(creds, ZoneSource::Fixed { rest_url: sb.rest_url() });
        cc.budget_share = config.autotask.api_budget_share;
        let client = Client::new(cc)?;
        sandbox = Some(sb);
        (client, config)
    } else {
        let url = a.autotask_url.clone().unwrap_or_default();
        let config = Config::load(
            a.config
                .as_deref()
                .ok_or("--autotask-url needs --config FILE (the agent resource, categories and recipients)")?,
        )?;
        let mut cc = ClientConfig::new(crate::cmd::tenant::credentials()?, ZoneSource::for_url(&url));
        cc.budget_share = config.autotask.api_budget_share;
        (Client::new(cc)?, config)
    };
    Ok((client, config, sandbox))
}

/// The state store the report reads and writes: `--state`, else on the
/// sandbox a temporary one of this run's own (removed when the returned
/// directory is dropped), else `.state`.
fn open_state(a: &WeeklyArgs) -> Result<(State, Option<tempfile::TempDir>), Box<dyn std::error::Error + Send + Sync>> {
    if a.demo_activity && !a.sandbox {
        return Err("--demo-activity needs --sandbox".into());
    }
    let scratch = match (&a.state, a.sandbox) {
        (None, true) => Some(tempfile::tempdir().map_err(|e| format!("cannot create a temporary state store: {e}"))?),
        _ => None,
    };
    let dir = match (&a.state, &scratch) {
        (Some(dir), _) => dir.clone(),
        (None, Some(tmp)) => tmp.path().to_path_buf(),
        (None, None) => PathBuf::from(".state"),
    };
    Ok((State::new(Arc::new(EmbeddedStateStore::open(&dir)?)), scratch))
}

/// What the run computes and does, from the flags.
fn options(a: &WeeklyArgs, end: DateTime<Utc>, rollout: NaiveDate) -> Options {
    let mut o = Options::new(end, rollout);
    o.baseline_months = a.baseline_months;
    o.sample_size = a.sample;
    o.sample_seed = a.sample_seed;
    o.flag = weekly::FlagRule {
        percent: a.flag_percent,
        min_hours: a.flag_min_hours,
        min_tickets: a.flag_min_tickets,
        alpha: a.flag_alpha,
    };
    o.min_csat_samples = a.min_csat_samples;
    o.apply_phase_moves = !a.dry_run;
    o.deliver = !a.dry_run;
    o.resend = a.resend;
    o
}

async fn weekly(a: WeeklyArgs) -> CliResult {
    super::init_logging();
    if !a.sandbox && a.autotask_url.is_none() {
        return Err("say where Autotask is: --sandbox or --autotask-url URL".into());
    }
    let now = Utc::now();
    let end = match a.week_ending {
        Some(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        None => weekly::week_end_for(now),
    };
    let (client, config, sandbox) = connect(&a).await?;
    let rollout = match (a.rollout, a.sandbox) {
        (Some(r), _) => r,
        (None, true) => (end - Duration::days(42)).date_naive(),
        (None, false) => {
            return Err("--rollout DATE is needed: each contract's baseline is the months before the rollout".into());
        }
    };
    let (state, scratch) = open_state(&a)?;
    if a.demo_activity || (scratch.is_some() && !a.no_demo_activity) {
        let sb = sandbox.as_ref().ok_or("the demo activity needs --sandbox")?;
        let t = Instant::now();
        let n = seed_demo_activity(sb, &client, &state, &config, end).await?;
        eprintln!(
            "recorded demo agent activity: {} decisions, {} approvals, {} time entries ({:.1} s)",
            n.0,
            n.1,
            n.2,
            t.elapsed().as_secs_f64()
        );
    }

    let mut o = options(&a, end, rollout);
    let notifier = OutboxNotifier::new(state.clone());
    let src = Sources { state: &state, config: &config, client: &client };
    for i in 1..a.repeat.max(1) {
        let before_mb = peak_mb();
        let started = Instant::now();
        let out = weekly::run(&src, &notifier, &o, now).await?;
        if a.bench {
            print_bench(&format!("run {i}"), &out.report, started.elapsed().as_secs_f64(), before_mb);
        }
        o.resend = true;
    }
    let before_mb = peak_mb();
    let started = Instant::now();
    let out = weekly::run(&src, &notifier, &o, now).await?;
    let secs = started.elapsed().as_secs_f64();
    let r = &out.report;

    // Every file is checked before any is written: a refusal leaves the directory as it was.
    std::fs::create_dir_all(&a.output_dir).map_err(|e| format!("cannot create {}: {e}", a.output_dir.display()))?;
    let html = a.output_dir.join(format!("weekly-{}.html", r.week));
    // The charts beside the HTML, which refers to them by file name instead of `cid:`.
    let chart_file = |i: &atpilot_agent::adapters::notify::InlineImage| {
        format!("weekly-{}-{}.png", r.week, i.content_id.split('@').next().unwrap_or("chart"))
    };
    let page = out.email.html_with(chart_file);
    let mut files = vec![(html.clone(), page.as_bytes())];
    files.extend(out.email.inline.iter().map(|i| (a.output_dir.join(chart_file(i)), i.bytes.as_slice())));
    files.extend(out.email.attachments.iter().map(|att| (a.output_dir.join(&att.filename), att.bytes.as_slice())));
    for (p, bytes) in &files {
        output::check(p, &[], Kind::Weekly, bytes, a.force)?;
    }
    for (p, bytes) in &files {
        output::write(p, &[], Kind::Weekly, bytes, a.force)?;
    }
    println!(
        "weekly report {} ({}), written to {} (and {} charts and {} CSV files beside it)",
        r.week,
        r.periods.week.label(),
        html.display(),
        out.email.inline.len(),
        out.email.attachments.len()
    );
    println!("  {}", out.email.subject);
    for m in r.moves() {
        println!("  phase: {} {} -> {}: {}", m.category, m.phase_before, m.phase_after, m.reason);
    }
    println!(
        "  spot check {} of {} differ; {} contracts flagged; autonomous {}; first response p50 {} s",
        r.spot_check.differing(),
        r.spot_check.rows.len(),
        r.flagged().count(),
        r.outcomes.autonomous_rate.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "n/a".into()),
        r.outcomes.first_response_p50_secs.map(|x| format!("{x:.1}")).unwrap_or_else(|| "n/a".into())
    );
    println!(
        "  {} phase moves stored; {}",
        out.moved,
        if out.delivered {
            format!("e-mail to {} and Teams card in the outbox", out.email.to.join(", "))
        } else {
            "not delivered (dry run, or already delivered: --resend)".into()
        }
    );
    if scratch.is_some() {
        println!(
            "  state: a temporary store, removed now (pass --state DIR to keep the outbox, phase moves and snapshot)"
        );
    }
    if a.bench {
        print_bench(&format!("run {}", a.repeat.max(1)), r, secs, before_mb);
    }
    Ok(())
}

fn print_bench(label: &str, r: &weekly::WeeklyReport, secs: f64, before_mb: Option<f64>) {
    let mb = |m: Option<f64>| m.map(|m| format!("{m:.0}")).unwrap_or_else(|| "?".into());
    let entries: u64 = r.billing.iter().map(|b| b.current.entries).sum();
    println!("bench: {label}: run time {secs:.2} s");
    println!(
        "bench: {label}: Autotask requests {} (baseline {})",
        r.autotask_requests,
        if r.baseline_cached { "from the cache" } else { "streamed and cached" }
    );
    println!(
        "bench: {label}: peak memory so far (VmHWM, whole process incl. the in-process sandbox) {} MB; before this run {} MB",
        mb(peak_mb()),
        mb(before_mb)
    );
    println!(
        "bench: {label}: month-to-date time entries aggregated {entries}; contracts {}; spot check {} of {} differ",
        r.billing.len(),
        r.spot_check.differing(),
        r.spot_check.rows.len()
    );
}

/// The demo categories of the sandbox's sub-issue types.
fn category_of(sub: i64) -> &'static str {
    match sub {
        101 => "password-reset",
        102 => "mfa-enrollment",
        201 | 202 => "license-request",
        300..=399 => "email",
        400..=499 => "hardware",
        500..=599 => "network",
        600..=699 => "monitoring-alert",
        700..=799 => "software",
        800..=899 => "project-work",
        _ => "security",
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Records plausible agent activity for the tickets the sandbox created in
/// the 44 days before `end` (decisions, approval outcomes) and, for the last
/// week's actions (at most 200), real time entries in the sandbox with their
/// ledger records, so every figure has something to show. Deterministic.
async fn seed_demo_activity(
    sb: &Sandbox,
    client: &Client,
    state: &State,
    config: &Config,
    end: DateTime<Utc>,
) -> Result<(u64, u64, u64), Box<dyn std::error::Error + Send + Sync>> {
    let facts = sb.facts();
    let start = end - Duration::days(44);
    let (mut decisions, mut approvals, mut entries) = (0u64, 0u64, 0u64);
    let agent = config.agent.resource_id.get();
    let role = config.agent.role_id.get();
    for id in facts.first_ticket_id..=facts.last_ticket_id {
        let Some(f) = sb.ticket_facts(id) else { continue };
        if f.create < start || f.create >= end {
            continue;
        }
        let cat = category_of(f.sub);
        let phase = config
            .categories
            .get(&atpilot_domain::Category::new(cat)?)
            .map(|c| c.phase)
            .unwrap_or(config.default_phase);
        let h = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        let decided = f.create + Duration::seconds(3 + (h % 7) as i64);
        let action = match (phase, f.contract) {
            (atpilot_domain::Phase::Autonomous, Some(_)) if h % 10 < 4 => {
                json!({"action": "autonomous", "plan": {"complete_after_time_entry": false, "record_ticket_usage": false, "recheck_block_balance": false}})
            }
            (atpilot_domain::Phase::Autonomous | atpilot_domain::Phase::HumanInTheLoop, Some(_)) => {
                json!({"action": "request-approval", "plan": {"complete_after_time_entry": false, "record_ticket_usage": false, "recheck_block_balance": false}})
            }
            (atpilot_domain::Phase::InternalNotes, _) => json!({"action": "internal-note"}),
            _ => json!({"action": "log-only"}),
        };
        let event_key = format!("demo-{id}");
        let record = json!({
            "ticket_id": id, "event_key": event_key, "decided_at": ts(decided), "phase": phase,
            "prediction": {"category": cat, "confidence": 0.9, "queue_id": null, "priority": null, "issue_type": null, "sub_issue_type": null, "multi_issue": false, "needs_physical_access": false},
            "action": action, "reasons": [], "explanation": ["demo activity recorded by atpilot report weekly --demo-activity"], "draft": null,
        });
        let record: atpilot_store::records::DecisionRecord = serde_json::from_value(record)?;
        state.save_decision(&record).await?;
        decisions += 1;
        let name = action["action"].as_str().unwrap_or_default();
        let action_id = match name {
            "autonomous" => Some(atpilot_agent::handlers::classify::action_id_for(&event_key)),
            "request-approval" => {
                // 93% approved, 5% rejected, 2% expired; answered within the hour.
                let outcome = match h % 100 {
                    0..=92 => "approved",
                    93..=97 => "rejected",
                    _ => "expired",
                };
                let action_id = atpilot_agent::handlers::classify::action_id_for(&event_key);
                let at = decided + Duration::minutes(2 + (h % 55) as i64);
                let rec = json!({
                    "id": action_id.to_string(), "ticket_id": id, "category": cat, "action_id": action_id.to_string(), "state": "pending",
                    "created_at": ts(decided), "expires_at": ts(decided + Duration::hours(24)), "decision_event_key": event_key, "draft": null,
                    "decided_by": null, "decided_at": null, "note": null,
                });
                let mut rec: atpilot_store::records::ApprovalRecord = serde_json::from_value(rec)?;
                state.create_approval(&rec).await?;
                rec.state = match outcome {
                    "approved" => atpilot_store::records::ApprovalState::Approved,
                    "rejected" => atpilot_store::records::ApprovalState::Rejected,
                    _ => atpilot_store::records::ApprovalState::Expired,
                };
                rec.decided_by = (outcome != "expired").then(|| "dispatch@msp.example".to_string());
                rec.decided_at = Some(if outcome == "expired" { decided + Duration::hours(24) } else { at });
                state.decide_approval(&rec).await?;
                approvals += 1;
                (outcome == "approved").then_some(action_id)
            }
            _ => None,
        };
        // Real entries (and their ledger) for the last week's actions only.
        if let (Some(action_id), Some(contract)) = (action_id, f.contract) {
            if decided >= end - Duration::days(7) && entries < 200 {
                let span = atpilot_domain::WorkSpan::new(decided, decided + Duration::seconds(4 + (h % 40) as i64))?;
                let te = atpilot_autotask::entities::TimeEntry {
                    ticket_id: Some(id),
                    resource_id: Some(agent),
                    role_id: Some(role),
                    billing_code_id: Some(config.billing_codes.default.get()),
                    contract_id: Some(contract),
                    date_worked: Some(decided.format("%Y-%m-%dT00:00:00.000Z").to_string()),
                    start_date_time: Some(ts(span.start())),
                    end_date_time: Some(ts(span.end())),
                    hours_worked: Some(span.hours().get()),
                    summary_notes: Some(format!("atpilot resolved this {cat} request.")),
                    internal_notes: Some(format!("Logged by atpilot for its own work. {}", action_id.marker())),
                    ..Default::default()
                };
                let te_id = client.create(&te).await?;
                let ledger = json!({"action_id": action_id.to_string(), "ticket_id": id, "contract_id": contract, "span": {"start": ts(span.start()), "end": ts(span.end())}, "ledger": {"state": "pending"}});
                let ledger: atpilot_store::records::LedgerRecord = serde_json::from_value(ledger)?;
                state.ledger_claim(&ledger).await?;
                state.ledger_written(&ledger, atpilot_domain::TimeEntryId::new(te_id)?).await?;
                entries += 1;
            }
        }
    }
    Ok((decisions, approvals, entries))
}
