//! `[model]`: the trained artifacts and picklist files, and `[model.llm]`,
//! the optional LLM classifier, checked so that no key is ever in the file.

use crate::{ConfigError, invalid};
use atpilot_domain::Category;
use serde::Deserialize;
use std::collections::BTreeSet;

/// Trained models (`atpilot model train`); without them a transparent keyword classifier is used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Artifact whose labels are the automation categories.
    pub category_path: Option<std::path::PathBuf>,
    /// Artifact whose labels are queue picklist values.
    pub queue_path: Option<std::path::PathBuf>,
    /// Artifact whose labels are priority picklist values.
    pub priority_path: Option<std::path::PathBuf>,
    /// Artifact whose labels are issue type picklist values.
    pub issue_type_path: Option<std::path::PathBuf>,
    /// Artifact whose labels are sub-issue type picklist values.
    pub sub_issue_type_path: Option<std::path::PathBuf>,
    /// Categories whose work needs hands on hardware (never resolved by the agent).
    #[serde(default)]
    pub physical_categories: BTreeSet<Category>,
    /// An optional LLM asked for a second opinion and a draft; absent: none.
    pub llm: Option<LlmConfig>,
}

impl ModelConfig {
    /// The picklist models' paths, in order: queue, priority, issue type, sub-issue type.
    pub fn picklist_paths(&self) -> [Option<&std::path::Path>; 4] {
        [&self.queue_path, &self.priority_path, &self.issue_type_path, &self.sub_issue_type_path].map(|p| p.as_deref())
    }
}

/// Which chat API the LLM speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmProviderKind {
    /// Any OpenAI-compatible `/chat/completions` endpoint.
    Openai,
    /// Amazon Bedrock's Converse API.
    Bedrock,
}

/// `[model.llm]`: off unless present. Its labels are checked against the real
/// picklists and its drafts pass the drafter's scrub; any failure falls back
/// to the local model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    pub provider: LlmProviderKind,
    /// The model id (OpenAI: e.g. "gpt-4o-mini"; Bedrock: a model or inference-profile id).
    pub model: String,
    /// OpenAI-compatible only: the API base, up to `/chat/completions` (e.g. "https://api.openai.com/v1").
    pub base_url: Option<String>,
    /// OpenAI-compatible only: the Secrets Manager secret holding the API key
    /// (locally, `ATPILOT_LLM_API_KEY` instead). Never the key itself.
    pub api_key_secret_arn: Option<String>,
    /// Refused with a hint: keys do not belong in the configuration.
    #[serde(default)]
    api_key: Option<String>,
    /// Bedrock only: the region (default: the function's own).
    pub region: Option<String>,
    /// Bedrock only: an endpoint override (e.g. a VPC endpoint); `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` also works.
    pub endpoint_url: Option<String>,
    /// After this the local model's answer is used alone.
    #[serde(default = "d_llm_timeout")]
    pub timeout_ms: u64,
    /// OpenAI-compatible only: ask for `response_format: {"type": "json_object"}` (turn off for endpoints that reject it).
    #[serde(default = "d_true")]
    pub json_mode: bool,
    #[serde(default = "d_llm_tokens")]
    pub max_tokens: u32,
}
fn d_llm_timeout() -> u64 {
    8000
}
fn d_llm_tokens() -> u32 {
    700
}
fn d_true() -> bool {
    true
}

impl LlmConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.api_key.is_some() {
            return Err(invalid(
                "model.llm.api_key",
                "is set",
                "never put an API key in the configuration: store it in Secrets Manager and set model.llm.api_key_secret_arn (locally: ATPILOT_LLM_API_KEY)",
            ));
        }
        if self.model.trim().is_empty() {
            return Err(invalid(
                "model.llm.model",
                "is empty",
                "name the model, e.g. \"gpt-4o-mini\" or \"anthropic.claude-3-5-haiku-20241022-v1:0\"",
            ));
        }
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err(invalid(
                "model.llm.timeout_ms",
                format!("{} is out of range", self.timeout_ms),
                "use 100 to 60000 ms (default 8000): the classify function waits this long at most",
            ));
        }
        if !(50..=8000).contains(&self.max_tokens) {
            return Err(invalid(
                "model.llm.max_tokens",
                format!("{} is out of range", self.max_tokens),
                "use 50 to 8000 (default 700)",
            ));
        }
        if let Some(arn) = &self.api_key_secret_arn {
            if !(arn.starts_with("arn:") && arn.contains(":secretsmanager:")) {
                return Err(invalid(
                    "model.llm.api_key_secret_arn",
                    format!("{arn:?} is not a Secrets Manager ARN"),
                    "use arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME",
                ));
            }
        }
        match self.provider {
            LlmProviderKind::Openai => {
                let Some(base) = &self.base_url else {
                    return Err(invalid(
                        "model.llm.base_url",
                        "is not set for provider \"openai\"",
                        "set the API base, e.g. \"https://api.openai.com/v1\"",
                    ));
                };
                let u = url::Url::parse(base).map_err(|e| {
                    invalid(
                        "model.llm.base_url",
                        format!("{base:?} is not a URL ({e})"),
                        "e.g. \"https://api.openai.com/v1\"",
                    )
                })?;
                let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
                if u.scheme() != "https" && !(u.scheme() == "http" && loopback) {
                    return Err(invalid(
                        "model.llm.base_url",
                        format!("{base:?} is not https"),
                        "ticket text and the API key travel to it: use https (plain http only on localhost)",
                    ));
                }
                for (key, set) in [
                    ("model.llm.region", self.region.is_some()),
                    ("model.llm.endpoint_url", self.endpoint_url.is_some()),
                ] {
                    if set {
                        return Err(invalid(
                            key,
                            "is set for provider \"openai\"",
                            "it applies to provider \"bedrock\" only: remove it",
                        ));
                    }
                }
            }
            LlmProviderKind::Bedrock => {
                for (key, set) in [
                    ("model.llm.base_url", self.base_url.is_some()),
                    ("model.llm.api_key_secret_arn", self.api_key_secret_arn.is_some()),
                ] {
                    if set {
                        return Err(invalid(
                            key,
                            "is set for provider \"bedrock\"",
                            "Bedrock uses the function's IAM role (bedrock:InvokeModel) and endpoint_url: remove it",
                        ));
                    }
                }
                if let Some(e) = &self.endpoint_url {
                    url::Url::parse(e).map_err(|err| {
                        invalid(
                            "model.llm.endpoint_url",
                            format!("{e:?} is not a URL ({err})"),
                            "e.g. \"https://bedrock-runtime.us-east-1.amazonaws.com\"",
                        )
                    })?;
                }
            }
        }
        Ok(())
    }
}
