//! Shared set-up of the conformance suite: a demo sandbox and a client on it
//! whose sleeper records delays instead of sleeping them.
#![allow(dead_code)]

use atpilot_graph::{
    AssertionStyle, CertificateCredential, Client, Credential, GraphConfig, ManualClock, RecordingSleeper, RetryPolicy,
    TenantId, UserId,
};
use atpilot_graph_sandbox::{CLIENT_ID, CLIENT_SECRET, Sandbox, Seed, keys, tenant_id_for};
use std::sync::Arc;
use std::time::Duration;

pub struct Env {
    pub sb: Sandbox,
    pub client: Client,
    pub sleeper: RecordingSleeper,
    pub clock: ManualClock,
    pub tenant: TenantId,
}

pub fn t1() -> TenantId {
    TenantId::new(tenant_id_for(1))
}

pub fn t2() -> TenantId {
    TenantId::new(tenant_id_for(2))
}

pub async fn sandbox() -> Sandbox {
    atpilot_graph_sandbox::start(Seed::demo()).await.expect("sandbox starts")
}

/// A client of `sb` with `credential`, a recording sleeper (no real sleeping)
/// and a manual clock.
pub fn client_with(sb: &Sandbox, credential: Credential) -> (Client, RecordingSleeper, ManualClock) {
    let sleeper = RecordingSleeper::new(0.0);
    let clock = ManualClock::new();
    let mut cfg = GraphConfig::new(CLIENT_ID.into(), credential).with_base_urls(
        url::Url::parse(&sb.login_base()).expect("login url"),
        url::Url::parse(&sb.graph_base()).expect("graph url"),
    );
    cfg.retry = RetryPolicy { max_attempts: 4, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(60) };
    cfg.sleeper = Arc::new(sleeper.clone());
    cfg.clock = Arc::new(clock.clone());
    (Client::new(cfg).expect("client"), sleeper, clock)
}

pub async fn env() -> Env {
    let sb = sandbox().await;
    let (client, sleeper, clock) = client_with(&sb, Credential::secret(CLIENT_SECRET));
    Env { sb, client, sleeper, clock, tenant: t1() }
}

pub fn certificate(style: AssertionStyle) -> Credential {
    Credential::Certificate(
        CertificateCredential::from_pem(
            keys::TEST_ONLY_PRIVATE_KEY_PEM.as_bytes(),
            keys::TEST_ONLY_CERTIFICATE_PEM,
            style,
        )
        .expect("test certificate"),
    )
}

impl Env {
    /// The id of a seeded user by UPN or local part (`admin` → `admin@c1.example`).
    pub fn uid(&self, who: &str) -> UserId {
        let upn = if who.contains('@') { who.to_string() } else { format!("{who}@c1.example") };
        let snap = self.sb.user(self.tenant.as_str(), &upn).unwrap_or_else(|| panic!("seeded user {upn}"));
        UserId::new(snap.id)
    }
    /// The k-th Autotask contact of company 1 (UPN, id).
    pub fn contact(&self, k: usize) -> (String, UserId) {
        let (upn, id) = self.sb.users(self.tenant.as_str())[k].clone();
        (upn, UserId::new(id))
    }
}
