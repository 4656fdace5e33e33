//! A local Google Workspace sandbox (Admin SDK Directory + Licensing + the
//! OAuth token endpoint), in process.
//!
//! Shape (as `atpilot-graph-sandbox`):
//! * one axum server on loopback answers `POST /token` (service-account JWT
//!   assertions: RS256 signature checked against the TEST-ONLY public key,
//!   `iss`, `aud`, `iat`/`exp`, `sub`, and the customer's domain-wide
//!   delegation of every requested scope), the Directory API under
//!   `/admin/directory/v1/…` and the Licensing API under `/apps/licensing/v1/…`;
//! * [`seed`]: one Google customer per Autotask company ([`Seed::for_companies`],
//!   [`Seed::demo`]): its contacts become users, plus a super admin, a
//!   delegated admin, a suspended leaver and a user enrolled in 2SV, two
//!   groups and two SKUs (one with free seats, one without);
//! * [`world`]: the state and its rules (who may act where, seats);
//! * [`Knobs`]: throttling (next N API calls → 403/429/503 with a quota
//!   reason), token lifetime and the choices the reference marks [U];
//! * a request log ([`RecordedRequest`]: method, path, query, customer,
//!   status, throttled; never a body, so never a password or an assertion)
//!   and read-back ([`Sandbox::user`], [`Sandbox::group_members`], [`Sandbox::seats`]).
//!
//! Facts: `../shared/reference/graph-and-identity.md` §5 (Google Workspace
//! Admin SDK) and §6 trap 13.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! let sb = atpilot_google_sandbox::start(atpilot_google_sandbox::Seed::demo()).await?;
//! println!("token {} directory {}", sb.token_url(), sb.directory_base());
//! # Ok(()) }
//! ```

pub mod keys;
pub mod seed;
mod server;
pub mod world;

pub use seed::{
    ALL_SCOPES, CLIENT_ID, CustomerSeed, PRIVATE_KEY_ID, SERVICE_ACCOUNT_EMAIL, SKU_BUSINESS_STANDARD,
    SKU_BUSINESS_STARTER, Seed, scopes,
};
pub use world::{CustomerInfo, UserSnapshot};

use atpilot_autotask_sandbox::served::Served;
use server::lock;
use std::net::SocketAddr;
use std::sync::Arc;

/// Behaviour knobs, changeable while the sandbox runs ([`Sandbox::set_knobs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// The next N API requests (never token requests) answer `throttle_status`
    /// with `throttle_reason`; nothing is applied.
    pub throttle_next: u32,
    /// 403 (default), 429 or 503.
    pub throttle_status: u16,
    /// `userRateLimitExceeded` (default), `rateLimitExceeded` or `quotaExceeded`.
    pub throttle_reason: String,
    /// `Retry-After` (seconds) sent with throttled answers; `None` (default) sends none.
    pub retry_after_secs: Option<u64>,
    /// `expires_in` of issued tokens (3599).
    pub token_lifetime_secs: u64,
    /// [U] The status of a licence insert without a free seat: 412 (reason
    /// `conditionNotMet`, default) or 400 (reason `invalid`).
    pub no_seat_status: u16,
    /// [U] `hasMember` for an address outside the customer answers 400
    /// "Invalid Input: memberKey" (default) instead of `{"isMember":false}`.
    pub has_member_external_400: bool,
    /// [U] Removing a non-member answers 404 notFound (default) or, if false,
    /// 400 "Invalid Input: memberKey".
    pub remove_non_member_404: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            throttle_next: 0,
            throttle_status: 403,
            throttle_reason: "userRateLimitExceeded".into(),
            retry_after_secs: None,
            token_lifetime_secs: 3599,
            no_seat_status: 412,
            has_member_external_400: true,
            remove_non_member_404: true,
        }
    }
}

/// One recorded request. No bodies: passwords and assertions never enter the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub seq: u64,
    pub method: String,
    /// As sent (percent-encoded), without the query.
    pub path: String,
    pub query: Option<String>,
    /// The Google customer id the request acted in (from the token's subject).
    pub customer: Option<String>,
    pub status: u16,
    /// An injected throttling answer.
    pub throttled: bool,
}

impl RecordedRequest {
    pub fn is_token(&self) -> bool {
        self.path == "/token"
    }
    /// One line, as a log would show it.
    pub fn line(&self) -> String {
        let q = self.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
        let c = self.customer.as_deref().unwrap_or("-");
        let t = if self.throttled { " (throttled)" } else { "" };
        format!("{} {}{} customer={c} -> {}{t}", self.method, self.path, q, self.status)
    }
}

