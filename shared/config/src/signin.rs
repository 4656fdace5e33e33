//! `[signin]`: who may use atpilot's pages once they sign in with the MSP's
//! OpenID provider (`atpilot dev --oidc-issuer`). People are named by the
//! e-mail their provider gives (the `email` claim, else `preferred_username`),
//! compared without regard to case. Approvers are the `approvers` of each
//! category; admins may do everything.
//!
//! ```toml
//! [signin]
//! admins = ["dispatch@msp.example"]      # phases, kill switch, every approval
//! viewers = ["desk@msp.example"]         # dispatchers: read the dashboard
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigninConfig {
    #[serde(default)]
    pub admins: Vec<String>,
    #[serde(default)]
    pub viewers: Vec<String>,
}

impl SigninConfig {
    pub fn is_admin(&self, email: &str) -> bool {
        self.admins.iter().any(|a| a.trim().eq_ignore_ascii_case(email.trim()))
    }
    pub fn is_viewer(&self, email: &str) -> bool {
        self.viewers.iter().any(|a| a.trim().eq_ignore_ascii_case(email.trim()))
    }
}
