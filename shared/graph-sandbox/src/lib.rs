//! A local Microsoft identity platform + Microsoft Graph sandbox, in process.
//!
//! Shape (as `atpilot-autotask-sandbox`):
//! * one axum server answers both hosts: the token endpoint
//!   `POST /{tenant}/oauth2/v2.0/token` (tenant id or verified domain; secret as
//!   form field or Basic auth; certificate assertion verified against the
//!   test-only certificate, `PS256`+`x5t#S256` and `RS256`+`x5t`) and Graph
//!   under `/v1.0/…` (the bearer token decides the tenant);
//! * `seed`: [`Seed::demo`], one tenant per customer company of the Autotask
//!   sandbox, its contacts as users;
//! * `world`: the state and its rules (consent, application permissions, the
//!   service principal's roles and who it may reset, seats);
//! * [`Knobs`]: throttling (next N requests → 429 / 503 / 504 with a
//!   `Retry-After` such as `2.542`), page size, token lifetime and the [U] choices;
//! * a request log ([`RecordedRequest`]: method, path, query, tenant, status;
//!   never a body, so never a password or secret) and read-back
//!   ([`Sandbox::user`], [`Sandbox::group`], [`Sandbox::sku`]).
//!
//! Facts: `../shared/reference/graph-and-identity.md` §1 (tokens, AADSTS codes
//! and statuses, assertion claims and headers), §2 (error body, throttling,
//! paging, advanced queries, default property set), §3 (endpoints, status
//! codes, permissions, the role table, error texts), §6 (traps). Items the
//! reference marks [U] are knobs.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! let sb = atpilot_graph_sandbox::start(atpilot_graph_sandbox::Seed::demo()).await?;
//! println!("login {} graph {}", sb.login_base(), sb.graph_base());
//! # Ok(()) }
//! ```

pub mod keys;
pub mod seed;
mod server;
pub mod world;

pub use seed::{CLIENT_ID, CLIENT_SECRET, CLIENT_SECRET_ID, CompanySeed, EXPIRED_CLIENT_SECRET, Seed, tenant_id_for};
pub use world::{AppGrant, Consent, UserSnapshot};

use atpilot_autotask_sandbox::served::Served;
use server::lock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Behaviour knobs, changeable while the sandbox runs ([`Sandbox::set_knobs`]).
#[derive(Debug, Clone)]
pub struct Knobs {
    /// The next N Graph requests (and token requests if `throttle_token_endpoint`)
    /// are refused with `throttle_status`; nothing is applied.
    pub throttle_next: u32,
    /// 429 (default), 503 or 504.
    pub throttle_status: u16,
    /// `Retry-After` sent with them, verbatim (`"2.542"`, `"1"`); `None` sends none.
    pub retry_after: Option<String>,
    pub throttle_token_endpoint: bool,
    /// Items per page (Graph: 100 for `/users`); `$top` may ask for fewer.
    pub page_size: usize,
    /// `expires_in` of issued tokens (Entra: 3599 and up).
    pub token_lifetime_secs: u64,
    pub accept_ps256_x5t_s256: bool,
    pub accept_rs256_x5t: bool,
    /// [U] revokeSignInSessions answers 200 `{"value":true}` (default) or 204.
    pub revoke_status: u16,
    /// [U] mail-enabled security groups refuse member changes (Exchange Online's job).
    pub mail_enabled_security_groups_read_only: bool,
    /// [U] `proxyAddresses/any(…)` needs the advanced-query parameters.
    pub proxy_any_needs_advanced: bool,
    /// An unknown tenant gets AADSTS90002 instead of 700016.
    pub unknown_tenant_90002: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            throttle_next: 0,
            throttle_status: 429,
            retry_after: Some("1".into()),
            throttle_token_endpoint: false,
            page_size: 100,
            token_lifetime_secs: 3599,
            accept_ps256_x5t_s256: true,
            accept_rs256_x5t: true,
            revoke_status: 200,
            mail_enabled_security_groups_read_only: true,
            proxy_any_needs_advanced: false,
            unknown_tenant_90002: false,
        }
    }
}

/// One recorded request. No bodies: passwords and secrets never enter the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub seq: u64,
    pub method: String,
    /// As sent (percent-encoded), without the query.
    pub path: String,
    pub query: Option<String>,
    /// The tenant the request acted in (from the token URL or the bearer token).
    pub tenant: Option<String>,
    pub status: u16,
    /// An injected throttling answer.
    pub throttled: bool,
    pub consistency_eventual: bool,
}

