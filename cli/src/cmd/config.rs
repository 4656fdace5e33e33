//! `atpilot config …`: check a configuration, print the commented example.

use crate::CliResult;
use atpilot_config::Config;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a configuration file and summarise it.
    Check {
        /// The TOML file (see `atpilot config example`).
        file: PathBuf,
    },
    /// Print the commented example configuration.
    Example,
}

pub async fn run(c: Command) -> CliResult {
    match c {
        Command::Example => {
            print!("{}", atpilot_config::EXAMPLE);
            Ok(())
        }
        Command::Check { file } => {
            let config = Config::load(&file)?;
            println!("{}: valid", file.display());
            println!("  autotask: {}", config.autotask.url);
            println!("  agent resource {} / role {}", config.agent.resource_id, config.agent.role_id);
            println!("  kill switch: {}", if config.kill_switch { "ON (the agent writes nothing)" } else { "off" });
            println!("  default phase: {}", config.default_phase);
            for (name, c) in &config.categories {
                println!("  category {name}: {}{}", c.phase, if c.safe { ", safe" } else { "" });
            }
            Ok(())
        }
    }
}
