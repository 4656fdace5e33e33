//! One conformance suite per port, run against every adapter. An adapter's
//! test file calls [`state_conformance_tests!`](crate::state_conformance_tests)
//! and [`queue_conformance_tests!`](crate::queue_conformance_tests) with an
//! async expression that builds a fresh, empty instance.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Calls `$callback!(args… ; check, check, …)` with the name of every
/// state-store check: the one list every adapter's suite is generated from.
#[macro_export]
macro_rules! for_each_state_check {
    ($callback:path $(, $($args:tt)*)?) => {
        $callback!($($($args)*)? ;
            put_not_exists_is_exactly_once, state_transition_is_exactly_once_under_contention,
            expired_items_read_as_absent_and_can_be_reclaimed, query_by_prefix_in_order_with_limit,
            secondary_index_follows_rewrites_and_deletes, increment_is_atomic, delete_missing_is_fine,
            events_are_claimed_once, decisions_once_per_event_newest_first, approvals_move_once,
            decisions_by_day_and_approvals_by_month, ledger_is_exactly_once, phases_keep_history,
            settings_cache_snapshots_and_counters, kill_switch_keeps_who_and_when,
            reports_newest_first_and_size_limited, alerts_are_raised_once_newest_first,
            dead_letters_are_kept_once_newest_first, runbook_runs_are_claimed_once, replies_are_recorded_once, notes_are_recorded_once, alert_emails_keep_their_latest_outcome,
            deliveries_are_kept_per_channel_and_recipient, subjects_are_bound_once_and_released,
            status_updates_are_one_pending_per_ticket);
    };
}

/// Generates one `#[tokio::test]` per state-store check (the list of
/// [`for_each_state_check!`](crate::for_each_state_check)), each on a fresh
/// store built by the async expression `$make`.
#[macro_export]
macro_rules! state_conformance_tests {
    ($make:expr) => {
        $crate::for_each_state_check!($crate::state_conformance_tests, @each ($make));
    };
    (@each ($make:expr) ; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store: ::std::sync::Arc<dyn $crate::StateStore> = $make.await;
                $crate::conformance::state::$name(store).await;
            }
        )*
    };
}

/// Generates one `#[tokio::test]` per queue check. `$make` builds a fresh
/// queue from a `QueueSpec` (visibility 1 s, redrive after 2 receives).
#[macro_export]
macro_rules! queue_conformance_tests {
    ($make:expr) => {
        $crate::queue_conformance_tests!(@each $make;
            duplicates_are_delivered_once, groups_are_delivered_in_order_one_at_a_time,
            unacknowledged_messages_come_back, released_messages_come_back_with_a_count,
            poison_messages_go_to_the_dead_letter_queue, partial_batch_failure_retries_only_failures,
            invalid_messages_are_refused);
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let make = $make;
                let queue: ::std::sync::Arc<dyn $crate::Queue> = make($crate::conformance::queue::QueueSpec::default()).await;
                $crate::conformance::queue::$name(queue).await;
            }
        )*
    };
}

pub mod queue;
pub mod state;
