//! The HTML atpilot serves and sends: escaping, the page shell, the
//! dashboard, and the approval pages. Rendering only: the handlers gather
//! what a page shows and call these.

pub(crate) mod approval;
pub mod dashboard;
pub mod timeline;

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

/// A page in atpilot's shell (no-index, readable on a phone).
pub(crate) fn page(status: u16, title: &str, body: &str) -> Page {
    Page {
        status,
        html: format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><meta name=robots content=noindex><title>{}</title>\
<style>body{{font-family:system-ui,Segoe UI,sans-serif;max-width:760px;margin:24px auto;padding:0 16px;color:#1d2433}}th{{text-align:left;padding-right:12px}}\
textarea{{width:100%;min-height:160px;font:inherit}}button{{font-size:16px;padding:8px 18px;margin-right:8px}}.approve{{background:#2e7d32;color:#fff;border:0}}.reject{{background:#b3261e;color:#fff;border:0}}</style></head><body>{}</body></html>",
            esc(title),
            body
        ),
    }
}
