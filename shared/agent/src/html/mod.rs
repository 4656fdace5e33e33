//! The HTML atpilot serves and sends: escaping, the page shell, the
//! dashboard, and the approval pages. Rendering only: the handlers gather
//! what a page shows and call these.

pub(crate) mod approval;
pub mod dashboard;
pub mod kb_drafts;
pub mod status_updates;
pub mod timeline;
mod timeline_more;
pub mod trends;

/// HTML-escapes text, with bidi controls shown as `[U+202E]` and invisible
/// characters dropped first ([`atpilot_domain::untrusted::visible`]), so text
/// atpilot did not write shows as written.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    // Bidi controls shown, invisible characters dropped (atpilot_domain::untrusted).
    for c in atpilot_domain::untrusted::visible(s).chars() {
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

/// The header of the approval pages until [`with_nav`] adds the navigation.
const HEADER: &str = "<header><h1>atpilot</h1></header>";

/// A page in atpilot's shell: the dashboard's header and stylesheet
/// (no-index, readable on a phone), without navigation; [`with_nav`] adds it
/// where the dashboard's address is known.
pub(crate) fn page(status: u16, title: &str, body: &str) -> Page {
    Page {
        status,
        html: format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><meta name=robots content=noindex><title>{} · atpilot</title>\
<style>{STYLESHEET}</style></head><body>{HEADER}<main style=\"max-width:820px\"><section>{}</section></main></body></html>",
            esc(title),
            body
        ),
    }
}

/// The navigation of [`NAV`] as links under `dashboard` (the dashboard's
/// address: empty when the page is served from the dashboard's own origin,
/// as `atpilot dev` does; deployed, the dashboard's Function URL, since the
/// approval pages live on the approval function's URL).
pub fn nav_links(dashboard: &str) -> String {
    let base = dashboard.trim_end_matches('/');
    NAV.iter().map(|(path, label)| format!("<a href=\"{}{path}\">{label}</a>", esc(base))).collect()
}

/// `page` with the dashboard's navigation in its header (see [`nav_links`]).
pub(crate) fn with_nav(mut page: Page, dashboard: &str) -> Page {
    let header = format!("<header><h1>atpilot</h1>{}</header>", nav_links(dashboard));
    page.html = page.html.replacen(HEADER, &header, 1);
    page
}

#[cfg(test)]
mod tests {
    #[test]
    fn esc_escapes_html_and_shows_bidi_controls() {
        assert_eq!(super::esc("<b a='1'>&\"</b>"), "&lt;b a=&#39;1&#39;&gt;&amp;&quot;&lt;/b&gt;");
        assert_eq!(super::esc("gnp\u{202E}.exe\u{200B}\nnext"), "gnp[U+202E].exe\nnext");
    }
}
