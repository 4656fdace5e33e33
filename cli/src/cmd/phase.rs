//! `atpilot phase …` and `atpilot kill-switch …`: change what the agent may do,
//! in the embedded store (`--state DIR`) or in DynamoDB (`--dynamodb-table`).
//!
//! These commands never create a store: a mistyped `--state` is refused. While
//! `atpilot dev` holds the embedded store (redb allows one process), the kill
//! switch goes through the running process: `atpilot dev` announces itself in
//! `<state>/dev.json` (its URL and a per-process token, mode 0600) and serves
//! `POST /api/kill-switch` to loopback callers with that token; the result is
//! read back before anything is reported.

use crate::CliResult;
use atpilot_config::Config;
use atpilot_domain::Phase;
use atpilot_store::State;
use atpilot_store::dynamo::DynamoStateStore;
use atpilot_store::embedded::{EmbeddedStateStore, OpenError};
use atpilot_store::records::{KillSwitchChange, PhaseRecord};
use std::path::{Path, PathBuf};
use std::sync::Arc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The state directory `atpilot dev` uses when not told otherwise.
pub const DEFAULT_STATE: &str = ".state";
/// The file a running `atpilot dev` writes into its state directory.
pub const DEV_FILE: &str = "dev.json";
/// The header carrying the token of `dev.json`.
pub const DEV_TOKEN_HEADER: &str = "x-atpilot-dev-token";

/// What a running `atpilot dev` tells other atpilot commands (`<state>/dev.json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DevFile {
    /// Its base URL (loopback).
    pub url: String,
    /// A random token for its `/api/kill-switch`, new for every process.
    pub token: String,
    pub pid: u32,
    /// The configuration it runs with (`None`: the sandbox demo configuration).
    pub config: Option<PathBuf>,
}

/// Which state store to change.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// Directory of the embedded store used by `atpilot dev` (must exist: nothing is created).
    #[arg(long, default_value = DEFAULT_STATE, conflicts_with = "dynamodb_table")]
    pub state: PathBuf,
    /// The deployed DynamoDB table (AWS credentials and region from the environment).
    #[arg(long)]
    pub dynamodb_table: Option<String>,
}

/// An opened store, or the running `atpilot dev` that holds it.
enum Opened {
    Store(State),
    Dev(DevFile),
}

impl StoreArgs {
    /// "no atpilot state at …; `atpilot dev` uses …".
    fn missing(&self) -> String {
        let default =
            std::env::current_dir().map(|d| d.join(DEFAULT_STATE)).unwrap_or_else(|_| PathBuf::from(DEFAULT_STATE));
        format!(
            "no atpilot state at {}; `atpilot dev` uses {} (or the --state DIR it was given): pass that directory with --state",
            self.state.display(),
            default.display()
        )
    }

    fn dev_file(&self) -> Option<DevFile> {
        serde_json::from_slice(&std::fs::read(self.state.join(DEV_FILE)).ok()?).ok()
    }

    async fn open_or_dev(&self) -> Result<Opened, Error> {
        if let Some(table) = &self.dynamodb_table {
            return Ok(Opened::Store(State::new(Arc::new(DynamoStateStore::from_env_checked(table.clone()).await?))));
        }
        match EmbeddedStateStore::open_existing(&self.state) {
            Ok(s) => Ok(Opened::Store(State::new(Arc::new(s)))),
            Err(OpenError::Missing(_)) => Err(self.missing().into()),
            Err(OpenError::InUse(_)) => match self.dev_file() {
                Some(dev) => Ok(Opened::Dev(dev)),
                None => Err(format!(
                    "the atpilot state at {} is in use by another process, and no running `atpilot dev` announced itself in {}: stop that process (Ctrl-C in its terminal), then run this command again",
                    self.state.display(),
                    self.state.join(DEV_FILE).display()
                )
                .into()),
            },
            Err(OpenError::Store(e)) => Err(e.into()),
        }
    }

