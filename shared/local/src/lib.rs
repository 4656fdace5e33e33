//! Every atpilot function in one process: the embedded Autotask sandbox (or a
//! real tenant), the embedded state store, in-process queues, and the same
//! handlers the Lambdas run. Used by `atpilot dev` and the end-to-end tests.

use atpilot_agent::adapters::autotask_rest::RestAutotask;
use atpilot_agent::adapters::notify::OutboxNotifier;
use atpilot_agent::classifiers::model::{ModelClassifier, ModelLoadError};
use atpilot_agent::deps::{Deps, Secret};
use atpilot_agent::error::HandlerError;
use atpilot_agent::handlers::classify::{self, Outcome};
use atpilot_agent::handlers::delivery::{Delivered, deliver};
use atpilot_agent::handlers::time_entry::{self, TimeEntryOutcome};
use atpilot_agent::messages::{TicketEvent, TimeEntryJob};
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig, TenantFacts};
use atpilot_config::Config;
use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_store::memqueue::{MemQueue, MemQueueConfig};
use atpilot_store::{Delivery, Queue, State, consume_batch};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub mod earlier_runs;
pub mod kb;
mod runbooks;
pub use runbooks::{OTHER_GOOGLE_COMPANY, OTHER_GOOGLE_DOMAIN, google_demo_company};
pub mod state_dir;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot start the Autotask sandbox: {0}")]
    Sandbox(std::io::Error),
    #[error("state store: {0}")]
    Store(#[from] atpilot_store::StoreError),
    #[error("configuration: {0}")]
    Config(#[from] atpilot_config::ConfigError),
    #[error("Autotask client: {0}")]
    Client(String),
    #[error("LLM classifier: {0}")]
    Llm(String),
    #[error("classifier model: {0}")]
    Model(#[from] ModelLoadError),
    #[error("training the classifier on the tenant: {0}")]
    Training(String),
    #[error("state directory: {0}")]
    StateDir(#[from] state_dir::StateDirError),
    #[error("runbooks ([microsoft], [google], [webhooks]): {0}")]
    Runbooks(String),
    #[error("[kb]: {0}")]
    Kb(String),
}

/// Where Autotask is.
pub enum Target {
    /// A seeded sandbox started in this process.
    Sandbox { tickets: u64, seed: u64 },
    /// A real tenant (or any API at this URL), with credentials.
    Remote { zone: ZoneSource, credentials: Credentials },
}

pub struct LocalOptions {
    pub state_dir: PathBuf,
    pub target: Target,
    /// Configuration; `None` on the sandbox means the demo configuration.
    pub config: Option<Config>,
    /// The webhook secret; generated when `None`.
    pub webhook_secret: Option<String>,
    /// Public base URL of this process (for approval links).
    pub public_url: String,
    /// Which classifier decides.
    pub classifier: LocalClassifier,
    /// Which KB sandbox starts when the run is on the Autotask sandbox without `[kb]`.
    pub kb_sandbox: kb::KbSandbox,
}

/// The classifier a local stack uses.
#[derive(Clone)]
pub enum LocalClassifier {
    /// What the configuration says (`[model]` paths, else the keyword
    /// fallback, which may suggest but never act).
    FromConfig,
    /// Without `[model]` paths, on the sandbox: train the category model on the
    /// seeded tenant's own history at start (what `atpilot model train
    /// --from-autotask --sandbox --label category` does), so decisions carry
    /// calibrated confidences. `atpilot dev` uses this.
    TrainOnSandbox,
    /// This one (tests).
    Given(Arc<dyn atpilot_agent::ports::Classifier>),
}

/// The demo configuration for the seeded sandbox: categories in every phase,
/// so each flow (shadow, internal note, approval request, autonomous action
/// with its time entry) shows up within minutes.
pub fn demo_config(facts: &TenantFacts, public_url: &str) -> Result<Config, atpilot_config::ConfigError> {
    Config::parse(&demo_config_text(facts, public_url), "the sandbox demo configuration")
}

/// The text of [`demo_config`] (to start from in tests and examples).
pub fn demo_config_text(facts: &TenantFacts, public_url: &str) -> String {
    format!(
        r#"
default_phase = "shadow"
[autotask]
url = "sandbox"
api_user_resource_id = {api_user}
time_zone = "America/New_York"
[signin]
# With `atpilot dev --oidc-issuer URL`: who may use the pages once signed in.
admins = ["dispatch@msp.example"]
[agent]
resource_id = {agent}
role_id = {role}
[billing_codes]
default = 1
[thresholds]
min_confidence_for_approval = 0.6
min_confidence_for_autonomy = 0.75
max_autonomous_per_hour = 60
[statuses]
disengage = [7, 11, 12, 13]
complete = 5
# Proactive status updates on long-running tickets, each approved by the
# ticket's technician (their sandbox e-mail) before the customer sees it.
[status_updates]
open_days = 5
quiet_days = 3
approvers = ["dispatch@msp.example"]
max_per_run = 3
[status_updates.priority.4]
open_days = 2
quiet_days = 1
[categories.password-reset]
phase = "autonomous"
safe = true
# The reply is the work: self-service instructions; nothing is reset by atpilot.
runbook = "reply-only"
approvers = ["dispatch@msp.example"]
channels = ["teams"]
[categories.mfa-enrollment]
phase = "human-in-the-loop"
safe = true
runbook = "reply-only"
approvers = ["dispatch@msp.example"]
channels = ["teams", "email"]
[categories.license-request]
phase = "internal-notes"
safe = true
[categories.email]
phase = "internal-notes"
safe = false
# The same demo under the names a model trained on the sandbox predicts
# (its sub-issue types), which `atpilot dev` decides with.
[categories.microsoft-365-license-request]
phase = "human-in-the-loop"
safe = true
# Approve assigns a Microsoft 365 E3 seat in the company's tenant (the
# local Graph sandbox) when one is free, and reads it back; the approver sees
# the exact plan first (a Visio request is rejected, not given an E3 seat).
runbook = "graph-assign-license"
sku = "SPE_E3"
# The company on Google Workspace gets a Business Starter licence instead.
google_sku = "Google-Apps/1010020027"
approvers = ["dispatch@msp.example"]
channels = ["teams", "email"]
[categories.shared-mailbox-access]
phase = "internal-notes"
safe = false
[categories.mailbox-full]
phase = "internal-notes"
safe = false
[categories.vpn]
phase = "shadow"
[categories.laptop-failure]
phase = "shadow"
safe = false
[categories.network]
phase = "shadow"
[categories.hardware]
phase = "shadow"
safe = false
[approvals]
base_url = "{public}/approvals/"
[notifications]
email_from = "atpilot@msp.example"
finance = ["finance@msp.example"]
alerts = ["dispatch@msp.example"]
# Replies are also e-mailed to the ticket's contact (locally: the outbox page).
[replies]
email = true
# Microsoft 365 through Graph: the local Graph sandbox, one tenant per sandbox company.
[microsoft]
client_id = "sandbox"
login_url = "sandbox"
graph_url = "sandbox"
# Google Workspace through the Admin SDK: the local Google Admin sandbox, with
# one sandbox company on Google Workspace instead (its contacts' domain).
[google]
token_url = "sandbox"
directory_url = "sandbox"
licensing_url = "sandbox"
"#,
        agent = facts.agent_resource_id,
        api_user = facts.api_resource_id,
        role = facts.agent_role_id,
        public = public_url.trim_end_matches('/'),
    )
}

fn random_secret() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..32).map(|_| format!("{:02x}", r.random::<u8>())).collect()
}

/// A running local stack.
pub struct Local {
    pub deps: Deps,
    pub sandbox: Option<Arc<Sandbox>>,
    pub classify_queue: Arc<MemQueue>,
    pub time_entry_queue: Arc<MemQueue>,
    pub webhook_secret: String,
    pub client: Client,
    /// The Graph sandbox, when the configuration's `[microsoft]` says "sandbox".
    pub graph: Option<Arc<atpilot_graph_sandbox::Sandbox>>,
    /// The Google Admin sandbox, when the configuration's `[google]` says "sandbox".
    pub google: Option<Arc<atpilot_google_sandbox::Sandbox>>,
    /// The Hudu sandbox, when the run is on the Autotask sandbox without `[kb]`.
    pub kb: Option<Arc<atpilot_kb_sandbox::Sandbox<atpilot_kb_sandbox::hudu::World>>>,
    /// The IT Glue sandbox, when the run chose it ([`kb::KbSandbox::ItGlue`]).
    pub itglue: Option<Arc<atpilot_kb_sandbox::Sandbox<atpilot_kb_sandbox::itglue::World>>>,
}

/// What one pass over the queues did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PumpReport {
    pub classified: Vec<Outcome>,
    pub time_entries: Vec<TimeEntryOutcome>,
    /// Messages kept as dead letters (they can never be processed): their ids.
    pub dead_letters: Vec<String>,
    pub failures: Vec<String>,
}

