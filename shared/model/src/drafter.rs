//! Reply drafts from the resolution notes of similar resolved tickets of the same
//! category, scrubbed so that **a draft never carries another customer's text**:
//!
//! 1. every resolution is scrubbed once, when the drafter is built: contact details,
//!    hostnames, machine names, long numbers, every known company and person name, and
//!    every word that fewer than `min_companies` different customers used in their
//!    resolutions (so a word only one customer ever wrote cannot travel);
//! 2. lines that are mostly placeholders after that are dropped;
//! 3. retrieval only looks at tickets of the requested category;
//! 4. a final check refuses the draft if any known name of another company, or any
//!    e-mail address, is still in it.
//!
//! Other providers (an LLM) plug in behind the same [`Drafter`] trait; their output
//! must pass the same scrub and check.

use crate::features::{FeatureConfig, SparseVec, idf_value};
use crate::scrub::{Scrubber, leaks};
use std::collections::{BTreeMap, BTreeSet};

/// A resolved ticket from history.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTicket {
    pub id: String,
    /// The customer (company) the ticket belongs to.
    pub company: String,
    pub category: String,
    /// Title and description.
    pub text: String,
    /// The technician's resolution note.
    pub resolution: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DraftRequest<'a> {
    pub text: &'a str,
    pub category: &'a str,
    pub company: &'a str,
    /// The requester's own first name, for the greeting.
    pub contact_first_name: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub text: String,
    /// Ids of the resolved tickets the draft was built from.
    pub sources: Vec<String>,
    /// Cosine similarity of the best source to the request.
    pub similarity: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("draft provider failed: {0}")]
    Provider(String),
}

/// Anything that can draft a reply. `Ok(None)` means "no safe draft": a human writes it.
pub trait Drafter: Send + Sync {
    fn draft(&self, req: &DraftRequest<'_>) -> Result<Option<Draft>, DraftError>;
}

#[derive(Debug, Clone)]
pub struct DrafterOptions {
    /// A word survives scrubbing only if this many different companies used it.
    pub min_companies: usize,
    /// Below this cosine similarity no draft is offered.
    pub min_similarity: f32,
    /// Further names to scrub (contacts, resources, vendors…).
    pub extra_names: Vec<String>,
}

impl Default for DrafterOptions {
    fn default() -> Self {
        Self { min_companies: 2, min_similarity: 0.2, extra_names: Vec::new() }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    vec: SparseVec,
    resolution: String,
}

/// Retrieval drafter: nearest resolved ticket of the same category, scrubbed.
#[derive(Debug, Clone)]
pub struct RetrievalDrafter {
    features: FeatureConfig,
    idf: Vec<f32>,
    by_category: BTreeMap<String, Vec<Entry>>,
    /// Every company and person name known: checked before a draft leaves.
    names: Vec<String>,
    scrubber: Scrubber,
    min_similarity: f32,
}

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase())
}

/// Sort by bucket, sum duplicates, L2-normalise.
fn canonical(mut v: SparseVec) -> SparseVec {
    let mut pairs: Vec<(u32, f32)> = v.idx.drain(..).zip(v.val.drain(..)).collect();
    pairs.sort_by_key(|p| p.0);
    let mut out = SparseVec::default();
    for (i, x) in pairs {
        if out.idx.last() == Some(&i) {
            *out.val.last_mut().unwrap() += x;
        } else {
            out.idx.push(i);
            out.val.push(x);
        }
    }
    let n: f32 = out.val.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        out.val.iter_mut().for_each(|x| *x /= n);
    }
    out
}

fn dot(a: &SparseVec, b: &SparseVec) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.idx.len() && j < b.idx.len() {
        match a.idx[i].cmp(&b.idx[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a.val[i] * b.val[j];
                i += 1;
                j += 1;
            }
        }
    }
    s
}

fn placeholder_share(line: &str) -> f32 {
    let toks: Vec<&str> = line.split_whitespace().collect();
    if toks.is_empty() {
        return 0.0;
    }
    toks.iter().filter(|t| t.contains('[') && t.contains(']')).count() as f32 / toks.len() as f32
}

impl RetrievalDrafter {
    pub fn build(tickets: &[ResolvedTicket], opts: &DrafterOptions) -> Self {
        let features = FeatureConfig {
            bits: 18,
            word_ngrams: 2,
            char_min: 0,
            char_max: 0,
            char_weight: 0.0,
            fold_digits: true,
            max_chars: 4000,
            keep_punct: false,
        };
        // words used by enough different companies
        let mut users: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for t in tickets {
            for w in words(&t.resolution) {
                users.entry(w).or_default().insert(t.company.as_str());
            }
        }
        let mut names: Vec<String> = tickets.iter().map(|t| t.company.clone()).collect();
        names.extend(opts.extra_names.iter().cloned());
        names.sort();
        names.dedup();
        names.retain(|n| !n.trim().is_empty());
        let name_words: BTreeSet<String> = names.iter().flat_map(|n| words(n).collect::<Vec<_>>()).collect();
        let vocabulary: BTreeSet<String> = users
            .into_iter()
            .filter(|(w, cs)| cs.len() >= opts.min_companies.max(1) && !name_words.contains(w))
            .map(|(w, _)| w)
            .collect();
        let scrubber = Scrubber::new().with_names(&names).with_vocabulary(vocabulary);
        // idf over ticket texts
        let dim = features.dim();
        let mut df = vec![0u32; dim];
        let counts: Vec<_> = tickets.iter().map(|t| features.counts(&t.text)).collect();
        for c in &counts {
            for &(i, _) in &c.words {
                df[i as usize] += 1;
            }
        }
        let idf: Vec<f32> = df.iter().map(|&d| idf_value(tickets.len(), d)).collect();
        let mut by_category: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for (t, c) in tickets.iter().zip(&counts) {
            let scrubbed = scrubber.scrub(&t.resolution);
            let kept: Vec<&str> =
                scrubbed.lines().map(str::trim).filter(|l| !l.is_empty() && placeholder_share(l) <= 0.34).collect();
            if kept.is_empty() {
                continue;
            }
            let mut v = SparseVec::default();
            features.weigh(c, &idf, &mut v);
            by_category.entry(t.category.clone()).or_default().push(Entry {
                id: t.id.clone(),
                vec: canonical(v),
                resolution: kept.join("\n"),
            });
        }
        Self { features, idf, by_category, names, scrubber, min_similarity: opts.min_similarity }
    }

