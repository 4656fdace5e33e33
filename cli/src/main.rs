//! `atpilot`: the local runner and admin commands.

mod cmd;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Errors surface as one readable line; each command's error type says what to fix.
pub type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(name = "atpilot", version, about = "AI service-desk agent for Autotask PSA: local runner and admin commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every function locally against the embedded Autotask sandbox (or a real tenant).
    Dev(cmd::dev::Args),
    /// The dashboard of a deployed atpilot (its DynamoDB table), on this machine.
    Dashboard(cmd::dashboard::Args),
    /// Configuration: check a file, print the commented example.
    #[command(subcommand)]
    Config(cmd::config::Command),
    /// Set or list category phases (shadow, internal-notes, human-in-the-loop, autonomous).
    #[command(subcommand)]
    Phase(cmd::phase::Command),
    /// Turn the global kill switch on or off.
    KillSwitch(cmd::phase::KillSwitchArgs),
    /// Register (or update) the TicketWebhook and check the agent resource, role and billing codes.
    Setup(cmd::setup::Args),
    /// Serve the embedded Autotask sandbox over HTTP.
    Sandbox(cmd::sandbox::Args),
    /// Train, evaluate and run the ticket classifier.
    #[command(subcommand)]
    Model(cmd::model::Command),
    /// Audit the queues and routing (volume, backlog, monitoring, dumping grounds, re-routes, SLA, UDFs).
    Audit(cmd::audit::Args),
    /// Reports: `report weekly` computes the weekly metrics, moves phases and delivers the report.
    #[command(subcommand)]
    Report(cmd::report::Command),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(args) => cmd::dev::run(args).await,
        Command::Dashboard(args) => cmd::dashboard::run(args).await,
        Command::Config(c) => cmd::config::run(c).await,
        Command::Phase(c) => cmd::phase::run(c).await,
        Command::KillSwitch(args) => cmd::phase::kill_switch(args).await,
        Command::Setup(args) => cmd::setup::run(args).await,
        Command::Sandbox(args) => cmd::sandbox::run(args).await,
        Command::Model(c) => cmd::model::run(c).await,
        Command::Audit(args) => cmd::audit::run(args).await,
        Command::Report(c) => cmd::report::run(c).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
