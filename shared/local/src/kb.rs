//! The knowledge base of a local run: with `[kb]`, the configured service
//! (its API key from `ATPILOT_KB_API_KEY`); without it, on the Autotask
//! sandbox, a Hudu sandbox holding one company per sandbox company (linked by
//! its PSA integration id, as a synced Hudu is) and, in each, an Outlook
//! article the demo's Outlook resolutions are close to, so the dashboard
//! shows both new drafts and update proposals within minutes.

use crate::LocalError;
use atpilot_agent::adapters::kb::from_config as adapter;
use atpilot_autotask_sandbox::Sandbox;
use atpilot_config::{Config, KbConfig, KbProvider};
use atpilot_kb::KnowledgeBase;
use atpilot_kb_sandbox::hudu;
use std::sync::Arc;

/// The variable holding the KB's API key for a local run against a real KB.
pub const API_KEY_ENV: &str = "ATPILOT_KB_API_KEY";
/// The Hudu sandbox's folder for AI drafts.
const DRAFTS_FOLDER: i64 = 1;

/// A started KB sandbox, if any, and the KB the agent writes to.
pub type Started = (Option<Arc<atpilot_kb_sandbox::Sandbox<hudu::World>>>, Option<Arc<dyn KnowledgeBase>>);

/// Starts what `config` needs (filling `[kb]` in for the sandbox).
pub(crate) async fn start(config: &mut Config, autotask: Option<&Arc<Sandbox>>) -> Result<Started, LocalError> {
    if let Some(kb) = &config.kb {
        let key = std::env::var(API_KEY_ENV)
            .map_err(|_| LocalError::Kb(format!("{API_KEY_ENV} is not set: it holds the {:?} API key", kb.provider)))?;
        return Ok((None, Some(adapter(kb, key))));
    }
    let Some(at) = autotask else { return Ok((None, None)) };
    let mut world = hudu::World::default();
    for id in at.facts().company_ids {
        let name =
            at.row("Companies", id).and_then(|r| r.get("companyName").and_then(|v| v.as_str().map(str::to_string)));
        let Some(name) = name else { continue };
        world.companies.push(hudu::Company { id, name, id_in_integration: Some(id.to_string()) });
        world.add_article(
            "Outlook not syncing: rebuild the Outlook profile",
            "<p>Outlook stopped syncing new email.</p><ol><li>Close Outlook.</li><li>Open Mail in the Control Panel and add a new profile.</li><li>Set the new profile as the default and start Outlook.</li></ol>",
            Some(id),
        );
    }
    let sb = hudu::start(world).await.map_err(|e| LocalError::Kb(format!("cannot start the Hudu sandbox: {e}")))?;
    let kb = KbConfig {
        provider: KbProvider::Hudu,
        base_url: hudu::base(&sb),
        drafts_folder_id: Some(DRAFTS_FOLDER),
        update_threshold: 0.6,
        itglue_flexible_asset_type_id: None,
    };
    let adapter = adapter(&kb, atpilot_kb_sandbox::API_KEY.to_string());
    config.kb = Some(kb);
    Ok((Some(Arc::new(sb)), Some(adapter)))
}
