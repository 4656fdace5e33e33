//! The classifiers behind the [`Classifier`](crate::ports::Classifier) and
//! [`TicketClassifier`](crate::ports::TicketClassifier) ports: the keyword
//! fallback, a trained model, and an LLM checked against the local model
//! (its drafts through [`draft_guard`] as well as the scrub).

pub mod draft_guard;
pub mod keyword;
pub mod llm;
pub mod model;
