//! Helpers for the end-to-end tests: a local stack on a seeded sandbox,
//! tickets of a given contract type, and signed webhook callouts.

use atpilot_autotask_sandbox::RecordedRequest;
use atpilot_local::{Local, LocalOptions, Target};
use serde_json::{Value, json};

/// The approver of the demo configuration's categories.
pub const APPROVER: &str = "dispatch@msp.example";

pub struct Stack {
    pub local: Local,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// The demo configuration on a seeded sandbox, decided by [`CalibratedKeywords`].
    pub async fn start() -> Stack {
        Self::start_with(atpilot_local::LocalClassifier::Given(std::sync::Arc::new(CalibratedKeywords))).await
    }

    pub async fn start_with(classifier: atpilot_local::LocalClassifier) -> Stack {
        let dir = tempfile::tempdir().expect("temp dir");
        let local = Local::start(LocalOptions {
            state_dir: dir.path().to_path_buf(),
            target: Target::Sandbox { tickets: 300, seed: 7 },
            config: None,
            webhook_secret: Some("e2e-webhook-secret".into()),
            public_url: "http://127.0.0.1:8080".into(),
            classifier,
            kb_sandbox: Default::default(),
        })
        .await
        .expect("local stack starts");
        Stack { local, _dir: dir }
    }

    pub fn sandbox(&self) -> &atpilot_autotask_sandbox::Sandbox {
        self.local.sandbox.as_deref().expect("sandbox target")
    }

    /// A contract of this type and its company.
    pub fn contract_of_type(&self, contract_type: i64) -> (i64, i64) {
        let facts = self.sandbox().facts();
        let id = *facts
            .contracts_by_type
            .get(&contract_type)
            .and_then(|v| v.first())
            .expect("the seeded tenant has every contract type");
        let company = self
            .sandbox()
            .row("Contracts", id)
            .and_then(|r| r.get("companyID").and_then(Value::as_i64))
            .expect("contract has a company");
        (id, company)
    }

    /// Creates a ticket as a human would (in the Autotask UI) and returns its id.
    pub fn create_ticket(
        &self,
        company: i64,
        contract: Option<i64>,
        title: &str,
        description: &str,
        extra: Value,
    ) -> i64 {
        let mut fields = json!({
            "companyID": company, "title": title, "description": description, "status": 1, "priority": 2,
            "queueID": self.sandbox().facts().queues[0].0,
        });
        if let Some(c) = contract {
            fields["contractID"] = json!(c);
        }
        // The requester is one of the company's own contacts unless `extra` says otherwise.
        if let Some(contact) = self.sandbox().contacts_of(company).first() {
            fields["contactID"] = json!(contact);
        }
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                fields[k] = v;
            }
        }
        let Value::Object(map) = fields else { unreachable!() };
        self.sandbox().simulate_ticket_create(map, self.human())
    }

    /// A pending MFA-enrollment request (human-in-the-loop in the demo configuration) on a
    /// recurring-service contract: (ticket, approval id, the approver's token from the e-mail
    /// link). Clears the sandbox's request log.
    pub async fn pending_approval(&self) -> (i64, String, String) {
        let s = self;
        let (t, id) = s.pending_request().await;
        // The approver's e-mail carries the links; take the token from it.
        let outbox = s.local.deps.state.outbox(10).await.unwrap();
        let mail =
            outbox.iter().find(|m| m.channel == "email" && m.to == [APPROVER]).expect("an e-mail to the approver");
        let text = mail.text.clone().unwrap();
        let link = text.lines().find_map(|l| l.strip_prefix("Approve: ")).expect("an Approve link").to_string();
        assert!(link.starts_with("http://127.0.0.1:8080/approvals/"), "{link}");
        let token = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
        s.sandbox().clear_requests();
        (t, id, token)
    }

    /// A pending MFA-enrollment request, as [`Stack::pending_approval`]: (ticket, approval id).
    pub async fn pending_request(&self) -> (i64, String) {
        let s = self;
        let (contract, company) = s.contract_of_type(atpilot_autotask_sandbox::tenant::CT_RECURRING);
        let t = s.create_ticket(
            company,
            Some(contract),
            "MFA enrollment",
            "Please set up the authenticator app on my new phone",
            json!({}),
        );
        let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
        assert_eq!(s.deliver(&body, &sig).await, 202);
        let r = s.local.settle(40).await;
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        let a = s
            .local
            .deps
            .state
            .approvals_in_state(atpilot_store::records::ApprovalState::Pending, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.ticket_id.get() == t)
            .expect("a pending request");
        (t, a.id)
    }

    /// A human technician's resource id (not the agent, not the API user).
    pub fn human(&self) -> i64 {
        human_of(self.sandbox())
    }

    /// A signed Create callout for the ticket, as Autotask sends it.
    pub fn callout(&self, action: &str, ticket: i64, seq: u64, fields: Value, person: i64) -> (Vec<u8>, String) {
        let body = serde_json::to_vec(&json!({
            "Action": action, "Guid": "e2e-webhook-guid", "EntityType": "Ticket", "Id": ticket, "Fields": fields,
            "EventTime": "2026-11-28T10:00:00.000Z", "SequenceNumber": seq, "PersonID": person,
        }))
        .unwrap();
        let sig = atpilot_autotask::webhook::sign(self.local.webhook_secret.as_bytes(), &body);
        (body, sig)
    }

    /// Delivers a callout to the intake handler and returns the HTTP status.
    pub async fn deliver(&self, body: &[u8], sig: &str) -> u16 {
        atpilot_agent::handlers::intake::handle_webhook(&self.local.deps, Some(sig), body, chrono::Utc::now())
            .await
            .status
    }

    /// Writes that reached Autotask's data (not rejected by a limit or a fault).
    pub fn applied_writes(&self) -> Vec<RecordedRequest> {
        self.sandbox().applied_writes()
    }
}

