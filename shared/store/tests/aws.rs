//! The conformance suites against DynamoDB and SQS, through an API-speaking
//! emulator (moto in server mode; `scripts/test` starts it and sets
//! `AWS_ENDPOINT_URL`). With `ATPILOT_REQUIRE_AWS=1` or `CI=true` a missing
//! or unreachable emulator fails every test; otherwise they are skipped with
//! a loud message, so a bare `cargo test` still works on a laptop.

use atpilot_store::dynamo::DynamoStateStore;
use atpilot_store::sqs::SqsQueue;
use std::sync::Arc;
use std::time::Duration;

fn required() -> bool {
    std::env::var("ATPILOT_REQUIRE_AWS").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The SDK configuration for the emulator, or `None` when tests should skip.
async fn aws() -> Option<aws_config::SdkConfig> {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        assert!(
            !required(),
            "AWS_ENDPOINT_URL is not set: run the tests with scripts/test, which starts the moto emulator"
        );
        eprintln!("SKIPPED: AWS_ENDPOINT_URL is not set; run scripts/test to test the DynamoDB and SQS adapters");
        return None;
    };
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Fail fast and clearly when the emulator is down.
    let probe = aws_sdk_sqs::Client::new(&conf).list_queues().send().await;
    if let Err(e) = probe {
        let msg =
            format!("the AWS emulator at {endpoint} is not reachable: {}", aws_sdk_sqs::error::DisplayErrorContext(&e));
        assert!(!required(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    Some(conf)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

macro_rules! skip_or {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return,
        }
    };
}

mod dynamodb {
    use super::*;

    async fn fresh() -> Option<Arc<dyn atpilot_store::StateStore>> {
        let conf = aws().await?;
        let store = DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&conf), unique("atpilot-test"));
        store.create_table().await.expect("CreateTable on the emulator");
        Some(Arc::new(store))
    }

    // Each conformance check, skipped (not failed) only outside CI without an emulator.
    macro_rules! dynamo_suite {
        (; $($name:ident),*) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = skip_or!(fresh().await);
                atpilot_store::conformance::state::$name(store).await;
            }
        )*};
    }
    // The same checks as every other state adapter.
    atpilot_store::for_each_state_check!(dynamo_suite);

    #[tokio::test]
    async fn missing_table_is_a_clear_error() {
        let conf = skip_or!(aws().await);
        let store = DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&conf), "atpilot-no-such-table");
        let err = atpilot_store::StateStore::get(&store, &atpilot_store::Key::new("a", "b")).await.unwrap_err();
        assert!(
            err.to_string().contains("ResourceNotFound")
                || err.to_string().contains("not found")
                || err.to_string().contains("non-existent"),
            "{err}"
        );
    }
}

mod sqs {
    use super::*;
    use atpilot_store::conformance::queue::QueueSpec;

    async fn fresh(spec: QueueSpec) -> Option<Arc<dyn atpilot_store::Queue>> {
        let conf = aws().await?;
        let q = SqsQueue::create_fifo(
            aws_sdk_sqs::Client::new(&conf),
            &unique("atpilot-test"),
            spec.visibility,
            spec.max_receives,
        )
        .await
        .expect("CreateQueue on the emulator");
        Some(Arc::new(q))
    }

    macro_rules! sqs_suite {
        ($($name:ident),*) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let q = skip_or!(fresh(QueueSpec::default()).await);
                atpilot_store::conformance::queue::$name(q).await;
            }
        )*};
    }
    sqs_suite!(
        duplicates_are_delivered_once,
        groups_are_delivered_in_order_one_at_a_time,
        unacknowledged_messages_come_back,
        released_messages_come_back_with_a_count,
        poison_messages_go_to_the_dead_letter_queue,
        partial_batch_failure_retries_only_failures,
        invalid_messages_are_refused
    );

    #[tokio::test]
    async fn missing_queue_is_a_clear_error() {
        let conf = skip_or!(aws().await);
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
        let q = SqsQueue::new(
            aws_sdk_sqs::Client::new(&conf),
            format!("{endpoint}/123456789012/atpilot-missing.fifo"),
            None,
        );
        let err = atpilot_store::Queue::receive(&q, 1, Duration::ZERO).await.unwrap_err();
        assert!(matches!(err, atpilot_store::QueueError::Rejected(_)), "{err}");
    }
}
