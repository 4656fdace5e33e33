//! dashboard: the dashboard behind a Lambda Function URL (HTTPS) and sign-in
//! with the MSP's OpenID provider (`[signin]`; the client secret from
//! `OIDC_CLIENT_SECRET_ARN`, the cookie key from `SESSION_KEY_SECRET_ARN`):
//! there is no anonymous access and no shared password. Wires the table and
//! the configuration, then serves `atpilot_web::deployed_routes` (the
//! dashboard and its settings page) behind `atpilot_web::signin::protect`.

use atpilot_web::signin::{SignIn, protect};
use lambda_http::{Error, run};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let (config, aws) = atpilot_lambda::config_from_env().await?;
    let state = atpilot_lambda::state_from_env(&aws)?;
    let (client_secret, session_key) = atpilot_lambda::signin_secrets_from_env(&aws).await?;
    let config = Arc::new(config);
    let signin = SignIn::deployed(config.clone(), state.clone(), &client_secret, &session_key).await?;
    let web = atpilot_web::Web::behind_signin(state, config);
    run(protect(atpilot_web::deployed_routes(Arc::new(web)), Arc::new(signin))).await
}
