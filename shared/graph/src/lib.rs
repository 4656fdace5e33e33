//! Microsoft Graph app-only client for atpilot's runbooks in MSP customer tenants.
//!
//! Shape (as `atpilot-autotask`):
//! * [`config`]: [`GraphConfig`]: login and Graph base URLs (configurable so a
//!   sandbox or test double stands in), client id, [`Credential`], retry
//!   policy, injectable [`Sleeper`] and [`Clock`].
//! * [`credential`]: client secret (form or Basic) or certificate: a JWT client
//!   assertion signed by `jsonwebtoken` (aws-lc-rs), `PS256`+`x5t#S256` (default)
//!   or `RS256`+`x5t`.
//! * [`client`]: [`Client`]: a token per tenant cached until shortly before
//!   expiry, AADSTS errors typed ([`TokenError`]), retries of 429/503/504 with
//!   `Retry-After` (decimal seconds rounded up) or exponential backoff,
//!   `@odata.nextLink` paging, Graph errors typed ([`GraphError`]), and the
//!   operations (users, passwords, sessions, methods, licences, groups).
//! * [`model`]: Graph's shapes and pure rules (free seats, admin roles, method paths).
//! * [`password`]: [`TemporaryPassword`] from a CSPRNG, meeting Entra's policy, never printed.
//!
//! Every external fact comes from `../shared/reference/graph-and-identity.md`
//! (sections named in each item's docs): §1 tokens and AADSTS codes, §2 base
//! URL, error shape, throttling, paging and advanced queries, §3 endpoints and
//! permissions, §6 traps. Where the reference marks a fact [U] the client
//! accepts both variants (e.g. revokeSignInSessions' 200 or 204).
//!
//! Tests do not sleep: inject a [`RecordingSleeper`] (records each delay,
//! sleeps a `scale` of it, 0.0 for none) in [`GraphConfig::sleeper`].

pub mod client;
pub mod config;
pub mod credential;
pub mod error;
pub mod ids;
pub mod model;
pub mod password;
pub mod retry;

pub use client::{Client, ClientStats, Membership, MethodDeletion, MethodsReport};
pub use config::{Clock, GraphConfig, ManualClock, SystemClock};
pub use credential::{AssertionStyle, CertificateCredential, Credential, CredentialError, SecretPlacement};
pub use error::{AadError, ApiError, GraphError, Needs, TokenError};
pub use ids::{AccessToken, ClientId, ClientSecret, GroupId, SkuId, SkuPartNumber, TenantId, UsageLocation, UserId};
pub use model::{
    AssignedLicense, AuthMethod, DirectoryRole, Group, PASSWORD_METHOD_ID, PrepaidUnits, SubscribedSku, User, is_admin,
    roles,
};
pub use password::TemporaryPassword;
pub use retry::{RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};
