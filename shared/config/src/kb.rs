//! `[kb]`: the knowledge base completed tickets are drafted into (issue: KB
//! drafts). One per MSP: Hudu or IT Glue. The API key is never in the
//! configuration: deployed it is read from Secrets Manager (`KB_API_KEY_SECRET_ARN`),
//! locally from `ATPILOT_KB_API_KEY` (`atpilot dev` runs a sandbox of its own).
//!
//! ```toml
//! [kb]
//! provider = "hudu"                            # or "itglue"
//! base_url = "https://docs.msp.example/api/v1" # Hudu: the instance's /api/v1; IT Glue: its region's API
//! drafts_folder_id = 12                        # Hudu: the folder AI drafts go to (Hudu has no API drafts)
//! update_threshold = 0.6                       # similarity from which an update to an existing article is proposed
//! # itglue_flexible_asset_type_id = 31         # IT Glue: drafts as flexible assets of this type, not documents
//! ```

use crate::{ConfigError, invalid};
use serde::Deserialize;

/// Which knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KbProvider {
    Hudu,
    Itglue,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbConfig {
    pub provider: KbProvider,
    /// Hudu: `https://<instance>/api/v1`; IT Glue: `https://api.itglue.com`,
    /// `https://api.eu.itglue.com` or `https://api.au.itglue.com`.
    pub base_url: String,
    /// Hudu: the folder drafts are created in (`None`: the company's root).
    #[serde(default)]
    pub drafts_folder_id: Option<i64>,
    /// Similarity (0 to 1, title and content) at or above which an existing
    /// article gets an update proposal instead of a new draft.
    #[serde(default = "d_threshold")]
    pub update_threshold: f64,
    /// IT Glue: drafts go to flexible assets of this type (a Text title field
    /// and a Textbox body) instead of documents. `None`: documents.
    #[serde(default)]
    pub itglue_flexible_asset_type_id: Option<i64>,
}

fn d_threshold() -> f64 {
    0.6
}

impl KbConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let ok = url::Url::parse(&self.base_url)
            .is_ok_and(|u| u.scheme() == "https" || matches!(u.host_str(), Some("127.0.0.1" | "localhost")));
        if !ok {
            return Err(invalid(
                "kb.base_url",
                format!("{:?} is not an https URL", self.base_url),
                "Hudu: https://<your instance>/api/v1; IT Glue: https://api.itglue.com (or .eu. / .au.)",
            ));
        }
        if !(self.update_threshold > 0.0 && self.update_threshold <= 1.0) {
            return Err(invalid(
                "kb.update_threshold",
                format!("{} is not in (0, 1]", self.update_threshold),
                "a similarity such as 0.6: higher proposes updates only for closer articles",
            ));
        }
        if self.provider == KbProvider::Hudu && self.drafts_folder_id.is_none() {
            return Err(invalid(
                "kb.drafts_folder_id",
                "is not set",
                "Hudu's API cannot create drafts: name the folder atpilot's articles go to, for technicians to review",
            ));
        }
        match (self.provider, self.itglue_flexible_asset_type_id) {
            (KbProvider::Hudu, Some(_)) => {
                return Err(invalid(
                    "kb.itglue_flexible_asset_type_id",
                    "is an IT Glue setting",
                    "Hudu drafts go to drafts_folder_id: remove it",
                ));
            }
            (KbProvider::Itglue, Some(t)) if t <= 0 => {
                return Err(invalid(
                    "kb.itglue_flexible_asset_type_id",
                    format!("{t} is not an id"),
                    "the id of a flexible asset type in IT Glue (Account > Flexible Asset Types)",
                ));
            }
            _ => {}
        }
        if self.provider == KbProvider::Itglue && self.drafts_folder_id.is_some() {
            return Err(invalid(
                "kb.drafts_folder_id",
                "is a Hudu setting",
                "IT Glue creates documents as drafts by itself: remove it",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, EXAMPLE};

    fn with(kb: &str) -> Result<Config, String> {
        Config::parse(&format!("{EXAMPLE}\n[kb]\n{kb}\n"), "test").map_err(|e| e.to_string())
    }

    #[test]
    fn the_kb_needs_a_provider_an_https_url_and_a_sane_threshold() {
        let ok =
            with("provider = \"hudu\"\nbase_url = \"https://docs.msp.example/api/v1\"\ndrafts_folder_id = 3").unwrap();
        let kb = ok.kb.unwrap();
        assert_eq!((kb.provider, kb.update_threshold, kb.drafts_folder_id), (super::KbProvider::Hudu, 0.6, Some(3)));
        let plain = with("provider = \"itglue\"\nbase_url = \"http://api.itglue.com\"").unwrap_err();
        assert!(plain.contains("kb.base_url") && plain.contains("https"), "{plain}");
        let folder = with("provider = \"hudu\"\nbase_url = \"https://docs.msp.example/api/v1\"").unwrap_err();
        assert!(folder.contains("kb.drafts_folder_id"), "{folder}");
        let t = with("provider = \"itglue\"\nbase_url = \"https://api.eu.itglue.com\"\nupdate_threshold = 1.5")
            .unwrap_err();
        assert!(t.contains("kb.update_threshold"), "{t}");
        let fa =
            with("provider = \"itglue\"\nbase_url = \"https://api.itglue.com\"\nitglue_flexible_asset_type_id = 31")
                .unwrap();
        assert_eq!(fa.kb.unwrap().itglue_flexible_asset_type_id, Some(31));
        let hudu_fa = with("provider = \"hudu\"\nbase_url = \"https://d.example/api/v1\"\ndrafts_folder_id = 3\nitglue_flexible_asset_type_id = 31").unwrap_err();
        assert!(hudu_fa.contains("kb.itglue_flexible_asset_type_id"), "{hudu_fa}");
        let unknown = with("provider = \"confluence\"\nbase_url = \"https://x.example\"").unwrap_err();
        assert!(unknown.contains("confluence") || unknown.contains("provider"), "{unknown}");
        assert_eq!(Config::parse(crate::EXAMPLE, "test").unwrap().kb, None, "no [kb]: no drafts leave atpilot");
    }
}
