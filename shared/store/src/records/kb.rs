//! KB drafts, one per completed ticket: what atpilot drafted from it for the
//! MSP's knowledge base and what became of it, for the dashboard and so a
//! redelivered completion drafts nothing twice. Re-exported from
//! [`crate::records`].

use super::{Claim, State, decode, encode, ts};
use crate::state::*;
use atpilot_domain::TicketId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What became of a completed ticket's draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum KbDraftStatus {
    /// Being drafted (claimed; a crash leaves it here and a redelivery finishes it).
    Drafting,
    /// Kept on the dashboard only, with why (the shadow phase, no KB configured,
    /// no company match).
    Kept { why: String },
    /// Created in the KB; `unpublished` as the KB read it back (IT Glue
    /// documents are drafts; Hudu has no API drafts: its article sits in the
    /// drafts folder, visible to technicians).
    Drafted {
        kb: String,
        article_id: String,
        url: Option<String>,
        unpublished: bool,
        /// Where a published article sits, as the KB adapter says (absent in older records).
        #[serde(default)]
        placement: Option<String>,
    },
    /// An existing article is this close (`similarity` in 0..1, over the
    /// configured threshold): an update to it is proposed; nothing was written to it.
    UpdateProposed { kb: String, article_id: String, article_title: String, url: Option<String>, similarity: f64 },
    /// Nothing worth documenting, with why.
    Skipped { why: String },
}

impl KbDraftStatus {
    /// The status's name as the dashboard shows it.
    pub fn name(&self) -> &'static str {
        match self {
            KbDraftStatus::Drafting => "drafting",
            KbDraftStatus::Kept { .. } => "kept here",
            KbDraftStatus::Drafted { .. } => "drafted",
            KbDraftStatus::UpdateProposed { .. } => "update proposed",
            KbDraftStatus::Skipped { .. } => "skipped",
        }
    }
}

/// One completed ticket's draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbDraftRecord {
    pub ticket_id: TicketId,
    pub ticket_number: String,
    pub at: DateTime<Utc>,
    pub category: String,
    /// The draft's title and body (HTML atpilot built, every piece of ticket
    /// text scrubbed and escaped); empty when skipped.
    pub title: String,
    pub html: String,
    pub status: KbDraftStatus,
    /// The internal note on the ticket that links the draft, once written.
    #[serde(default)]
    pub note_id: Option<i64>,
}

fn key(ticket: TicketId) -> Key {
    Key::new(format!("kb#{ticket}"), "draft")
}

impl State {
    /// Claims the ticket's draft: `Claimed` the first time, `Existing` after.
    pub async fn claim_kb_draft(&self, r: &KbDraftRecord) -> Result<Claim<KbDraftRecord>, StoreError> {
        self.put_once(Self::kb_item(r)?, "KB draft claim").await
    }

    /// Stores what became of the draft (the claim's record, updated).
    pub async fn save_kb_draft(&self, r: &KbDraftRecord) -> Result<(), StoreError> {
        self.store.put(Self::kb_item(r)?, Condition::Always).await.map(|_| ())
    }

    fn kb_item(r: &KbDraftRecord) -> Result<Item, StoreError> {
        Ok(Item::new(key(r.ticket_id), encode(r)?).with_gsi1("kb-drafts", format!("{}#{}", ts(r.at), r.ticket_id)))
    }

    /// The ticket's draft, if one was claimed.
    pub async fn kb_draft(&self, ticket: TicketId) -> Result<Option<KbDraftRecord>, StoreError> {
        self.store.get(&key(ticket)).await?.as_ref().map(decode).transpose()
    }

    /// Drafts, newest first.
    pub async fn kb_drafts(&self, limit: usize) -> Result<Vec<KbDraftRecord>, StoreError> {
        self.store.query(&Query::gsi1("kb-drafts").newest_first().limit(limit)).await?.iter().map(decode).collect()
    }
}