impl Local {
    pub async fn start(opts: LocalOptions) -> Result<Local, LocalError> {
        let (sandbox, zone, credentials) = match opts.target {
            Target::Sandbox { tickets, seed } => {
                let cfg = SandboxConfig { tickets, seed, ..Default::default() };
                let sb = Sandbox::start(cfg, "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()))
                    .await
                    .map_err(LocalError::Sandbox)?;
                let creds = Credentials {
                    username: sb.config().user.clone(),
                    secret: sb.config().secret.clone(),
                    integration_code: sb.config().integration_code.clone(),
                    impersonation_resource_id: None,
                };
                let zone = ZoneSource::Fixed { rest_url: sb.rest_url() };
                (Some(Arc::new(sb)), zone, creds)
            }
            Target::Remote { zone, credentials } => (None, zone, credentials),
        };
        let mut config = match (opts.config, &sandbox) {
            (Some(c), _) => c,
            (None, Some(sb)) => demo_config(&sb.facts(), &opts.public_url)?,
            (None, None) => return Err(LocalError::Config(atpilot_config::ConfigError::Missing)),
        };
        // A restart on the same state: how many sandbox runs came before this one.
        let runs_before = match &sandbox {
            Some(_) => state_dir::count_sandbox_run(&opts.state_dir)?,
            None => 0,
        };
        let started = runbooks::start(&mut config, sandbox.as_deref()).await?;
        let (graph, google, runbooks) = (started.graph, started.google, started.runbooks);
        let kb_ids = runs_before * state_dir::IDS_PER_RUN + 1;
        let started_kb = kb::start(&mut config, sandbox.as_ref(), opts.kb_sandbox, kb_ids).await?;
        let kb = started_kb.kb.clone();
        let mut cc = ClientConfig::new(credentials, zone);
        cc.budget_share = config.autotask.api_budget_share;
        cc.retry.base_delay = Duration::from_millis(50);
        let client = Client::new(cc).map_err(|e| LocalError::Client(e.to_string()))?;
        let state = State::new(Arc::new(EmbeddedStateStore::open(&opts.state_dir)?));
        if let Some(sb) = &sandbox {
            // New tickets, notes… get ids no earlier run handed out.
            if let Some(floor) = state_dir::ids_floor(sb.facts().last_ticket_id, runs_before) {
                // Every entity (notes and time entries too: a note id the state
                // recorded in an earlier run must never name another run's
                // note); for tickets this is `floor` (their last seeded id is
                // `last_ticket_id`), which the second call makes explicit.
                sb.continue_ids_past_runs(runs_before, state_dir::IDS_PER_RUN);
                sb.continue_ids_from("Tickets", floor);
                tracing::info!(
                    runs_before,
                    first_new_ticket_id = floor,
                    "the sandbox is seeded afresh on a kept state: new tickets, notes and time entries are numbered past every earlier run's"
                );
                let last_seeded = sb.facts().last_ticket_id;
                let expired = earlier_runs::expire_requests(&state, last_seeded, floor, chrono::Utc::now()).await?;
                if expired > 0 {
                    tracing::info!(
                        expired,
                        "approval requests on an earlier run's sandbox tickets expired (those tickets are gone)"
                    );
                }
            }
        }
        // Approval links of an earlier run on this state still verify.
        let approval_key = state_dir::approval_key(&opts.state_dir)?;
        let qcfg =
            MemQueueConfig { visibility_timeout: Duration::from_secs(30), max_receives: 5, ..Default::default() };
        let classify_queue = Arc::new(MemQueue::new(qcfg.clone()));
        let time_entry_queue = Arc::new(MemQueue::new(qcfg));
        let webhook_secret = opts.webhook_secret.unwrap_or_else(random_secret);
        let local = match (opts.classifier, &sandbox) {
            (LocalClassifier::Given(c), _) => c,
            (LocalClassifier::TrainOnSandbox, Some(_)) if config.model.category_path.is_none() => {
                Arc::new(train_on_tenant(&client).await?)
            }
            _ => atpilot_agent::classifiers::model::from_config(&config.model)?,
        };
        // With `[model.llm]`, an LLM checks the local model (its key, for an OpenAI-compatible endpoint, from ATPILOT_LLM_API_KEY).
        let picklists: Arc<dyn atpilot_agent::ports::PicklistSource> = Arc::new(RestAutotask::new(client.clone()));
        let classifier =
            atpilot_llm::classifier(&config, local, Some(picklists), std::env::var(atpilot_llm::API_KEY_ENV).ok())
                .await
                .map_err(LocalError::Llm)?;
        let notes = atpilot_agent::adapters::autotask_rest::NoteWanted::from(&config.autotask);
        let deps = Deps {
            config: Arc::new(config),
            state: state.clone(),
            autotask: Arc::new(RestAutotask::new(client.clone()).with_notes(notes)),
            classifier,
            classify_queue: classify_queue.clone(),
            time_entry_queue: time_entry_queue.clone(),
            webhook_secret: Secret::new(webhook_secret.clone().into_bytes()),
            notifier: Arc::new(OutboxNotifier::new(state.clone())),
            approval_key: Secret::new(approval_key.into_bytes()),
            signin: false,
            // The approval pages share the dashboard's origin here.
            dashboard_url: Some(String::new()),
            kb,
            runbooks,
        };
        let (kb, itglue) = (started_kb.hudu, started_kb.itglue);
        Ok(Local { deps, sandbox, classify_queue, time_entry_queue, webhook_secret, client, graph, google, kb, itglue })
    }

    /// Processes every message now visible on both queues (classify first,
    /// then time entries). Failed messages stay queued for redelivery.
    pub async fn pump(&self) -> PumpReport {
        let mut report = PumpReport::default();
        loop {
            let size =
                |r: &PumpReport| (r.classified.len(), r.time_entries.len(), r.dead_letters.len(), r.failures.len());
            let before = size(&report);
            let deps = &self.deps;
            let mut classified = Drained::new(&mut report.classified, &mut report.dead_letters, &mut report.failures);
            drain_once(self.classify_queue.as_ref(), &mut classified, |d| async move {
                classify_message(deps, &d.message_id, &d.body).await
            })
            .await;
            let mut timed = Drained::new(&mut report.time_entries, &mut report.dead_letters, &mut report.failures);
            drain_once(self.time_entry_queue.as_ref(), &mut timed, |d| async move {
                time_entry_message(deps, &d.message_id, &d.body).await
            })
            .await;
            if size(&report) == before {
                return report;
            }
        }
    }

    /// Pumps until both queues are empty or `max_rounds` passes made no
    /// progress (failures are retried after a short delay).
    pub async fn settle(&self, max_rounds: usize) -> PumpReport {
        let mut total = PumpReport::default();
        for _ in 0..max_rounds {
            let r = self.pump().await;
            let idle = r.classified.is_empty() && r.time_entries.is_empty();
            total.classified.extend(r.classified);
            total.time_entries.extend(r.time_entries);
            total.dead_letters.extend(r.dead_letters);
            total.failures.extend(r.failures);
            if self.classify_queue.is_empty() && self.time_entry_queue.is_empty() {
                break;
            }
            if idle {
                tokio::time::sleep(Duration::from_millis(120)).await;
            }
        }
        total
    }
}

/// Where one pass over a queue puts what became of each message.
struct Drained<'a, T> {
    outcomes: &'a mut Vec<T>,
    dead_letters: &'a mut Vec<String>,
    failures: &'a mut Vec<String>,
}

