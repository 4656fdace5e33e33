//! Google Workspace Admin SDK client for atpilot's runbooks in MSP customers'
//! Workspaces.
//!
//! Shape (as `atpilot-graph`):
//! * [`key`]: the service-account key file ([`ServiceAccountKey`], private key
//!   never printed), the impersonated admin ([`Subject`]), licence SKUs
//!   ([`Sku`]) and the OAuth scopes ([`Scope`]).
//! * [`config`]: [`GoogleConfig`]: token, Directory and Licensing URLs
//!   (configurable so the sandbox stands in), retry policy, timeouts.
//! * [`client`]: [`Client`]: a token per (admin, scope set) from a signed
//!   RS256 JWT (domain-wide delegation), cached until 60 s before expiry;
//!   retries with exponential backoff and jitter ([`retry`]); Google's error
//!   body typed ([`GoogleError`]); the operations (users, sign-out, 2-Step
//!   Verification, groups and members, licences).
//! * [`model`]: Google's shapes ([`User`], [`Group`], [`LicenseAssignment`]).
//!
//! Every external fact comes from `../shared/reference/graph-and-identity.md`
//! §5 (Google Workspace Admin SDK) and §6 trap 13. Where the reference marks a
//! fact [U] the client accepts both variants (e.g. `hasMember`'s 400 for an
//! address outside the customer, a non-member's removal answered 404 or 400).
//!
//! For an MSP there is one delegation and one impersonated super admin per
//! customer: every call names the admin ([`Subject`]) it acts as, and asks for
//! the one scope it needs, so a missing delegation names exactly that scope.

pub mod client;
pub mod config;
pub mod error;
pub mod key;
pub mod model;
pub mod retry;

pub use client::Client;
pub use config::GoogleConfig;
pub use error::GoogleError;
pub use key::{DEFAULT_TOKEN_URL, Scope, ServiceAccountKey, Sku, Subject};
pub use model::{Group, LicenseAssignment, MemberChange, User};
pub use retry::RetryPolicy;
