//! The client: the token cache ([`token`]), the transport with retries
//! ([`transport`]) and the operations ([`users`], [`groups`], [`licensing`]),
//! each documented with its endpoint, scope and reference section (§5).

mod groups;
mod licensing;
mod token;
mod transport;
mod users;

use crate::config::GoogleConfig;
use crate::error::GoogleError;
use crate::key::{Scope, Subject};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;

pub use users::{PASSWORD_MAX, PASSWORD_MIN, check_password};

/// A Google Workspace Admin SDK client for many customers (one impersonated
/// admin each). Cheap to clone: the HTTP pool and token cache are shared.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: GoogleConfig,
    http: reqwest::Client,
    /// One slot per (admin, scope set): one fetch at a time per key.
    tokens: Mutex<HashMap<(String, Vec<Scope>), token::Slot>>,
}

impl Client {
    /// A client over `cfg` (rustls, the configured timeouts). Fails only if
    /// the HTTP stack cannot start ([`GoogleError::Http`]).
    pub fn new(cfg: GoogleConfig) -> Result<Client, GoogleError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .build()
            .map_err(|e| GoogleError::Http(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client { inner: Arc::new(Inner { cfg, http, tokens: Mutex::default() }) })
    }

    pub fn config(&self) -> &GoogleConfig {
        &self.inner.cfg
    }

    /// Checks the delegation of `scopes` for `admin` by getting a token for each
    /// scope on its own (the tokens stay cached), so the first missing one is
    /// named in the [`GoogleError::Token`] it returns.
    pub async fn check_delegation(&self, admin: &Subject, scopes: &[Scope]) -> Result<(), GoogleError> {
        for s in scopes {
            self.token(admin, *s).await?;
        }
        Ok(())
    }

    /// `{directory_base}/seg/seg…`.
    pub(crate) fn directory_url(&self, segments: &[&str]) -> Result<Url, GoogleError> {
        join(&self.inner.cfg.directory_base, segments)
    }

    /// `{licensing_base}/seg/seg…`.
    pub(crate) fn licensing_url(&self, segments: &[&str]) -> Result<Url, GoogleError> {
        join(&self.inner.cfg.licensing_base, segments)
    }
}

/// `base` with each segment percent-encoded on its own and appended. Empty
/// segments are refused (an empty user key would address the collection).
pub(crate) fn join(base: &Url, segments: &[&str]) -> Result<Url, GoogleError> {
    let mut s = base.as_str().trim_end_matches('/').to_string();
    for seg in segments {
        if seg.trim().is_empty() {
            return Err(GoogleError::InvalidInput("an empty user, group or member key".into()));
        }
        s.push('/');
        s.push_str(&encode_segment(seg));
    }
    Url::parse(&s).map_err(|e| GoogleError::InvalidInput(format!("cannot build a URL from {s:?}: {e}")))
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved
/// characters and `@` (so `a+b@x.com` is sent as `a%2Bb@x.com`, and a `/`
/// or `?` in a key cannot change the path).
pub fn encode_segment(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_one_by_one() {
        let base = Url::parse("https://admin.googleapis.com/admin/directory/v1/").expect("url");
        let u = join(&base, &["users", "ann+it@c1.example", "signOut"]).expect("url");
        assert_eq!(u.as_str(), "https://admin.googleapis.com/admin/directory/v1/users/ann%2Bit@c1.example/signOut");
        assert_eq!(
            join(&base, &["users", "a/b?c#d %"]).expect("url").path(),
            "/admin/directory/v1/users/a%2Fb%3Fc%23d%20%25"
        );
        assert!(matches!(join(&base, &["users", " "]), Err(GoogleError::InvalidInput(_))));
        assert_eq!(encode_segment("é"), "%C3%A9");
    }
}
