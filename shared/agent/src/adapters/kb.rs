//! The knowledge base `[kb]` names, as the [`KnowledgeBase`] port: the Hudu
//! or IT Glue adapter of `atpilot-kb`, with the API key the caller read
//! (Secrets Manager deployed, `ATPILOT_KB_API_KEY` locally).

use atpilot_config::{KbConfig, KbProvider};
use atpilot_kb::KnowledgeBase;
use atpilot_kb::hudu::{Hudu, HuduConfig};
use atpilot_kb::itglue::{ItGlue, ItGlueConfig};
use std::sync::Arc;

/// The adapter `kb` configures, with its API `key`.
pub fn from_config(kb: &KbConfig, key: String) -> Arc<dyn KnowledgeBase> {
    match kb.provider {
        KbProvider::Hudu => Arc::new(Hudu::new(HuduConfig {
            drafts_folder_id: kb.drafts_folder_id,
            ..HuduConfig::new(&kb.base_url, key)
        })),
        KbProvider::Itglue => Arc::new(ItGlue::new(ItGlueConfig {
            flexible_asset_type_id: kb.itglue_flexible_asset_type_id,
            ..ItGlueConfig::new(&kb.base_url, key)
        })),
    }
}
