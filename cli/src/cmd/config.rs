//! `atpilot config …`: check a configuration, print the commented example.

use crate::CliResult;
use atpilot_agent::config_check::{self, ConfigReport};
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_config::Config;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a configuration file and summarise it. Offline it checks the
    /// syntax, the values and the model files, not the ids; with --against it
    /// looks every id up in the tenant.
    Check {
        /// The TOML file (see `atpilot config example`).
        file: PathBuf,
        /// Check the ids it names (agent resource and role, billing codes,
        /// statuses, model labels…) against `sandbox` (the embedded seeded
        /// sandbox) or a tenant's REST URL (credentials from the environment
        /// variables the configuration names).
        #[arg(long, value_name = "sandbox|URL")]
        against: Option<String>,
    },
    /// Print the commented example configuration.
    Example,
}

fn summary(config: &Config) {
    println!("  autotask: {}", config.autotask.url);
    println!("  agent resource {} / role {}", config.agent.resource_id, config.agent.role_id);
    println!("  kill switch: {}", if config.kill_switch { "ON (the agent writes nothing)" } else { "off" });
    println!("  default phase: {}", config.default_phase);
    for (name, c) in &config.categories {
        println!("  category {name}: {}{}", c.phase, if c.safe { ", safe" } else { "" });
    }
}

/// Prints every finding, then the verdict: `Err` when any finding is an error.
pub fn verdict(report: &ConfigReport, what: &str) -> CliResult {
    print!("{report}");
    let errors = report.errors().count();
    if errors == 0 {
        Ok(())
    } else {
        Err(format!("{what}: {errors} problem(s) (ERROR above); fix them and check again").into())
    }
}

pub async fn run(c: Command) -> CliResult {
    match c {
        Command::Example => {
            print!("{}", atpilot_config::EXAMPLE);
            Ok(())
        }
        Command::Check { file, against: None } => {
            let config = Config::load(&file)?;
            let report = config_check::check_offline(&config, &|k| std::env::var(k).ok(), false);
            verdict(&report, &file.display().to_string())?;
            println!(
                "{}: checked offline: the syntax, the values and the model files are valid; ids were not verified against a tenant (use --against sandbox|URL)",
                file.display()
            );
            summary(&config);
            Ok(())
        }
        Command::Check { file, against: Some(target) } => {
            let config = Config::load(&file)?;
            let env = |k: &str| std::env::var(k).ok();
            let mut _sandbox = None;
            let (client, remote, name) = if target.trim().eq_ignore_ascii_case("sandbox") {
                let (credentials, zone, sb) = crate::cmd::tenant::start_sandbox(Default::default()).await?;
                let client = Client::new(ClientConfig::new(credentials, zone))?;
                _sandbox = Some(sb);
                (client, false, "the embedded seeded sandbox".to_string())
            } else {
                if !target.starts_with("https://") && !target.starts_with("http://") {
                    return Err(
                        format!("--against {target:?}: use \"sandbox\" or the tenant's REST URL (https://…)").into()
                    );
                }
                let creds = match config.autotask.credentials(env) {
                    Ok(c) => c,
                    Err(e) => {
                        // Say which variables are missing, and that no id was checked.
                        let report = config_check::check_offline(&config, &env, true);
                        print!("{report}");
                        return Err(format!("{e}; no id was checked against {target}").into());
                    }
                };
                let credentials = Credentials {
                    username: creds.username,
                    secret: creds.secret,
                    integration_code: creds.integration_code,
                    impersonation_resource_id: config.autotask.impersonation_resource_id.map(|r| r.get()),
                };
                (Client::new(ClientConfig::new(credentials, ZoneSource::for_url(target.trim())))?, true, target.clone())
            };
            let report = config_check::check(&client, &config, &env, remote).await;
            verdict(&report, &format!("{} against {name}", file.display()))?;
            match report.warnings().count() {
                0 => println!("{}: valid against {name}: every id it names was found there", file.display()),
                n => println!(
                    "{}: nothing contradicted by {name}, but {n} value(s) could not be verified (WARN above)",
                    file.display()
                ),
            }
            summary(&config);
            Ok(())
        }
    }
}
