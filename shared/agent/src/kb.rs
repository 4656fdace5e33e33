//! A completed ticket as a KB draft: whether it holds reusable knowledge, and
//! the article (title, problem, environment, steps, resolution, a link back to
//! the ticket). Pure: the handler gathers the inputs and writes the result.
//!
//! Everything taken from the ticket is scrubbed (people, companies, e-mail
//! addresses, phone numbers, hostnames, IP addresses, links, credentials:
//! `atpilot_model::scrub`), checked for leaks once more, and HTML-escaped:
//! the only markup in the article is atpilot's own.

use crate::html::esc;
use atpilot_kb::ArticleDraft;
use atpilot_model::scrub::{Scrubber, leaks};

/// Resolutions that teach nothing: the ticket was not solved, or not a problem.
const NOT_REUSABLE: &[&str] = &[
    "duplicate",
    "spam",
    "no response",
    "not responding",
    "no reply from",
    "closed by customer",
    "customer closed",
    "merged into",
    "merged with",
    "test ticket",
    "no action",
    "resolved itself",
    "cancelled",
    "canceled",
    "wrong company",
    "sent in error",
];
/// Fewer words than this (after scrubbing) are not steps anyone can follow.
const MIN_WORDS: usize = 8;
/// The problem statement is cut here (characters).
const PROBLEM_CHARS: usize = 800;

/// What the article is made from.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub ticket_number: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// Autotask's `resolution`.
    pub resolution: Option<&'a str>,
    /// The category atpilot classified the ticket as (the article's environment).
    pub category: &'a str,
    /// What a runbook did, when one did (its plan, a sentence).
    pub runbook_plan: Option<&'a str>,
    /// Names to remove: the ticket's company and contact, and every other customer.
    pub names: &'a [String],
    /// The ticket in Autotask (`autotask.ticket_link` filled in), if configured.
    pub ticket_url: Option<&'a str>,
}

/// Why a ticket gets no draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

/// The draft of `s`, or why there is none.
///
/// # Errors
/// [`Skip`] with the reason, in words for the dashboard.
pub fn draft(s: &Source<'_>) -> Result<ArticleDraft, Skip> {
    let resolution = s.resolution.map(str::trim).filter(|r| !r.is_empty());
    let Some(resolution) = resolution else {
        return Err(Skip("no resolution was written on the ticket".into()));
    };
    let lower = format!("{} {}", s.title, resolution).to_lowercase();
    if let Some(p) = NOT_REUSABLE.iter().find(|p| lower.contains(*p)) {
        return Err(Skip(format!("nothing reusable: the ticket reads \"{p}\"")));
    }
    let scrubber = Scrubber::new().with_names(s.names);
    let clean = |t: &str| scrubber.scrub(t);
    let steps: Vec<String> = resolution
        .split(['\n', ';'])
        .flat_map(|l| l.split(". "))
        .map(|l| clean(l.trim().trim_start_matches(['-', '*', '•']).trim()))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let words = steps.iter().map(|l| l.split_whitespace().count()).sum::<usize>();
    if words < MIN_WORDS {
        return Err(Skip(format!("the resolution is too short to teach anything ({words} words)")));
    }
    let title = one_line(&clean(s.title));
    let title = if title.chars().any(char::is_alphabetic) { title } else { format!("Resolved: {}", s.category) };
    let problem: String = clean(s.description).chars().take(PROBLEM_CHARS).collect();
    let mut html = format!(
        "<h2>Problem</h2><p>{}</p><h2>Environment</h2><p>{}</p><h2>Steps</h2><ol>",
        esc(problem.trim()),
        esc(s.category)
    );
    if let Some(plan) = s.runbook_plan {
        html.push_str(&format!("<li>{}</li>", esc(&clean(plan))));
    }
    for step in &steps {
        html.push_str(&format!("<li>{}</li>", esc(step)));
    }
    html.push_str(&format!("</ol><h2>Resolution</h2><p>{}</p><h2>Source</h2><p>", esc(&clean(resolution))));
    html.push_str(&format!("Drafted by atpilot from Autotask ticket {}", esc(s.ticket_number)));
    if let Some(url) = s.ticket_url.filter(|u| u.starts_with("https://")) {
        html.push_str(&format!(" (<a href=\"{}\">open the ticket</a>)", esc(url)));
    }
    html.push_str(". A technician reviews it before it is published.</p>");
    let names: Vec<&str> = s.names.iter().map(String::as_str).collect();
    if leaks(&title, &names) || leaks(&html, &names) {
        return Err(Skip("a name or e-mail address survived scrubbing: kept out of the KB".into()));
    }
    Ok(ArticleDraft { title: title.chars().take(120).collect(), html })
}

