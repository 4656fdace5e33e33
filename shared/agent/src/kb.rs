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
    "duplicate of",
    "duplicate ticket",
    "marked as spam",
    "was spam",
    "is spam",
    "no response",
    "not responding",
    "no reply from",
    "closed by customer",
    "closed by the customer",
    "customer closed",
    "merged into",
    "merged with",
    "test ticket",
    "no action",
    "resolved itself",
    "request cancelled",
    "request canceled",
    "cancelled by the customer",
    "canceled by the customer",
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
    // Whole phrases of the resolution ("marked as spam"), not of the title ("spam filter blocks…").
    let words: String = resolution.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    let words = format!(" {} ", words.split_whitespace().collect::<Vec<_>>().join(" "));
    if let Some(p) = NOT_REUSABLE.iter().find(|p| words.contains(&format!(" {p} "))) {
        return Err(Skip(format!("nothing reusable: the resolution reads \"{p}\"")));
    }
    let scrubber = Scrubber::new().with_names(s.names);
    let clean = |t: &str| scrubber.scrub(t);
    // Scrubbed whole, then cut into steps: a name or credential over two lines is seen whole.
    let resolution = clean(resolution);
    let steps: Vec<String> = resolution
        .split('\n')
        .flat_map(|l| l.split(". "))
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let words = steps.iter().map(|l| l.split_whitespace().count()).sum::<usize>();
    if words < MIN_WORDS {
        return Err(Skip(format!("the resolution is too short to teach anything ({words} words)")));
    }
    let title = one_line(&clean(s.title));
    let title = if title.chars().any(char::is_alphabetic) { title } else { format!("Resolved: {}", s.category) };
    // The ticket number makes the title this ticket's own: drafting it again finds it, never another's.
    let base_title: String = title.chars().take(100).collect();
    let title = format!("{base_title} [{}]", one_line(s.ticket_number));
    let problem = problem_of(&clean(s.description));
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
    // The outcome the technician ended on (their last step: "Confirmed …"), not the steps again.
    let outcome = steps.last().map(String::as_str).unwrap_or(resolution.as_str());
    html.push_str(&format!("</ol><h2>Resolution</h2><p>{}</p><h2>Source</h2><p>", esc(outcome)));
    html.push_str(&format!("Drafted by atpilot from Autotask ticket {}", esc(s.ticket_number)));
    if let Some(url) = s.ticket_url.filter(|u| u.starts_with("https://")) {
        html.push_str(&format!(" (<a href=\"{}\">open the ticket</a>)", esc(url)));
    }
    html.push_str(". A technician reviews it before it is published.</p>");
    // Checked again piece by piece, as plain text: no known name or address, and nothing
    // left that scrubbing would still change.
    let names: Vec<&str> = s.names.iter().map(String::as_str).collect();
    let pieces = [base_title.as_str(), problem.as_str(), resolution.as_str()]
        .into_iter()
        .chain(steps.iter().map(String::as_str));
    for piece in pieces.chain(s.runbook_plan.map(&clean).as_deref()) {
        if leaks(piece, &names) || clean(piece) != piece {
            return Err(Skip("something personal survived scrubbing: kept out of the KB".into()));
        }
    }
    Ok(ArticleDraft { title, html })
}

/// The problem: the description's first paragraph (a signature block comes
/// after a blank line), cut at [`PROBLEM_CHARS`] with a mark when it is.
fn problem_of(description: &str) -> String {
    let first = description.trim().split("\n\n").next().unwrap_or_default().trim();
    if first.chars().count() <= PROBLEM_CHARS {
        return first.to_string();
    }
    let cut: String = first.chars().take(PROBLEM_CHARS).collect();
    format!("{cut} [… the rest is on the ticket]")
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
        // The resolution is the outcome the technician ended on, not the steps a second time.
        let resolution = d.html.split("<h2>Resolution</h2><p>").nth(1).unwrap().split("</p>").next().unwrap();
        assert!(resolution.starts_with("Temporary password") && !resolution.contains("Cleared"), "{resolution}");
        assert!(d.html.contains("href=\"https://ww5.autotask.net/"), "the link back: {}", d.html);
        assert_eq!(d.title, "Outlook keeps asking for the password [T20261201.0042]");
    }

    #[test]
    fn a_name_or_credential_over_two_lines_is_scrubbed_whole() {
        let names = vec!["Birch Dental".to_string()];
        let resolution = "Set the temporary password to\nXk9#tQ2 and reset the profile on the laptop.\nBirch\nDental had the same issue; Regards,\nCharlie Brown";
        let d = draft(&source(Some(resolution), &names)).unwrap();
        for leak in ["Xk9#tQ2", "Birch", "Charlie", "Brown"] {
            assert!(!d.html.contains(leak), "{leak} in {}", d.html);
        }
    }

    #[test]
    fn what_teaches_nothing_is_skipped_with_why() {
        let names = vec![];
        assert_eq!(draft(&source(None, &names)).unwrap_err().0, "no resolution was written on the ticket");
        let dup = draft(&source(Some("Duplicate of T20261130.0007, closed."), &names)).unwrap_err();
        assert!(dup.0.contains("duplicate"), "{dup:?}");
        let mut spam = source(
            Some(
                "Moved the message out of quarantine and added the sender to the spam filter's allow list for the whole company.",
            ),
            &names,
        );
        spam.title = "Spam filter blocks our supplier";
        assert!(draft(&spam).is_ok(), "a ticket about a spam filter is not spam");
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
