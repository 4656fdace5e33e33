//! Writes the tenant's security level refuses. Autotask answers them with
//! HTTP 500 and a sentence (the client reads it as `Error::Forbidden`); every
//! later ticket would meet the same refusal, so after one the adapter pauses
//! that kind of write ("create TicketNotes", "update Tickets", "create
//! TimeEntries") for [`PAUSE`]: it answers [`PortError::Denied`] without
//! calling Autotask, then lets one write through to see whether the
//! permission was granted. A success ends the pause.

use crate::ports::PortError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one refusal pauses its kind of write.
pub const PAUSE: Duration = Duration::from_secs(10 * 60);

/// The paused kinds of write, with when and why.
#[derive(Default)]
pub(super) struct WritePauses {
    paused: Mutex<HashMap<&'static str, (Instant, String)>>,
}

impl WritePauses {
    /// Runs the write `op` (e.g. "create TicketNotes") unless it is paused.
    pub(super) async fn run<T>(
        &self,
        op: &'static str,
        write: impl Future<Output = Result<T, atpilot_autotask::Error>>,
    ) -> Result<T, PortError> {
        if let Some((since, why)) = self.active(op) {
            let message = format!("paused for {} s after Autotask refused it: {why}", since.elapsed().as_secs().max(1));
            return Err(PortError::Denied { operation: op.to_string(), message });
        }
        match write.await {
            Ok(v) => {
                self.lock().remove(op);
                Ok(v)
            }
            Err(e @ atpilot_autotask::Error::Forbidden { .. }) => {
                let message = e.to_string();
                self.lock().insert(op, (Instant::now(), message.clone()));
                tracing::error!(operation = op, %message, "Autotask refused a write for lack of permission; that kind of write is paused");
                Err(PortError::Denied { operation: op.to_string(), message })
            }
            Err(e) => Err(super::port_error(e)),
        }
    }

    fn active(&self, op: &str) -> Option<(Instant, String)> {
        self.lock().get(op).filter(|(at, _)| at.elapsed() < PAUSE).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, (Instant, String)>> {
        self.paused.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden() -> atpilot_autotask::Error {
        atpilot_autotask::Error::Forbidden { status: 500, messages: vec!["User does not have permission".into()] }
    }

    #[tokio::test]
    async fn one_refusal_pauses_that_kind_of_write_only() {
        let p = WritePauses::default();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let refuse = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err::<(), _>(forbidden())
        };
        assert!(matches!(p.run("create TicketNotes", refuse()).await, Err(PortError::Denied { .. })));
        // Paused: the second note is not sent at all.
        let e = p.run("create TicketNotes", refuse()).await.unwrap_err();
        assert!(e.to_string().contains("paused"), "{e}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another kind of write is not paused.
        assert_eq!(p.run("update Tickets", async { Ok::<_, atpilot_autotask::Error>(7) }).await.unwrap(), 7);
    }
}
