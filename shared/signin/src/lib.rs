//! OpenID Connect sign-in for atpilot's pages (the approval pages and the
//! dashboard), as a relying party of the MSP's own provider: Microsoft Entra
//! ID by default (its single-tenant issuer), or any standard provider by its
//! discovery URL (Google Workspace, Okta).
//!
//! * [`discovery`]: the provider's metadata (`/.well-known/openid-configuration`),
//!   its issuer checked to be exactly the configured one;
//! * [`flow`]: the authorization code flow with PKCE (S256), `state` and
//!   `nonce`, and the code redeemed at the token endpoint;
//! * [`id_token`]: the ID token checked with `jsonwebtoken` against the
//!   provider's JWKS (cached; fetched again once for an unknown `kid`):
//!   signature (asymmetric algorithms only, never `none` or HMAC), `iss`,
//!   `aud`, `exp`, `nbf` with a bounded clock skew, and `nonce`;
//! * [`session`]: the signed and encrypted (AES-256-GCM) session cookie.
//!
//! Facts: `../shared/reference/graph-and-identity.md` §4 (Entra v2.0 endpoints,
//! claims, issuer rules, key rollover, clock skew).

pub mod discovery;
pub mod flow;
pub mod id_token;
pub mod session;

pub use discovery::Metadata;
pub use flow::{Client, ClientConfig, LoginRequest, PendingLogin, Tokens, random_token};
pub use id_token::{Identity, Validator};
pub use session::{Session, SessionCodec};

/// Why a sign-in failed. Each message names what to check.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the OpenID provider at {url} could not be reached: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the OpenID provider answered {status} at {url}: {body}")]
    Provider { url: String, status: u16, body: String },
    #[error("the provider's metadata is not usable: {0}")]
    Metadata(String),
    #[error("the sign-in answer is not valid: {0}")]
    Callback(String),
    #[error("the ID token was refused: {0}")]
    IdToken(String),
}
