//! What can go wrong talking to a knowledge base, in words an MSP can act on.

/// A knowledge-base error; `kb` is "Hudu" or "IT Glue".
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error(
        "{kb} refused the API key (HTTP {status}): check the key in Secrets Manager, that it is not revoked, and its scopes"
    )]
    Unauthorized { kb: &'static str, status: u16 },
    #[error(
        "{kb} was still rate-limiting {what} after {attempts} attempts: nothing more was sent; it is retried later"
    )]
    RateLimited { kb: &'static str, what: String, attempts: u32 },
    #[error("{kb} answered HTTP {status} to {what}: {message}")]
    Api { kb: &'static str, status: u16, what: String, message: String },
    #[error("{kb} could not be reached for {what}: {source}")]
    Transport {
        kb: &'static str,
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{kb} answered {what} with a body atpilot cannot read: {detail}")]
    Decode { kb: &'static str, what: String, detail: String },
    #[error(
        "{count} {kb} companies are named {name:?} and none carries the PSA id: atpilot does not guess; link the company to Autotask in {kb}"
    )]
    Ambiguous { kb: &'static str, name: String, count: usize },
}

impl KbError {
    /// Whether trying again later may succeed: the service was busy (429, 5xx)
    /// or unreachable; anything else is a refusal a person must look at.
    pub fn is_transient(&self) -> bool {
        match self {
            KbError::RateLimited { .. } | KbError::Transport { .. } => true,
            KbError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
