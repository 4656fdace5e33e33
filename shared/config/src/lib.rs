//! atpilot's configuration: one typed structure, read from a TOML file
//! locally and from the environment in AWS, validated at start. Every error
//! names the key and says how to fix it. Secrets never live in the file:
//! the file names the environment variables that hold them.

//!
//! * this room: the file as a whole, its validation and the derived policies;
//! * `autotask`: where the Autotask API is and the credentials' variables;
//! * `model`: the trained models and the optional LLM (`[model.llm]`).

mod autotask;
mod emails;
mod google;
mod kb;
mod microsoft;
mod model;
mod notifications;
mod replies;
mod runbooks;
mod scope;
mod signin;
mod status_updates;

pub use autotask::{AutotaskConfig, AutotaskCredentials, AutotaskTarget, TicketLink};
use emails::check_emails;
pub use google::{GoogleConfig, GoogleCustomer};
pub use kb::{KbConfig, KbProvider};
pub use microsoft::MicrosoftConfig;
pub use model::{LlmConfig, LlmProviderKind, ModelConfig};
pub use notifications::{ApprovalsConfig, NotificationsConfig};
pub use replies::RepliesConfig;
pub use runbooks::WebhookConfig;
pub use scope::ScopeConfig;
pub use signin::SigninConfig;
pub use status_updates::{PriorityPolicy, StatusUpdatesConfig};

use atpilot_domain::approval::PromotionPolicy;
use atpilot_domain::{
    BillingCodeId, Category, CategoryPolicy, Confidence, ContractKind, Hours, Phase, Policy, ResourceId, RoleId,
    Runbook, StatusId,
};
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

pub(crate) fn invalid(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), problem: problem.into(), fix: fix.into() }
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
        self.rules
            .iter()
            .filter_map(|r| score(r).map(|s| (s, r.billing_code_id)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, id)| id)
            .unwrap_or(self.default)
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
    runbook: Option<atpilot_domain::RunbookKind>,
    sku: Option<String>,
    google_sku: Option<String>,
    group: Option<String>,
    webhook: Option<String>,
}

/// A category's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryConfig {
    pub phase: Phase,
    pub safe: bool,
    /// How its resolution does the work (required to ask for approval or act).
    pub runbook: Option<Runbook>,
    pub approvers: Vec<String>,
    pub channels: BTreeSet<Channel>,
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
    microsoft: Option<MicrosoftConfig>,
    google: Option<GoogleConfig>,
    #[serde(default)]
    webhooks: BTreeMap<String, WebhookConfig>,
    #[serde(default)]
    scope: ScopeConfig,
    #[serde(default)]
    replies: RepliesConfig,
    #[serde(default)]
    signin: SigninConfig,
    kb: Option<KbConfig>,
    status_updates: Option<StatusUpdatesConfig>,
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
    /// Microsoft 365 through Graph (the `graph-*` runbooks), if configured.
    pub microsoft: Option<MicrosoftConfig>,
    /// Google Workspace through the Admin SDK (the `google-*` runbooks and the Google twins), if configured.
    pub google: Option<GoogleConfig>,
    /// The signed webhook runbooks' endpoints, by name.
    pub webhooks: BTreeMap<String, WebhookConfig>,
    /// The queues the agent may act in.
    pub scope: ScopeConfig,
    /// How customers hear of replies.
    pub replies: RepliesConfig,
    /// Who may use the pages once signed in.
    pub signin: SigninConfig,
    /// The knowledge base completed tickets are drafted into, if any.
    pub kb: Option<KbConfig>,
    /// Proactive status updates on long-running tickets, if configured.
    pub status_updates: Option<StatusUpdatesConfig>,
    policy: Policy,
    promotion: PromotionPolicy,
}

