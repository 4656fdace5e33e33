//! Content vs contract routing: for each queue, are its tickets better
//! predicted from their text (atpilot's classifier) or from who sent them
//! (the majority queue of their contract, company, or contract type)?
//! Both predictors are cross-validated on the same folds of the audited tickets.

use crate::rows::sample_hash;
use atpilot_model::train::{Loss, TrainConfig};
use std::collections::BTreeMap;

/// One ticket of the model sample.
#[derive(Debug, Clone)]
pub struct RoutingExample {
    pub id: i64,
    pub text: String,
    pub company: Option<i64>,
    pub contract: Option<i64>,
    pub contract_type: Option<i64>,
    pub queue: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingSignal {
    Content,
    Contract,
    Mixed,
}

impl RoutingSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingSignal::Content => "content",
            RoutingSignal::Contract => "contract",
            RoutingSignal::Mixed => "mixed",
        }
    }
}

/// Per-queue cross-validated F1 of both predictors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueRouting {
    pub support: usize,
    pub text_f1: f64,
    pub contract_f1: f64,
    pub signal: RoutingSignal,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutingResult {
    pub by_queue: BTreeMap<i64, QueueRouting>,
    pub text_accuracy: f64,
    pub contract_accuracy: f64,
    pub examples: usize,
    pub folds: usize,
}

/// F1 margin one predictor needs over the other to name the signal.
pub const SIGNAL_MARGIN: f64 = 0.10;
/// Tickets a queue needs in the sample to get a signal other than mixed.
pub const MIN_SUPPORT: usize = 10;

/// The signal from the two F1 scores.
pub fn signal(support: usize, text_f1: f64, contract_f1: f64) -> RoutingSignal {
    if support < MIN_SUPPORT {
        RoutingSignal::Mixed
    } else if text_f1 >= contract_f1 + SIGNAL_MARGIN {
        RoutingSignal::Content
    } else if contract_f1 >= text_f1 + SIGNAL_MARGIN {
        RoutingSignal::Contract
    } else {
        RoutingSignal::Mixed
    }
}

/// The contract-side predictor: the majority queue of the ticket's contract
/// (≥ 3 training tickets), else its company's, else its contract type's,
/// else the overall majority.
#[derive(Debug, Default)]
pub struct ContractPredictor {
    by_contract: BTreeMap<i64, BTreeMap<i64, usize>>,
    by_company: BTreeMap<i64, BTreeMap<i64, usize>>,
    by_type: BTreeMap<i64, BTreeMap<i64, usize>>,
    overall: BTreeMap<i64, usize>,
}

fn majority(m: &BTreeMap<i64, usize>) -> Option<i64> {
    // Ties go to the smaller queue id (deterministic).
    m.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(q, _)| *q)
}

impl ContractPredictor {
    pub fn fit<'a>(train: impl IntoIterator<Item = &'a RoutingExample>) -> Self {
        let mut p = ContractPredictor::default();
        for e in train {
            if let Some(c) = e.contract {
                *p.by_contract.entry(c).or_default().entry(e.queue).or_default() += 1;
            }
            if let Some(c) = e.company {
                *p.by_company.entry(c).or_default().entry(e.queue).or_default() += 1;
            }
            if let Some(t) = e.contract_type {
                *p.by_type.entry(t).or_default().entry(e.queue).or_default() += 1;
            }
            *p.overall.entry(e.queue).or_default() += 1;
        }
        p
    }

    pub fn predict(&self, e: &RoutingExample) -> Option<i64> {
        let enough = |m: &BTreeMap<i64, usize>| m.values().sum::<usize>() >= 3;
        e.contract
            .and_then(|c| self.by_contract.get(&c))
            .filter(|m| enough(m))
            .and_then(majority)
            .or_else(|| e.company.and_then(|c| self.by_company.get(&c)).and_then(majority))
            .or_else(|| e.contract_type.and_then(|t| self.by_type.get(&t)).and_then(majority))
            .or_else(|| majority(&self.overall))
    }
}

/// Per-label F1 of predictions (`None` predictions count as wrong).
pub fn per_label_f1(truth: &[i64], pred: &[Option<i64>]) -> BTreeMap<i64, f64> {
    let mut tp: BTreeMap<i64, usize> = BTreeMap::new();
    let mut fp: BTreeMap<i64, usize> = BTreeMap::new();
    let mut fnn: BTreeMap<i64, usize> = BTreeMap::new();
    for (t, p) in truth.iter().zip(pred) {
        if *p == Some(*t) {
            *tp.entry(*t).or_default() += 1;
        } else {
            *fnn.entry(*t).or_default() += 1;
            if let Some(p) = p {
                *fp.entry(*p).or_default() += 1;
            }
        }
    }
    let labels: std::collections::BTreeSet<i64> = truth.iter().copied().collect();
    labels
        .into_iter()
        .map(|l| {
            let tp = *tp.get(&l).unwrap_or(&0) as f64;
            let denom = 2.0 * tp + *fp.get(&l).unwrap_or(&0) as f64 + *fnn.get(&l).unwrap_or(&0) as f64;
            (l, if denom == 0.0 { 0.0 } else { 2.0 * tp / denom })
        })
        .collect()
}

