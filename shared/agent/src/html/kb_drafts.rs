//! The dashboard's KB drafts: each completed ticket's draft and what became
//! of it (drafted in the KB, an update proposed to an existing article, kept
//! here, skipped), with why, the draft's text, and a link to the article only
//! when the KB gave an https one.

use super::dashboard::ticket_cell;
use super::esc;
use atpilot_kb::similarity::text_of;
use atpilot_store::records::{KbDraftRecord, KbDraftStatus};

/// A link to what the KB says is the article, when it is https; else its id as text.
fn article_link(url: Option<&str>, text: &str) -> String {
    match url.filter(|u| u.starts_with("https://")) {
        Some(u) => format!("<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>", esc(u), esc(text)),
        None => esc(text),
    }
}

/// What became of the draft, in words.
fn outcome(s: &KbDraftStatus) -> String {
    match s {
        KbDraftStatus::Drafting => "being drafted".into(),
        KbDraftStatus::Kept { why } => format!("kept here: {}", esc(why)),
        KbDraftStatus::Drafted { kb, article_id, url, unpublished, placement } => format!(
            "drafted in {} as {} ({})",
            esc(kb),
            article_link(
                url.as_deref(),
                &format!("{} {article_id}", if kb == "IT Glue" { "document" } else { "article" })
            ),
            match (unpublished, placement) {
                (true, _) => "unpublished".to_string(),
                (false, Some(p)) => esc(p),
                (false, None) => "published as the KB stored it".to_string(),
            }
        ),
        KbDraftStatus::UpdateProposed { kb, article_title, url, similarity, .. } => format!(
            "update proposed to the {} article {} ({:.0}% similar); the article was not changed",
            esc(kb),
            article_link(url.as_deref(), &format!("“{article_title}”")),
            similarity * 100.0
        ),
        KbDraftStatus::Skipped { why } => format!("skipped: {}", esc(why)),
    }
}

/// The section, newest first.
pub fn render(h: &mut String, drafts: &[KbDraftRecord], link: Option<&atpilot_config::TicketLink>) {
    h.push_str(r#"<section id="kb-drafts"><h2>KB drafts</h2><p class=muted>Completed tickets drafted for the knowledge base. Shadow-phase categories stay here; later phases are created in the KB unpublished, for a technician to review.</p><table id="kb-drafts-table"><tr><th>When (UTC)</th><th>Ticket</th><th>Category</th><th>Status</th><th>Draft</th></tr>"#);
    if drafts.is_empty() {
        h.push_str("<tr><td colspan=5 class=muted>No completed ticket yet.</td></tr>");
    }
    for d in drafts {
        let draft = if d.title.is_empty() {
            String::new()
        } else {
            format!(
                "<details><summary>{}</summary><pre>{}</pre></details>",
                esc(&d.title),
                esc(text_of(&d.html).trim())
            )
        };
        h.push_str(&format!(
            "<tr class=\"kb-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{draft}</td></tr>",
            d.status.name().replace(' ', "-"),
            d.at.format("%Y-%m-%d %H:%M:%S"),
            ticket_cell(d.ticket_id.get(), link),
            esc(&d.category),
            outcome(&d.status),
        ));
    }
    h.push_str("</table></section>");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_https_article_links_are_links_and_everything_is_escaped() {
        let r: KbDraftRecord = serde_json::from_value(serde_json::json!({
            "ticket_id": 7, "ticket_number": "T1", "at": "2026-12-01T10:00:00Z", "category": "email",
            "title": "<b>x</b>", "html": "<p>a &amp; <i>b</i></p>",
            "status": {"status": "drafted", "kb": "Hudu", "article_id": "5", "url": "javascript:alert(1)", "unpublished": false},
        }))
        .unwrap();
        let mut h = String::new();
        render(&mut h, std::slice::from_ref(&r), None);
        assert!(!h.contains("javascript") && !h.contains("article 5</a>"), "not https: no link: {h}");
        assert!(h.contains("&lt;b&gt;x&lt;/b&gt;") && h.contains("article 5"), "{h}");
        let ok = KbDraftRecord {
            status: KbDraftStatus::Drafted {
                kb: "Hudu".into(),
                article_id: "5".into(),
                url: Some("https://kb.example/a/5".into()),
                unpublished: false,
                placement: None,
            },
            ..r
        };
        let mut h = String::new();
        render(&mut h, &[ok], None);
        assert!(h.contains("href=\"https://kb.example/a/5\""), "{h}");
    }
}
