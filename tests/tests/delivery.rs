//! Queue messages through the Lambda's batch helper (`atpilot_lambda::fifo_batch`)
//! and the local runner: a message that can never be processed is kept whole
//! as a dead letter with an alert and acknowledged, so the messages behind it
//! go on; a transient failure fails it and the rest of the batch for retry.

use atpilot_agent::HandlerError;
use atpilot_agent::messages::{EventSource, TicketEvent};
use atpilot_e2e::Stack;
use aws_lambda_events::sqs::SqsEvent;
use serde_json::json;

fn event(ticket: i64) -> String {
    serde_json::to_string(&TicketEvent {
        ticket_id: atpilot_domain::TicketId::new(ticket).unwrap(),
        event_key: format!("e2e:{ticket}:1"),
        source: EventSource::Create,
        changed_fields: vec![],
        fields: Default::default(),
        person_id: None,
        received_at: chrono::Utc::now(),
    })
    .unwrap()
}

fn batch(bodies: &[(&str, String)]) -> SqsEvent {
    let records: Vec<_> = bodies.iter().map(|(id, body)| json!({"messageId": id, "body": body})).collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_can_never_succeed_becomes_a_dead_letter_and_the_batch_goes_on() {
    let s = Stack::start().await;
    let garbage = r#"{"ticket_id": 31, "title": "not an event \ud800"}"#.to_string();
    let ev = batch(&[("m1", event(11)), ("m2", garbage.clone()), ("m3", event(12))]);
    let mut seen = Vec::new();
    let (response, outcomes) = atpilot_lambda::fifo_batch(&s.local.deps, ev, async |e: TicketEvent| {
        seen.push(e.ticket_id.get());
        Ok::<_, HandlerError>(e.ticket_id.get())
    })
    .await;
    assert_eq!(seen, [11, 12], "m3 is handled after m2 was set aside");
    assert_eq!(outcomes, [11, 12]);
    assert!(response.batch_item_failures.is_empty(), "nothing is retried: {response:?}");
    let dead = s.local.deps.state.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, "classify#m2");
    assert_eq!(dead[0].body, garbage, "kept byte for byte");
    assert_eq!(dead[0].ticket_id.map(|t| t.get()), Some(31));
    assert!(dead[0].error.contains("not a ticket event"), "{}", dead[0].error);
    let alerts = s.local.deps.state.alerts(10).await.unwrap();
    assert!(alerts.iter().any(|a| a.kind == "dead-letter" && a.message.contains("ticket id 31")), "{alerts:?}");
    // A handler's permanent refusal is set aside the same way; a redelivery stores nothing new.
    for _ in 0..2 {
        let (r, _) = atpilot_lambda::fifo_batch(&s.local.deps, batch(&[("m4", event(13))]), async |_: TicketEvent| {
            Err::<(), _>(HandlerError::permanent("refused for good"))
        })
        .await;
        assert!(r.batch_item_failures.is_empty());
    }
    let dead = s.local.deps.state.dead_letters(10).await.unwrap();
    assert_eq!(dead.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["classify#m4", "classify#m2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_retries_it_and_everything_after_it_in_order() {
    let s = Stack::start().await;
    let ev = batch(&[("m1", event(11)), ("m2", event(12)), ("m3", event(13))]);
    let mut seen = Vec::new();
    let (response, outcomes) = atpilot_lambda::fifo_batch(&s.local.deps, ev, async |e: TicketEvent| {
        seen.push(e.ticket_id.get());
        match e.ticket_id.get() {
            12 => Err(HandlerError::transient("Autotask is throttling")),
            t => Ok(t),
        }
    })
    .await;
    assert_eq!(seen, [11, 12], "m3 is not processed after m2 failed");
    assert_eq!(outcomes, [11]);
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["m2", "m3"]);
    assert!(s.local.deps.state.dead_letters(10).await.unwrap().is_empty(), "a transient failure is no dead letter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_runner_sets_aside_what_the_lambda_sets_aside() {
    let s = Stack::start().await;
    atpilot_store::Queue::send(
        s.local.classify_queue.as_ref(),
        atpilot_store::OutMessage {
            body: "{\"not\": \"an event\"}".into(),
            group_id: "t-9".into(),
            dedup_id: "d-9".into(),
        },
    )
    .await
    .unwrap();
    let r = s.local.settle(5).await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.dead_letters.len(), 1, "{r:?}");
    assert!(s.local.classify_queue.is_empty(), "acknowledged, not redelivered");
    assert_eq!(s.local.deps.state.dead_letters(10).await.unwrap()[0].body, "{\"not\": \"an event\"}");
}

/// A queue that records how long each released message is held back.
struct Recording(std::sync::Mutex<Vec<(String, std::time::Duration)>>);

#[async_trait::async_trait]
impl atpilot_store::Queue for Recording {
    async fn send(&self, _: atpilot_store::OutMessage) -> Result<(), atpilot_store::QueueError> {
        Ok(())
    }
    async fn receive(
        &self,
        _: u32,
        _: std::time::Duration,
    ) -> Result<Vec<atpilot_store::Delivery>, atpilot_store::QueueError> {
        Ok(vec![])
    }
    async fn ack(&self, _: &str) -> Result<(), atpilot_store::QueueError> {
        Ok(())
    }
    async fn release(&self, receipt: &str, delay: std::time::Duration) -> Result<(), atpilot_store::QueueError> {
        self.0.lock().unwrap().push((receipt.to_string(), delay));
        Ok(())
    }
    async fn dead_letters(&self, _: u32) -> Result<Vec<atpilot_store::Delivery>, atpilot_store::QueueError> {
        Ok(vec![])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_up_autotask_budget_holds_the_message_back_until_it_frees_and_alerts_once() {
    use atpilot_agent::ports::PortError;
    let s = Stack::start().await;
    let queue = std::sync::Arc::new(Recording(Default::default()));
    let mut deps = s.local.deps.clone();
    deps.classify_queue = queue.clone();
    let records: Vec<_> = [("m1", event(11), "r-1"), ("m2", event(12), "r-2")]
        .iter()
        .map(|(id, body, receipt)| json!({"messageId": id, "body": body, "receiptHandle": receipt}))
        .collect();
    let budget = |wait| PortError::Budget { message: "2500 of 2500 requests".into(), retry_after: wait };
    for round in 0..2 {
        let ev: SqsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
        let (response, _) = atpilot_lambda::fifo_batch(&deps, ev, async |_: TicketEvent| {
            Err::<(), _>(HandlerError::from(budget(std::time::Duration::from_secs(1500))))
        })
        .await;
        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(failed, ["m1", "m2"], "round {round}: retried, in order");
    }
    // Held back 25 minutes: the failed one and every one after it, each round.
    let held = queue.0.lock().unwrap().clone();
    let wait = std::time::Duration::from_secs(1500);
    let round = [("r-1".to_string(), wait), ("r-2".to_string(), wait)];
    assert_eq!(held, [round.clone(), round].concat());
    assert!(s.local.deps.state.dead_letters(10).await.unwrap().is_empty(), "waiting is no dead letter");
    let alerts = s.local.deps.state.alerts(10).await.unwrap();
    let budget_alerts: Vec<_> = alerts.iter().filter(|a| a.kind == "autotask-budget").collect();
    assert_eq!(budget_alerts.len(), 1, "one alert an hour: {alerts:?}");
    assert!(budget_alerts[0].message.contains("about 25 minutes"), "{}", budget_alerts[0].message);
}
