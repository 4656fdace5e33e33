//! What a restart of `atpilot dev` on a kept state does with what an earlier
//! run left pending on its sandbox tickets. The sandbox is seeded afresh at
//! each start, so tickets created during an earlier run (ids above the
//! seeded ones, below this run's floor: [`crate::state_dir::ids_floor`]) are
//! gone; their pending approval requests could only ever answer "the ticket
//! no longer exists", so they are expired at start, with why.

use atpilot_store::records::{ApprovalState, Transition};
use atpilot_store::{State, StoreError};
use chrono::{DateTime, Utc};

/// The note an expired request of an earlier run carries.
pub const NOTE: &str =
    "not carried out: its ticket was in an earlier atpilot dev run's sandbox, which is seeded afresh at each start";

/// Expires every pending request on a ticket with an id in
/// (`last_seeded_id`, `floor`): an earlier run's. Returns how many.
pub async fn expire_requests(
    state: &State,
    last_seeded_id: i64,
    floor: i64,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut expired = 0;
    loop {
        let mut moved = 0;
        for a in state.approvals_in_state(ApprovalState::Pending, 500).await? {
            let id = a.ticket_id.get();
            if id <= last_seeded_id || id >= floor {
                continue;
            }
            if state.decide_approval(&a.expired_by_atpilot(now, NOTE)).await? == Transition::Done {
                moved += 1;
            }
        }
        expired += moved;
        if moved == 0 {
            return Ok(expired);
        }
    }
}
