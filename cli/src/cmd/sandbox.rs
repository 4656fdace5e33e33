//! `atpilot sandbox`: serve the embedded Autotask sandbox over HTTP (issue 3).
//!
//! ```text
//! atpilot sandbox --listen 127.0.0.1:PORT [--tickets N] [--seed S] [--user U] [--secret S] [--integration-code C]
//! ```
//! Serves the REST API under `/atservicesrest/` until stopped and prints one
//! line, `sandbox listening on http://ADDR`, once it is ready.

use crate::CliResult;
use atpilot_autotask_sandbox::{DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USER, SandboxConfig, serve_forever};
use std::io::Write;
use std::net::SocketAddr;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8089 (port 0 picks a free port).
    #[arg(long)]
    listen: SocketAddr,
    /// Number of seeded tickets (up to 250,000; generated lazily).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(0..=250_000))]
    tickets: u64,
    /// Seed of the deterministic tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// API user name (UserName header, zoneInformation ?user=).
    #[arg(long, default_value = DEFAULT_USER)]
    user: String,
    /// API user secret (Secret header).
    #[arg(long, default_value = DEFAULT_SECRET)]
    secret: String,
    /// API integration code (ApiIntegrationCode header).
    #[arg(long = "integration-code", default_value = DEFAULT_INTEGRATION_CODE)]
    integration_code: String,
}

pub async fn run(args: Args) -> CliResult {
    let cfg = SandboxConfig {
        seed: args.seed,
        tickets: args.tickets,
        user: args.user,
        secret: args.secret,
        integration_code: args.integration_code,
        ..SandboxConfig::default()
    };
    serve_forever(cfg, args.listen, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "sandbox listening on http://{addr}");
        let _ = out.flush();
    })
    .await
    .map_err(|e| format!("sandbox: cannot serve on {}: {e}", args.listen).into())
}
