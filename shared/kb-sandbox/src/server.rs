//! What both sandboxes share: the running server, its knobs, the request
//! log, the API-key check and the rate-limit window.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Behaviour knobs, changeable while a sandbox runs ([`Sandbox::set_knobs`]).
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Requests allowed per window (Hudu: 300 a minute, enforced over a
    /// 5-minute window; IT Glue: 3000 per 5 minutes).
    pub limit_per_window: u32,
    /// The window's length; it resets on multiples of it since the epoch (Hudu's
    /// Rack::Attack resets "every 5 minutes on the minute").
    pub window_secs: u64,
    /// Items per page when the request names none (Hudu 25, IT Glue 50).
    pub default_page_size: usize,
    /// Hudu: a page larger than this answers 502 (large article pages did).
    pub bad_gateway_over: Option<usize>,
    /// [U] Hudu: `POST /articles` answers the bare article instead of `{"article":…}`.
    pub bare_created_article: bool,
    /// IT Glue: error `detail` as an array (`["can't be blank"]`).
    pub detail_as_array: bool,
    /// Every write (POST, PUT, PATCH) is refused with 429; reads pass.
    pub throttle_writes: bool,
    /// [U] Hudu: a company's PSA id is only in `integrations[].sync_id` /
    /// `identifier` (`id_in_integration` is null and its filter finds nothing).
    pub psa_id_in_integrations: bool,
}

impl Knobs {
    pub fn hudu() -> Self {
        Knobs {
            limit_per_window: 1500,
            window_secs: 300,
            default_page_size: 25,
            bad_gateway_over: Some(100),
            bare_created_article: false,
            detail_as_array: false,
            throttle_writes: false,
            psa_id_in_integrations: false,
        }
    }
    pub fn itglue() -> Self {
        Knobs {
            limit_per_window: 3000,
            window_secs: 300,
            default_page_size: 50,
            bad_gateway_over: None,
            bare_created_article: false,
            detail_as_array: false,
            throttle_writes: false,
            psa_id_in_integrations: false,
        }
    }
}

/// One recorded request. No bodies, so never an article's text or a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
}

/// Locks, recovering from a poisoned lock (a panicking test must not wedge the rest).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The state every request sees: knobs, log, the window's count, and the world `W`.
pub(crate) struct Shared<W> {
    pub knobs: Mutex<Knobs>,
    pub log: Mutex<Vec<Recorded>>,
    /// (window index, requests counted in it).
    pub window: Mutex<(u64, u32)>,
    pub world: Mutex<W>,
}

impl<W> Shared<W> {
    pub fn new(world: W, knobs: Knobs) -> Arc<Self> {
        Arc::new(Shared {
            knobs: Mutex::new(knobs),
            log: Mutex::new(vec![]),
            window: Mutex::new((0, 0)),
            world: Mutex::new(world),
        })
    }

    pub fn record(&self, method: &str, path: &str, query: Option<&str>, status: StatusCode) {
        lock(&self.log).push(Recorded {
            method: method.into(),
            path: path.into(),
            query: query.map(str::to_string),
            status: status.as_u16(),
        });
    }

    /// Answers with `refusal` (the service's own auth or rate-limit answer)
    /// or else with `f`, and records the answer.
    pub fn answer(
        &self,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        refusal: Option<axum::response::Response>,
        f: impl FnOnce() -> axum::response::Response,
    ) -> axum::response::Response {
        let r = refusal.unwrap_or_else(f);
        self.record(method.as_str(), uri.path(), uri.query(), r.status());
        r
    }

    /// Whether the request is over the window's budget (it is counted either
    /// way), or a write while writes are throttled.
    pub fn over_limit(&self, method: &axum::http::Method) -> bool {
        let k = lock(&self.knobs).clone();
        if k.throttle_writes && method != axum::http::Method::GET {
            return true;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let index = now / k.window_secs.max(1);
        let mut w = lock(&self.window);
        if w.0 != index {
            *w = (index, 0);
        }
        w.1 += 1;
        w.1 > k.limit_per_window
    }
}

/// The query's parameters (percent-decoded; the last of a repeated name wins).
pub(crate) fn params(q: Option<&str>) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(q.unwrap_or_default().as_bytes()).into_owned().collect()
}

/// Whether the request carries the sandbox's API key.
pub(crate) fn key_ok(headers: &HeaderMap) -> bool {
    headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(crate::API_KEY)
}

/// A running sandbox of world `W`: its address, knobs, log and read-back.
pub struct Sandbox<W> {
    addr: SocketAddr,
    pub(crate) shared: Arc<Shared<W>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<W: Send + 'static> Sandbox<W> {
    pub(crate) async fn serve(shared: Arc<Shared<W>>, app: Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sandbox { addr, shared, stop: Some(tx) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn set_knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut lock(&self.shared.knobs));
    }
    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.log).clone()
    }
    /// Reads or changes the world directly (no request recorded).
    pub fn with_world<T>(&self, f: impl FnOnce(&mut W) -> T) -> T {
        f(&mut lock(&self.shared.world))
    }
}

impl<W> Drop for Sandbox<W> {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
