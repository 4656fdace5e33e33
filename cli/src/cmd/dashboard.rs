//! `atpilot dashboard`: the dashboard of a deployed atpilot, on this machine.
//! It reads and changes the deployed DynamoDB table with the operator's own
//! AWS credentials, so access is granted and revoked in IAM and nothing is
//! exposed on the internet.

use crate::CliResult;
use atpilot_config::Config;
use atpilot_store::State;
use atpilot_store::dynamo::DynamoStateStore;
use atpilot_web::{Web, deployed_routes};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// The stack's table (output TableName). Region and credentials come from the AWS environment (e.g. AWS_PROFILE).
    #[arg(long)]
    pub dynamodb_table: String,
    /// The configuration (the same TOML as the deployed SSM parameter); default: ATPILOT_CONFIG.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
}

pub async fn run(args: Args) -> CliResult {
    let config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::from_env(|k| std::env::var(k).ok())?,
    };
    let password = std::env::var("ATPILOT_DASHBOARD_PASSWORD").ok().filter(|p| !p.is_empty());
    if !args.listen.ip().is_loopback() && password.is_none() {
        return Err(format!(
            "{} is not a loopback address: set ATPILOT_DASHBOARD_PASSWORD, or listen on 127.0.0.1",
            args.listen
        )
        .into());
    }
    let state = State::new(Arc::new(DynamoStateStore::from_env(args.dynamodb_table.clone()).await));
    // Fail now, clearly, if the table or the credentials are wrong.
    state.settings().await.map_err(|e| format!("cannot read table {}: {e}", args.dynamodb_table))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    println!("dashboard on http://{}/ (table {})", listener.local_addr()?, args.dynamodb_table);
    axum::serve(listener, deployed_routes(Arc::new(Web::new(state, Arc::new(config), password)))).await?;
    Ok(())
}
