//! The functions' CloudWatch metrics, as Embedded Metric Format lines on
//! stdout (CloudWatch turns them into metrics; the template's alarms read
//! `atpilot/AutotaskRequests` and `atpilot/AutonomousActions`).

use atpilot_autotask::Client;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A CloudWatch Embedded Metric Format line: namespace `atpilot`, no
/// dimensions, unit Count (the template's alarms read these names).
pub fn emf_line(metric: &str, value: u64, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{"Namespace": "atpilot", "Dimensions": [[]], "Metrics": [{"Name": metric, "Unit": "Count"}]}]},
        metric: value,
    })
    .to_string()
}

/// Reports one function's Autotask requests (from its client's counter) and
/// autonomous actions. Cheap to clone: clones share what was reported.
#[derive(Clone)]
pub struct Meter {
    client: Client,
    reported: Arc<AtomicU64>,
}

impl Meter {
    /// A meter over `client`'s request counter, nothing reported yet.
    pub fn new(client: &Client) -> Self {
        Meter { client: client.clone(), reported: Arc::new(AtomicU64::new(0)) }
    }

    /// The EMF lines for the requests made since the last flush and for
    /// `autonomous_actions` (none when both are zero).
    pub fn lines(&self, autonomous_actions: u64, timestamp_ms: i64) -> Vec<String> {
        let total = self.client.stats().requests;
        let before = self.reported.swap(total, Ordering::Relaxed);
        let mut lines = Vec::new();
        if total > before {
            lines.push(emf_line("AutotaskRequests", total - before, timestamp_ms));
        }
        if autonomous_actions > 0 {
            lines.push(emf_line("AutonomousActions", autonomous_actions, timestamp_ms));
        }
        lines
    }

    /// Prints [`Meter::lines`] for now on stdout, where CloudWatch reads EMF.
    pub fn flush(&self, autonomous_actions: u64) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        for line in self.lines(autonomous_actions, now) {
            println!("{line}");
        }
    }

    /// `router` with [`Meter::flush`] after every request (the HTTP functions).
    pub fn metered(&self, router: axum::Router) -> axum::Router {
        let meter = self.clone();
        router.layer(axum::middleware::map_response(move |res: axum::response::Response| {
            let meter = meter.clone();
            async move {
                meter.flush(0);
                res
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_is_what_cloudwatch_and_the_alarms_expect() {
        let v: serde_json::Value = serde_json::from_str(&emf_line("AutotaskRequests", 7, 1_795_860_000_000)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"_aws":{"Timestamp":1795860000000i64,"CloudWatchMetrics":[{"Namespace":"atpilot","Dimensions":[[]],"Metrics":[{"Name":"AutotaskRequests","Unit":"Count"}]}]},"AutotaskRequests":7})
        );
    }
}
