//! The conformance suites against the embedded adapters.

use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_store::memqueue::{MemQueue, MemQueueConfig};
use std::sync::Arc;

mod state {
    use super::*;
    atpilot_store::state_conformance_tests!(async {
        let dir = tempfile::tempdir().unwrap().keep();
        Arc::new(EmbeddedStateStore::open(&dir).unwrap())
    });
}

mod queue {
    use super::*;
    atpilot_store::queue_conformance_tests!(|spec: atpilot_store::conformance::queue::QueueSpec| async move {
        Arc::new(MemQueue::new(MemQueueConfig {
            visibility_timeout: spec.visibility,
            max_receives: spec.max_receives,
            ..Default::default()
        }))
    });
}

#[tokio::test]
async fn embedded_state_survives_a_restart() {
    use atpilot_store::{Condition, Item, Key, StateStore};
    let dir = tempfile::tempdir().unwrap();
    {
        let s = EmbeddedStateStore::open(dir.path()).unwrap();
        s.put(Item::new(Key::new("a", "b"), serde_json::json!({"kept": true})), Condition::Always).await.unwrap();
    }
    let s = EmbeddedStateStore::open(dir.path()).unwrap();
    assert_eq!(s.get(&Key::new("a", "b")).await.unwrap().unwrap().data["kept"], true);
}

#[tokio::test]
async fn embedded_store_reports_an_unwritable_directory() {
    let err =
        EmbeddedStateStore::open(std::path::Path::new("/proc/atpilot-cannot-write-here")).err().expect("must fail");
    assert!(err.to_string().contains("cannot create state directory"), "{err}");
}

#[tokio::test]
async fn opening_an_existing_store_never_creates_one_and_tells_a_locked_one_apart() {
    use atpilot_store::embedded::OpenError;
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("stat");
    assert!(matches!(EmbeddedStateStore::open_existing(&typo), Err(OpenError::Missing(_))));
    assert!(!typo.exists(), "nothing was created");
    let held = EmbeddedStateStore::open(dir.path()).unwrap();
    assert!(matches!(EmbeddedStateStore::open_existing(dir.path()), Err(OpenError::InUse(_))));
    drop(held);
    assert!(EmbeddedStateStore::open_existing(dir.path()).is_ok());
}
