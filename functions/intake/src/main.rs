//! intake: Autotask's ticket webhook behind a Lambda Function URL.
//! Wires adapters and calls `atpilot_agent::intake::handle_webhook`.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|req: Request| {
        let deps = &deps;
        async move {
            // The signature covers the raw bytes exactly as sent.
            let signature = req.headers().get("x-hook-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
            let reply = atpilot_agent::intake::handle_webhook(deps, signature.as_deref(), req.body().as_ref(), chrono::Utc::now()).await;
            atpilot_lambda::flush_metrics(0);
            Response::builder()
                .status(reply.status)
                .header("content-type", "application/json")
                .body(Body::Text(reply.body.to_string()))
                .map_err(Error::from)
        }
    }))
    .await
}
