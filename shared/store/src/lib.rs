//! State and queue ports, with production adapters (DynamoDB, SQS) and
//! embedded adapters for the local runner (a redb file, an in-process queue).
//! One conformance suite per port runs against both adapters
//! (`conformance` feature), so "works locally" means "works in AWS".

pub mod dynamo;
pub mod embedded;
pub mod memqueue;
pub mod queue;
pub mod records;
pub mod sqs;
pub mod state;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use queue::{BatchReport, Delivery, OutMessage, Queue, QueueError, consume_batch};
pub use records::State;
pub use state::{Condition, Index, Item, Key, Query, StateStore, StoreError, WriteOutcome};
