//! Shared set-up: a sandbox with two customers and a client on it whose retry
//! delays are milliseconds.
#![allow(dead_code)]

use atpilot_google::{Client, GoogleConfig, RetryPolicy, ServiceAccountKey, Subject};
use atpilot_google_sandbox::{RecordedRequest, Sandbox, Seed};
use std::time::Duration;
use url::Url;

pub struct Env {
    pub sb: Sandbox,
    pub client: Client,
    /// The super admin of customer 1 (`admin@c1.example`).
    pub admin: Subject,
}

fn contact(first: &str, last: &str, email: &str) -> (String, String, String) {
    (first.into(), last.into(), email.into())
}

pub async fn sandbox() -> Sandbox {
    let c1 = Seed::customer(
        1,
        "c1.example",
        vec![
            contact("Ann", "Archer", "ann.archer@c1.example"),
            contact("Ben", "Baker", "ben.baker@c1.example"),
            contact("Cy", "Plus", "cy+it@c1.example"),
        ],
    );
    let c2 = Seed::customer(2, "c2.example", vec![contact("Dee", "Dunn", "dee.dunn@c2.example")]);
    atpilot_google_sandbox::start(Seed::for_companies(&[c1, c2])).await.expect("sandbox starts")
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(2), max_delay: Duration::from_millis(20) }
}

/// A client of `sb` using the key file `key_json`.
pub fn client_with_key(sb: &Sandbox, key_json: &str, retry: RetryPolicy) -> Client {
    let key = ServiceAccountKey::from_json(key_json).expect("the sandbox key file parses");
    let url = |s: String| Url::parse(&s).expect("url");
    let cfg = GoogleConfig::new(key)
        .with_base_urls(url(sb.token_url()), url(sb.directory_base()), url(sb.licensing_base()))
        .with_retry(retry);
    Client::new(cfg).expect("client")
}

pub async fn env() -> Env {
    let sb = sandbox().await;
    let client = client_with_key(&sb, &sb.service_account_json(), fast_retry());
    Env { sb, client, admin: subject("admin@c1.example") }
}

pub fn subject(s: &str) -> Subject {
    Subject::new(s).expect("subject")
}

impl Env {
    pub fn token_requests(&self) -> Vec<RecordedRequest> {
        self.sb.requests().into_iter().filter(|r| r.is_token()).collect()
    }
    /// API requests (not token requests) whose path ends with `suffix`.
    pub fn api_requests(&self, suffix: &str) -> Vec<RecordedRequest> {
        self.sb.requests().into_iter().filter(|r| !r.is_token() && r.path.ends_with(suffix)).collect()
    }
}