    /// Scrub any text (e.g. an LLM's draft) the same way as retrieved resolutions.
    pub fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text)
    }

    /// Is this text safe to show this customer (no other company's name, no e-mail)?
    pub fn is_safe_for(&self, text: &str, company: &str) -> bool {
        let others: Vec<&str> =
            self.names.iter().map(String::as_str).filter(|n| !n.eq_ignore_ascii_case(company)).collect();
        !leaks(text, &others)
    }
}

impl Drafter for RetrievalDrafter {
    fn draft(&self, req: &DraftRequest<'_>) -> Result<Option<Draft>, DraftError> {
        let Some(entries) = self.by_category.get(req.category) else { return Ok(None) };
        let q = canonical(self.features.vectorize(req.text, &self.idf));
        let mut best: Option<(f32, &Entry)> = None;
        for e in entries {
            let s = dot(&q, &e.vec);
            if best.is_none_or(|(b, be)| s > b || (s == b && e.id < be.id)) {
                best = Some((s, e));
            }
        }
        let Some((sim, e)) = best else { return Ok(None) };
        if sim < self.min_similarity {
            return Ok(None);
        }
        let greeting = match req
            .contact_first_name
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphabetic() || c == '-' || c == ' '))
        {
            Some(n) => format!("Hello {n},"),
            None => "Hello,".to_string(),
        };
        let text = format!(
            "{greeting}\n\nThank you for your request. Here is what resolves this:\n\n{}\n\nIf this does not solve it, reply to this message and we will follow up.",
            e.resolution
        );
        if !self.is_safe_for(&text, req.company) {
            return Ok(None);
        }
        Ok(Some(Draft { text, sources: vec![e.id.clone()], similarity: sim }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, company: &str, category: &str, text: &str, resolution: &str) -> ResolvedTicket {
        ResolvedTicket {
            id: id.into(),
            company: company.into(),
            category: category.into(),
            text: text.into(),
            resolution: resolution.into(),
        }
    }

    fn history() -> Vec<ResolvedTicket> {
        vec![
            t(
                "1",
                "Contoso Ltd",
                "password-reset",
                "user cannot log in, password expired",
                "Hi Alice, I reset the password in Active Directory and asked the user to log in again. Call me on 555-123-4567. Regards, Bob at Contoso Ltd",
            ),
            t(
                "2",
                "Fabrikam Inc",
                "password-reset",
                "password expired cannot log in to outlook",
                "Reset the password in Active Directory and asked the user to log in again on FAB-PC0042.",
            ),
            t(
                "3",
                "Northwind",
                "password-reset",
                "locked out after password change",
                "Unlocked the account in Active Directory, reset the password and asked the user to log in again. zorblax",
            ),
            t(
                "4",
                "Northwind",
                "printer",
                "printer offline on floor 2",
                "Restarted the print spooler on nw-print01.northwind.local and cleared the queue.",
            ),
        ]
    }

    #[test]
    fn draft_comes_from_same_category_and_is_scrubbed() {
        let d = RetrievalDrafter::build(&history(), &DrafterOptions::default());
        let req = DraftRequest {
            text: "my password expired and I cannot log in",
            category: "password-reset",
            company: "Tailspin",
            contact_first_name: Some("Dana"),
        };
        let draft = d.draft(&req).unwrap().expect("a draft");
        assert!(draft.text.starts_with("Hello Dana,"), "{}", draft.text);
        for bad in ["Alice", "Bob", "Contoso", "Fabrikam", "Northwind", "555", "PC0042", "zorblax", "print01"] {
            assert!(!draft.text.to_lowercase().contains(&bad.to_lowercase()), "{bad} leaked: {}", draft.text);
        }
        assert!(draft.text.to_lowercase().contains("reset the password"), "{}", draft.text);
        assert!(draft.similarity > 0.2);
    }

    #[test]
    fn no_draft_for_unknown_category_or_dissimilar_ticket() {
        let d = RetrievalDrafter::build(&history(), &DrafterOptions::default());
        let req = DraftRequest { text: "password", category: "licence", company: "X", contact_first_name: None };
        assert!(d.draft(&req).unwrap().is_none());
        let req = DraftRequest {
            text: "the coffee machine is broken",
            category: "password-reset",
            company: "X",
            contact_first_name: None,
        };
        assert!(d.draft(&req).unwrap().is_none());
    }

    #[test]
    fn words_of_a_single_customer_never_travel() {
        // Only Northwind ever wrote "zorblax": it must not reach any other customer.
        let d = RetrievalDrafter::build(&history(), &DrafterOptions::default());
        for text in ["locked out after password change", "password expired", "cannot log in"] {
            let req = DraftRequest { text, category: "password-reset", company: "Tailspin", contact_first_name: None };
            if let Some(dr) = d.draft(&req).unwrap() {
                assert!(!dr.text.contains("zorblax"), "{}", dr.text);
                assert!(d.is_safe_for(&dr.text, "Tailspin"));
            }
        }
        assert!(!d.is_safe_for("ask Fabrikam Inc about it", "Tailspin"));
    }
}
