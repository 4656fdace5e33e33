//! approval: the approval pages behind a Lambda Function URL. A GET shows
//! the confirmation page and changes nothing; only the page's POST decides.
//! Wires adapters and calls `atpilot_agent::approval::handle_http`.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|req: Request| {
        let deps = &deps;
        async move {
            let path = req.uri().path().trim_end_matches('/');
            let id = path.rsplit('/').next().unwrap_or_default().to_string();
            let query = req.uri().query().unwrap_or_default().to_string();
            let page = atpilot_agent::approval::handle_http(deps, req.method().as_str(), &id, &query, req.body().as_ref(), chrono::Utc::now()).await;
            atpilot_lambda::flush_metrics(0);
            Response::builder()
                .status(page.status)
                .header("content-type", "text/html; charset=utf-8")
                // The pages carry bearer links: never cache, never leak them as a referrer.
                .header("cache-control", "no-store")
                .header("referrer-policy", "no-referrer")
                .header("x-frame-options", "DENY")
                .body(Body::Text(page.html))
                .map_err(Error::from)
        }
    }))
    .await
}