/// A running sandbox; stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    served: Served,
}

/// Starts `seed` on an ephemeral loopback port (127.0.0.1:0).
pub async fn start(seed: Seed) -> std::io::Result<Sandbox> {
    Sandbox::start(seed, SocketAddr::from(([127, 0, 0, 1], 0))).await
}

impl Sandbox {
    /// Binds `addr` (port 0 for an ephemeral port) and serves in the background.
    pub async fn start(seed: Seed, addr: SocketAddr) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = server::Shared::new(seed, format!("http://{addr}"));
        let app = server::router(shared.clone());
        let served = Served::spawn(listener, app);
        Ok(Sandbox { addr, shared, served })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        self.shared.base.clone()
    }
    /// Stands in for `https://oauth2.googleapis.com/token`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.shared.base)
    }
    /// Stands in for `https://admin.googleapis.com/admin/directory/v1`.
    pub fn directory_base(&self) -> String {
        format!("{}/admin/directory/v1", self.shared.base)
    }
    /// Stands in for `https://licensing.googleapis.com/apps/licensing/v1`.
    pub fn licensing_base(&self) -> String {
        format!("{}/apps/licensing/v1", self.shared.base)
    }
    /// The TEST-ONLY service-account key file the sandbox trusts (`token_uri` = [`Sandbox::token_url`]).
    pub fn service_account_json(&self) -> String {
        keys::service_account_json(&self.token_url())
    }

    pub fn set_knobs(&self, k: Knobs) {
        *lock(&self.shared.knobs) = k;
    }
    pub fn knobs(&self) -> Knobs {
        lock(&self.shared.knobs).clone()
    }
    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Read-back of a user by primary e-mail or id, in any customer (no request recorded).
    pub fn user(&self, email_or_id: &str) -> Option<UserSnapshot> {
        let w = lock(&self.shared.world);
        let (c, u) = w.find_user(email_or_id)?;
        Some(UserSnapshot::of(&w.customers[c], &w.customers[c].users[u]))
    }
    /// The member e-mails of a group (by e-mail or id), in the order added.
    pub fn group_members(&self, group_email: &str) -> Option<Vec<String>> {
        let w = lock(&self.shared.world);
        let (c, g) = w.find_group(group_email)?;
        Some(w.customers[c].groups[g].members.clone())
    }
    /// (total, used) seats of `sku` (`"product/sku"`) summed over every customer holding it.
    pub fn seats(&self, sku: &str) -> Option<(u32, u32)> {
        let w = lock(&self.shared.world);
        let per: Vec<(u32, u32)> = w.customers.iter().filter_map(|c| c.seats(sku)).collect();
        (!per.is_empty()).then(|| per.iter().fold((0, 0), |(t, u), (a, b)| (t + a, u + b)))
    }
    /// (total, used) seats of `sku` in one customer (customer id or domain).
    pub fn seats_in(&self, customer: &str, sku: &str) -> Option<(u32, u32)> {
        let w = lock(&self.shared.world);
        w.customer(customer).and_then(|c| w.customers[c].seats(sku))
    }
    /// Sets the total seats of `sku` in every customer that has it.
    pub fn set_seats(&self, sku: &str, total: u32) {
        let mut w = lock(&self.shared.world);
        w.customers.iter_mut().for_each(|c| c.set_seats(sku, total));
    }
    /// Sets the total seats of `sku` in one customer (customer id or domain).
    pub fn set_seats_in(&self, customer: &str, sku: &str, total: u32) {
        let mut w = lock(&self.shared.world);
        if let Some(c) = w.customer(customer) {
            w.customers[c].set_seats(sku, total);
        }
    }
    /// Replaces a customer's domain-wide delegation (scope URLs) of the service account.
    pub fn set_delegated_scopes(&self, customer: &str, scopes: &[&str]) {
        let mut w = lock(&self.shared.world);
        if let Some(c) = w.customer(customer) {
            w.customers[c].delegated_scopes = scopes.iter().map(|s| s.to_string()).collect();
        }
    }
    /// Every customer: id, Autotask company, domain, super admin.
    pub fn customers(&self) -> Vec<CustomerInfo> {
        lock(&self.shared.world).customers.iter().map(|c| c.info()).collect()
    }
    /// Makes every issued access token expired (the API then answers 401).
    pub fn expire_tokens(&self) {
        let past = chrono::Utc::now() - chrono::Duration::seconds(1);
        lock(&self.shared.tokens).values_mut().for_each(|t| t.expires_at = past);
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        self.served.shutdown().await;
    }
}
