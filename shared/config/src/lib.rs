//! atpilot's configuration: one typed structure, read from a TOML file
//! locally and from the environment in AWS, validated at start. Every error
//! names the key and says how to fix it. Secrets never live in the file:
//! the file names the environment variables that hold them.

use atpilot_domain::approval::PromotionPolicy;
use atpilot_domain::{BillingCodeId, Category, CategoryPolicy, Confidence, ContractKind, Hours, Phase, Policy, ResourceId, RoleId, StatusId};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The commented example configuration shipped with atpilot.
pub const EXAMPLE: &str = include_str!("../../../atpilot.example.toml");

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration {origin} is not valid TOML or has a wrong value:\n{message}")]
    Parse { origin: String, message: String },
    #[error("configuration key `{key}`: {problem}. Fix: {fix}")]
    Invalid { key: String, problem: String, fix: String },
    #[error("no configuration: set ATPILOT_CONFIG (the TOML text) or ATPILOT_CONFIG_FILE (a path), or pass --config")]
    Missing,
    #[error("environment variable {var} (named by `{key}`) is not set: {why}")]
    MissingSecret { var: String, key: String, why: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), problem: problem.into(), fix: fix.into() }
}

/// Where the Autotask API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutotaskTarget {
    /// The embedded sandbox (local runner only).
    Sandbox,
    /// A real tenant: a zone URL or the global one (the zone is then discovered).
    Url(url::Url),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutotaskConfig {
    /// `"sandbox"` or the REST root, e.g. `https://webservices2.autotask.net/atservicesrest`.
    pub url: String,
    #[serde(default = "env_username")]
    pub username_env: String,
    #[serde(default = "env_secret")]
    pub secret_env: String,
    #[serde(default = "env_integration_code")]
    pub integration_code_env: String,
    /// Write as this resource (`ImpersonationResourceId`), if set.
    pub impersonation_resource_id: Option<ResourceId>,
    /// The API user's own resource id: changes it makes are the agent's own
    /// (loop guard), like those of the agent resource.
    pub api_user_resource_id: Option<ResourceId>,
    /// The share of the tenant's hourly request limit atpilot may use (0 < share <= 1).
    #[serde(default = "default_share")]
    pub api_budget_share: f64,
}
fn env_username() -> String {
    "AUTOTASK_USERNAME".into()
}
fn env_secret() -> String {
    "AUTOTASK_SECRET".into()
}
fn env_integration_code() -> String {
    "AUTOTASK_INTEGRATION_CODE".into()
}
fn default_share() -> f64 {
    0.25
}

/// Credentials resolved from the environment. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AutotaskCredentials {
    pub username: String,
    pub secret: String,
    pub integration_code: String,
}
impl std::fmt::Debug for AutotaskCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutotaskCredentials").field("username", &self.username).field("secret", &"<redacted>").field("integration_code", &"<redacted>").finish()
    }
}

impl AutotaskConfig {
    pub fn target(&self) -> Result<AutotaskTarget, ConfigError> {
        if self.url.trim().eq_ignore_ascii_case("sandbox") {
            return Ok(AutotaskTarget::Sandbox);
        }
        let u = url::Url::parse(self.url.trim()).map_err(|e| {
            invalid("autotask.url", format!("{:?} is not a URL ({e})", self.url), "use \"sandbox\" or e.g. \"https://webservices2.autotask.net/atservicesrest\"")
        })?;
        if u.scheme() != "https" && !matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "::1")) {
            return Err(invalid("autotask.url", format!("{u} is not HTTPS"), "Autotask is only reachable over https://"));
        }
        Ok(AutotaskTarget::Url(u))
    }

    /// Reads the credentials from the environment variables this section names.
    pub fn credentials(&self, env: impl Fn(&str) -> Option<String>) -> Result<AutotaskCredentials, ConfigError> {
        let get = |var: &str, key: &str, why: &str| {
            env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| ConfigError::MissingSecret { var: var.into(), key: key.into(), why: why.into() })
        };
        Ok(AutotaskCredentials {
            username: get(&self.username_env, "autotask.username_env", "it holds the API-only user's e-mail (UserName header)")?,
            secret: get(&self.secret_env, "autotask.secret_env", "it holds the API user's password (Secret header)")?,
            integration_code: get(&self.integration_code_env, "autotask.integration_code_env", "it holds the API tracking identifier (ApiIntegrationCode header)")?,
        })
    }
}

