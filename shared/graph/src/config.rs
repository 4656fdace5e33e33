//! The client's configuration. Both base URLs are configuration so that the
//! sandbox, or an independent test double, stands in for Microsoft.

use crate::credential::Credential;
use crate::ids::ClientId;
use crate::retry::{RetryPolicy, Sleeper, TokioSleeper};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Microsoft's login host (reference §1).
pub const DEFAULT_LOGIN_BASE: &str = "https://login.microsoftonline.com";
/// Graph v1.0 (reference §2: `/beta` is not for production).
pub const DEFAULT_GRAPH_BASE: &str = "https://graph.microsoft.com/v1.0";
/// The client-credentials scope: all of the app's consented Graph permissions.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// `https://login.microsoftonline.com`; the token URL is `{login_base}/{tenant}/oauth2/v2.0/token`.
    pub login_base: Url,
    /// `https://graph.microsoft.com/v1.0`; operation paths are appended.
    pub graph_base: Url,
    pub client_id: ClientId,
    pub credential: Credential,
    /// Sent as `scope` (default [`GRAPH_SCOPE`], also against a sandbox).
    pub scope: String,
    pub retry: RetryPolicy,
    /// A cached token is replaced this long before it expires.
    pub refresh_margin: Duration,
    /// Per-request timeout (Graph's authentication-method calls time out after 60 s).
    pub timeout: Duration,
    /// Waits between attempts; tests inject a [`crate::RecordingSleeper`].
    pub sleeper: Arc<dyn Sleeper>,
    /// The clock of token expiry and assertion times; tests inject a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
}

impl GraphConfig {
    /// Microsoft's real endpoints and the defaults.
    pub fn new(client_id: ClientId, credential: Credential) -> Self {
        Self {
            login_base: constant_url(DEFAULT_LOGIN_BASE),
            graph_base: constant_url(DEFAULT_GRAPH_BASE),
            client_id,
            credential,
            scope: GRAPH_SCOPE.to_string(),
            retry: RetryPolicy::default(),
            refresh_margin: Duration::from_secs(300),
            timeout: Duration::from_secs(60),
            sleeper: Arc::new(TokioSleeper),
            clock: Arc::new(SystemClock),
        }
    }

    /// Points the client at other hosts (a sandbox or a test double).
    pub fn with_base_urls(mut self, login_base: Url, graph_base: Url) -> Self {
        self.login_base = login_base;
        self.graph_base = graph_base;
        self
    }
}

/// Parses one of this module's constants (never external input).
fn constant_url(s: &str) -> Url {
    #[allow(clippy::expect_used)]
    Url::parse(s).expect("a constant URL parses")
}

/// The time the client believes it is.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock plus an offset that tests move forward (to expire a cached token).
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset: Arc<Mutex<chrono::Duration>>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn advance(&self, by: Duration) {
        if let (Ok(mut o), Ok(by)) = (self.offset.lock(), chrono::Duration::from_std(by)) {
            *o += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}
