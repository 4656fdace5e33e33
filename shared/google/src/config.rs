//! The client's configuration. The three endpoints are configuration so the
//! sandbox (or another test double) stands in for Google.

use crate::key::{DEFAULT_TOKEN_URL, ServiceAccountKey};
use crate::retry::RetryPolicy;
use std::time::Duration;
use url::Url;

/// The Admin SDK Directory API (reference §5 "Users").
pub const DEFAULT_DIRECTORY_BASE: &str = "https://admin.googleapis.com/admin/directory/v1";
/// The Enterprise License Manager API (reference §5 "Licensing").
pub const DEFAULT_LICENSING_BASE: &str = "https://licensing.googleapis.com/apps/licensing/v1";

#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub key: ServiceAccountKey,
    /// Where assertions are posted; also their `aud`.
    pub token_url: Url,
    /// Directory base; `/users/…`, `/groups/…` are appended.
    pub directory_base: Url,
    /// Licensing base; `/product/{p}/sku/{s}/user…` is appended.
    pub licensing_base: Url,
    pub retry: RetryPolicy,
    /// Per-request timeout (default 30 s).
    pub timeout: Duration,
    /// Connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// A cached token is replaced this long before it expires (default 60 s).
    pub refresh_margin: Duration,
}

impl GoogleConfig {
    /// Google's endpoints (the token URL from the key file's `token_uri`, else
    /// [`DEFAULT_TOKEN_URL`]) and the default policies.
    pub fn new(key: ServiceAccountKey) -> Self {
        let token_url = key
            .token_uri
            .as_deref()
            .and_then(|t| Url::parse(t).ok())
            .unwrap_or_else(|| constant_url(DEFAULT_TOKEN_URL));
        Self {
            key,
            token_url,
            directory_base: constant_url(DEFAULT_DIRECTORY_BASE),
            licensing_base: constant_url(DEFAULT_LICENSING_BASE),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            refresh_margin: Duration::from_secs(60),
        }
    }

    /// Points the client at other hosts (the sandbox or a test double).
    pub fn with_base_urls(mut self, token: Url, directory: Url, licensing: Url) -> Self {
        self.token_url = token;
        self.directory_base = directory;
        self.licensing_base = licensing;
        self
    }

    pub fn with_retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }
}

/// Parses one of this module's constants (never external input).
fn constant_url(s: &str) -> Url {
    #[allow(clippy::expect_used)]
    Url::parse(s).expect("a constant URL parses")
}
