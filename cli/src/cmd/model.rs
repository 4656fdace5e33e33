//! `atpilot model …`: owned by the model work (issue 4).

use crate::CliResult;

#[derive(clap::Subcommand)]
pub enum Command {}

pub async fn run(c: Command) -> CliResult {
    match c {}
}
