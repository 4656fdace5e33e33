//! `[signin]`: who may use atpilot's pages once they sign in with the MSP's
//! OpenID provider (`atpilot dev --oidc-issuer`). People are named by the
//! e-mail their provider gives (the `email` claim, else `preferred_username`),
//! compared without regard to case. Approvers are the `approvers` of each
//! category; admins may do everything.
//!
//! The provider is named by its issuer and the client registered there; the
//! deployed dashboard and approval pages require it (their functions refuse
//! to start without it), `atpilot dev` uses it when `--oidc-issuer` is not given.
//!
//! ```toml
//! [signin]
//! issuer = "https://login.microsoftonline.com/<tenant id>/v2.0"
//! client_id = "<application (client) id>"
//! admins = ["dispatch@msp.example"]      # phases, kill switch, every approval
//! viewers = ["desk@msp.example"]         # dispatchers: read the dashboard
//! ```

use crate::{ConfigError, invalid};
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigninConfig {
    /// The OpenID provider's issuer (its discovery document is
    /// `{issuer}/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// The client (application) id registered at the provider; its secret is
    /// never in the configuration (Secrets Manager in AWS, the environment locally).
    pub client_id: Option<String>,
    #[serde(default)]
    pub admins: Vec<String>,
    #[serde(default)]
    pub viewers: Vec<String>,
}

impl SigninConfig {
    /// The provider's issuer and client id, when sign-in is configured.
    pub fn provider(&self) -> Option<(&str, &str)> {
        self.issuer.as_deref().zip(self.client_id.as_deref())
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        match (&self.issuer, &self.client_id) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(
                    "signin",
                    "names only one of issuer and client_id",
                    "give both: the provider's issuer URL and the client id of atpilot's app registration",
                ));
            }
            (Some(issuer), Some(_)) => {
                let ok = url::Url::parse(issuer).is_ok_and(|u| u.scheme() == "https" || is_loopback(&u));
                if !ok {
                    return Err(invalid(
                        "signin.issuer",
                        format!("{issuer:?} is not an https URL"),
                        "use the provider's issuer, e.g. https://login.microsoftonline.com/<tenant id>/v2.0",
                    ));
                }
            }
            (None, None) => {}
        }
        crate::emails::check_emails("signin.admins", &self.admins)?;
        crate::emails::check_emails("signin.viewers", &self.viewers)
    }

    pub fn is_admin(&self, email: &str) -> bool {
        self.admins.iter().any(|a| a.trim().eq_ignore_ascii_case(email.trim()))
    }
    pub fn is_viewer(&self, email: &str) -> bool {
        self.viewers.iter().any(|a| a.trim().eq_ignore_ascii_case(email.trim()))
    }
}

/// A provider on this machine (tests, a local provider) may use http.
fn is_loopback(u: &url::Url) -> bool {
    matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

#[cfg(test)]
mod tests {
    use crate::{Config, EXAMPLE};

    fn with(signin: &str) -> Result<Config, String> {
        let text = EXAMPLE.replace("[signin]\n", &format!("[signin]\n{signin}\n"));
        Config::parse(&text, "test").map_err(|e| e.to_string())
    }

    #[test]
    fn the_provider_needs_both_an_https_issuer_and_a_client_id() {
        let ok = with("issuer = \"https://login.microsoftonline.com/tid/v2.0\"\nclient_id = \"abc\"").unwrap();
        assert_eq!(ok.signin.provider(), Some(("https://login.microsoftonline.com/tid/v2.0", "abc")));
        assert_eq!(with("").unwrap().signin.provider(), None, "no provider: local sign-in off");
        let half = with("issuer = \"https://login.microsoftonline.com/tid/v2.0\"").unwrap_err();
        assert!(half.contains("names only one of issuer and client_id"), "{half}");
        let plain = with("issuer = \"http://idp.example.com\"\nclient_id = \"abc\"").unwrap_err();
        assert!(plain.contains("is not an https URL"), "{plain}");
        assert!(with("issuer = \"http://127.0.0.1:4000\"\nclient_id = \"abc\"").is_ok(), "a provider on this machine");
        let bad = with("viewers = [\"not an address\"]").unwrap_err();
        assert!(bad.contains("signin.viewers"), "{bad}");
    }
}
