//! approval: the approval pages behind a Lambda Function URL. A GET shows
//! the confirmation page and changes nothing; only the page's POST decides.
//! Wires adapters and serves `atpilot_web::approval_function_routes`, the
//! router `atpilot dev` and the browser tests use, with the same headers.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::deps_from_env().await?;
    run(wired.meter.metered(atpilot_web::approval_function_routes(wired.deps))).await
}
