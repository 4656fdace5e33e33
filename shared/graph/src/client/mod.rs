//! The client: configuration, per-tenant token cache ([`token`]), the
//! transport with retries and paging ([`transport`]), and the operations
//! ([`users`], [`methods`], [`licenses`], [`groups`]), each documented with its
//! endpoint, permission and reference section.

mod groups;
mod licenses;
mod methods;
mod token;
mod transport;
mod users;

use crate::config::GraphConfig;
use crate::error::GraphError;
use crate::ids::TenantId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use url::Url;

pub use groups::Membership;
pub use methods::{MethodDeletion, MethodsReport};

/// Counters, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Token requests sent (each attempt counts).
    pub token_requests: u64,
    /// Graph requests sent (each attempt counts).
    pub graph_requests: u64,
    /// Attempts that were retried after 429/503/504.
    pub retries: u64,
}

/// A Microsoft Graph client for many customer tenants. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: GraphConfig,
    http: reqwest::Client,
    tokens: Mutex<HashMap<TenantId, token::Slot>>,
    token_requests: AtomicU64,
    graph_requests: AtomicU64,
    retries: AtomicU64,
}

impl Client {
    /// A client over `cfg`. Fails only if the HTTP stack cannot start.
    pub fn new(cfg: GraphConfig) -> Result<Self, GraphError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|source| GraphError::Transport { context: "building the HTTP client".into(), source })?;
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                http,
                tokens: Mutex::default(),
                token_requests: AtomicU64::new(0),
                graph_requests: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    pub fn config(&self) -> &GraphConfig {
        &self.inner.cfg
    }

    pub fn stats(&self) -> ClientStats {
        ClientStats {
            token_requests: self.inner.token_requests.load(Ordering::Relaxed),
            graph_requests: self.inner.graph_requests.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
        }
    }

    /// `{graph_base}/seg/seg…?k=v&…`; each segment is percent-encoded on its own
    /// (so a guest UPN's `#EXT#` becomes `%23EXT%23`), query values too.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, GraphError> {
        let mut url = self.inner.cfg.graph_base.clone();
        {
            let mut p = url.path_segments_mut().map_err(|_| {
                GraphError::InvalidInput(format!("graph base URL {} cannot take a path", self.inner.cfg.graph_base))
            })?;
            p.pop_if_empty();
            for s in segments {
                if s.is_empty() {
                    return Err(GraphError::InvalidInput("an empty id or path segment".into()));
                }
                p.push(s);
            }
        }
        if !query.is_empty() {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", encode_query_value(v))).collect();
            url.set_query(Some(&q.join("&")));
        }
        Ok(url)
    }
}

/// Percent-encodes a query value: everything but RFC 3986 unreserved
/// characters and `$`, `,`; spaces as `%20` (never `+`, which OData may read literally).
pub fn encode_query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'$' | b',') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An OData string literal body: single quotes doubled.
pub fn odata_quote(v: &str) -> String {
    v.replace('\'', "''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_without_plus() {
        assert_eq!(encode_query_value("a eq 'b+c@d'"), "a%20eq%20%27b%2Bc%40d%27");
        assert_eq!(encode_query_value("id,mail"), "id,mail");
        assert_eq!(encode_query_value("é"), "%C3%A9");
    }

    #[test]
    fn odata_literals_double_quotes() {
        assert_eq!(odata_quote("o'brien@x"), "o''brien@x");
    }

    #[test]
    fn segments_are_encoded_one_by_one() {
        let cfg = GraphConfig::new("c".into(), crate::Credential::secret("s"));
        let c = Client::new(cfg).expect("client");
        let u = c.url(&["users", "ann_x.com#EXT#@t.example"], &[("$select", "id")]).expect("url");
        assert_eq!(u.as_str(), "https://graph.microsoft.com/v1.0/users/ann_x.com%23EXT%23@t.example?$select=id");
        let u = c.url(&["users", "a/b?c"], &[]).expect("url");
        assert_eq!(u.path(), "/v1.0/users/a%2Fb%3Fc");
        assert!(c.url(&["users", ""], &[]).is_err());
    }
}
