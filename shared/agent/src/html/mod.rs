//! The HTML atpilot serves and sends: escaping, the page shell, the
//! dashboard, and the approval pages. Rendering only: the handlers gather
//! what a page shows and call these.

pub(crate) mod approval;
pub mod dashboard;
pub mod timeline;
pub mod trends;

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// An HTML page and its status.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub status: u16,
    pub html: String,
}

/// The one stylesheet of every page atpilot serves.
pub const STYLESHEET: &str = include_str!("style.css");

/// The navigation every page shows, in order: (path, label).
pub const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/approvals/", "Approvals"),
    ("/outbox", "Outbox"),
    ("/audit", "Routing audit"),
    ("/settings", "Settings"),
    ("/signin", "Sign-in"),
    ("/api/decisions", "API"),
];

/// A page in atpilot's shell: the dashboard's header and stylesheet
/// (no-index, readable on a phone). No navigation: deployed, these pages are
/// served by the approval function's own URL, where the dashboard's paths
/// do not exist.
pub(crate) fn page(status: u16, title: &str, body: &str) -> Page {
    Page {
        status,
        html: format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><meta name=robots content=noindex><title>{} · atpilot</title>\
<style>{STYLESHEET}</style></head><body><header><h1>atpilot</h1></header><main style=\"max-width:820px\"><section>{}</section></main></body></html>",
            esc(title),
            body
        ),
    }
}
