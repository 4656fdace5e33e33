//! Optional LLM providers behind atpilot's model port ([`LlmProvider`]): any
//! OpenAI-compatible chat endpoint ([`OpenAiCompatible`]) and Amazon Bedrock
//! Converse ([`BedrockConverse`]). Off unless `[model.llm]` is configured;
//! their answers are checked by [`LlmClassifier`] (real picklist values only,
//! drafts through the scrub, the local model on any failure).

pub mod bedrock;
pub mod openai;

pub use atpilot_agent::classifiers::llm::LlmClassifier;
pub use atpilot_agent::ports::LlmProvider;
pub use bedrock::BedrockConverse;
pub use openai::OpenAiCompatible;

use atpilot_agent::ports::{Classifier, InProcess, PicklistSource, TicketClassifier};
use atpilot_config::{Config, LlmProviderKind};
use std::sync::Arc;
use std::time::Duration;

/// Locally, the OpenAI-compatible endpoint's key comes from this variable (in AWS: `api_key_secret_arn`).
pub const API_KEY_ENV: &str = "ATPILOT_LLM_API_KEY";

/// The classifier the configuration asks for: `local` alone without
/// `[model.llm]`, else `local` checked against the configured LLM.
/// `api_key`: the OpenAI-compatible endpoint's key, already read from its secret.
pub async fn classifier(
    config: &Config,
    local: Arc<dyn Classifier>,
    picklists: Option<Arc<dyn PicklistSource>>,
    api_key: Option<String>,
) -> Result<Arc<dyn TicketClassifier>, String> {
    let Some(llm) = &config.model.llm else { return Ok(Arc::new(InProcess(local))) };
    let timeout = Duration::from_millis(llm.timeout_ms);
    let provider: Arc<dyn LlmProvider> = match llm.provider {
        LlmProviderKind::Openai => {
            let base = llm.base_url.as_deref().ok_or("model.llm.base_url is not set")?;
            Arc::new(OpenAiCompatible::new(base, &llm.model, api_key, llm.json_mode, timeout + Duration::from_secs(1))?)
        }
        LlmProviderKind::Bedrock => {
            Arc::new(BedrockConverse::from_env(&llm.model, llm.region.as_deref(), llm.endpoint_url.as_deref()).await)
        }
    };
    tracing::info!(provider = %provider.name(), "LLM second opinion on: labels checked against the picklists, drafts through the scrub");
    let mut c = LlmClassifier::new(local, provider, config.categories.keys().cloned(), timeout, llm.max_tokens);
    if let Some(p) = picklists {
        c = c.with_picklists(p);
    }
    Ok(Arc::new(c))
}
