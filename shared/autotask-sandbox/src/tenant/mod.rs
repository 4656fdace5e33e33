//! The seeded tenant: a realistic MSP, deterministic for a given seed, sized
//! by the ticket count. Tickets and their children (notes, time entries,
//! history, SLA and survey results) are generated lazily from (seed, id), so a
//! 250,000-ticket tenant costs no more memory than a small one.
//!
//! * this room: the id ranges, well-known ids and picklist values, the planted
//!   [`TenantFacts`], and the seeded generator [`R`];
//! * `catalog`: the static tables (queues, categories with their title
//!   templates, names);
//! * `generate`: the lazy generators of tickets and their children ([`Ctx`]);
//! * `build`: the eager tables (picklists, roles and resources,
//!   billing codes, companies, contacts and contracts) and the lazy ones.

mod build;
mod catalog;
mod generate;
pub mod offices;

pub use build::{build, build_with};
pub use generate::{Ctx, Tech2, TicketFacts};

use crate::store::Row;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

pub const TICKET_BASE: i64 = 100_000;
pub const NOTE_BASE: i64 = 10_000_000;
pub const NOTE_SLOTS: i64 = 3;
pub const TE_BASE: i64 = 20_000_000;
pub const TE_SLOTS: i64 = 2;
/// Seeded labour is approved and posted this many days after it was worked.
pub const POSTING_LAG_DAYS: i64 = 7;
pub const HIST_BASE: i64 = 30_000_000;
pub const HIST_SLOTS: i64 = 4;
pub const SLA_BASE: i64 = 40_000_000;
pub const SURVEY_RESULT_BASE: i64 = 50_000_000;

/// The API user's own resource (what `PersonID` reports for API writes).
pub const API_RESOURCE_ID: i64 = 4;
/// A licensed resource for the agent's time entries.
pub const AGENT_RESOURCE_ID: i64 = 5;
pub const AGENT_ROLE_ID: i64 = 8;
pub const DISPATCHER_RESOURCE_ID: i64 = 6;

/// Contract type picklist values ([U] beyond 7; served from entityInformation/fields).
pub const CT_TIME_MATERIALS: i64 = 1;
pub const CT_FIXED_PRICE: i64 = 3;
pub const CT_BLOCK_HOURS: i64 = 4;
pub const CT_RETAINER: i64 = 6;
pub const CT_RECURRING: i64 = 7;
pub const CT_PER_TICKET: i64 = 8;

pub const STATUS_NEW: i64 = 1;
pub const STATUS_COMPLETE: i64 = 5;

/// Facts planted in the seed for later features and tests.
#[derive(Debug, Clone)]
pub struct TenantFacts {
    pub seed: u64,
    pub ticket_count: u64,
    pub first_ticket_id: i64,
    pub last_ticket_id: i64,
    pub anchor: DateTime<Utc>,
    /// Queue picklist (value, label).
    pub queues: Vec<(i64, String)>,
    /// Queues where tickets pile up without routing.
    pub dumping_ground_queues: Vec<i64>,
    /// A queue nobody watches: tickets there never get a note or a time entry.
    pub unmonitored_queue: i64,
    pub company_ids: Vec<i64>,
    /// Contract ids by contract type picklist value.
    pub contracts_by_type: BTreeMap<i64, Vec<i64>>,
    /// Companies with no contract, and with several active contracts.
    pub companies_without_contract: Vec<i64>,
    pub companies_with_several_contracts: Vec<i64>,
    pub api_resource_id: i64,
    pub agent_resource_id: i64,
    pub agent_role_id: i64,
}

#[derive(Clone, Copy)]
pub struct R(u64);
impl R {
    pub fn new(seed: u64, stream: u64, idx: u64) -> Self {
        let mut r = R(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ idx.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

pub fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn obj(v: Value) -> Row {
    v.as_object().cloned().unwrap()
}
