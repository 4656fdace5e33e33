//! Helpers for the end-to-end tests: a local stack on a seeded sandbox,
//! tickets of a given contract type, and signed webhook callouts.

use atpilot_autotask_sandbox::RecordedRequest;
use atpilot_local::{Local, LocalOptions, Target};
use serde_json::{Value, json};

pub struct Stack {
    pub local: Local,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub async fn start() -> Stack {
        let dir = tempfile::tempdir().expect("temp dir");
        let local = Local::start(LocalOptions {
            state_dir: dir.path().to_path_buf(),
            target: Target::Sandbox { tickets: 300, seed: 7 },
            config: None,
            webhook_secret: Some("e2e-webhook-secret".into()),
            public_url: "http://127.0.0.1:8080".into(),
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
        let id = *facts.contracts_by_type.get(&contract_type).and_then(|v| v.first()).expect("the seeded tenant has every contract type");
        let company = self.sandbox().row("Contracts", id).and_then(|r| r.get("companyID").and_then(Value::as_i64)).expect("contract has a company");
        (id, company)
    }

    /// Creates a ticket as a human would (in the Autotask UI) and returns its id.
    pub fn create_ticket(&self, company: i64, contract: Option<i64>, title: &str, description: &str, extra: Value) -> i64 {
        let mut fields = json!({
            "companyID": company, "title": title, "description": description, "status": 1, "priority": 2,
            "queueID": self.sandbox().facts().queues[0].0,
        });
        if let Some(c) = contract {
            fields["contractID"] = json!(c);
        }
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                fields[k] = v;
            }
        }
        let Value::Object(map) = fields else { unreachable!() };
        self.sandbox().simulate_ticket_create(map, self.human())
    }

    /// A human technician's resource id (not the agent, not the API user).
    pub fn human(&self) -> i64 {
        let f = self.sandbox().facts();
        (1..).map(|i| f.api_resource_id + i).find(|r| *r != f.agent_resource_id).unwrap_or(1)
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
        atpilot_agent::intake::handle_webhook(&self.local.deps, Some(sig), body, chrono::Utc::now()).await.status
    }

    /// Writes that reached Autotask's data (not rejected by a limit or a fault).
    pub fn applied_writes(&self) -> Vec<RecordedRequest> {
        self.sandbox().applied_writes()
    }
}

/// `METHOD path` of each write, with the ticket id replaced by `{id}`.
pub fn shape(writes: &[RecordedRequest], ticket: i64) -> Vec<String> {
    writes
        .iter()
        .map(|w| {
            // The API path is case-insensitive: compare it in one spelling.
            let path = w.path.replace(&format!("/{ticket}/"), "/{id}/").replacen("/v1.0/", "/V1.0/", 1).replacen("/ATServicesRest/", "/atservicesrest/", 1);
            format!("{} {}", w.method, path)
        })
        .collect()
}
