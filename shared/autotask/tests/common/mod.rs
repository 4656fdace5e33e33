#![allow(dead_code)]
use atpilot_autotask::{Client, ClientConfig, Credentials, RetryPolicy, ZoneSource};
use atpilot_autotask_sandbox::{Knobs, Sandbox, SandboxConfig};
use std::time::Duration;

pub fn creds() -> Credentials {
    Credentials {
        username: atpilot_autotask_sandbox::DEFAULT_USER.into(),
        secret: atpilot_autotask_sandbox::DEFAULT_SECRET.into(),
        integration_code: atpilot_autotask_sandbox::DEFAULT_INTEGRATION_CODE.into(),
        impersonation_resource_id: None,
    }
}

pub async fn sandbox(tickets: u64, knobs: Knobs) -> Sandbox {
    let cfg = SandboxConfig { tickets, knobs, seed: 7, ..Default::default() };
    Sandbox::start(cfg, "127.0.0.1:0".parse().unwrap()).await.expect("sandbox starts")
}

pub fn config(sb: &Sandbox) -> ClientConfig {
    let mut cfg = ClientConfig::new(creds(), ZoneSource::Discover { bootstrap_url: sb.base_url() });
    cfg.retry = RetryPolicy {
        max_attempts: 8,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_millis(50),
    };
    cfg.request_timeout = Duration::from_secs(30);
    cfg
}

pub fn client(sb: &Sandbox) -> Client {
    Client::new(config(sb)).unwrap()
}
