//! Small statistics of the audit: median, share, hours, cosine similarity
//! of issue-type mixes, and percentages as the reports print them.

use chrono::Duration;
use std::collections::BTreeMap;

pub(super) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

pub(super) fn share(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

pub(super) fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

pub(super) fn cosine(a: &BTreeMap<i64, usize>, b: &BTreeMap<i64, usize>) -> f64 {
    let dot: f64 = a.iter().map(|(k, x)| *x as f64 * *b.get(k).unwrap_or(&0) as f64).sum();
    let na: f64 = a.values().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.values().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

pub fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 1.0 { format!("{p:.1}%") } else { format!("{p:.0}%") }
}