impl<'a, T> Drained<'a, T> {
    fn new(outcomes: &'a mut Vec<T>, dead_letters: &'a mut Vec<String>, failures: &'a mut Vec<String>) -> Self {
        Drained { outcomes, dead_letters, failures }
    }
}

/// One batch from `queue`, each message through `handler`: outcomes, dead
/// letters and failures are collected; failed messages are released for
/// redelivery (see [`consume_batch`]).
async fn drain_once<T, F, Fut>(queue: &dyn Queue, into: &mut Drained<'_, T>, handler: F)
where
    F: Fn(Delivery) -> Fut,
    Fut: std::future::Future<Output = Result<Delivered<T>, HandlerError>>,
{
    let into = std::sync::Mutex::new(into);
    let r = consume_batch(queue, 10, Duration::ZERO, Duration::from_millis(100), |d| {
        let (into, handler) = (&into, &handler);
        async move {
            let res = handler(d).await;
            let mut g = into.lock().unwrap_or_else(|p| p.into_inner());
            match res {
                Ok(Delivered::Handled(o)) => g.outcomes.push(o),
                Ok(Delivered::DeadLettered { id }) => g.dead_letters.push(id),
                Err(e) => {
                    let msg = e.to_string();
                    g.failures.push(msg.clone());
                    return Err(msg);
                }
            }
            Ok(())
        }
    })
    .await;
    if let Err(e) = r {
        into.lock().unwrap_or_else(|p| p.into_inner()).failures.push(e.to_string());
    }
}

/// Trains the category model on the tenant's own ticket history (labels: the
/// sub-issue type, else the issue type; hand re-routes down-weighted), as
/// `atpilot model train --from-autotask --label category` does. On the seeded
/// sandbox it takes seconds; history is read for at most 300 tickets.
pub async fn train_on_tenant(client: &Client) -> Result<ModelClassifier, LocalError> {
    use atpilot_audit::training::{LabelKind, ReroutePolicy, TrainingOptions, collect_training};
    let now = chrono::Utc::now();
    let mut opts = TrainingOptions::new(now - chrono::Duration::days(365), now, LabelKind::Category);
    opts.history_limit = 300;
    let set = collect_training(client, &opts, &|_| {})
        .await
        .map_err(|e| LocalError::Training(format!("reading the tenant's history: {e}")))?;
    if set.is_empty() {
        return Err(LocalError::Training("no labelled tickets to train the classifier on".into()));
    }
    let (texts, labels, weights) = set.apply(ReroutePolicy::Downweight(0.25));
    let cfg = atpilot_model::TrainConfig { threads: 2, ..Default::default() };
    let (model, report) = tokio::task::spawn_blocking(move || {
        atpilot_model::train_weighted(&texts, &labels, weights.as_deref(), &cfg, &|_| {})
    })
    .await
    .map_err(|e| LocalError::Training(e.to_string()))?
    .map_err(|e| LocalError::Training(e.to_string()))?;
    tracing::info!(
        tickets = report.examples,
        labels = report.labels,
        "classifier: trained on the tenant's history at start (calibrated)"
    );
    ModelClassifier::from_model(model).map_err(LocalError::Model)
}

/// One classify message, as the Lambda handles it (see [`deliver`]).
pub async fn classify_message(deps: &Deps, message_id: &str, body: &str) -> Result<Delivered<Outcome>, HandlerError> {
    deliver(deps, message_id, body, async |ev: TicketEvent| classify::handle(deps, &ev, chrono::Utc::now).await).await
}

/// One time-entry message, as the Lambda handles it (see [`deliver`]).
pub async fn time_entry_message(
    deps: &Deps,
    message_id: &str,
    body: &str,
) -> Result<Delivered<TimeEntryOutcome>, HandlerError> {
    deliver(deps, message_id, body, async |job: TimeEntryJob| time_entry::handle(deps, &job).await).await
}

/// Receives from `queue` forever, running `handler` on each message (the local stand-in for an SQS event source mapping).
pub async fn worker<F, Fut, E>(queue: Arc<dyn Queue>, mut handler: F)
where
    F: FnMut(Delivery) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    loop {
        let r = consume_batch(queue.as_ref(), 10, Duration::from_secs(1), Duration::from_secs(2), &mut handler).await;
        if let Err(e) = r {
            tracing::error!(error = %e, "queue receive failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
