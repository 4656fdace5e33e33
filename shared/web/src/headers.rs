//! One header policy for every page and answer atpilot serves (dashboard,
//! approval pages, the intake webhook), in AWS and in `atpilot dev`: never
//! cached (pages carry bearer links), never framed, no referrer, no MIME
//! sniffing.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The headers every response gets, as (name, value).
pub const SECURITY_HEADERS: [(header::HeaderName, &str); 4] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// Middleware adding [`SECURITY_HEADERS`] (use with `axum::middleware::from_fn`).
pub async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// `router` with the security headers on every response.
pub fn with_security_headers<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.layer(axum::middleware::from_fn(security_headers))
}
