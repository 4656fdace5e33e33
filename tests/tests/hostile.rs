//! Ticket text is hostile: every payload of `tests/data/hostile_tickets.json`
//! goes through intake → decision → approval request, and each surface an
//! approver or technician sees is checked: nothing the customer wrote renders
//! as a link, formatting, a template expression, a script or an extra line in
//! atpilot's own structure (Teams card, e-mail text and HTML, confirmation
//! page, Autotask notes). The cards are also rendered by the Adaptive Cards
//! JavaScript renderer in headless Chromium.

use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::untrusted::{is_bidi_control, is_invisible};
use atpilot_e2e::{APPROVER, HostilePayload as Payload, Stack, hostile_corpus as corpus};
use atpilot_store::records::ApprovalState;
use serde_json::{Value, json};

const PUBLIC: &str = "http://127.0.0.1:8080/";

/// No character that hides, reorders or breaks text (line breaks allowed where `breaks`).
fn assert_clean(surface: &str, name: &str, s: &str, breaks: bool) {
    let bad = s.chars().find(|&c| {
        is_bidi_control(c) || is_invisible(c) || (c.is_control() && !(breaks && c == '\n')) || c == '\u{2028}'
    });
    assert!(bad.is_none(), "{name}: {surface} carries {bad:?}");
}

/// What every approval e-mail must be: atpilot's three links first and only.
fn check_email_text(name: &str, text: &str) {
    assert_clean("e-mail text", name, text, true);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[2].starts_with(&format!("Approve: {PUBLIC}approvals/")), "{name}: links come first:\n{text}");
    for key in ["Approve:", "Reject:", "Open:"] {
        let found: Vec<&&str> = lines.iter().filter(|l| l.trim_start().starts_with(key)).collect();
        assert_eq!(found.len(), 1, "{name}: one {key} line, atpilot's:\n{text}");
        assert!(found[0].contains(PUBLIC), "{name}: {key} is atpilot's link");
    }
    let title = lines.iter().find(|l| l.starts_with("Ticket title (from the customer): ")).expect("a labelled title");
    assert!(title.contains("MFA enrollment"), "{name}: {title}");
}

fn check_email_html(name: &str, html: &str) {
    assert_clean("e-mail HTML", name, html, true);
    assert_eq!(html.matches("<a ").count(), 3, "{name}: atpilot's three links only");
    assert_eq!(html.matches(&format!("href=\"{PUBLIC}")).count(), 3, "{name}");
    for bad in ["<script", "<img", "href=\"https://evil"] {
        assert!(!html.contains(bad), "{name}: {bad} in the e-mail");
    }
}