/// One payload of the hostile-ticket corpus (`tests/data/hostile_tickets.json`).
pub struct HostilePayload {
    pub name: String,
    /// The text, already repeated as the corpus says.
    pub text: String,
    /// Served by the sandbox as a lone surrogate escape (its U+E000).
    pub lone_surrogate: bool,
}

/// Every payload of the hostile-ticket corpus.
pub fn hostile_corpus() -> Vec<HostilePayload> {
    let items: Vec<Value> =
        serde_json::from_str(include_str!("data/hostile_tickets.json")).expect("the corpus is JSON");
    items
        .iter()
        .map(|v| HostilePayload {
            name: v["name"].as_str().expect("a name").into(),
            text: v["text"].as_str().expect("a text").repeat(v["repeat"].as_u64().unwrap_or(1) as usize),
            lone_surrogate: v["lone_surrogate"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// A human technician's resource id in a sandbox (not the agent, not the API user).
pub fn human_of(sb: &atpilot_autotask_sandbox::Sandbox) -> i64 {
    let f = sb.facts();
    (1..).map(|i| f.api_resource_id + i).find(|r| *r != f.agent_resource_id).unwrap_or(1)
}

/// Creates a ticket with `fields` in `l`'s sandbox as a human would, delivers
/// its signed Create callout to intake, and settles every queue (no
/// failures). Returns the ticket id.
pub async fn create_and_settle(l: &Local, fields: Value) -> i64 {
    let sb = l.sandbox.as_deref().expect("a sandbox target");
    let human = human_of(sb);
    let Value::Object(fields) = fields else { panic!("ticket fields are an object") };
    let t = sb.simulate_ticket_create(fields, human);
    let body = serde_json::to_vec(&json!({"Action": "Create", "Guid": "e2e-local", "EntityType": "Ticket", "Id": t,
        "Fields": {}, "EventTime": "2026-11-30T10:00:00.000Z", "SequenceNumber": 1, "PersonID": human}))
    .unwrap();
    let sig = atpilot_autotask::webhook::sign(l.webhook_secret.as_bytes(), &body);
    let r = atpilot_agent::handlers::intake::handle_webhook(&l.deps, Some(&sig), &body, chrono::Utc::now()).await;
    assert_eq!(r.status, 202);
    let report = l.settle(40).await;
    assert!(report.failures.is_empty(), "{report:?}");
    t
}

/// Delivers ticket `t`'s Create callout again (as Autotask retries it) and settles the queues.
pub async fn redeliver_create(l: &Local, t: i64) -> atpilot_local::PumpReport {
    let sb = l.sandbox.as_deref().expect("a sandbox target");
    let body = serde_json::to_vec(&json!({"Action": "Create", "Guid": "e2e-local", "EntityType": "Ticket", "Id": t,
        "Fields": {}, "EventTime": "2026-11-30T10:00:00.000Z", "SequenceNumber": 1, "PersonID": human_of(sb)}))
    .unwrap();
    let sig = atpilot_autotask::webhook::sign(l.webhook_secret.as_bytes(), &body);
    atpilot_agent::handlers::intake::handle_webhook(&l.deps, Some(&sig), &body, chrono::Utc::now()).await;
    l.settle(40).await
}

/// A seeded Autotask sandbox and a REST client of its API user.
pub async fn sandbox_client(tickets: u64, seed: u64) -> (atpilot_autotask_sandbox::Sandbox, atpilot_autotask::Client) {
    let cfg = atpilot_autotask_sandbox::SandboxConfig { tickets, seed, ..Default::default() };
    sandbox_client_with(cfg).await
}

/// A sandbox started with `cfg` and a REST client of its API user.
pub async fn sandbox_client_with(
    cfg: atpilot_autotask_sandbox::SandboxConfig,
) -> (atpilot_autotask_sandbox::Sandbox, atpilot_autotask::Client) {
    use atpilot_autotask_sandbox::{DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USER};
    let sb = atpilot_autotask_sandbox::Sandbox::start(cfg, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let creds = atpilot_autotask::Credentials {
        username: DEFAULT_USER.into(),
        secret: DEFAULT_SECRET.into(),
        integration_code: DEFAULT_INTEGRATION_CODE.into(),
        impersonation_resource_id: None,
    };
    let zone = atpilot_autotask::ZoneSource::Fixed { rest_url: sb.rest_url() };
    let client = atpilot_autotask::Client::new(atpilot_autotask::ClientConfig::new(creds, zone)).unwrap();
    (sb, client)
}

/// The keyword classifier with its confidence declared calibrated: in the
/// pipeline tests it stands in for a model trained on the tenant, so that the
/// contract, phase and approval rules can be driven by fixed ticket texts.
/// (Undeclared, as in production, keyword scores may only suggest.)
pub struct CalibratedKeywords;

impl atpilot_agent::ports::Classifier for CalibratedKeywords {
    fn classify(&self, title: &str, description: &str) -> atpilot_agent::ports::Classification {
        let mut c = atpilot_agent::classifiers::keyword::KeywordClassifier.classify(title, description);
        c.prediction.calibrated = true;
        c
    }
    fn categories(&self) -> Vec<atpilot_domain::Category> {
        atpilot_agent::classifiers::keyword::KeywordClassifier.categories()
    }
}

/// `METHOD path` of each write, with the ticket id replaced by `{id}`.
pub fn shape(writes: &[RecordedRequest], ticket: i64) -> Vec<String> {
    writes
        .iter()
        .map(|w| {
            // The API path is case-insensitive: compare it in one spelling.
            let path = w.path.replace(&format!("/{ticket}/"), "/{id}/").replacen("/v1.0/", "/V1.0/", 1).replacen(
                "/ATServicesRest/",
                "/atservicesrest/",
                1,
            );
            format!("{} {}", w.method, path)
        })
        .collect()
}

/// A minimal W3C WebDriver client for headless Chromium (Debian's `chromium`
/// and `chromium-driver`), enough to load a page, click, read text and take
/// a screenshot. `Browser::start` returns `None` (after a loud message) when
/// no chromedriver is installed, unless `ATPILOT_REQUIRE_BROWSER=1`, which CI
/// sets, makes that a failure.
pub mod browser {
    use serde_json::{Value, json};
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    pub struct Browser {
        driver: Child,
        base: String,
        session: String,
        http: reqwest::Client,
    }

    fn find(names: &[&str]) -> Option<String> {
        for n in names {
            for dir in std::env::var("PATH").unwrap_or_default().split(':') {
                let p = std::path::Path::new(dir).join(n);
                if p.is_file() {
                    return Some(p.display().to_string());
                }
            }
        }
        None
    }

    impl Browser {
        pub async fn start() -> Option<Browser> {
            let required = std::env::var("ATPILOT_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            let (Some(driver), Some(chromium)) =
                (find(&["chromedriver"]), find(&["chromium", "chromium-browser", "google-chrome"]))
            else {
                assert!(!required, "chromedriver and chromium are required (apt-get install chromium chromium-driver)");
                eprintln!(
                    "SKIPPED: no chromedriver/chromium on PATH; install chromium and chromium-driver to run the browser tests"
                );
                return None;
            };
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new(driver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            let base = format!("http://127.0.0.1:{port}");
            let http = reqwest::Client::new();
            for _ in 0..100 {
                if http.get(format!("{base}/status")).send().await.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let profile = tempfile::tempdir().unwrap().keep();
            let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())
            ]}}}});
            let r: Value = http
                .post(format!("{base}/session"))
                .json(&caps)
                .send()
                .await
                .expect("new session")
                .json()
                .await
                .unwrap();
            let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
            let browser = Browser { driver: child, base, session, http };
            // element lookups wait up to 5 s for the element (WebDriver's implicit wait):
            // a click that submits a form returns before the next page is there
            browser.call(reqwest::Method::POST, "/timeouts", Some(json!({"implicit": 5000}))).await;
            Some(browser)
        }

        async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
            let url = format!("{}/session/{}{}", self.base, self.session, path);
            let req = self.http.request(method, url);
            let req = match body {
                Some(b) => req.json(&b),
                None => req,
            };
            let v: Value = req.send().await.expect("webdriver answers").json().await.expect("webdriver JSON");
            if v["value"].get("error").is_some() {
                panic!("webdriver {path}: {}", v["value"]);
            }
            v["value"].clone()
        }

        pub async fn goto(&self, url: &str) {
            self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
        }

        pub async fn element(&self, css: &str) -> String {
            let v = self
                .call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
                .await;
            v.as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no element {css}"))
                .to_string()
        }

        pub async fn count(&self, css: &str) -> usize {
            let v = self
                .call(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css})))
                .await;
            v.as_array().map(Vec::len).unwrap_or(0)
        }

        pub async fn text(&self, css: &str) -> String {
            let e = self.element(css).await;
            self.call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
                .await
                .as_str()
                .unwrap_or_default()
                .to_string()
        }

        pub async fn click(&self, css: &str) {
            let e = self.element(css).await;
            self.call(reqwest::Method::POST, &format!("/element/{e}/click"), Some(json!({}))).await;
        }

        pub async fn fill(&self, css: &str, text: &str) {
            let e = self.element(css).await;
            self.call(reqwest::Method::POST, &format!("/element/{e}/clear"), Some(json!({}))).await;
            self.call(reqwest::Method::POST, &format!("/element/{e}/value"), Some(json!({"text": text}))).await;
        }

        /// Runs `script` (a function body; `arguments[i]` are `args`) in the page and returns its value.
        pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
            self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
        }

        pub async fn title(&self) -> String {
            self.call(reqwest::Method::GET, "/title", None).await.as_str().unwrap_or_default().to_string()
        }

        /// Saves a PNG screenshot.
        pub async fn screenshot(&self, path: &std::path::Path) {
            use base64::Engine;
            let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
            let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("PNG");
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).unwrap();
            }
            std::fs::write(path, png).unwrap();
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            let _ = self.driver.kill();
            let _ = self.driver.wait();
        }
    }
}

