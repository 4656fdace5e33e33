//! The knowledge base of a local run: with `[kb]`, the configured service
//! (its API key from `ATPILOT_KB_API_KEY`); without it, on the Autotask
//! sandbox, a KB sandbox (Hudu by default, IT Glue with `atpilot dev --kb
//! itglue`) holding one company per sandbox company (linked by its PSA
//! integration id, as a synced KB is) and, in each, an Outlook article the
//! demo's Outlook resolutions are close to, so the dashboard shows both new
//! drafts and update proposals within minutes.

use crate::LocalError;
use atpilot_agent::adapters::kb::from_config as adapter;
use atpilot_autotask_sandbox::Sandbox;
use atpilot_config::{Config, KbConfig, KbProvider};
use atpilot_kb::KnowledgeBase;
use atpilot_kb_sandbox::{hudu, itglue};
use std::sync::Arc;

/// The variable holding the KB's API key for a local run against a real KB.
pub const API_KEY_ENV: &str = "ATPILOT_KB_API_KEY";
/// The Hudu sandbox's folder for AI drafts.
const DRAFTS_FOLDER: i64 = 1;
const OUTLOOK: (&str, &str) = (
    "Outlook not syncing: rebuild the Outlook profile",
    "<p>Outlook stopped syncing new email.</p><ol><li>Close Outlook.</li><li>Open Mail in the Control Panel and add a new profile.</li><li>Set the new profile as the default and start Outlook.</li></ol>",
);

/// Which KB sandbox a local run without `[kb]` starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KbSandbox {
    #[default]
    Hudu,
    /// IT Glue, drafting documents.
    ItGlue,
}

/// What [`start`] started: at most one sandbox, and the KB the agent writes to.
#[derive(Default)]
pub struct Started {
    pub hudu: Option<Arc<atpilot_kb_sandbox::Sandbox<hudu::World>>>,
    pub itglue: Option<Arc<atpilot_kb_sandbox::Sandbox<itglue::World>>>,
    pub kb: Option<Arc<dyn KnowledgeBase>>,
}

/// The sandbox companies: (Autotask id, name).
fn companies(at: &Sandbox) -> Vec<(i64, String)> {
    at.facts()
        .company_ids
        .into_iter()
        .filter_map(|id| {
            let name = at.row("Companies", id)?.get("companyName")?.as_str()?.to_string();
            Some((id, name))
        })
        .collect()
}

/// Starts what `config` needs (filling `[kb]` in for the sandbox, whose new
/// articles or documents get ids from `first_new_id` on).
pub(crate) async fn start(
    config: &mut Config,
    autotask: Option<&Arc<Sandbox>>,
    choice: KbSandbox,
    first_new_id: i64,
) -> Result<Started, LocalError> {
    if let Some(kb) = &config.kb {
        let key = std::env::var(API_KEY_ENV)
            .map_err(|_| LocalError::Kb(format!("{API_KEY_ENV} is not set: it holds the {:?} API key", kb.provider)))?;
        return Ok(Started { kb: Some(adapter(kb, key)), ..Default::default() });
    }
    let Some(at) = autotask else { return Ok(Started::default()) };
    let key = atpilot_kb_sandbox::API_KEY.to_string();
    let mut started = Started::default();
    let kb = match choice {
        KbSandbox::Hudu => {
            let mut world = hudu::World { first_new_id, ..Default::default() };
            for (id, name) in companies(at) {
                world.companies.push(hudu::Company { id, name, id_in_integration: Some(id.to_string()) });
                world.add_article(OUTLOOK.0, OUTLOOK.1, Some(id));
            }
            let sb =
                hudu::start(world).await.map_err(|e| LocalError::Kb(format!("cannot start the Hudu sandbox: {e}")))?;
            let kb = KbConfig {
                provider: KbProvider::Hudu,
                base_url: hudu::base(&sb),
                drafts_folder_id: Some(DRAFTS_FOLDER),
                update_threshold: 0.6,
                itglue_flexible_asset_type_id: None,
            };
            started.hudu = Some(Arc::new(sb));
            kb
        }
        KbSandbox::ItGlue => {
            let mut world = itglue::World { first_new_id, ..Default::default() };
            for (id, name) in companies(at) {
                let psa = Some(("autotask".to_string(), id.to_string()));
                world.organizations.push(itglue::Organization { id, name, psa });
                world.add_document(id, OUTLOOK.0, OUTLOOK.1);
            }
            let sb = itglue::start(world)
                .await
                .map_err(|e| LocalError::Kb(format!("cannot start the IT Glue sandbox: {e}")))?;
            let kb = KbConfig {
                provider: KbProvider::Itglue,
                base_url: itglue::base(&sb),
                drafts_folder_id: None,
                update_threshold: 0.6,
                itglue_flexible_asset_type_id: None,
            };
            started.itglue = Some(Arc::new(sb));
            kb
        }
    };
    started.kb = Some(adapter(&kb, key));
    config.kb = Some(kb);
    Ok(started)
}
