//! intake: Autotask's ticket webhook behind a Lambda Function URL.
//! Wires adapters and serves `atpilot_web::intake_function_routes`, the
//! router `atpilot dev` uses, with the same headers.

use lambda_http::{Error, run};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::deps_from_env().await?;
    run(wired.meter.metered(atpilot_web::intake_function_routes(wired.deps))).await
}
