//! dashboard: the dashboard behind a Lambda Function URL (HTTPS). Every
//! request needs the password (HTTP Basic, user `atpilot`) from the secret
//! the stack generates (`DASHBOARD_PASSWORD_SECRET_ARN`); there is no
//! anonymous access. Wires the table and the configuration, then serves
//! `atpilot_web::deployed_routes` (the dashboard and its settings page).

use lambda_http::{Error, run};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let (config, aws) = atpilot_lambda::config_from_env().await?;
    let state = atpilot_lambda::state_from_env(&aws)?;
    let password = atpilot_lambda::secret_from_env(&aws, "DASHBOARD_PASSWORD_SECRET_ARN").await?;
    let web = atpilot_web::Web::deployed(state, Arc::new(config), password)?;
    run(atpilot_web::deployed_routes(Arc::new(web))).await
}
