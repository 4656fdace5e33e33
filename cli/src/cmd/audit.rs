//! `atpilot audit`: the queue and routing audit (issue 10).
//!
//! ```text
//! atpilot audit --since 90d [--format html|md|csv|json] [--output FILE]
//!               (--autotask-url URL | --sandbox [--sandbox-tickets N] [--seed S])
//!               [--history-sample N] [--model-sample N]
//! ```
//! Reads the tickets since the cut-off (only the fields it needs), the
//! TicketHistory of a bounded deterministic sample (one request per ticket),
//! that sample's notes and SLA results, and the ticket UDF definitions, with a
//! progress bar on stderr; writes the report to FILE or stdout. The format
//! defaults to the output file's extension, else Markdown.

use crate::CliResult;
use atpilot_audit::{AuditConfig, CollectOptions, Format, audit, collect, parse_since, render};
use atpilot_autotask_sandbox::SandboxConfig;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// How far back to audit: 90d, 12w, 48h, or a date (2024-01-31).
    #[arg(long, default_value = "90d")]
    since: String,
    /// Report format (default: from the --output extension, else md).
    #[arg(long, value_parser = ["html", "md", "csv", "json"])]
    format: Option<String>,
    /// Write the report here instead of stdout (an existing file only if it is an atpilot audit report, or with --force).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Replace an existing --output file even if it is not an atpilot audit report.
    #[arg(long)]
    force: bool,
    /// A real tenant: its REST root, or the global URL (https://webservices2.autotask.net) to discover the zone.
    /// Credentials: AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE.
    #[arg(long, conflicts_with = "sandbox", required_unless_present = "sandbox")]
    autotask_url: Option<String>,
    /// Audit an embedded, seeded sandbox tenant instead.
    #[arg(long)]
    sandbox: bool,
    /// Seeded sandbox size.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(0..=250_000))]
    sandbox_tickets: u64,
    /// Seed of the sandbox tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Tickets whose TicketHistory is read (one API request each), chosen deterministically.
    #[arg(long, default_value_t = 500)]
    history_sample: usize,
    /// Tickets used to compare content and contract routing.
    #[arg(long, default_value_t = 3_000)]
    model_sample: usize,
    /// This audit's share of the tenant's hourly API limit.
    #[arg(long, default_value_t = 0.5)]
    budget_share: f64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub async fn run(args: Args) -> CliResult {
    let format = match (&args.format, &args.output) {
        (Some(f), _) => f.parse::<Format>()?,
        (None, Some(p)) => Format::from_path(p).unwrap_or(Format::Md),
        (None, None) => Format::Md,
    };
    if !(args.budget_share > 0.0 && args.budget_share <= 1.0) {
        return Err("--budget-share must be in (0, 1]".into());
    }
    if let Some(p) = &args.output {
        crate::output::check(p, &[], crate::output::Kind::Audit, &[], args.force)?;
    }
    let now = chrono::Utc::now();
    let since = parse_since(&args.since, now)?;
    let sandbox = SandboxConfig { tickets: args.sandbox_tickets, seed: args.seed, ..Default::default() };
    let (client, _sandbox) =
        crate::cmd::tenant::connect(args.autotask_url.as_deref(), sandbox, args.budget_share).await?;
    let (bar, on_progress) = crate::cmd::tenant::progress_bar(args.quiet);
    let started = Instant::now();
    let mut opts = CollectOptions::new(since, now);
    opts.history_sample = args.history_sample;
    opts.model_sample = args.model_sample;
    let collected = collect(&client, &opts, &on_progress).await?;
    bar.set_message("analysing");
    bar.set_length(0);
    let report = audit(&collected, &AuditConfig::default());
    bar.finish_and_clear();
    let text = render(&report, format);
    match &args.output {
        Some(p) => crate::output::write(p, &[], crate::output::Kind::Audit, text.as_bytes(), args.force)?,
        None => print!("{text}"),
    }
    eprintln!(
        "audited {} tickets since {} with {} API requests in {:.1} s (history sample {}, model sample {}){}",
        report.tickets,
        since.format("%Y-%m-%d"),
        report.api_requests,
        started.elapsed().as_secs_f64(),
        report.sample.history_tickets,
        report.sample.model_tickets,
        args.output.as_ref().map(|p| format!("; report written to {}", p.display())).unwrap_or_default()
    );
    Ok(())
}