/// Walks a card: text that renders Markdown or template functions (TextBlock,
/// FactSet) must be atpilot's own; TextRuns carry no template; every URL is atpilot's.
fn check_card(name: &str, v: &Value) {
    match v {
        Value::Object(o) => {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
            let formatted = match kind {
                "TextBlock" => vec![o["text"].as_str().unwrap_or("")],
                "FactSet" => o["facts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|f| [f["title"].as_str().unwrap(), f["value"].as_str().unwrap()])
                    .collect(),
                _ => vec![],
            };
            for t in formatted {
                assert!(!t.contains("evil") && !t.contains("{{") && !t.contains("Approve]"), "{name}: {kind} {t:?}");
                assert_clean("card text", name, t, false);
            }
            if kind == "TextRun" {
                let t = o["text"].as_str().unwrap();
                assert!(!t.contains("{{") && !t.contains("}}"), "{name}: TextRun {t:?}");
                assert_clean("card TextRun", name, t, false);
            }
            if let Some(url) = o.get("url").and_then(Value::as_str) {
                assert!(url.starts_with(PUBLIC), "{name}: a card link to {url}");
            }
            o.values().for_each(|c| check_card(name, c));
        }
        Value::Array(a) => a.iter().for_each(|c| check_card(name, c)),
        _ => {}
    }
}

async fn confirmation_page(s: &Stack, id: &str, token: &str) -> String {
    use tower::ServiceExt;
    let app = atpilot_web::approval_function_routes(s.local.deps.clone());
    let req = axum::http::Request::get(format!("/approvals/{id}?t={token}")).body(axum::body::Body::empty()).unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn check_page(name: &str, html: &str) {
    assert_clean("confirmation page", name, html, true);
    // The header's links are atpilot's own navigation, exactly; below it nothing is a link.
    let (header, page) = html.split_once("</header>").expect("the page's header");
    assert!(header.ends_with(&atpilot_agent::html::nav_links("")), "{name}: the header is the navigation: {header}");
    for bad in ["<script>alert", "<img", "href=\"https://evil", "<a href"] {
        assert!(!page.contains(bad), "{name}: {bad} on the confirmation page");
    }
}

/// One payload through intake, decision and approval request; returns the card.
async fn run_one(s: &Stack, p: &Payload) -> Value {
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    s.sandbox().set_knobs(|k| k.lone_surrogate_escapes = p.lone_surrogate);
    let title = format!("MFA enrollment: {}", p.text);
    let description = format!("Please set up the authenticator app on my new phone. {}", p.text);
    let t = s.create_ticket(company, Some(contract), &title, &description, json!({}));
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202, "{}", p.name);
    let r = s.local.settle(40).await;
    s.sandbox().set_knobs(|k| k.lone_surrogate_escapes = false);
    assert!(r.failures.is_empty() && r.dead_letters.is_empty(), "{}: {r:?}", p.name);
    let approvals = s.local.deps.state.approvals_in_state(ApprovalState::Pending, 100).await.unwrap();
    let a = approvals.iter().find(|a| a.ticket_id.get() == t).unwrap_or_else(|| panic!("{}: no request", p.name));
    let number = s.sandbox().row("Tickets", t).unwrap()["ticketNumber"].as_str().unwrap().to_string();
    let outbox = s.local.deps.state.outbox(200).await.unwrap();
    let mail = outbox
        .iter()
        .find(|m| m.channel == "email" && m.to == [APPROVER] && m.subject.contains(&number))
        .unwrap_or_else(|| panic!("{}: no e-mail", p.name));
    let text = mail.text.clone().unwrap();
    check_email_text(&p.name, &text);
    check_email_html(&p.name, &mail.body);
    assert_clean("subject", &p.name, &mail.subject, false);
    let teams = outbox.iter().find(|m| m.channel == "teams" && m.body.contains(&number)).expect("a card");
    let card = serde_json::from_str::<Value>(&teams.body).unwrap()["attachments"][0]["content"].clone();
    check_card(&p.name, &card);
    let token = text.lines().find_map(|l| l.strip_prefix("Approve: ")).unwrap().split("t=").nth(1).unwrap();
    let token = token.split('&').next().unwrap();
    check_page(&p.name, &confirmation_page(s, &a.id, token).await);
    for note in s.sandbox().rows_where("TicketNotes", "ticketID", t) {
        assert_clean("Autotask note", &p.name, note["description"].as_str().unwrap_or(""), true);
        assert_clean("Autotask note title", &p.name, note["title"].as_str().unwrap_or(""), false);
    }
    card
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tickets_render_as_plain_text_on_every_surface() {
    let s = Stack::start().await;
    let mut cards = Vec::new();
    for p in corpus() {
        cards.push((p.name.clone(), run_one(&s, &p).await));
    }
    assert!(cards.len() >= 14);
    render_in_browser(&cards).await;
}

/// Renders each card with the Adaptive Cards JavaScript renderer (Markdown by
/// markdown-it, as a Teams-like host does) in headless Chromium: no link, no
/// bold or italic, no expanded date from the customer; atpilot's buttons only.
async fn render_in_browser(cards: &[(String, Value)]) {
    let Some(page) = renderer_page() else { return };
    let Some(browser) = atpilot_e2e::browser::Browser::start().await else { return };
    browser.goto(&format!("file://{}", page.display())).await;
    // The renderer does process Markdown and text functions: the checks below can fail.
    let control = json!({"type": "AdaptiveCard", "version": "1.4", "body": [
        {"type": "TextBlock", "text": "[x](https://evil.example) **b** {{DATE(2017-02-14T06:08:39Z, SHORT)}}"}]});
    let r = browser.execute(RENDER, vec![control]).await;
    assert_eq!((r["links"].as_u64(), r["strong"].as_u64()), (Some(1), Some(1)), "{r}");
    assert!(!r["text"].as_str().unwrap().contains("DATE("), "{r}");
    for (name, card) in cards {
        let r = browser.execute(RENDER, vec![card.clone()]).await;
        assert_eq!(r["error"], Value::Null, "{name}: {r}");
        assert_eq!(r["links"], 0, "{name}: a rendered link: {r}");
        assert_eq!((r["strong"].as_u64(), r["em"].as_u64()), (Some(0), Some(0)), "{name}: formatting: {r}");
        let buttons: Vec<&str> = r["buttons"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(buttons, ["Approve", "Reject", "Open"], "{name}");
        let text = r["text"].as_str().unwrap();
        assert!(text.contains("MFA enrollment"), "{name}: {text}");
        if text.contains("2017-02-14T06:08:39Z") {
            assert!(
                text.contains("DATE(2017-02-14T06:08:39Z") || text.contains("TIME(2017"),
                "{name}: expanded: {text}"
            );
        }
        assert!(!text.contains("2017 ") || text.contains("DATE(") || text.contains("TIME("), "{name}: {text}");
    }
}

const RENDER: &str = r#"
const host = document.getElementById('card');
host.innerHTML = '';
try {
  const card = new AdaptiveCards.AdaptiveCard();
  card.parse(arguments[0]);
  host.appendChild(card.render());
} catch (e) { return {error: String(e)}; }
return {
  links: host.querySelectorAll('a').length,
  strong: host.querySelectorAll('strong, b').length,
  em: host.querySelectorAll('em, i').length,
  buttons: Array.from(host.querySelectorAll('button')).map(b => b.innerText.trim()),
  text: host.innerText,
};
"#;

/// The page that loads the renderer from `tests/card-renderer/node_modules`
/// (`npm ci` there; scripts/test does it). `None` (with a loud message) when
/// it is not installed, unless ATPILOT_REQUIRE_BROWSER=1 makes that a failure.
fn renderer_page() -> Option<std::path::PathBuf> {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("card-renderer/node_modules");
    let ac = modules.join("adaptivecards/dist/adaptivecards.min.js");
    let md = modules.join("markdown-it/dist/markdown-it.min.js");
    if !ac.exists() || !md.exists() {
        assert!(
            std::env::var("ATPILOT_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "the Adaptive Cards renderer is required: npm ci --prefix tests/card-renderer"
        );
        eprintln!("SKIPPED: npm ci --prefix tests/card-renderer to render the cards in Chromium");
        return None;
    }
    let page = std::env::temp_dir().join(format!("atpilot-card-render-{}.html", std::process::id()));
    let html = format!(
        "<!doctype html><meta charset=utf-8><script src=\"file://{}\"></script><script src=\"file://{}\"></script>\
<div id=card></div><script>AdaptiveCards.AdaptiveCard.onProcessMarkdown = function (text, result) {{\
 result.outputHtml = window.markdownit().render(text); result.didProcess = true; }};</script>",
        md.display(),
        ac.display()
    );
    std::fs::write(&page, html).unwrap();
    Some(page)
}
