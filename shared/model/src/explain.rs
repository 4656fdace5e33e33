//! Why the model chose its label: the words that weighed most for it
//! against the runner-up, found by occlusion (each distinct word is taken
//! out of the text and the drop in the winner's lead over the runner-up is
//! its weight), and the runner-up with its probability. Model-agnostic: it
//! holds for word, n-gram and character features alike.

use crate::model::Model;

/// Words considered, at most (a long ticket's first distinct words): each
/// costs one more scoring of the text.
const MAX_WORDS: usize = 60;
/// A word longer than this is cut (it is shown to people).
const MAX_WORD_CHARS: usize = 40;

/// The evidence for one prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The predicted label's index.
    pub index: usize,
    /// Words (lower-case letters and digits only) and how much each raised
    /// the winner's lead in raw score, largest first; only positive ones.
    pub words: Vec<(String, f32)>,
    /// The runner-up's index and probability (`None` for a one-label model).
    pub runner_up: Option<(usize, f32)>,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(MAX_WORD_CHARS).collect())
        .collect()
}

impl Model {
    /// The `top` words that weighed most for the predicted label of `text`
    /// against the runner-up (see the module docs).
    pub fn evidence(&self, text: &str, top: usize) -> Evidence {
        let tokens = words(text);
        let joined = tokens.join(" ");
        let scores = self.scores(&joined);
        let p = self.predict_from_scores(&scores);
        let best = p.index;
        let runner_up = (0..p.probabilities.len())
            .filter(|i| *i != best)
            .max_by(|a, b| p.probabilities[*a].total_cmp(&p.probabilities[*b]));
        let Some(second) = runner_up else {
            return Evidence { index: best, words: vec![], runner_up: None };
        };
        let lead = |s: &[f32]| s[best] - s[second];
        let full = lead(&scores);
        let mut distinct: Vec<&String> = vec![];
        for t in &tokens {
            if distinct.len() < MAX_WORDS && !distinct.contains(&t) {
                distinct.push(t);
            }
        }
        let mut weighed: Vec<(String, f32)> = distinct
            .into_iter()
            .map(|w| {
                let without: Vec<&str> = tokens.iter().filter(|t| *t != w).map(String::as_str).collect();
                (w.clone(), full - lead(&self.scores(&without.join(" "))))
            })
            .filter(|(_, weight)| *weight > 0.0)
            .collect();
        weighed.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighed.truncate(top);
        Evidence { index: best, words: weighed, runner_up: Some((second, p.probabilities[second])) }
    }
}
