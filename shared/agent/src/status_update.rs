//! A status update's draft, in plain customer language: what was done (the
//! time entries' customer-facing summaries, each scrubbed and checked), what
//! happens next and when to expect news. Pure: the handler gathers the
//! inputs and a technician approves (and may edit) the text.
//!
//! Nothing internal leaks: internal notes are counted, never quoted; a
//! summary is left out (and the approver told why) when scrubbing would
//! change it (a person, a company, an address, a host, a credential), when
//! it names another ticket, or when it speaks of time or money. The draft is
//! plain text with no links: Autotask notes are plain text.

use crate::ports::TicketActivity;
use atpilot_model::scrub::{Scrubber, leaks};
use chrono::{DateTime, NaiveDate, Utc};

/// At most this many work summaries in one update (the latest).
const MAX_WORK: usize = 8;
/// A summary longer than this (characters) is cut at a word.
const SUMMARY_CHARS: usize = 200;

/// What the draft is made from.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub ticket_number: &'a str,
    /// The last customer-visible activity (or the ticket's creation): "since".
    pub since: NaiveDate,
    /// The date by which the customer will hear again.
    pub next_news_by: NaiveDate,
    pub activity: &'a TicketActivity,
    /// Names to remove: the contact, every customer company, and (unless
    /// `[status_updates] staff_names`) every resource.
    pub names: &'a [String],
}

/// The draft and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub text: String,
    /// For the approver, never the customer: e.g. "a work summary: it names another ticket".
    pub left_out: Vec<String>,
}

/// Why one summary may not go to the customer, if it may not.
fn refusal(summary: &str, scrubber: &Scrubber, names: &[&str]) -> Option<&'static str> {
    if leaks(summary, names) || scrubber.scrub(summary) != summary {
        return Some("it names a person, a company, an address, a host or a credential");
    }
    let lower = summary.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let ticket_ref = summary.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '.');
        w.len() == 14
            && w.starts_with('T')
            && w.get(1..9).is_some_and(|d| d.bytes().all(|c| c.is_ascii_digit()))
            && w.get(9..10) == Some(".")
    }) || words.windows(2).any(|p| p[0] == "ticket" && p[1].chars().all(|c| c.is_ascii_digit()));
    if ticket_ref {
        return Some("it names another ticket");
    }
    // A server or device name the scrubber does not know (DC01, SRV-02, PC1234): letters then digits, in capitals.
    let host_like = summary.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).any(|w| {
        let letters = w.chars().take_while(|c| c.is_ascii_uppercase()).count();
        let rest = w[letters..].trim_start_matches('-');
        (2..=15).contains(&letters) && !rest.is_empty() && rest.len() <= 6 && rest.bytes().all(|b| b.is_ascii_digit())
    });
    if host_like {
        return Some("it names what looks like a server or device");
    }
    const MONEY_TIME: &[&str] = &[
        "hour", "hours", "hr", "hrs", "minute", "minutes", "min", "mins", "invoice", "invoiced", "bill", "billed",
        "billable", "cost", "costs", "price", "quote", "rate", "charge", "charged", "usd", "eur", "gbp",
    ];
    if summary.contains(['$', '€', '£']) || words.iter().any(|w| MONEY_TIME.contains(w)) {
        return Some("it speaks of time or money");
    }
    None
}

/// One line, no control characters, cut at a word past [`SUMMARY_CHARS`].
fn tidy(s: &str) -> String {
    let line = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= SUMMARY_CHARS {
        return line;
    }
    let cut: String = line.chars().take(SUMMARY_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).to_string();
    format!("{cut} …")
}

/// The update's text for `s`.
pub fn draft(s: &Source<'_>) -> Draft {
    let scrubber = Scrubber::new().with_names(s.names);
    let names: Vec<&str> = s.names.iter().map(String::as_str).collect();
    let mut left_out = Vec::new();
    let mut done = Vec::new();
    let summaries: Vec<_> = s.activity.work.iter().filter_map(|w| Some((w.at, w.summary.as_deref()?))).collect();
    let recent = summaries.iter().rev().take(MAX_WORK).rev();
    for (at, summary) in recent {
        let line = tidy(summary);
        match refusal(&line, &scrubber, &names) {
            Some(why) => left_out.push(format!("a work summary of {}: {why}", at.format("%Y-%m-%d"))),
            None if done.contains(&line) => {}
            None => done.push(line),
        }
    }
    if summaries.len() > MAX_WORK {
        left_out
            .push(format!("{} older work summaries (only the latest {MAX_WORK} are used)", summaries.len() - MAX_WORK));
    }
    if !s.activity.internal_notes.is_empty() {
        left_out.push(format!("{} internal note(s): internal notes are never quoted", s.activity.internal_notes.len()));
    }
    let since = s.since.format("%-d %B %Y");
    let mut text =
        format!("Hello,\n\nThis is an update on your ticket {}, which is still open.\n\n", one_line(s.ticket_number));
    if !done.is_empty() {
        text.push_str(&format!("What we have done since {since}:\n"));
        for d in &done {
            text.push_str(&format!("- {d}\n"));
        }
        text.push('\n');
    } else if !s.activity.internal_notes.is_empty() || !s.activity.work.is_empty() {
        text.push_str(&format!("Our team has continued to work on it since {since}.\n\n"));
    } else {
        text.push_str(&format!(
            "It has been waiting with us since {since}, and we are sorry it has taken this long.\n\n"
        ));
    }
    text.push_str("What happens next: we will update you as soon as there is progress.\n\n");
    text.push_str(&format!("When to expect news: by {} at the latest.\n\n", s.next_news_by.format("%-d %B %Y")));
    text.push_str("If anything has changed on your side, just reply to this message.");
    Draft { text, left_out }
}