    /// The store itself (commands that cannot go through a running `atpilot dev`).
    pub async fn open(&self) -> Result<State, Error> {
        match self.open_or_dev().await? {
            Opened::Store(s) => Ok(s),
            Opened::Dev(dev) => Err(format!(
                "the atpilot state at {} is in use by the running `atpilot dev` (pid {}): use its dashboard at {}/ (same rules), or stop it (Ctrl-C in its terminal, or kill {}) and run this command again",
                self.state.display(),
                dev.pid,
                dev.url,
                dev.pid
            )
            .into()),
        }
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Set a category's phase: shadow, internal-notes, human-in-the-loop or autonomous.
    /// Only the configuration's categories, and only safe ones for human-in-the-loop and autonomous.
    Set {
        category: String,
        phase: Phase,
        /// Why (kept in the phase history).
        #[arg(long, default_value = "set by hand")]
        reason: String,
        /// The configuration whose categories and safe list apply. Default with --state: the one
        /// `atpilot dev` last ran with on that state (the sandbox demo configuration unless it had --config).
        /// Required with --dynamodb-table (the file deployed to SSM).
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the phases set at run time, the kill switch and the recent history of both.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn who() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "atpilot cli".into())
}

/// The sandbox demo configuration, as `atpilot dev` builds it (the ids do not matter here: only categories are read).
fn demo_config() -> Result<Config, Error> {
    let facts = atpilot_autotask_sandbox::tenant::TenantFacts {
        seed: 1,
        ticket_count: 0,
        first_ticket_id: 1,
        last_ticket_id: 1,
        anchor: chrono::Utc::now(),
        queues: Vec::new(),
        dumping_ground_queues: Vec::new(),
        unmonitored_queue: 1,
        company_ids: Vec::new(),
        contracts_by_type: Default::default(),
        companies_without_contract: Vec::new(),
        companies_with_several_contracts: Vec::new(),
        api_resource_id: 1,
        agent_resource_id: 2,
        agent_role_id: 3,
    };
    Ok(atpilot_local::demo_config(&facts, "http://127.0.0.1:8080")?)
}

fn config_for(explicit: Option<&Path>, store: &StoreArgs) -> Result<Config, Error> {
    if let Some(p) = explicit {
        return Ok(Config::load(p)?);
    }
    if store.dynamodb_table.is_some() {
        return Err("--dynamodb-table needs --config FILE (the configuration deployed to SSM): its categories and safe list decide which changes are allowed".into());
    }
    match store.dev_file().and_then(|d| d.config) {
        Some(p) => Ok(Config::load(&p).map_err(|e| {
            format!(
                "{e} (the configuration `atpilot dev` last ran with on {}; pass --config FILE)",
                store.state.display()
            )
        })?),
        None => demo_config(),
    }
}

pub async fn run(c: Command) -> CliResult {
    match c {
        Command::Set { category, phase, reason, config, store } => {
            let config = config_for(config.as_deref(), &store)?;
            // The same rule as the dashboard's: unknown and unsafe categories are refused with the reason.
            let category = config.policy().check_phase_change(&category, phase)?;
            let state = store.open().await?;
            state
                .set_phase(&PhaseRecord {
                    category: category.clone(),
                    phase,
                    changed_at: chrono::Utc::now(),
                    changed_by: who(),
                    reason,
                })
                .await?;
            match state.phase(&category).await? {
                Some(p) if p.phase == phase => println!("{category} is now in the {phase} phase"),
                other => {
                    return Err(format!(
                        "the change was written but reads back as {:?}: check the store",
                        other.map(|p| p.phase)
                    )
                    .into());
                }
            }
            Ok(())
        }
        Command::List { store } => {
            let state = store.open().await?;
            let phases = state.phases().await?;
            if phases.is_empty() {
                println!("no phase set at run time: the configuration's phases apply");
            }
            for p in phases {
                println!(
                    "{:<24} {:<18} since {} by {} ({})",
                    p.category,
                    p.phase,
                    p.changed_at.format("%Y-%m-%d %H:%M"),
                    p.changed_by,
                    p.reason
                );
            }
            let settings = state.settings().await?;
            let history = state.kill_switch_history(5).await?;
            println!("kill switch: {}", if settings.kill_switch { "ON" } else { "off" });
            for c in &history {
                println!(
                    "  {} {:<3} by {} ({})",
                    c.changed_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    if c.on { "on" } else { "off" },
                    c.changed_by,
                    c.via
                );
            }
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

/// What `atpilot dev` answers on `/api/kill-switch`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct KillSwitchState {
    pub kill_switch: bool,
    pub history: Vec<KillSwitchChange>,
}

/// The body of `POST /api/kill-switch`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct KillSwitchRequest {
    pub on: bool,
    pub by: String,
}

pub async fn kill_switch(args: KillSwitchArgs) -> CliResult {
    let on = args.setting == "on";
    let said = if on {
        "kill switch ON: the agent writes nothing to Autotask"
    } else {
        "kill switch off: each category's phase applies again"
    };
    match args.store.open_or_dev().await? {
        Opened::Store(state) => {
            let flipped = state
                .flip_kill_switch(&KillSwitchChange {
                    on,
                    changed_at: chrono::Utc::now(),
                    changed_by: who(),
                    via: "atpilot kill-switch".into(),
                })
                .await?;
            if state.settings().await?.kill_switch != on {
                return Err(format!(
                    "the kill switch was written but does not read back as {}: check the store",
                    args.setting
                )
                .into());
            }
            println!("{said}{}", if flipped { "" } else { " (it already was; nothing recorded)" });
        }
        Opened::Dev(dev) => {
            through_dev(&dev, on).await.map_err(|e| {
                format!(
                    "the atpilot state at {} is held by `atpilot dev` (pid {}), which did not confirm the change ({e}): use the kill switch on its dashboard at {}/, or stop it (Ctrl-C in its terminal, or kill {})",
                    args.store.state.display(),
                    dev.pid,
                    dev.url,
                    dev.pid
                )
            })?;
            println!("{said} (through the running atpilot dev at {})", dev.url);
        }
    }
    Ok(())
}

/// Flips the switch through a running `atpilot dev`, then reads it back.
async fn through_dev(dev: &DevFile, on: bool) -> Result<(), String> {
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let url = format!("{}/api/kill-switch", dev.url);
    let res = client
        .post(&url)
        .header(DEV_TOKEN_HEADER, &dev.token)
        .json(&KillSwitchRequest { on, by: who() })
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !res.status().is_success() {
        let status = res.status();
        return Err(format!("{url} answered {status}: {}", res.text().await.unwrap_or_default()));
    }
    let back: KillSwitchState = client
        .get(&url)
        .header(DEV_TOKEN_HEADER, &dev.token)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if back.kill_switch != on {
        return Err(format!("it reads back as {}", if back.kill_switch { "on" } else { "off" }));
    }
    Ok(())
}