/// The resource and role the agent works and logs time as.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// A licensed (not API-only) resource: Autotask needs one to own time entries.
    pub resource_id: ResourceId,
    /// The role its time is logged under; it must be valid for the tickets' queues.
    pub role_id: RoleId,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBillingRule {
    category: Option<Category>,
    contract_type: Option<ContractKind>,
    billing_code_id: BillingCodeId,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBillingCodes {
    default: BillingCodeId,
    #[serde(default, rename = "rule")]
    rules: Vec<RawBillingRule>,
}

/// Billing codes (work types) for the agent's time entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingCodes {
    pub default: BillingCodeId,
    rules: Vec<RawBillingRule>,
}

impl BillingCodes {
    /// Every billing code the rules name (the default aside).
    pub fn rule_codes(&self) -> impl Iterator<Item = BillingCodeId> + '_ {
        self.rules.iter().map(|r| r.billing_code_id)
    }

    /// The most specific rule wins: category + contract type, then category,
    /// then contract type, then the default.
    pub fn for_entry(&self, category: &Category, kind: ContractKind) -> BillingCodeId {
        let score = |r: &RawBillingRule| match (&r.category, r.contract_type) {
            (Some(c), Some(k)) if c == category && k == kind => Some(3),
            (Some(c), None) if c == category => Some(2),
            (None, Some(k)) if k == kind => Some(1),
            _ => None,
        };
        self.rules.iter().filter_map(|r| score(r).map(|s| (s, r.billing_code_id))).max_by_key(|(s, _)| *s).map(|(_, id)| id).unwrap_or(self.default)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    #[serde(default = "d_approval")]
    min_confidence_for_approval: Confidence,
    #[serde(default = "d_autonomy")]
    min_confidence_for_autonomy: Confidence,
    #[serde(default = "d_block")]
    block_hours_min_balance: Hours,
    #[serde(default = "d_rate")]
    max_autonomous_per_hour: u32,
    #[serde(default = "d_demote")]
    demote_below_percent: u32,
    #[serde(default = "d_promote")]
    promote_at_percent: u32,
    #[serde(default = "d_min_dec")]
    min_decisions_for_promotion: u32,
    #[serde(default = "d_min_week")]
    min_weekly_decisions: u32,
    #[serde(default)]
    manual_promotion: bool,
}
fn d_approval() -> Confidence {
    Confidence::new(0.6).unwrap_or_else(|_| unreachable!())
}
fn d_autonomy() -> Confidence {
    Confidence::new(0.9).unwrap_or_else(|_| unreachable!())
}
fn d_block() -> Hours {
    Hours::new(2.0).unwrap_or(Hours::ZERO)
}
fn d_rate() -> u32 {
    30
}
fn d_demote() -> u32 {
    80
}
fn d_promote() -> u32 {
    90
}
fn d_min_dec() -> u32 {
    20
}
fn d_min_week() -> u32 {
    5
}
impl Default for RawThresholds {
    fn default() -> Self {
        toml::from_str("").unwrap_or_else(|_| unreachable!("all thresholds have defaults"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusConfig {
    /// Ticket statuses that disengage the agent (waiting customer, on hold, escalated…).
    pub disengage: BTreeSet<StatusId>,
    /// The status that completes a ticket.
    pub complete: StatusId,
}

/// Where approval requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Teams,
    Email,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    phase: Option<Phase>,
    #[serde(default)]
    safe: bool,
    #[serde(default)]
    approvers: Vec<String>,
    #[serde(default)]
    channels: BTreeSet<Channel>,
}

/// A category's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryConfig {
    pub phase: Phase,
    pub safe: bool,
    pub approvers: Vec<String>,
    pub channels: BTreeSet<Channel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// The public base URL of the approval pages (the approval function's URL in AWS).
    pub base_url: String,
    #[serde(default = "d_ttl")]
    pub token_ttl_hours: u32,
    /// Environment variable holding the token-signing key (32+ bytes).
    #[serde(default = "d_key_env")]
    pub signing_key_env: String,
}
fn d_ttl() -> u32 {
    24
}
fn d_key_env() -> String {
    "ATPILOT_APPROVAL_KEY".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Environment variable holding the Teams incoming-webhook / Workflows URL.
    #[serde(default = "d_teams_env")]
    pub teams_webhook_url_env: String,
    /// SES sender address (a verified identity).
    pub email_from: Option<String>,
    #[serde(default)]
    pub finance: Vec<String>,
    #[serde(default)]
    pub service_manager: Vec<String>,
    /// Where alerts (low block balance, spikes) go.
    #[serde(default)]
    pub alerts: Vec<String>,
}
fn d_teams_env() -> String {
    "ATPILOT_TEAMS_WEBHOOK_URL".into()
}

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
    fn validate(&self) -> Result<(), ConfigError> {
        if self.api_key.is_some() {
            return Err(invalid("model.llm.api_key", "is set", "never put an API key in the configuration: store it in Secrets Manager and set model.llm.api_key_secret_arn (locally: ATPILOT_LLM_API_KEY)"));
        }
        if self.model.trim().is_empty() {
            return Err(invalid("model.llm.model", "is empty", "name the model, e.g. \"gpt-4o-mini\" or \"anthropic.claude-3-5-haiku-20241022-v1:0\""));
        }
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err(invalid("model.llm.timeout_ms", format!("{} is out of range", self.timeout_ms), "use 100 to 60000 ms (default 8000): the classify function waits this long at most"));
        }
        if !(50..=8000).contains(&self.max_tokens) {
            return Err(invalid("model.llm.max_tokens", format!("{} is out of range", self.max_tokens), "use 50 to 8000 (default 700)"));
        }
        if let Some(arn) = &self.api_key_secret_arn {
            if !(arn.starts_with("arn:") && arn.contains(":secretsmanager:")) {
                return Err(invalid("model.llm.api_key_secret_arn", format!("{arn:?} is not a Secrets Manager ARN"), "use arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"));
            }
        }
        match self.provider {
            LlmProviderKind::Openai => {
                let Some(base) = &self.base_url else {
                    return Err(invalid("model.llm.base_url", "is not set for provider \"openai\"", "set the API base, e.g. \"https://api.openai.com/v1\""));
                };
                let u = url::Url::parse(base).map_err(|e| invalid("model.llm.base_url", format!("{base:?} is not a URL ({e})"), "e.g. \"https://api.openai.com/v1\""))?;
                let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
                if u.scheme() != "https" && !(u.scheme() == "http" && loopback) {
                    return Err(invalid("model.llm.base_url", format!("{base:?} is not https"), "ticket text and the API key travel to it: use https (plain http only on localhost)"));
                }
                for (key, set) in [("model.llm.region", self.region.is_some()), ("model.llm.endpoint_url", self.endpoint_url.is_some())] {
                    if set {
                        return Err(invalid(key, "is set for provider \"openai\"", "it applies to provider \"bedrock\" only: remove it"));
                    }
                }
            }
            LlmProviderKind::Bedrock => {
                for (key, set) in [("model.llm.base_url", self.base_url.is_some()), ("model.llm.api_key_secret_arn", self.api_key_secret_arn.is_some())] {
                    if set {
                        return Err(invalid(key, "is set for provider \"bedrock\"", "Bedrock uses the function's IAM role (bedrock:InvokeModel) and endpoint_url: remove it"));
                    }
                }
                if let Some(e) = &self.endpoint_url {
                    url::Url::parse(e).map_err(|err| invalid("model.llm.endpoint_url", format!("{e:?} is not a URL ({err})"), "e.g. \"https://bedrock-runtime.us-east-1.amazonaws.com\""))?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    autotask: AutotaskConfig,
    agent: AgentConfig,
    billing_codes: RawBillingCodes,
    #[serde(default)]
    thresholds: RawThresholds,
    statuses: StatusConfig,
    #[serde(default = "d_phase")]
    default_phase: Phase,
    #[serde(default)]
    categories: BTreeMap<Category, RawCategory>,
    approvals: ApprovalsConfig,
    notifications: NotificationsConfig,
    #[serde(default)]
    kill_switch: bool,
    #[serde(default)]
    model: ModelConfig,
}
fn d_phase() -> Phase {
    Phase::Shadow
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub autotask: AutotaskConfig,
    pub agent: AgentConfig,
    pub billing_codes: BillingCodes,
    pub statuses: StatusConfig,
    pub default_phase: Phase,
    pub categories: BTreeMap<Category, CategoryConfig>,
    pub approvals: ApprovalsConfig,
    pub notifications: NotificationsConfig,
    pub kill_switch: bool,
    pub model: ModelConfig,
    policy: Policy,
    promotion: PromotionPolicy,
}

fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(user), Some(domain), None)
        if !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !s.contains(char::is_whitespace))
}

fn check_emails(key: &str, list: &[String]) -> Result<(), ConfigError> {
    match list.iter().find(|a| !looks_like_email(a)) {
        Some(bad) => Err(invalid(key, format!("{bad:?} is not an e-mail address"), "write addresses like \"ana@msp.example\"")),
        None => Ok(()),
    }
}

impl Config {
    /// Parses and validates TOML text. `origin` names it in errors (a path, or "ATPILOT_CONFIG").
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse { origin: origin.to_string(), message: e.to_string() })?;
        Self::validate(raw)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// In AWS: `ATPILOT_CONFIG` holds the TOML (e.g. resolved from SSM
    /// Parameter Store at deploy), or `ATPILOT_CONFIG_FILE` names a file.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        if let Some(text) = env("ATPILOT_CONFIG").filter(|t| !t.trim().is_empty()) {
            return Self::parse(&text, "ATPILOT_CONFIG");
        }
        match env("ATPILOT_CONFIG_FILE") {
            Some(path) => Self::load(Path::new(&path)),
            None => Err(ConfigError::Missing),
        }
    }

    fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
        raw.autotask.target()?;
        let share = raw.autotask.api_budget_share;
        if !(share > 0.0 && share <= 1.0) {
            return Err(invalid("autotask.api_budget_share", format!("{share} is outside (0, 1]"), "use the share of the tenant's 10,000 requests/hour atpilot may use, e.g. 0.25"));
        }
        let t = &raw.thresholds;
        if t.min_confidence_for_autonomy < t.min_confidence_for_approval {
            return Err(invalid(
                "thresholds.min_confidence_for_autonomy",
                format!("{} is below min_confidence_for_approval ({})", t.min_confidence_for_autonomy.get(), t.min_confidence_for_approval.get()),
                "acting alone must need at least the confidence that asking a human needs",
            ));
        }
        for (key, v) in [("thresholds.demote_below_percent", t.demote_below_percent), ("thresholds.promote_at_percent", t.promote_at_percent)] {
            if v > 100 {
                return Err(invalid(key, format!("{v} is not a percentage"), "use a whole number from 0 to 100"));
            }
        }
        if t.promote_at_percent < t.demote_below_percent {
            return Err(invalid("thresholds.promote_at_percent", "is below demote_below_percent", "promotion must need a higher approval rate than demotion (defaults 90 and 80)"));
        }
        if t.max_autonomous_per_hour == 0 {
            return Err(invalid("thresholds.max_autonomous_per_hour", "is 0", "set a positive cap, or keep categories out of the autonomous phase"));
        }
        let m = &raw.model;
        if m.picklist_paths().iter().any(Option::is_some) && m.category_path.is_none() {
            return Err(invalid("model.category_path", "is not set but a queue, priority, issue type or sub-issue type model is", "train a category model too, or remove the other model paths"));
        }
        if let Some(llm) = &raw.model.llm {
            llm.validate()?;
        }
        if raw.statuses.disengage.contains(&raw.statuses.complete) {
            return Err(invalid("statuses.disengage", "contains the complete status", "list only statuses that stop the agent (waiting customer, on hold, escalated)"));
        }
        if raw.approvals.token_ttl_hours == 0 || raw.approvals.token_ttl_hours > 24 * 14 {
            return Err(invalid("approvals.token_ttl_hours", format!("{} is out of range", raw.approvals.token_ttl_hours), "use 1 to 336 hours (default 24)"));
        }
        let base = url::Url::parse(&raw.approvals.base_url)
            .map_err(|e| invalid("approvals.base_url", format!("{:?} is not a URL ({e})", raw.approvals.base_url), "use the approval function's public URL, e.g. https://abc.lambda-url.us-east-1.on.aws/"))?;
        if !matches!(base.scheme(), "https" | "http") {
            return Err(invalid("approvals.base_url", "is not an http(s) URL", "approvers open it in a browser"));
        }
        let n = &raw.notifications;
        check_emails("notifications.finance", &n.finance)?;
        check_emails("notifications.service_manager", &n.service_manager)?;
        check_emails("notifications.alerts", &n.alerts)?;
        if let Some(from) = &n.email_from {
            check_emails("notifications.email_from", std::slice::from_ref(from))?;
        }
        let mut categories = BTreeMap::new();
        for (name, c) in raw.categories {
            let key = format!("categories.{name}");
            let phase = c.phase.unwrap_or(raw.default_phase);
            check_emails(&format!("{key}.approvers"), &c.approvers)?;
            if phase >= Phase::HumanInTheLoop && !c.safe {
                return Err(invalid(
                    format!("{key}.phase"),
                    format!("is {phase} but the category is not marked safe"),
                    "only safe categories may ask for approval or act: set `safe = true` after review, or use shadow / internal-notes",
                ));
            }
            if phase == Phase::HumanInTheLoop && c.approvers.is_empty() {
                return Err(invalid(format!("{key}.approvers"), "is empty for a human-in-the-loop category", "name at least one approver e-mail"));
            }
            if phase == Phase::HumanInTheLoop && c.channels.is_empty() {
                return Err(invalid(format!("{key}.channels"), "is empty for a human-in-the-loop category", "use channels = [\"teams\"], [\"email\"] or both"));
            }
            if c.channels.contains(&Channel::Email) && n.email_from.is_none() {
                return Err(invalid("notifications.email_from", format!("is not set but {key} sends e-mail"), "set the SES-verified sender address"));
            }
            categories.insert(name, CategoryConfig { phase, safe: c.safe, approvers: c.approvers, channels: c.channels });
        }
        let policy = Policy {
            kill_switch: raw.kill_switch,
            categories: categories.iter().map(|(k, c)| (k.clone(), CategoryPolicy { phase: c.phase, safe: c.safe })).collect(),
            default_phase: raw.default_phase,
            min_confidence_for_approval: t.min_confidence_for_approval,
            min_confidence_for_autonomy: t.min_confidence_for_autonomy,
            block_hours_min_balance: t.block_hours_min_balance,
            disengage_statuses: raw.statuses.disengage.clone(),
            max_autonomous_per_hour: t.max_autonomous_per_hour,
        };
        let promotion = PromotionPolicy {
            demote_below_percent: t.demote_below_percent,
            promote_at_percent: t.promote_at_percent,
            min_decisions: t.min_decisions_for_promotion,
            min_weekly_decisions: t.min_weekly_decisions,
            manual_promotion: t.manual_promotion,
        };
        Ok(Config {
            autotask: raw.autotask,
            agent: raw.agent,
            billing_codes: BillingCodes { default: raw.billing_codes.default, rules: raw.billing_codes.rules },
            statuses: raw.statuses,
            default_phase: raw.default_phase,
            categories,
            approvals: raw.approvals,
            notifications: raw.notifications,
            kill_switch: raw.kill_switch,
            model: raw.model,
            policy,
            promotion,
        })
    }

    /// The decision policy as configured (the state store may override phases and the kill switch at run time).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn promotion_policy(&self) -> &PromotionPolicy {
        &self.promotion
    }

    /// Approvers of a category.
    pub fn approvers(&self, category: &Category) -> &[String] {
        self.categories.get(category).map(|c| c.approvers.as_slice()).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests;
