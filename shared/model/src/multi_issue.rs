//! Multi-issue detection: does a ticket ask for several unrelated things? Per-ticket
//! contracts must never bundle several issues into one resolution, so such a ticket is
//! escalated or split.
//!
//! Heuristic: split the text into parts (numbered or bulleted lines, sentences, and
//! joints such as "also", "additionally", "another issue"); keep the parts that ask for
//! something or report a problem; several such parts that share few content words, or
//! that a classifier assigns confidently to different labels, make a multi-issue ticket.

use crate::Model;

#[derive(Debug, Clone, PartialEq)]
pub struct MultiIssue {
    pub several: bool,
    /// The request parts found (at most a handful are meaningful).
    pub parts: Vec<String>,
    /// Why, in words a dispatcher understands.
    pub reasons: Vec<String>,
}

const JOINTS: &[&str] = &[
    "also",
    "additionally",
    "in addition",
    "another issue",
    "another thing",
    "another problem",
    "one more thing",
    "secondly",
    "second issue",
    "separately",
    "on another note",
    "apart from that",
    "besides that",
    "furthermore",
    "and also",
    "as well as that",
    "unrelated",
];

const REQUEST_CUES: &[&str] = &[
    "please",
    "can you",
    "could you",
    "can someone",
    "need",
    "needs",
    "unable",
    "cannot",
    "can't",
    "cant",
    "not working",
    "doesn't work",
    "does not work",
    "error",
    "issue",
    "problem",
    "request",
    "would like",
    "want",
    "set up",
    "setup",
    "install",
    "reset",
    "add",
    "remove",
    "create",
    "broken",
    "fails",
    "failed",
    "failing",
    "locked",
    "access",
    "help",
    "new",
    "replace",
    "upgrade",
    "license",
    "licence",
    "won't",
    "keeps",
    "slow",
    "crash",
    "jammed",
    "offline",
    "down",
    "stopped",
    "broke",
    "missing",
    "wrong",
    "expired",
];

const STOP: &[&str] = &[
    "the", "a", "an", "and", "or", "to", "of", "for", "in", "on", "at", "is", "it", "my", "me", "i", "we", "our",
    "you", "your", "please", "can", "could", "also", "with", "this", "that", "be", "are", "was", "have", "has", "need",
    "not", "would", "like", "hi", "hello", "thanks", "thank", "regards", "there", "some", "from", "as", "so", "do",
    "does",
];

