//! Autotask PSA REST client for atpilot.
//!
//! * [`client`]: zone discovery (cached), auth headers (credentials never
//!   logged), a request budget that is a share of the tenant's hourly limit
//!   (ThresholdInformation read sparingly), at most 3 concurrent requests per
//!   endpoint, retries with exponential backoff and jitter on 429 /
//!   `Retry-After` / `Itgenatr005` / retryable 5xx (never on validation
//!   errors), paging through `nextPageUrl` with an id-cursor fallback, a
//!   streaming pager, and picklists cached with a TTL.
//! * [`query`]: the query builder (every operator, nested and/or, UDFs,
//!   IncludeFields, MaxRecords 1..=500, `in` lists split at 500 ORs).
//! * [`entities`]: typed entities; [`opt::Opt`] for PATCH (unset / null / value).
//! * [`json`]: lenient decoding (lone surrogate escapes in customer text).
//! * [`webhook`]: `X-Hook-Signature` verification over raw bytes and tolerant payload parsing.

pub mod client;
pub mod entities;
pub mod error;
pub mod json;
pub mod opt;
pub mod query;
pub mod webhook;

pub use client::{
    Client, ClientConfig, ClientStats, Credentials, Page, PagingMode, Picklist, RetryPolicy, TicketWebhookRegistration,
    ZoneSource,
};
pub use entities::*;
pub use error::{Error, Result};
pub use opt::Opt;
pub use query::{Filter, Query};
pub use webhook::{WebhookAction, WebhookError, WebhookEvent};
