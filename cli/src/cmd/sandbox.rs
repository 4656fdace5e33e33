//! `atpilot sandbox`: owned by the Autotask work (issue 3).

use crate::CliResult;

#[derive(clap::Args)]
pub struct Args {}

pub async fn run(_args: Args) -> CliResult {
    Err("the Autotask sandbox is not built yet (issue 3)".into())
}
