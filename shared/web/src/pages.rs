//! The pages' templates: one layout (navigation and stylesheet) every page
//! extends, rendered by minijinja with auto-escaping on (`.html` templates),
//! so text from tickets, models and people is always shown as text. The
//! templates are compiled into the binary from `shared/web/templates/`.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use serde::Serialize;
use std::sync::LazyLock;

/// The navigation every page shows, in order (one list for every renderer).
pub use atpilot_agent::html::NAV;
use atpilot_agent::html::STYLESHEET;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("ticket.html", include_str!("../templates/ticket.html")),
    ("dashboard.html", include_str!("../templates/dashboard.html")),
    ("approvals.html", include_str!("../templates/approvals.html")),
    ("outbox.html", include_str!("../templates/outbox.html")),
    ("body.html", include_str!("../templates/body.html")),
    ("no_audit.html", include_str!("../templates/no_audit.html")),
    ("not_found.html", include_str!("../templates/not_found.html")),
];

static ENV: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Every value is shown as written: bidi controls made visible, invisible
    // characters dropped (atpilot_domain::untrusted), then HTML-escaped.
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(s) if !value.is_safe() => {
            let shown = Value::from(atpilot_domain::untrusted::visible(s).into_owned());
            minijinja::escape_formatter(out, state, &shown)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
});

#[derive(Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
}

/// Renders `template` in the layout: `title` in the tab, `current` the
/// navigation entry to mark, `page` the template's own values.
///
/// # Errors
/// minijinja's, naming the template and line (a defect: every template is
/// rendered by the tests).
pub fn render(template: &str, title: &str, current: &str, page: Value) -> Result<String, minijinja::Error> {
    let env = ENV.as_ref().map_err(|e| minijinja::Error::new(e.kind(), e.to_string()))?;
    let nav: Vec<NavItem> = NAV.iter().map(|(href, label)| NavItem { href, label }).collect();
    env.get_template(template)?.render(context! { title, current, nav, stylesheet => STYLESHEET, ..page })
}

/// A rendered page with `status`, or a plain 500 naming the template error.
pub fn respond(status: StatusCode, template: &str, title: &str, current: &str, page: Value) -> Response {
    match render(template, title, current, page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, template, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "this page could not be rendered; the error is in the log")
                .into_response()
        }
    }
}

/// A page whose body was built (and escaped) in Rust, under a heading, in the layout.
pub fn body_page(title: &str, current: &str, section_id: &str, body: String) -> Response {
    let page = context! { heading => title, section_id, body };
    respond(StatusCode::OK, "body.html", title, current, page)
}

/// The 404 page, in the layout, with a message (shown as text).
pub fn not_found(message: &str) -> Response {
    respond(StatusCode::NOT_FOUND, "not_found.html", "Not found", "", context! { message })
}

/// What every unknown path gets.
pub async fn fallback() -> Response {
    not_found("There is no such page. The navigation above lists every page atpilot serves.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_the_layout_escapes() {
        for (name, _) in TEMPLATES {
            ENV.as_ref().unwrap().get_template(name).unwrap();
        }
        let html = render("not_found.html", "x<y", "/", context! { message => "<script>alert(1)</script>" }).unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") && !html.contains("<script>"), "{html}");
        assert!(html.contains("<title>x&lt;y · atpilot</title>"));
        for (href, label) in NAV {
            assert!(html.contains(&format!("<a href=\"{href}\"")) && html.contains(label), "{href}");
        }
        // A right-to-left override shows as what it is; a zero-width space is dropped.
        let html =
            render("not_found.html", "x", "/", context! { message => "invoice\u{202E}fdp.exe\u{200B}!" }).unwrap();
        assert!(html.contains("invoice[U+202E]fdp.exe!") && !html.contains('\u{202E}') && !html.contains('\u{200B}'));
    }
}