/// The Autotask port with hooks for fault injection and timing: it delegates
/// every call and can observe notes or "crash" right after a time-entry write.
pub mod hooked {
    use async_trait::async_trait;
    use atpilot_agent::ports::*;
    use atpilot_domain::*;
    use chrono::{DateTime, Utc};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    type NoteHook = Arc<dyn Fn(TicketId) + Send + Sync>;

    pub struct Hooked {
        pub inner: Arc<dyn Autotask>,
        /// Called once a note was written.
        pub after_note: Option<NoteHook>,
        /// The next N time-entry writes succeed in Autotask, then report a crash.
        pub crash_after_time_entry: AtomicU32,
        /// The next N ticket updates are refused for lack of permission (nothing written).
        pub deny_updates: AtomicU32,
        /// Customer-visible notes are never found (a read-back that does not see a written note).
        pub hide_customer_notes: std::sync::atomic::AtomicBool,
    }

    impl Hooked {
        pub fn new(inner: Arc<dyn Autotask>) -> Self {
            Self {
                inner,
                after_note: None,
                crash_after_time_entry: AtomicU32::new(0),
                deny_updates: AtomicU32::new(0),
                hide_customer_notes: Default::default(),
            }
        }
    }

    #[async_trait]
    impl Autotask for Hooked {
        async fn ticket(&self, id: TicketId) -> Result<Option<TicketSnapshot>, PortError> {
            self.inner.ticket(id).await
        }
        async fn company_name(&self, c: CompanyId) -> Result<Option<String>, PortError> {
            self.inner.company_name(c).await
        }
        async fn customer_names(&self) -> Result<Vec<String>, PortError> {
            self.inner.customer_names().await
        }
        async fn requester(&self, t: &TicketSnapshot) -> Result<Requester, PortError> {
            self.inner.requester(t).await
        }
        async fn company_contracts(&self, c: CompanyId) -> Result<Vec<Contract>, PortError> {
            self.inner.company_contracts(c).await
        }
        async fn block_data(&self, c: ContractId, r: RoleId) -> Result<BlockData, PortError> {
            self.inner.block_data(c, r).await
        }
        async fn add_note(&self, t: TicketId, n: &NewNote) -> Result<i64, PortError> {
            let r = self.inner.add_note(t, n).await;
            if let Some(h) = &self.after_note {
                h(t);
            }
            r
        }
        async fn find_note(&self, t: TicketId, m: &str) -> Result<Option<i64>, PortError> {
            self.inner.find_note(t, m).await
        }
        async fn time_entry(&self, id: TimeEntryId) -> Result<Option<StoredEntry>, PortError> {
            self.inner.time_entry(id).await
        }
        async fn find_customer_note(
            &self,
            t: TicketId,
            n: &NewNote,
            since: Option<DateTime<Utc>>,
        ) -> Result<Option<i64>, PortError> {
            if self.hide_customer_notes.load(Ordering::SeqCst) {
                return Ok(None);
            }
            self.inner.find_customer_note(t, n, since).await
        }
        async fn update_ticket(&self, t: TicketId, c: &TicketChange) -> Result<(), PortError> {
            if self.deny_updates.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                let message = "User does not have permission to update Tickets.".to_string();
                return Err(PortError::Denied { operation: "update Tickets".into(), message });
            }
            self.inner.update_ticket(t, c).await
        }
        async fn create_time_entry(&self, d: &TimeEntryDraft, b: BillingCodeId) -> Result<TimeEntryId, PortError> {
            let id = self.inner.create_time_entry(d, b).await?;
            if self
                .crash_after_time_entry
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(PortError::Transient("the process died after the write".into()));
            }
            Ok(id)
        }
        async fn find_time_entry(&self, t: TicketId, m: &str) -> Result<Option<TimeEntryId>, PortError> {
            self.inner.find_time_entry(t, m).await
        }
        async fn tickets_changed_since(
            &self,
            s: DateTime<Utc>,
            l: usize,
        ) -> Result<Vec<atpilot_agent::ports::ChangedTicket>, PortError> {
            self.inner.tickets_changed_since(s, l).await
        }
        async fn category_label(&self, i: Option<i64>, s: Option<i64>) -> Result<Option<String>, PortError> {
            self.inner.category_label(i, s).await
        }
        async fn open_tickets(
            &self,
            before: DateTime<Utc>,
            excluded: &[StatusId],
            limit: usize,
        ) -> Result<Vec<OpenTicket>, PortError> {
            self.inner.open_tickets(before, excluded, limit).await
        }
        async fn ticket_activity(&self, t: TicketId, since: DateTime<Utc>) -> Result<TicketActivity, PortError> {
            self.inner.ticket_activity(t, since).await
        }
        async fn resource_email(&self, r: ResourceId) -> Result<Option<String>, PortError> {
            self.inner.resource_email(r).await
        }
        async fn resource_names(&self) -> Result<Vec<String>, PortError> {
            self.inner.resource_names().await
        }
    }
}