/// The date the customer will hear again: the ticket's due date when it is
/// sooner (and still ahead), else `quiet_days` from today, in the tenant's calendar.
pub fn next_news_by(
    today: NaiveDate,
    due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: &atpilot_domain::TenantTimeZone,
    quiet_days: u32,
) -> NaiveDate {
    let cadence = today + chrono::Duration::days(quiet_days.into());
    match due.filter(|d| *d > now).map(|d| zone.date_of(d)) {
        Some(d) if d < cadence => d,
        _ => cadence,
    }
}

/// Plain text on one line (a ticket number from Autotask, shown as is).
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::WorkSummary;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).unwrap()
    }
    fn work(day: u32, s: &str) -> WorkSummary {
        WorkSummary { at: at(day), summary: Some(s.into()), resource_id: Some(29682885) }
    }
    fn notes(n: usize) -> Vec<crate::ports::NoteStamp> {
        vec![crate::ports::NoteStamp { at: at(25), creator_resource_id: Some(29682885) }; n]
    }
    fn source<'a>(activity: &'a TicketActivity, names: &'a [String]) -> Source<'a> {
        Source {
            ticket_number: "T20261120.0042",
            since: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            next_news_by: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
            activity,
            names,
        }
    }

    #[test]
    fn safe_summaries_are_said_and_leaky_ones_left_out_with_why() {
        let names = vec!["Dana Reyes".to_string(), "Birch Dental".to_string(), "Sam Tech".to_string()];
        let activity = TicketActivity {
            last_customer_note: Some(at(24)),
            internal_notes: notes(2),
            work: vec![
                work(25, "Ordered a replacement docking station from the vendor."),
                work(26, "Same fault as T20261101.0007; fixed the same way."),
                work(26, "Checked the dock at Birch Dental's other office."),
                work(27, "Spent 2 hours on firmware; billed to the block."),
                work(27, "Tested the new firmware on fs01.acme.local (10.0.0.12)."),
                work(27, "Worked on: Agent offline: DC01"),
                work(28, "Installed the new dock firmware and tested both monitors."),
            ],
        };
        let d = draft(&source(&activity, &names));
        assert!(d.text.contains("What we have done since 24 November 2026:\n- Ordered a replacement docking station"));
        assert!(d.text.contains("- Installed the new dock firmware and tested both monitors."));
        assert!(d.text.contains("When to expect news: by 4 December 2026 at the latest."));
        for leak in ["Birch", "T20261101", "2 hours", "billed", "fs01", "10.0.0.12", "internal", "DC01"] {
            assert!(!d.text.contains(leak), "{leak} in {}", d.text);
        }
        let why = d.left_out.join(" | ");
        assert!(
            why.contains("names a person") && why.contains("another ticket") && why.contains("time or money"),
            "{why}"
        );
        assert!(why.contains("2 internal note(s)"), "{why}");
        assert!(why.contains("server or device"), "{why}");
    }

    #[test]
    fn without_anything_sayable_it_says_so_plainly() {
        let quiet = TicketActivity::default();
        let d = draft(&source(&quiet, &[]));
        assert!(d.text.contains("waiting with us since 24 November 2026"), "{}", d.text);
        let busy = TicketActivity { internal_notes: notes(3), ..Default::default() };
        assert!(draft(&source(&busy, &[])).text.contains("continued to work on it since 24 November 2026"));
        // Logged work without a summary is still work: never "waiting with us".
        let mut silent = work(27, "");
        silent.summary = None;
        let worked = TicketActivity { work: vec![silent], ..Default::default() };
        let d = draft(&source(&worked, &[]));
        assert!(d.text.contains("continued to work on it") && !d.text.contains("waiting with us"), "{}", d.text);
    }

    #[test]
    fn atpilots_own_notes_and_entries_and_older_ones_are_not_reported_as_work() {
        let (agent, tech) = (29682999, 29682885);
        let mut own = work(27, "atpilot posted a status update");
        own.resource_id = Some(agent);
        let activity = TicketActivity {
            internal_notes: vec![
                crate::ports::NoteStamp { at: at(26), creator_resource_id: Some(agent) },
                crate::ports::NoteStamp { at: at(20), creator_resource_id: Some(tech) },
            ],
            work: vec![own, work(21, "Old work")],
            ..Default::default()
        };
        let left = activity.others_since(at(24), &[agent]);
        assert!(left.internal_notes.is_empty() && left.work.is_empty(), "{left:?}");
        assert!(draft(&source(&left, &[])).text.contains("waiting with us"));
    }

    #[test]
    fn the_due_date_wins_only_when_sooner_and_ahead() {
        let zone: atpilot_domain::TenantTimeZone = "UTC".parse().unwrap();
        let now = at(30);
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let soon = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        assert_eq!(next_news_by(today, Some(soon), now, &zone, 3), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(next_news_by(today, Some(at(1)), now, &zone, 3), NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
        assert_eq!(next_news_by(today, None, now, &zone, 3), NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
    }

    #[test]
    fn a_summary_is_one_line_and_never_markup_bearing_control_text() {
        let activity = TicketActivity {
            work: vec![work(28, "Replaced the toner.\r\n\u{7}Printer works again"), work(28, "Testing—done, ok")],
            ..Default::default()
        };
        let d = draft(&source(&activity, &[]));
        assert!(d.text.contains("- Replaced the toner. Printer works again\n"), "{}", d.text);
    }
}
