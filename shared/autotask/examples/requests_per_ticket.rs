//! Bench: Autotask requests per processed ticket, cold vs warm cache.
//!
//! `cargo run -p atpilot-autotask --example requests_per_ticket [tickets]`
//!
//! "Processing" is what intake + classify + shadow/internal-note phase needs:
//! the ticket (only the fields needed), its company and contract (reference
//! data, cached), the block balance for Block Hours contracts (never cached:
//! it moves), the picklists (cached with a TTL), and one internal note.

use atpilot_autotask::*;
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use std::collections::HashMap;

struct Processor {
    client: Client,
    companies: HashMap<i64, Company>,
    contracts: HashMap<i64, Contract>,
}

impl Processor {
    async fn process(&mut self, ticket_id: i64) -> Result<()> {
        let queues = self.client.picklist("Tickets", "queueID").await?;
        let _statuses = self.client.picklist("Tickets", "status").await?;
        let contract_types = self.client.picklist("Contracts", "contractType").await?;
        let t = self
            .client
            .query::<Ticket>(Query::new().filter(Filter::eq("id", ticket_id)).include([
                "title",
                "description",
                "status",
                "priority",
                "queueID",
                "issueType",
                "subIssueType",
                "companyID",
                "contactID",
                "contractID",
                "projectID",
                "assignedResourceID",
                "assignedResourceRoleID",
            ]))
            .await?
            .pop()
            .expect("ticket exists");
        let company_id = t.company_id.unwrap_or(0);
        if !self.companies.contains_key(&company_id) {
            let c = self.client.get::<Company>(company_id).await?.unwrap_or_default();
            self.companies.insert(company_id, c);
        }
        if let Some(cid) = t.contract_id {
            if !self.contracts.contains_key(&cid) {
                let c = self.client.get::<Contract>(cid).await?.unwrap_or_default();
                self.contracts.insert(cid, c);
            }
            let kind = self.contracts[&cid].contract_type.and_then(|v| contract_types.label_of(v)).unwrap_or("");
            if kind == "Block Hours" {
                let _blocks: Vec<ContractBlock> =
                    self.client.query(Query::new().filter(Filter::eq("contractID", cid))).await?;
            }
        }
        let queue = t.queue_id.and_then(|q| queues.label_of(q)).unwrap_or("?");
        let note = TicketNote {
            title: Some("atpilot".into()),
            description: Some(format!("atpilot suggests queue {queue}.")),
            note_type: Some(3),
            publish: Some(2),
            ..Default::default()
        };
        self.client.create_child(ticket_id, &note).await?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: i64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let sb = Sandbox::start(SandboxConfig { tickets: 2_000, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("sandbox");
    let creds = Credentials {
        username: atpilot_autotask_sandbox::DEFAULT_USER.into(),
        secret: atpilot_autotask_sandbox::DEFAULT_SECRET.into(),
        integration_code: atpilot_autotask_sandbox::DEFAULT_INTEGRATION_CODE.into(),
        impersonation_resource_id: Some(sb.facts().agent_resource_id),
    };
    let client = Client::new(ClientConfig::new(creds, ZoneSource::Discover { bootstrap_url: sb.base_url() }))?;
    let mut p = Processor { client, companies: HashMap::new(), contracts: HashMap::new() };
    let first = sb.facts().first_ticket_id;
    let before = sb.request_count();
    p.process(first).await?;
    let cold = sb.request_count() - before;
    let before = sb.request_count();
    for i in 1..=n {
        p.process(first + i).await?;
    }
    let warm_total = sb.request_count() - before;
    let block_contracts = p.contracts.values().filter(|c| c.contract_type == Some(4)).count();
    println!(
        "cold cache: {cold} requests for the first ticket (incl. zone discovery and one ThresholdInformation read)"
    );
    println!(
        "warm cache: {:.2} requests per ticket over {n} tickets ({warm_total} requests)",
        warm_total as f64 / n as f64
    );
    println!(
        "  (warm = ticket query + internal note, + block balance on Block Hours contracts; {} companies, {} contracts cached, {block_contracts} of them Block Hours)",
        p.companies.len(),
        p.contracts.len()
    );
    let s = p.client.stats();
    println!("client stats: {s:?}");
    Ok(())
}
