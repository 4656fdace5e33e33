//! approval: the approval pages behind a Lambda Function URL and sign-in
//! with the MSP's OpenID provider (`[signin]`): a Review link opens the
//! request for a signed-in approver, a GET changes nothing, and only the
//! page's POST (with the session's form token) decides, as the signed-in
//! person. Runbook callbacks stay open (they carry their own signature).
//! Serves `atpilot_web::approval_function_routes`, the router `atpilot dev`
//! and the browser tests use, with the same headers.

use atpilot_web::signin::{SignIn, protect};
use lambda_http::{Error, run};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let mut wired = atpilot_lambda::deps_from_env().await?;
    // The pages' navigation links the dashboard at its own Function URL (the template's DASHBOARD_URL).
    wired.deps.dashboard_url = std::env::var("DASHBOARD_URL").ok().filter(|u| u.starts_with("https://"));
    let (client_secret, session_key) = atpilot_lambda::signin_secrets_from_env(&wired.aws).await?;
    let (config, state) = (wired.deps.config.clone(), wired.deps.state.clone());
    let signin = SignIn::deployed(config, state, &client_secret, &session_key).await?;
    let routes = protect(atpilot_web::approval_function_routes(wired.deps), Arc::new(signin));
    run(wired.meter.metered(routes)).await
}