/// One line of plain text: no angle brackets (a KB shows titles as text, and a
/// bracket is never needed to name a problem), no control characters.
fn one_line(s: &str) -> String {
    let plain: String = s.chars().map(|c| if c == '<' || c == '>' || c.is_control() { ' ' } else { c }).collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source<'a>(resolution: Option<&'a str>, names: &'a [String]) -> Source<'a> {
        Source {
            ticket_number: "T20261201.0042",
            title: "Outlook keeps asking for the password",
            description: "Hi, Dana Reyes here from Acme Legal LLP. Outlook on LAPTOP-0042 asks for my password every hour. Call me on +1 (555) 201-4455.",
            resolution,
            category: "email-outlook",
            runbook_plan: None,
            names,
            ticket_url: Some("https://ww5.autotask.net/Mvc/ServiceDesk/TicketDetail.mvc?ticketId=42"),
        }
    }

    #[test]
    fn a_resolution_with_steps_becomes_an_article_with_no_leak() {
        let names = vec!["Dana Reyes".to_string(), "Acme Legal LLP".to_string(), "Birch Dental".to_string()];
        let resolution = "Cleared the cached credentials in Credential Manager for dana.reyes@acme-legal.example.\n\
            Removed the stale profile on fs01.acme.local (10.0.0.12) and rebuilt it.\n\
            Temporary password Winter2026! given by phone; Birch Dental had the same issue last month.";
        let d = draft(&source(Some(resolution), &names)).unwrap();
        for leak in
            ["Dana", "Reyes", "Acme", "Birch", "dana.reyes@", "fs01", "10.0.0.12", "Winter2026", "LAPTOP-0042", "555"]
        {
            assert!(!d.html.contains(leak) && !d.title.contains(leak), "{leak} in {}", d.html);
        }
        assert!(d.html.contains("<h2>Steps</h2><ol><li>Cleared the cached credentials"), "{}", d.html);
        assert!(d.html.contains("href=\"https://ww5.autotask.net/"), "the link back: {}", d.html);
        assert_eq!(d.title, "Outlook keeps asking for the password");
    }

    #[test]
    fn what_teaches_nothing_is_skipped_with_why() {
        let names = vec![];
        assert_eq!(draft(&source(None, &names)).unwrap_err().0, "no resolution was written on the ticket");
        let dup = draft(&source(Some("Duplicate of T20261130.0007, closed."), &names)).unwrap_err();
        assert!(dup.0.contains("duplicate"), "{dup:?}");
        let short = draft(&source(Some("Fixed it."), &names)).unwrap_err();
        assert!(short.0.contains("too short"), "{short:?}");
    }

    #[test]
    fn ticket_text_is_never_markup_in_the_article() {
        let names = vec![];
        let mut s = source(
            Some("Ran <script>alert(1)</script> then restarted the print spooler service on the server <b>twice</b>."),
            &names,
        );
        s.title = "<img src=x onerror=alert(1)> printer";
        s.ticket_url = Some("javascript:alert(1)");
        let d = draft(&s).unwrap();
        assert!(
            !d.html.contains("<script") && !d.html.contains("<b>") && !d.html.contains("javascript:"),
            "{}",
            d.html
        );
        assert!(d.html.contains("&lt;script&gt;"), "{}", d.html);
        assert!(!d.title.contains('<'), "{}", d.title);
    }
}
