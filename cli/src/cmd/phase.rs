//! `atpilot phase …` and `atpilot kill-switch …`: change what the agent may do,
//! in the embedded store (`--state DIR`) or in DynamoDB (`--dynamodb-table`).

use crate::CliResult;
use atpilot_domain::{Category, Phase};
use atpilot_store::State;
use atpilot_store::dynamo::DynamoStateStore;
use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_store::records::{PhaseRecord, Settings};
use std::path::PathBuf;
use std::sync::Arc;

/// Which state store to change.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// Directory of the embedded store used by `atpilot dev`.
    #[arg(long, default_value = ".state", conflicts_with = "dynamodb_table")]
    pub state: PathBuf,
    /// The deployed DynamoDB table (AWS credentials and region from the environment).
    #[arg(long)]
    pub dynamodb_table: Option<String>,
}

impl StoreArgs {
    pub async fn open(&self) -> Result<State, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match &self.dynamodb_table {
            Some(table) => State::new(Arc::new(DynamoStateStore::from_env(table.clone()).await)),
            None => State::new(Arc::new(EmbeddedStateStore::open(&self.state)?)),
        })
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set a category's phase: shadow, internal-notes, human-in-the-loop or autonomous.
    Set {
        category: Category,
        phase: Phase,
        /// Why (kept in the phase history).
        #[arg(long, default_value = "set by hand")]
        reason: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the phases set at run time and the recent history.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(c: Command) -> CliResult {
    match c {
        Command::Set { category, phase, reason, store } => {
            let state = store.open().await?;
            let who = std::env::var("USER").unwrap_or_else(|_| "atpilot cli".into());
            state.set_phase(&PhaseRecord { category: category.clone(), phase, changed_at: chrono::Utc::now(), changed_by: who, reason }).await?;
            println!("{category} is now in the {phase} phase");
            Ok(())
        }
        Command::List { store } => {
            let state = store.open().await?;
            let phases = state.phases().await?;
            if phases.is_empty() {
                println!("no phase set at run time: the configuration's phases apply");
            }
            for p in phases {
                println!("{:<24} {:<18} since {} by {} ({})", p.category, p.phase, p.changed_at.format("%Y-%m-%d %H:%M"), p.changed_by, p.reason);
            }
            let settings = state.settings().await?;
            println!("kill switch: {}", if settings.kill_switch { "ON" } else { "off" });
            Ok(())
        }
    }
}

#[derive(clap::Args)]
pub struct KillSwitchArgs {
    /// on: the agent writes nothing to Autotask; off: back to each category's phase.
    #[arg(value_parser = ["on", "off"])]
    pub setting: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn kill_switch(args: KillSwitchArgs) -> CliResult {
    let state = args.store.open().await?;
    let on = args.setting == "on";
    state.set_settings(&Settings { kill_switch: on }).await?;
    println!("kill switch {}", if on { "ON: the agent writes nothing to Autotask" } else { "off" });
    Ok(())
}
