//! The handlers' one error type: what failed, why (the `source`), and
//! whether retrying can help. The kind travels unchanged to the Lambda
//! boundary (and the local runner), which decides from it what a failed
//! message becomes: retried later, or refused for good.

use crate::ports::PortError;
use atpilot_store::{QueueError, StoreError};
use std::fmt;

/// Whether a failed message is worth another delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth retrying later (network, throttling, the kill switch): the
    /// message stays queued and is delivered again.
    Transient,
    /// Retrying will not help (bad data, a refused request): the message
    /// cannot be processed as it is.
    Permanent,
}

/// Why a handler did not finish, and whether retrying can help.
///
/// Its `Display` names the kind, the context and the cause (`retry later:
/// Autotask: temporary failure: …`), because the Lambda and local logs print
/// only `Display`; the cause is also kept as the `source`.
#[derive(Debug, thiserror::Error)]
pub struct HandlerError {
    kind: ErrorKind,
    context: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// The kind of Autotask write the tenant refused for lack of permission.
    denied: Option<String>,
    /// How long to wait before another delivery can succeed, when known
    /// (atpilot's own Autotask budget frees a request then).
    retry_after: Option<std::time::Duration>,
}

impl HandlerError {
    /// A failure a later delivery may not meet.
    pub fn transient(context: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Transient, context: context.into(), source: None, denied: None, retry_after: None }
    }

    /// A failure every delivery will meet.
    pub fn permanent(context: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Permanent, context: context.into(), source: None, denied: None, retry_after: None }
    }

    /// The same failure, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// True when another delivery may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Transient
    }

    /// The Autotask write (e.g. "create TicketNotes") the tenant refuses
    /// atpilot's API user, when that is why this failed.
    pub fn denied_operation(&self) -> Option<&str> {
        self.denied.as_deref()
    }

    /// How long until another delivery can succeed, when the failure says
    /// (the queue then holds the message back that long instead of its usual delay).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// What was being done, without the kind or the cause.
    pub fn context(&self) -> &str {
        &self.context
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Transient => "retry later",
            ErrorKind::Permanent => "cannot process this message",
        };
        write!(f, "{kind}: {}", self.context)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl From<PortError> for HandlerError {
    fn from(e: PortError) -> Self {
        // A refused permission waits (stays queued) until an admin grants it.
        let (kind, denied, retry_after) = match &e {
            PortError::Transient(_) => (ErrorKind::Transient, None, None),
            PortError::Permanent(_) => (ErrorKind::Permanent, None, None),
            PortError::Denied { operation, .. } => (ErrorKind::Transient, Some(operation.clone()), None),
            // The work waits for atpilot's own budget, never becomes a dead letter for it.
            PortError::Budget { retry_after, .. } => (ErrorKind::Transient, None, Some(*retry_after)),
        };
        Self { kind, context: "Autotask".into(), source: Some(Box::new(e)), denied, retry_after }
    }
}

impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        Self::transient("state store").with_source(e)
    }
}

impl From<QueueError> for HandlerError {
    fn from(e: QueueError) -> Self {
        Self::transient("queue").with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_survives_the_conversion_and_the_cause_is_kept() {
        let e = HandlerError::from(PortError::Permanent("no such role".into()));
        assert_eq!(e.kind(), ErrorKind::Permanent);
        assert!(!e.is_retryable());
        assert_eq!(e.to_string(), "cannot process this message: Autotask: no such role");
        assert!(std::error::Error::source(&e).is_some());
        let e = HandlerError::from(PortError::Transient("throttled".into()));
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "retry later: Autotask: temporary failure: throttled");
        assert_eq!(HandlerError::transient("the kill switch is on").to_string(), "retry later: the kill switch is on");
    }
}