/// The example configuration pointed at a (fake) real tenant, as deployed
/// functions require: the functions that never call Autotask can start on it.
pub fn lambda_config_example() -> &'static str {
    static CONFIG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| {
        atpilot_config::EXAMPLE
            .replace("url = \"sandbox\"", "url = \"https://webservices5.autotask.net/atservicesrest\"")
    })
}

/// A stand-in for the Lambda Runtime API, to run a function's real binary
/// (its `main.rs` wiring included) the way Lambda does: the binary long-polls
/// `GET /2018-06-01/runtime/invocation/next`, handles the event and posts
/// the result back. AWS calls go wherever the test environment points the
/// SDK (moto under `scripts/test`).
pub mod lambda {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use serde_json::Value;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use tokio::sync::mpsc;

    /// What the function answered to one event: `Ok(response)` or `Err(error document)`.
    pub type Outcome = Result<Value, Value>;

    struct Runtime {
        events: Mutex<VecDeque<(String, Value)>>,
        results: mpsc::UnboundedSender<(String, Outcome)>,
    }

    async fn next(State(rt): State<Arc<Runtime>>) -> (StatusCode, HeaderMap, String) {
        let item = rt.events.lock().map(|mut q| q.pop_front()).unwrap_or(None);
        let Some((id, event)) = item else {
            // Nothing more to invoke: hold the long poll as Lambda does while idle.
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            return (StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new(), String::new());
        };
        let mut h = HeaderMap::new();
        let deadline = chrono::Utc::now().timestamp_millis() + 900_000;
        h.insert("lambda-runtime-aws-request-id", id.parse().expect("header"));
        h.insert("lambda-runtime-deadline-ms", deadline.to_string().parse().expect("header"));
        h.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:111122223333:function:atpilot-test".parse().expect("header"),
        );
        h.insert(
            "lambda-runtime-trace-id",
            "Root=1-6748405c-0123456789abcdef01234567;Sampled=0".parse().expect("header"),
        );
        h.insert("content-type", "application/json".parse().expect("header"));
        (StatusCode::OK, h, event.to_string())
    }

    fn parse(body: &str) -> Value {
        serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()))
    }

    async fn response(State(rt): State<Arc<Runtime>>, Path(id): Path<String>, body: String) -> StatusCode {
        let _ = rt.results.send((id, Ok(parse(&body))));
        StatusCode::ACCEPTED
    }

    async fn error(State(rt): State<Arc<Runtime>>, Path(id): Path<String>, body: String) -> StatusCode {
        let _ = rt.results.send((id, Err(parse(&body))));
        StatusCode::ACCEPTED
    }

    async fn init_error(State(rt): State<Arc<Runtime>>, body: String) -> StatusCode {
        let _ = rt.results.send(("init".into(), Err(parse(&body))));
        StatusCode::ACCEPTED
    }

    /// Runs `binary` with `env` (on top of this process's environment) and
    /// hands it `events` in order; returns one outcome per event. An init
    /// failure, a crash or a 120-second silence panics with the function's logs.
    pub async fn invoke(binary: &str, env: &[(&str, String)], events: Vec<Value>) -> Vec<Outcome> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ids: Vec<String> = (0..events.len()).map(|i| format!("req-{i}-{}", uuid_like())).collect();
        let rt = Arc::new(Runtime { events: Mutex::new(ids.iter().cloned().zip(events).collect()), results: tx });
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(rt);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });

        let logs = tempfile::NamedTempFile::new().expect("log file");
        let mut cmd = std::process::Command::new(binary);
        cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "atpilot-test")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/atpilot-test")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/28/[$LATEST]0123456789abcdef")
            .env("AWS_REGION", std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()))
            .stdout(logs.reopen().expect("log file"))
            .stderr(logs.reopen().expect("log file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let read_logs = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
        let mut out: std::collections::HashMap<String, Outcome> = Default::default();
        while out.len() < ids.len() {
            let got = tokio::time::timeout(std::time::Duration::from_secs(120), rx.recv()).await;
            match got {
                Ok(Some((id, outcome))) if id == "init" => {
                    let _ = child.kill();
                    panic!("{binary} failed to start: {outcome:?}\nlogs:\n{}", read_logs(logs.path()));
                }
                Ok(Some((id, outcome))) => {
                    out.insert(id, outcome);
                }
                _ => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    panic!("{binary} gave no answer (exit status {status:?})\nlogs:\n{}", read_logs(logs.path()));
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        ids.iter().map(|id| out.remove(id).expect("one outcome per event")).collect()
    }

    fn uuid_like() -> String {
        format!(
            "{:x}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        )
    }

    /// The AWS SDK configuration of the emulator `scripts/test` started, or
    /// `None` (test skipped, loudly) outside CI when there is none.
    pub async fn emulator() -> Option<aws_config::SdkConfig> {
        let required = std::env::var("ATPILOT_REQUIRE_AWS").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        if std::env::var("AWS_ENDPOINT_URL").is_err() {
            assert!(
                !required,
                "AWS_ENDPOINT_URL is not set: run the tests with scripts/test, which starts the moto emulator"
            );
            eprintln!(
                "SKIPPED: AWS_ENDPOINT_URL is not set; run scripts/test to run the function binaries against moto"
            );
            return None;
        }
        Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
    }

    /// Creates (or finds) a secret on the emulator and returns its ARN.
    pub async fn secret(aws: &aws_config::SdkConfig, name: &str, value: &str) -> String {
        let sm = aws_sdk_secretsmanager::Client::new(aws);
        match sm.create_secret().name(name).secret_string(value).send().await {
            Ok(out) => out.arn().expect("arn").to_string(),
            Err(e) => panic!(
                "CreateSecret {name} on the emulator: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ),
        }
    }

    /// A fresh table with atpilot's schema on the emulator.
    pub async fn table(aws: &aws_config::SdkConfig, prefix: &str) -> (atpilot_store::State, String) {
        let name = format!("{prefix}-{}", uuid_like());
        let store = atpilot_store::dynamo::DynamoStateStore::new(aws_sdk_dynamodb::Client::new(aws), name.clone());
        store.create_table().await.expect("CreateTable on the emulator");
        (atpilot_store::State::new(std::sync::Arc::new(store)), name)
    }

    /// The environment every function reads (`atpilot_lambda::ENV`), for a test.
    pub fn function_env(
        config_toml: &str,
        table: &str,
        secrets: &[(&'static str, String)],
    ) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("ATPILOT_CONFIG", config_toml.to_string()),
            ("TABLE_NAME", table.to_string()),
            ("CLASSIFY_QUEUE_URL", "unused-by-this-function".to_string()),
            ("TIME_ENTRY_QUEUE_URL", "unused-by-this-function".to_string()),
            ("RUST_LOG", "info".to_string()),
        ];
        env.extend(secrets.iter().cloned());
        env
    }
}

/// `text` (a configuration) with the body of `[categories.NAME]` (the lines
/// after its header, up to the next table) replaced by `body`.
pub fn with_category(text: &str, name: &str, body: &str) -> String {
    let header = format!("[categories.{name}]\n");
    let start = text.find(&header).unwrap_or_else(|| panic!("no {header:?} in the configuration")) + header.len();
    let end = text[start..].find("\n[").map_or(text.len(), |i| start + i + 1);
    format!("{}{}\n{}", &text[..start], body.trim_end(), &text[end..])
}

/// The demo configuration (300 tickets, seed 7, public URL `http://127.0.0.1:8080`)
/// edited by `edit`, decided by [`CalibratedKeywords`].
pub async fn start_edited(edit: impl FnOnce(String) -> String) -> (Local, tempfile::TempDir) {
    let cfg = atpilot_autotask_sandbox::SandboxConfig { tickets: 300, seed: 7, ..Default::default() };
    let sb = atpilot_autotask_sandbox::Sandbox::start(cfg, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let text = edit(atpilot_local::demo_config_text(&sb.facts(), "http://127.0.0.1:8080"));
    let config = atpilot_config::Config::parse(&text, "e2e configuration").expect("the edited configuration is valid");
    let dir = tempfile::tempdir().unwrap();
    let local = Local::start(LocalOptions {
        state_dir: dir.path().to_path_buf(),
        target: Target::Sandbox { tickets: 300, seed: 7 },
        config: Some(config),
        webhook_secret: Some("e2e-webhook-secret".into()),
        public_url: "http://127.0.0.1:8080".into(),
        classifier: atpilot_local::LocalClassifier::Given(std::sync::Arc::new(CalibratedKeywords)),
        kb_sandbox: Default::default(),
    })
    .await
    .expect("local stack starts");
    (local, dir)
}

/// A company with a recurring contract, and its `k`-th contact's (id, e-mail).
pub fn recurring_customer(l: &Local, k: usize) -> (i64, i64, String) {
    let sb = l.sandbox.as_deref().expect("a sandbox target");
    let contract = sb.facts().contracts_by_type[&atpilot_autotask_sandbox::tenant::CT_RECURRING][0];
    let company = sb.row("Contracts", contract).unwrap()["companyID"].as_i64().unwrap();
    let contact = sb.contacts_of(company)[k];
    let email = sb.row("Contacts", contact).unwrap()["emailAddress"].as_str().unwrap().to_string();
    (company, contact, email)
}

/// A ticket from `contact` of `company` (on its recurring contract), decided and settled.
pub async fn ticket_from(l: &Local, company: i64, contact: i64, title: &str, description: &str) -> i64 {
    let sb = l.sandbox.as_deref().expect("a sandbox target");
    let contract = sb
        .rows_where("Contracts", "companyID", company)
        .into_iter()
        .find(|c| c["contractType"].as_i64() == Some(atpilot_autotask_sandbox::tenant::CT_RECURRING))
        .map(|c| c["id"].as_i64().unwrap());
    let queue = sb.facts().queues[0].0;
    let fields = json!({
        "companyID": company, "contractID": contract, "title": title, "status": 1, "priority": 2,
        "description": description, "queueID": queue, "contactID": contact,
    });
    create_and_settle(l, fields).await
}

/// The `runbook` field of the ticket's decision in `GET /api/decisions`.
pub async fn api_runbook(l: &Local, t: i64) -> Value {
    let views = atpilot_agent::html::dashboard::decisions(&l.deps.state, 100).await.unwrap();
    let all = serde_json::to_value(&views).unwrap();
    let d = all.as_array().unwrap().iter().find(|d| d["ticket_id"] == t).expect("the decision").clone();
    assert!(d.as_object().unwrap().contains_key("runbook"), "{d}");
    d["runbook"].clone()
}