impl Config {
    /// Parses and validates TOML text. `origin` names it in errors (a path, or "ATPILOT_CONFIG").
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { origin: origin.to_string(), message: e.to_string() })?;
        Self::validate(raw)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
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
        Self::validate_limits(&raw)?;
        Self::validate_wiring(&raw)?;
        raw.signin.validate()?;
        if let Some(m) = &raw.microsoft {
            m.validate()?;
        }
        if let Some(g) = &raw.google {
            g.validate()?;
        }
        if let Some(s) = &raw.status_updates {
            s.validate(raw.statuses.complete)?;
            if raw.notifications.email_from.is_none() {
                return Err(invalid(
                    "status_updates",
                    "is set but notifications.email_from is not",
                    "each update is e-mailed to its technician for approval: set the SES-verified sender address",
                ));
            }
        }
        if let Some(kb) = &raw.kb {
            kb.validate()?;
        }
        let categories = Self::validate_categories(raw.categories, raw.default_phase, &raw.notifications)?;
        runbooks::validate_webhooks(&raw.webhooks)?;
        if raw.replies.email && raw.notifications.email_from.is_none() {
            return Err(invalid(
                "replies.email",
                "is true but notifications.email_from is not set",
                "set the SES-verified sender address, or e-mail no replies",
            ));
        }
        runbooks::validate_runbooks(&categories, raw.microsoft.as_ref(), raw.google.as_ref(), &raw.webhooks)?;
        let t = &raw.thresholds;
        let policy = Policy {
            kill_switch: raw.kill_switch,
            categories: categories
                .iter()
                .map(|(k, c)| {
                    (
                        k.clone(),
                        CategoryPolicy {
                            phase: c.phase,
                            safe: c.safe,
                            runbook: c.runbook.as_ref().map(|r| {
                                runbooks::policy_kind(r.kind(), raw.microsoft.is_some(), raw.google.is_some())
                            }),
                        },
                    )
                })
                .collect(),
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
            microsoft: raw.microsoft,
            google: raw.google,
            kb: raw.kb,
            status_updates: raw.status_updates,
            webhooks: raw.webhooks,
            scope: raw.scope,
            replies: raw.replies,
            signin: raw.signin,
            policy,
            promotion,
        })
    }

    /// The target, the API budget share and the thresholds: numbers in range and consistent with each other.
    fn validate_limits(raw: &RawConfig) -> Result<(), ConfigError> {
        raw.autotask.target()?;
        let share = raw.autotask.api_budget_share;
        if !(share > 0.0 && share <= 1.0) {
            return Err(invalid(
                "autotask.api_budget_share",
                format!("{share} is outside (0, 1]"),
                "use the share of the tenant's 10,000 requests/hour atpilot may use, e.g. 0.25",
            ));
        }
        let t = &raw.thresholds;
        if t.min_confidence_for_autonomy < t.min_confidence_for_approval {
            return Err(invalid(
                "thresholds.min_confidence_for_autonomy",
                format!(
                    "{} is below min_confidence_for_approval ({})",
                    t.min_confidence_for_autonomy.get(),
                    t.min_confidence_for_approval.get()
                ),
                "acting alone must need at least the confidence that asking a human needs",
            ));
        }
        for (key, v) in [
            ("thresholds.demote_below_percent", t.demote_below_percent),
            ("thresholds.promote_at_percent", t.promote_at_percent),
        ] {
            if v > 100 {
                return Err(invalid(key, format!("{v} is not a percentage"), "use a whole number from 0 to 100"));
            }
        }
        if t.promote_at_percent < t.demote_below_percent {
            return Err(invalid(
                "thresholds.promote_at_percent",
                "is below demote_below_percent",
                "promotion must need a higher approval rate than demotion (defaults 90 and 80)",
            ));
        }
        if t.max_autonomous_per_hour == 0 {
            return Err(invalid(
                "thresholds.max_autonomous_per_hour",
                "is 0",
                "set a positive cap, or keep categories out of the autonomous phase",
            ));
        }
        Ok(())
    }

    /// Model paths, statuses, approval links and notification addresses.
    fn validate_wiring(raw: &RawConfig) -> Result<(), ConfigError> {
        let m = &raw.model;
        if m.picklist_paths().iter().any(Option::is_some) && m.category_path.is_none() {
            return Err(invalid(
                "model.category_path",
                "is not set but a queue, priority, issue type or sub-issue type model is",
                "train a category model too, or remove the other model paths",
            ));
        }
        if let Some(llm) = &raw.model.llm {
            llm.validate()?;
        }
        if raw.statuses.disengage.contains(&raw.statuses.complete) {
            return Err(invalid(
                "statuses.disengage",
                "contains the complete status",
                "list only statuses that stop the agent (waiting customer, on hold, escalated)",
            ));
        }
        if raw.approvals.token_ttl_hours == 0 || raw.approvals.token_ttl_hours > 24 * 14 {
            return Err(invalid(
                "approvals.token_ttl_hours",
                format!("{} is out of range", raw.approvals.token_ttl_hours),
                "use 1 to 336 hours (default 24)",
            ));
        }
        let base = url::Url::parse(&raw.approvals.base_url).map_err(|e| {
            invalid(
                "approvals.base_url",
                format!("{:?} is not a URL ({e})", raw.approvals.base_url),
                "use the approval function's public URL, e.g. https://abc.lambda-url.us-east-1.on.aws/",
            )
        })?;
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
        Ok(())
    }

    /// Each category's phase, approvers and channels, resolved against the default phase.
    fn validate_categories(
        raw_categories: BTreeMap<Category, RawCategory>,
        default_phase: Phase,
        n: &NotificationsConfig,
    ) -> Result<BTreeMap<Category, CategoryConfig>, ConfigError> {
        let mut categories = BTreeMap::new();
        for (name, c) in raw_categories {
            let key = format!("categories.{name}");
            let runbook = runbooks::RawRunbook {
                runbook: c.runbook,
                sku: c.sku,
                google_sku: c.google_sku,
                group: c.group,
                webhook: c.webhook,
            }
            .parse(&name)?;
            let phase = c.phase.unwrap_or(default_phase);
            check_emails(&format!("{key}.approvers"), &c.approvers)?;
            if phase >= Phase::HumanInTheLoop && !c.safe {
                return Err(invalid(
                    format!("{key}.phase"),
                    format!("is {phase} but the category is not marked safe"),
                    "only safe categories may ask for approval or act: set `safe = true` after review, or use shadow / internal-notes",
                ));
            }
            if phase >= Phase::HumanInTheLoop && runbook.is_none() {
                return Err(invalid(
                    format!("{key}.runbook"),
                    format!("is not set but the category is {phase}"),
                    "a category resolves only through a runbook that does its work: set `runbook = \"reply-only\"` when the reply is the work (a how-to answer that claims nothing was changed), or use shadow / internal-notes",
                ));
            }
            if phase == Phase::HumanInTheLoop && c.approvers.is_empty() {
                return Err(invalid(
                    format!("{key}.approvers"),
                    "is empty for a human-in-the-loop category",
                    "name at least one approver e-mail",
                ));
            }
            if phase == Phase::HumanInTheLoop && c.channels.is_empty() {
                return Err(invalid(
                    format!("{key}.channels"),
                    "is empty for a human-in-the-loop category",
                    "use channels = [\"teams\"], [\"email\"] or both",
                ));
            }
            if c.channels.contains(&Channel::Email) && n.email_from.is_none() {
                return Err(invalid(
                    "notifications.email_from",
                    format!("is not set but {key} sends e-mail"),
                    "set the SES-verified sender address",
                ));
            }
            let cc = CategoryConfig { phase, safe: c.safe, runbook, approvers: c.approvers, channels: c.channels };
            categories.insert(name, cc);
        }
        Ok(categories)
    }

    /// The runbook a category resolves through, if it has one.
    pub fn runbook(&self, category: &Category) -> Option<&Runbook> {
        self.categories.get(category).and_then(|c| c.runbook.as_ref())
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

    /// Whether `email` is an approver of `category` (case and surrounding blanks ignored).
    pub fn is_approver(&self, category: &Category, email: &str) -> bool {
        self.approvers(category).iter().any(|a| a.trim().eq_ignore_ascii_case(email.trim()))
    }

    /// Whether `email` approves some category.
    pub fn approves_any(&self, email: &str) -> bool {
        self.categories.keys().any(|c| self.is_approver(c, email))
    }
}

#[cfg(test)]
mod tests;