fn content_words(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(|w| w.to_lowercase())
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn is_list_marker(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("• ") {
        return true;
    }
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    !digits.is_empty() && digits.len() <= 2 && matches!(t[digits.len()..].chars().next(), Some('.') | Some(')'))
}

/// Split into candidate parts and say whether an explicit list or joint was seen.
pub fn split_parts(text: &str) -> (Vec<String>, bool) {
    let mut explicit = false;
    let mut parts: Vec<String> = Vec::new();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let listed = lines.iter().filter(|l| is_list_marker(l)).count();
    if listed >= 2 {
        explicit = true;
        for l in lines.iter().filter(|l| is_list_marker(l)) {
            parts.push(l.trim_start_matches(|c: char| c.is_ascii_digit() || "-*•.) ".contains(c)).to_string());
        }
        return (parts, explicit);
    }
    let joined = lines.join(" ");
    for sentence in joined.split_inclusive(['.', '?', '!', ';']) {
        let mut rest = sentence.trim().to_string();
        // cut at joints ("…, and also …", "Also, …")
        loop {
            let lower = rest.to_lowercase();
            let cut = JOINTS
                .iter()
                .filter_map(|j| {
                    lower.match_indices(j).find(|(i, _)| {
                        let before_ok = *i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphanumeric();
                        let after = i + j.len();
                        let after_ok = after >= lower.len() || !lower.as_bytes()[after].is_ascii_alphanumeric();
                        before_ok && after_ok
                    })
                })
                .map(|(i, _)| i)
                .min();
            match cut {
                Some(0) => {
                    explicit = true;
                    // a sentence that starts with a joint continues a list of asks
                    let j = JOINTS.iter().filter(|j| lower.starts_with(*j)).map(|j| j.len()).max().unwrap_or(0);
                    rest = rest[j..].trim_start_matches([',', ' ']).to_string();
                    if !parts.is_empty() || j == 0 {
                        parts.push(rest.clone());
                        rest.clear();
                    }
                    if j == 0 {
                        break;
                    }
                }
                Some(i) => {
                    explicit = true;
                    parts.push(rest[..i].trim_end_matches([',', ' ']).to_string());
                    rest = rest[i..].to_string();
                }
                None => break,
            }
            if rest.is_empty() {
                break;
            }
        }
        if !rest.trim().is_empty() {
            parts.push(rest.trim().to_string());
        }
    }
    (parts, explicit)
}

fn is_request(part: &str) -> bool {
    let l = format!(" {} ", part.to_lowercase());
    part.contains('?')
        || REQUEST_CUES
            .iter()
            .any(|c| l.contains(&format!(" {c} ")) || l.contains(&format!(" {c},")) || l.contains(&format!(" {c}.")))
}

/// Heuristic detection from the text alone.
pub fn detect(text: &str) -> MultiIssue {
    let (parts, explicit) = split_parts(text);
    // items of a list are asks by nature; elsewhere a part must ask or report something
    let listed = explicit && text.lines().filter(|l| is_list_marker(l)).count() >= 2;
    let asks: Vec<String> =
        parts.into_iter().filter(|p| (listed || is_request(p)) && content_words(p).len() >= 2).collect();
    let mut reasons = Vec::new();
    let mut several = false;
    if asks.len() >= 2 {
        // two asks that share most content words are one issue told twice
        let words: Vec<Vec<String>> = asks.iter().map(|a| content_words(a)).collect();
        let mut distinct_pairs = 0;
        for i in 0..words.len() {
            for j in i + 1..words.len() {
                let inter = words[i].iter().filter(|w| words[j].contains(w)).count();
                let union = words[i].len() + words[j].len() - inter;
                if union > 0 && (inter as f32 / union as f32) < 0.25 {
                    distinct_pairs += 1;
                }
            }
        }
        if distinct_pairs > 0 && (explicit || asks.len() >= 3) {
            several = true;
            reasons.push(format!(
                "{} separate requests{}",
                asks.len(),
                if explicit { " (listed or joined by 'also')" } else { "" }
            ));
        }
    }
    MultiIssue { several, parts: asks, reasons }
}

/// Detection helped by a classifier: parts predicted confidently as different labels
/// are different issues, even without an explicit list.
pub fn detect_with_model(text: &str, model: &Model, min_confidence: f64) -> MultiIssue {
    let mut m = detect(text);
    if m.parts.len() >= 2 {
        let mut labels: Vec<(String, f64)> = Vec::new();
        for p in &m.parts {
            let pr = model.predict(p);
            if pr.confidence >= min_confidence {
                labels.push((pr.label, pr.confidence));
            }
        }
        let mut distinct: Vec<&str> = labels.iter().map(|(l, _)| l.as_str()).collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() >= 2 {
            m.several = true;
            m.reasons.push(format!("parts classified as {}", distinct.join(", ")));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_issue_is_one_issue() {
        for t in [
            "My password expired and I cannot log in to Outlook. Please reset it.",
            "The printer on floor 2 is offline.",
            "VPN not working since this morning, error 809. Can you help?",
        ] {
            let m = detect(t);
            assert!(!m.several, "{t}: {m:?}");
        }
    }

    #[test]
    fn several_asks_are_detected() {
        for t in [
            "Please reset my password for Outlook. Also, can you install Visio on my laptop?",
            "Hi,\n1. New starter Tom needs a mailbox\n2. The printer in reception is jammed\nThanks",
            "The VPN keeps dropping every hour. In addition we need two more Microsoft 365 licences for the sales team.",
        ] {
            let m = detect(t);
            assert!(m.several, "{t}: {m:?}");
            assert!(m.parts.len() >= 2);
        }
    }
}
