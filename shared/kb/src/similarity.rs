//! How close an existing article is to a new draft: the cosine similarity of
//! their word counts, the title's words counting [`TITLE_WEIGHT`] times, in
//! `[0, 1]` (1: the same words in the same proportions). Words are runs of
//! letters and digits, lower-cased, from the text with HTML tags and
//! entities removed; words of one character and a few function words are
//! left out.

use crate::ArticleDraft;
use std::collections::HashMap;

/// How many times a title word counts against a body word.
pub const TITLE_WEIGHT: f64 = 3.0;

const STOP: &[&str] = &[
    "the", "and", "for", "with", "this", "that", "from", "are", "was", "you", "your", "our", "has", "have", "not",
    "but", "can", "will", "its", "into", "to", "of", "in", "on", "is", "it", "an", "be", "or", "as", "at", "by", "we",
];

/// Text of an HTML fragment: tags dropped (as spaces), the common entities decoded.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn add_words(counts: &mut HashMap<String, f64>, text: &str, weight: f64) {
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        let w = w.to_lowercase();
        if w.chars().count() > 1 && !STOP.contains(&w.as_str()) {
            *counts.entry(w).or_default() += weight;
        }
    }
}

fn cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(w, x)| b.get(w).map(|y| x * y)).sum();
    let norm = |m: &HashMap<String, f64>| m.values().map(|x| x * x).sum::<f64>().sqrt();
    let n = norm(a) * norm(b);
    if n > 0.0 { (dot / n).clamp(0.0, 1.0) } else { 0.0 }
}

fn counts(title: &str, html: &str) -> HashMap<String, f64> {
    let mut m = HashMap::new();
    add_words(&mut m, title, TITLE_WEIGHT);
    add_words(&mut m, &text_of(html), 1.0);
    m
}

/// The similarity of `draft` to an article of `title` and `html` content.
pub fn score(draft: &ArticleDraft, title: &str, html: &str) -> f64 {
    cosine(&counts(&draft.title, &draft.html), &counts(title, html))
}

/// The similarity of two titles alone (to pick whose content is worth reading).
pub fn title_score(a: &str, b: &str) -> f64 {
    cosine(&counts(a, ""), &counts(b, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str, html: &str) -> ArticleDraft {
        ArticleDraft { title: title.into(), html: html.into() }
    }

    #[test]
    fn the_same_article_scores_one_and_an_unrelated_one_near_zero() {
        let d = draft("Reset an Outlook profile", "<p>Close Outlook.</p><ol><li>Open Mail in Control Panel</li></ol>");
        assert!((score(&d, &d.title, &d.html) - 1.0).abs() < 1e-9);
        let other =
            score(&d, "Replace a printer toner cartridge", "<p>Open the front door and pull the cartridge.</p>");
        assert!(other < 0.1, "{other}");
        let near = score(&d, "Outlook profile reset", "<p>Close Outlook, then open Mail in the Control Panel.</p>");
        assert!(near > 0.7, "{near}");
    }

    #[test]
    fn tags_and_entities_are_not_words() {
        assert_eq!(
            text_of("<p class=\"x\">Tom &amp; Jerry&nbsp;</p>").split_whitespace().collect::<Vec<_>>(),
            ["Tom", "&", "Jerry"]
        );
        assert_eq!(score(&draft("", "<b></b>"), "", ""), 0.0, "nothing to compare is no similarity");
    }
}
