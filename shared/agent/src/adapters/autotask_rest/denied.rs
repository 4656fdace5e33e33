//! Writes the tenant's security level refuses. Autotask answers them with
//! HTTP 500 and a sentence (the client reads it as `Error::Forbidden`); every
//! later ticket would meet the same refusal, so after one the adapter pauses
//! that kind of write ("create TicketNotes", "update Tickets", "create
//! TimeEntries") for [`PAUSE`] when `entityInformation` confirms the API
//! user lacks that right: it answers [`PortError::Denied`] without calling
//! Autotask, then lets one write through to see whether the right was
//! granted. A success ends the pause. A permission refusal while the right
//! is granted (an access scope such as "Mine") concerns that ticket only.
//! The pause is per process (each Lambda instance finds out on its own).

use crate::ports::PortError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// "create TicketNotes": the kind of write, as alerts name it.
fn operation(entity: &str, right: &str) -> String {
    format!("{right} {entity}")
}

/// How long one refusal pauses its kind of write.
pub const PAUSE: Duration = Duration::from_secs(10 * 60);

/// The paused kinds of write, with when and why.
#[derive(Default)]
pub(super) struct WritePauses {
    paused: Mutex<HashMap<String, (Instant, String)>>,
}

impl WritePauses {
    /// Runs the write `right` ("create" | "update") of `entity` unless that
    /// kind of write is paused. A refusal that speaks of permission pauses it
    /// only when `entityInformation` confirms the API user lacks the right
    /// (`userAccessFor*` "None"); otherwise it concerns this ticket alone (an
    /// access scope such as "Mine") and is a permanent refusal of this write.
    pub(super) async fn run<T>(
        &self,
        client: &atpilot_autotask::Client,
        entity: &'static str,
        right: &'static str,
        write: impl Future<Output = Result<T, atpilot_autotask::Error>>,
    ) -> Result<T, PortError> {
        let op = operation(entity, right);
        if let Some((since, why)) = self.active(&op) {
            let message = format!("paused for {} s after Autotask refused it: {why}", since.elapsed().as_secs().max(1));
            return Err(PortError::Denied { operation: op, message });
        }
        match write.await {
            Ok(v) => {
                self.lock().remove(op.as_str());
                Ok(v)
            }
            Err(e @ atpilot_autotask::Error::Forbidden { .. }) => {
                let message = e.to_string();
                let lacks_right = client.entity_information(entity).await.is_ok_and(|i| !i.allows(right));
                if !lacks_right {
                    return Err(PortError::Permanent(format!(
                        "{message} (this ticket only: the API user may {op} in general)"
                    )));
                }
                self.lock().insert(op.clone(), (Instant::now(), message.clone()));
                tracing::error!(operation = %op, %message, "the API user lacks a right; that kind of write is paused");
                Err(PortError::Denied { operation: op, message })
            }
            Err(e) => Err(super::port_error(e)),
        }
    }

    fn active(&self, op: &str) -> Option<(Instant, String)> {
        self.lock().get(op).filter(|(at, _)| at.elapsed() < PAUSE).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, String)>> {
        self.paused.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_covers_its_kind_of_write_only_and_ends() {
        let p = WritePauses::default();
        p.lock().insert(operation("TicketNotes", "create"), (Instant::now(), "refused".into()));
        assert!(p.active("create TicketNotes").is_some());
        assert!(p.active("update Tickets").is_none());
        p.lock().insert(operation("Tickets", "update"), (Instant::now() - PAUSE, "refused".into()));
        assert!(p.active("update Tickets").is_none(), "over after PAUSE");
    }
}