/// The text model used in the comparison: the production classifier's
/// features, fewer epochs, no calibration (only the top label matters here).
pub fn text_config() -> TrainConfig {
    TrainConfig { loss: Loss::Hinge, epochs: 5, calibration_fraction: 0.0, threads: 1, ..TrainConfig::default() }
}

/// Cross-validates both predictors over `folds` folds (assigned by id hash)
/// and names each queue's routing signal.
pub fn compare(examples: &[RoutingExample], folds: usize) -> RoutingResult {
    let folds = folds.max(2);
    let n = examples.len();
    let mut text_pred: Vec<Option<i64>> = vec![None; n];
    let mut contract_pred: Vec<Option<i64>> = vec![None; n];
    let fold_of: Vec<usize> =
        examples.iter().map(|e| (sample_hash(e.id ^ 0x5bd1_e995) % folds as u64) as usize).collect();
    let cfg = text_config();
    for f in 0..folds {
        let train_idx: Vec<usize> = (0..n).filter(|i| fold_of[*i] != f).collect();
        let test_idx: Vec<usize> = (0..n).filter(|i| fold_of[*i] == f).collect();
        if train_idx.is_empty() || test_idx.is_empty() {
            continue;
        }
        let cp = ContractPredictor::fit(train_idx.iter().map(|i| &examples[*i]));
        for &i in &test_idx {
            contract_pred[i] = cp.predict(&examples[i]);
        }
        let texts: Vec<String> = train_idx.iter().map(|i| examples[*i].text.clone()).collect();
        let labels: Vec<String> = train_idx.iter().map(|i| examples[*i].queue.to_string()).collect();
        match atpilot_model::train(&texts, &labels, &cfg, &|_| {}) {
            Ok((model, _)) => {
                for &i in &test_idx {
                    text_pred[i] = model.predict(&examples[i].text).label.parse().ok();
                }
            }
            Err(_) => {
                // One label only in this fold: that label is the text model's only answer.
                let only = examples[train_idx[0]].queue;
                for &i in &test_idx {
                    text_pred[i] = Some(only);
                }
            }
        }
    }
    let truth: Vec<i64> = examples.iter().map(|e| e.queue).collect();
    let tf1 = per_label_f1(&truth, &text_pred);
    let cf1 = per_label_f1(&truth, &contract_pred);
    let mut support: BTreeMap<i64, usize> = BTreeMap::new();
    for q in &truth {
        *support.entry(*q).or_default() += 1;
    }
    let acc = |p: &[Option<i64>]| {
        if n == 0 { 0.0 } else { truth.iter().zip(p).filter(|(t, p)| **p == Some(**t)).count() as f64 / n as f64 }
    };
    RoutingResult {
        by_queue: support
            .iter()
            .map(|(q, s)| {
                let (t, c) = (tf1[q], cf1[q]);
                (*q, QueueRouting { support: *s, text_f1: t, contract_f1: c, signal: signal(*s, t, c) })
            })
            .collect(),
        text_accuracy: acc(&text_pred),
        contract_accuracy: acc(&contract_pred),
        examples: n,
        folds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_needs_a_margin_and_support() {
        assert_eq!(signal(50, 0.9, 0.5), RoutingSignal::Content);
        assert_eq!(signal(50, 0.4, 0.8), RoutingSignal::Contract);
        assert_eq!(signal(50, 0.7, 0.65), RoutingSignal::Mixed);
        assert_eq!(signal(5, 0.9, 0.1), RoutingSignal::Mixed);
    }

    #[test]
    fn f1_per_label() {
        let f = per_label_f1(&[1, 1, 2, 2], &[Some(1), Some(2), Some(2), None]);
        assert!((f[&1] - 2.0 / 3.0).abs() < 1e-9);
        assert!((f[&2] - 0.5).abs() < 1e-9);
    }

    /// Queue 1 and 2 are chosen by what the ticket says; queue 3 is the
    /// dedicated queue of company 77, whatever its tickets say.
    #[test]
    fn content_and_contract_queues_are_told_apart() {
        let mut ex = vec![];
        let subjects = [
            (
                1,
                [
                    "printer jam on floor",
                    "printer offline again",
                    "toner empty in printer",
                    "scanner and printer broken",
                ],
            ),
            (2, ["password reset please", "locked out of account", "reset my password", "mfa and password help"]),
        ];
        let mut id = 0;
        for round in 0..30 {
            for (q, titles) in &subjects {
                for t in titles {
                    id += 1;
                    ex.push(RoutingExample {
                        id,
                        text: format!("{t} {round}"),
                        company: Some(10 + (id % 5)),
                        contract: None,
                        contract_type: None,
                        queue: *q,
                    });
                }
            }
            // company 77's tickets all go to queue 3, about anything
            for t in ["printer jam on floor", "reset my password", "new laptop needed", "vpn is down"] {
                id += 1;
                ex.push(RoutingExample {
                    id,
                    text: format!("{t} {round}"),
                    company: Some(77),
                    contract: Some(900),
                    contract_type: Some(7),
                    queue: 3,
                });
            }
        }
        let r = compare(&ex, 3);
        assert_eq!(r.by_queue[&1].signal, RoutingSignal::Content, "{:?}", r.by_queue[&1]);
        assert_eq!(r.by_queue[&2].signal, RoutingSignal::Content, "{:?}", r.by_queue[&2]);
        assert_eq!(r.by_queue[&3].signal, RoutingSignal::Contract, "{:?}", r.by_queue[&3]);
    }
}
