//! A real tenant for the commands that take `--autotask-url`: credentials
//! from AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE.

use atpilot_autotask::Credentials;

pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("{name} is not set: with --autotask-url the credentials come from AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE"))
}

pub fn credentials() -> Result<Credentials, String> {
    Ok(Credentials { username: env("AUTOTASK_USERNAME")?, secret: env("AUTOTASK_SECRET")?, integration_code: env("AUTOTASK_INTEGRATION_CODE")?, impersonation_resource_id: None })
}
