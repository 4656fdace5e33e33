//! The HTTP client: configuration, credentials and the shared state behind a
//! cheaply cloned [`Client`]. The requests themselves live by concern:
//!
//! * `transport`: zone discovery, auth headers, the request budget, per-endpoint
//!   concurrency and retries: every request goes through `Client::request`;
//! * `paging`: query pages, `nextPageUrl` with the id-cursor fallback, streams, counts;
//! * `crud`: get, create, patch, put and delete (children through their parent);
//! * `metadata`: entity fields and picklists, cached with a TTL;
//! * `webhooks`: registering a ticket webhook with its fields.

mod crud;
mod metadata;
mod paging;
mod transport;
mod webhooks;

pub use metadata::Picklist;
pub use paging::Page;
pub use transport::{RetryPolicy, endpoint_key};
pub use webhooks::TicketWebhookRegistration;

use crate::entities::FieldInfo;
use crate::error::{Error, Result};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use transport::Budget;

/// API credentials. `Debug` redacts the secret and the integration code.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
    pub integration_code: String,
    /// Makes writes appear as this resource (`ImpersonationResourceId`).
    pub impersonation_resource_id: Option<i64>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("integration_code", &"<redacted>")
            .field("impersonation_resource_id", &self.impersonation_resource_id)
            .finish()
    }
}

/// Where the zone's REST root comes from.
#[derive(Debug, Clone)]
pub enum ZoneSource {
    /// `GET {bootstrap}/atservicesrest/v1.0/zoneInformation?user=`; cached.
    Discover { bootstrap_url: String },
    /// A known zone root, e.g. `https://webservices5.autotask.net/atservicesrest/`.
    Fixed { rest_url: String },
}

impl ZoneSource {
    /// The zone of a URL given by a user: the global bootstrap host
    /// (webservices2), or any URL that is not a REST root (`…/atservicesrest`),
    /// is discovered from the API user; a zone's REST root is used as it is.
    pub fn for_url(url: &str) -> ZoneSource {
        let discover =
            url.contains("webservices2.autotask.net") || !url.to_ascii_lowercase().contains("atservicesrest");
        if discover {
            ZoneSource::Discover { bootstrap_url: url.to_string() }
        } else {
            ZoneSource::Fixed { rest_url: url.to_string() }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingMode {
    /// Follow `nextPageUrl` (falls back to the id cursor if it fails).
    NextPageUrl,
    /// Always loop with `id gt <last id>`.
    IdCursor,
}

/// An entity's field metadata and when it was read (the cache of `entityInformation/fields`).
type CachedFields = (Instant, Arc<Vec<FieldInfo>>);

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub credentials: Credentials,
    pub zone: ZoneSource,
    /// This client's share of the tenant's hourly limit (0 < share <= 1).
    pub budget_share: f64,
    /// Assumed tenant limit until ThresholdInformation says otherwise.
    pub assumed_hourly_limit: u32,
    /// How often ThresholdInformation is read (it counts against the limit too); None = never.
    pub threshold_refresh: Option<Duration>,
    /// Concurrent requests per endpoint (Autotask allows 3).
    pub max_concurrency_per_endpoint: usize,
    pub retry: RetryPolicy,
    pub request_timeout: Duration,
    pub picklist_ttl: Duration,
    pub zone_ttl: Duration,
    pub paging: PagingMode,
}

impl ClientConfig {
    pub fn new(credentials: Credentials, zone: ZoneSource) -> Self {
        Self {
            credentials,
            zone,
            budget_share: 0.5,
            assumed_hourly_limit: 10_000,
            threshold_refresh: Some(Duration::from_secs(15 * 60)),
            max_concurrency_per_endpoint: 3,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            picklist_ttl: Duration::from_secs(3600),
            zone_ttl: Duration::from_secs(24 * 3600),
            paging: PagingMode::NextPageUrl,
        }
    }
}

/// Counters for observability and benches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent to the zone (retries included; zone discovery excluded).
    pub requests: u64,
    pub retries: u64,
    pub picklist_cache_hits: u64,
    pub picklist_cache_misses: u64,
    pub threshold_reads: u64,
}

struct Inner {
    cfg: ClientConfig,
    http: reqwest::Client,
    zone: Mutex<Option<(String, Instant)>>,
    zone_lock: tokio::sync::Mutex<()>,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
    budget: Mutex<Budget>,
    threshold_lock: tokio::sync::Mutex<()>,
    fields: tokio::sync::Mutex<HashMap<String, CachedFields>>,
    stats: Mutex<ClientStats>,
}

/// The Autotask REST client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("credentials", &self.inner.cfg.credentials)
            .field("zone", &self.inner.cfg.zone)
            .finish()
    }
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        if !(cfg.budget_share > 0.0 && cfg.budget_share <= 1.0) {
            return Err(Error::Config(format!("budget_share must be in (0, 1], got {}", cfg.budget_share)));
        }
        if cfg.max_concurrency_per_endpoint == 0 {
            return Err(Error::Config("max_concurrency_per_endpoint must be at least 1".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let tenant_limit = cfg.assumed_hourly_limit;
        Ok(Client {
            inner: Arc::new(Inner {
                cfg,
                http,
                zone: Mutex::new(None),
                zone_lock: tokio::sync::Mutex::new(()),
                semaphores: Mutex::new(HashMap::new()),
                budget: Mutex::new(Budget {
                    sent: VecDeque::new(),
                    tenant_limit,
                    reported: None,
                    sent_since_report: 0,
                }),
                threshold_lock: tokio::sync::Mutex::new(()),
                fields: tokio::sync::Mutex::new(HashMap::new()),
                stats: Mutex::new(ClientStats::default()),
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }
    pub fn stats(&self) -> ClientStats {
        *self.inner.stats.lock().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_for_url() {
        assert!(matches!(
            ZoneSource::for_url("https://webservices2.autotask.net/atservicesrest"),
            ZoneSource::Discover { .. }
        ));
        assert!(matches!(ZoneSource::for_url("https://webservices5.autotask.net"), ZoneSource::Discover { .. }));
        assert!(matches!(
            ZoneSource::for_url("https://webservices5.autotask.net/ATServicesRest/"),
            ZoneSource::Fixed { .. }
        ));
    }

    #[test]
    fn credentials_are_redacted() {
        let c = Credentials {
            username: "u@x".into(),
            secret: "hunter2".into(),
            integration_code: "CODE123".into(),
            impersonation_resource_id: None,
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && !s.contains("CODE123"), "{s}");
        let client = Client::new(ClientConfig::new(
            c,
            ZoneSource::Fixed { rest_url: "http://127.0.0.1:1/atservicesrest/".into() },
        ))
        .unwrap();
        let s = format!("{client:?}");
        assert!(!s.contains("hunter2") && !s.contains("CODE123"), "{s}");
    }
}