impl RecordedRequest {
    pub fn is_token(&self) -> bool {
        self.path.ends_with("/oauth2/v2.0/token")
    }
    /// One line, as a log would show it.
    pub fn line(&self) -> String {
        let q = self.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
        format!(
            "{} {}{} tenant={} -> {}",
            self.method,
            self.path,
            q,
            self.tenant.as_deref().unwrap_or("-"),
            self.status
        )
    }
}

/// A running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    served: Served,
}

/// Starts `seed` on an ephemeral loopback port.
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
    /// The login base URL (stands in for `https://login.microsoftonline.com`).
    pub fn login_base(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The Graph base URL (stands in for `https://graph.microsoft.com/v1.0`).
    pub fn graph_base(&self) -> String {
        format!("http://{}/v1.0", self.addr)
    }
    pub fn client_id(&self) -> &str {
        &self.shared.app.client_id
    }

    /// (tenant id, verified domain, company id, display name) of every tenant.
    pub fn tenants(&self) -> Vec<(String, String, i64, String)> {
        let w = lock(&self.shared.world);
        w.tenants.values().map(|t| (t.id.clone(), t.domain.clone(), t.company_id, t.display_name.clone())).collect()
    }

    /// Read-back of a user by id or UPN (no request recorded).
    pub fn user(&self, tenant: &str, id_or_upn: &str) -> Option<UserSnapshot> {
        let w = lock(&self.shared.world);
        let t = w.tenants.get(&w.resolve(tenant)?)?;
        let u = &t.users[t.user_idx(id_or_upn)?];
        Some(UserSnapshot::of(t, u))
    }
    /// Users of a tenant (UPN, id), in seed order.
    pub fn users(&self, tenant: &str) -> Vec<(String, String)> {
        let w = lock(&self.shared.world);
        let t = w.resolve(tenant).and_then(|k| w.tenants.get(&k));
        t.map(|t| t.users.iter().map(|u| (u.upn.clone(), u.id.clone())).collect()).unwrap_or_default()
    }
    /// A group by id or mail, with its member ids.
    pub fn group(&self, tenant: &str, id_or_mail: &str) -> Option<world::GroupRecord> {
        let w = lock(&self.shared.world);
        let t = w.tenants.get(&w.resolve(tenant)?)?;
        t.group_idx(id_or_mail).map(|i| t.groups[i].clone())
    }
    /// (SKU, consumed seats) by part number.
    pub fn sku(&self, tenant: &str, part: &str) -> Option<(world::SkuRecord, i64)> {
        let w = lock(&self.shared.world);
        let t = w.tenants.get(&w.resolve(tenant)?)?;
        let s = t.skus.iter().find(|s| s.part_number.eq_ignore_ascii_case(part))?;
        Some((s.clone(), t.consumed(&s.sku_id)))
    }

    /// Changes a tenant's state directly (permissions, roles, consent, users…).
    pub fn with_tenant<T>(&self, tenant: &str, f: impl FnOnce(&mut world::TenantState) -> T) -> Option<T> {
        let mut w = lock(&self.shared.world);
        let k = w.resolve(tenant)?;
        w.tenants.get_mut(&k).map(f)
    }
    pub fn set_app_permissions(&self, tenant: &str, permissions: &[&str]) {
        self.with_tenant(tenant, |t| t.app.permissions = permissions.iter().map(|p| p.to_string()).collect());
    }
    pub fn set_sp_roles(&self, tenant: &str, role_templates: &[&str]) {
        self.with_tenant(tenant, |t| t.app.sp_roles = role_templates.iter().map(|p| p.to_string()).collect());
    }
    pub fn set_consent(&self, tenant: &str, consent: Consent) {
        self.with_tenant(tenant, |t| t.app.consent = consent);
    }

    /// Makes every issued token expired (Graph then answers 401 InvalidAuthenticationToken).
    pub fn expire_tokens(&self) {
        let past = chrono::Utc::now() - chrono::Duration::seconds(1);
        lock(&self.shared.tokens).values_mut().for_each(|t| t.expires_at = past);
    }
    /// Token requests received (whatever their outcome).
    pub fn token_requests(&self) -> u64 {
        self.shared.token_requests.load(Ordering::Relaxed)
    }

    pub fn knobs(&self) -> Knobs {
        lock(&self.shared.knobs).clone()
    }
    pub fn set_knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut lock(&self.shared.knobs));
    }
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        self.served.shutdown().await;
    }
}
