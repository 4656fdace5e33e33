//! Training examples from the sandbox's seeded tenant: every ticket since the
//! cut-off worked to completion, with its final queue as the label, the planted hand re-routes
//! (within an hour of creation) flagged exactly, and a model trained from them.

use atpilot_audit::training::{LabelKind, ReroutePolicy, TrainingOptions, collect_training};
use atpilot_autotask::Client;
use atpilot_autotask_sandbox::Sandbox;
use chrono::{Duration, Utc};

async fn sandbox(tickets: u64) -> (Sandbox, Client) {
    atpilot_e2e::sandbox_client(tickets, 1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_final_queues_and_planted_reroutes_are_flagged() {
    let (sb, client) = sandbox(600).await;
    let now = Utc::now();
    let opts = TrainingOptions::new(now - Duration::days(180), now, LabelKind::Queue);
    let set = collect_training(&client, &opts, &|_| {}).await.unwrap();
    let left: usize = set.left_out.iter().map(|l| l.tickets).sum();
    assert!(set.len() > 400, "{} examples, {left} left out: {:#?}", set.len(), set.left_out);
    assert_eq!(set.history_checked, set.len() + left, "every labelled ticket's history read under the limit");
    // Only tickets worked to completion, outside the queues nobody works, are learned from.
    assert!(set.left_out.iter().any(|l| l.why == "not worked to completion"), "{:#?}", set.left_out);
    let legacy = sb.facts().unmonitored_queue;
    assert!(set.labels.iter().all(|l| !l.ends_with(&format!("({legacy})"))), "the unworked queue is no label");
    assert_eq!(set.api_requests as usize, sb.request_count());

    let mut planted = 0;
    for (i, id) in set.ids.iter().enumerate() {
        let f = sb.ticket_facts(*id).unwrap();
        // the label is the final queue, named by its picklist label with its value
        assert!(set.labels[i].ends_with(&format!("({})", f.queue)), "{} vs {}", set.labels[i], f.queue);
        let early = f.rerouted_at.is_some_and(|at| at - f.create <= Duration::hours(1));
        assert_eq!(set.rerouted[i], early, "ticket {id}");
        planted += early as usize;
    }
    assert!(planted > 10, "the seed plants re-routes ({planted})");
    assert_eq!(set.reroutes.len(), planted);
    assert!(set.reroutes.iter().all(|r| r.from != r.to && !r.title.is_empty()));

    // the weights follow the policy, and training from them gives a model
    let (texts, labels, weights) = set.apply(ReroutePolicy::Downweight(0.25));
    let w = weights.unwrap();
    assert_eq!(w.iter().filter(|x| **x == 0.25).count(), planted);
    let cfg = atpilot_model::TrainConfig { epochs: 3, ..Default::default() };
    let (model, report) = atpilot_model::train_weighted(&texts, &labels, Some(&w), &cfg, &|_| {}).unwrap();
    assert!(report.labels >= 5);
    assert!(model.labels().iter().any(|l| l.starts_with("Service Desk (")), "{:?}", model.labels());
    let (kept, _, none) = set.apply(ReroutePolicy::Drop);
    assert_eq!((kept.len(), none), (set.len() - planted, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_beyond_the_limit_is_sampled_and_categories_are_plain_labels() {
    let (sb, client) = sandbox(300).await;
    let now = Utc::now();
    let mut opts = TrainingOptions::new(now - Duration::days(180), now, LabelKind::Category);
    opts.history_limit = 50;
    let set = collect_training(&client, &opts, &|_| {}).await.unwrap();
    assert_eq!(set.history_checked, 50);
    assert!(set.len() > 250);
    assert!(set.labels.iter().any(|l| l == "Password Reset"), "categories are sub-issue type labels");
    assert!(set.labels.iter().all(|l| !l.ends_with(')')));
    // only tickets whose history was read can be flagged
    let flagged = set.rerouted.iter().filter(|r| **r).count();
    assert!(flagged <= 50);
    drop(sb);
}
