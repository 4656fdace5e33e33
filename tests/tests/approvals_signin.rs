//! Approvals with sign-in, against a real OpenID provider (node-oidc-provider
//! from tests/oidc-provider) and headless Chromium: the Teams card carries one
//! Review link that names only the request; a scanner (no session) opens and
//! posts it and decides nothing; a signed-in stranger is refused with who is
//! signed in; a POST without the session's form token is refused; pressing
//! Enter or a scripted submit decides nothing; the approver signs in on the
//! provider's page and approves, and the sandbox shows exactly the writes;
//! two sessions approving at once execute once.

#[path = "../../shared/signin/tests/support/mod.rs"]
mod support;

use atpilot_e2e::{APPROVER, Stack, shape};
use atpilot_store::records::ApprovalState;
use serde_json::Value;
use std::sync::Arc;
use support::{Browser as Session, CLIENT_ID, SECRET};

const NOTE: &str = "POST /atservicesrest/V1.0/Tickets/{id}/Notes";
/// The links in messages are built on the demo's approvals base URL.
const LINK_BASE: &str = "http://127.0.0.1:8080";

async fn state_of(s: &Stack, id: &str) -> ApprovalState {
    s.local.deps.state.approval(id).await.unwrap().unwrap().state
}

/// Every `Action.OpenUrl` in an Adaptive Card, as (title, url).
fn open_urls(card: &Value) -> Vec<(String, String)> {
    let mut found = vec![];
    let mut stack = vec![card];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if o.get("type").and_then(Value::as_str) == Some("Action.OpenUrl") {
                    let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    found.push((s("title"), s("url")));
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    found
}

/// The review link in the Teams card and the approver's e-mail (they must be the same).
async fn review_link(s: &Stack, id: &str) -> String {
    let outbox = s.local.deps.state.outbox(20).await.unwrap();
    let card = outbox.iter().find(|m| m.channel == "teams" && m.body.contains(id)).expect("a Teams card");
    let body: Value = serde_json::from_str(&card.body).unwrap();
    let buttons = open_urls(&body["attachments"][0]["content"]);
    assert_eq!(buttons.len(), 1, "one button for everyone: {buttons:?}");
    let (title, url) = buttons[0].clone();
    assert_eq!(title, "Review");
    assert!(url.starts_with(&format!("{LINK_BASE}/approvals/{id}?r=")), "{url}");
    assert!(!url.contains("t=") && !url.contains("intent="), "names no approver, decides nothing: {url}");
    let mail = outbox.iter().find(|m| m.channel == "email" && m.to == [APPROVER]).expect("an e-mail to the approver");
    let text = mail.text.clone().unwrap();
    assert_eq!(text.lines().find_map(|l| l.strip_prefix("Review: ")), Some(url.as_str()), "{text}");
    assert!(!text.contains("Approve: "), "{text}");
    url
}

/// The approval pages and sign-in as `atpilot dev --oidc-issuer` serves them, on `listener`.
async fn serve(s: &Stack, listener: tokio::net::TcpListener, issuer: &str, callback: &str) {
    let client = atpilot_signin::Client::connect(atpilot_signin::ClientConfig {
        issuer: issuer.into(),
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uri: callback.into(),
        clock_skew: std::time::Duration::from_secs(60),
    })
    .await
    .expect("the provider is discovered");
    let signin = Arc::new(atpilot_web::signin::SignIn {
        client,
        codec: atpilot_signin::SessionCodec::new(&[7u8; 32]),
        config: s.local.deps.config.clone(),
        state: s.local.deps.state.clone(),
        https: false,
        callback_from_host: false,
    });
    let web = Arc::new(atpilot_web::Web::behind_signin(s.local.deps.state.clone(), s.local.deps.config.clone()));
    let pages = atpilot_web::approval_routes(s.local.deps.clone()).merge(atpilot_web::dashboard_routes(web));
    let app = atpilot_web::signin::protect(pages, signin);
    tokio::spawn(async move { axum::serve(listener, app).await });
}

/// A session signed in as `who`, from a page that sends the browser to sign in.
async fn signed_in(base: &str, who: &str, callback: &str) -> Session {
    let mut b = Session::new();
    let (status, location, _) = b.send(b.http.get(format!("{base}/auth/login"))).await;
    assert_eq!(status, 303);
    let back = b.sign_in_until(location.unwrap(), who, callback).await;
    let (status, _, body) = b.send(b.http.get(&back)).await;
    assert_eq!(status, 303, "{body}");
    b
}

fn post(b: &Session, url: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    b.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_link_decides_only_for_a_signed_in_approver_with_the_sessions_form() {
    let mut s = Stack::start().await;
    s.local.deps.signin = true;
    let (t, id) = s.pending_request().await;
    let link = review_link(&s, &id).await;
    s.sandbox().clear_requests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let callback = format!("{base}/auth/callback");
    let Some(provider) = support::provider(3600, &callback) else { return };
    serve(&s, listener, &provider.issuer, &callback).await;
    let review = link.replacen(LINK_BASE, &base, 1);
    let reference = review.split("r=").nth(1).unwrap().to_string();
    let page_url = format!("{base}/approvals/{id}");

    // A scanner (no session) fetches the link and posts the form: sent to sign in, refused, nothing decided.
    let mut scanner = Session::new();
    let (status, location, _) = scanner.send(scanner.http.get(&review)).await;
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/auth/login?return_to=%2Fapprovals%2F"));
    let (status, _, _) = scanner.send(post(&scanner, &page_url, &[("r", &reference), ("decision", "approve")])).await;
    assert_eq!(status, 401);
    // A webhook runbook's callback carries its own signature: it reaches its handler, not the sign-in gate.
    let hook =
        reqwest::Client::new().post(format!("{base}/approvals/runbooks/callback")).body("{}").send().await.unwrap();
    let kind = hook.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(kind.as_deref(), Some("application/json"), "answered by the callback handler ({})", hook.status());

    // Signed in, but not an approver: 403 naming who is signed in.
    let mut stranger = signed_in(&base, "stranger@example.org", &callback).await;
    let (status, _, body) = stranger.send(stranger.http.get(&review)).await;
    assert_eq!(status, 403);
    assert!(body.contains("signed in as stranger@example.org"), "{body}");

    // The approver, in two sessions: the page names them and carries the session's form token;
    // a POST without it, or with the other session's, decides nothing.
    let mut one = signed_in(&base, APPROVER, &callback).await;
    let mut two = signed_in(&base, APPROVER, &callback).await;
    let (status, _, body) = one.send(one.http.get(&review)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("<b id=approver>{APPROVER}</b>")), "{body}");
    let (_, fields) = support::form(&body);
    let (_, fields_two) = support::form(&two.send(two.http.get(&review)).await.2);
    assert!(!fields.contains_key("t"), "no approver token on the page: {fields:?}");
    assert_eq!(fields.get("r"), Some(&reference));
    let (csrf, csrf_two) = (fields["csrf"].clone(), fields_two["csrf"].clone());
    assert_ne!(csrf, csrf_two, "a form token per session");
    for sent in [
        vec![("r", reference.as_str()), ("decision", "approve")],
        vec![("csrf", csrf_two.as_str()), ("decision", "approve")],
    ] {
        let (status, _, body) = one.send(post(&one, &page_url, &sent)).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("not opened in your current sign-in session"), "{body}");
    }
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending);
    assert!(shape(&s.applied_writes(), t).is_empty(), "nothing written yet");

    approve_in_chromium(&s, &review, &provider.issuer, &id).await;
    if state_of(&s, &id).await == ApprovalState::Pending {
        return; // no browser here (allowed only outside CI)
    }
    s.local.settle(40).await;
    let a = s.local.deps.state.approval(&id).await.unwrap().unwrap();
    assert_eq!((a.state, a.decided_by.as_deref()), (ApprovalState::Approved, Some(APPROVER)));
    assert_eq!(
        shape(&s.applied_writes(), t),
        [
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );

    // Two sessions approve another request at once: exactly one carries it out.
    let (t2, id2) = s.pending_request().await;
    let url2 = format!("{base}/approvals/{id2}");
    let (a, b) = tokio::join!(
        one.send(post(&one, &url2, &[("csrf", &csrf), ("decision", "approve")])),
        two.send(post(&two, &url2, &[("csrf", &csrf_two), ("decision", "approve")])),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.2, b.2);
    s.local.settle(40).await;
    let notes = shape(&s.applied_writes(), t2).iter().filter(|w| *w == NOTE).count();
    assert_eq!(notes, 1, "one reply");

    // The dashboard's forms carry the session's token too: the kill switch
    // flips only with it, and is recorded as the signed-in admin.
    let (_, _, dashboard) = one.send(one.http.get(format!("{base}/"))).await;
    assert!(dashboard.contains(&format!("name=\"csrf\" value=\"{csrf}\"")), "the session's token");
    let (status, _, _) =
        one.send(post(&one, &format!("{base}/kill-switch"), &[("setting", "on"), ("csrf", &csrf_two)])).await;
    assert_eq!(status, 403, "another session's token");
    assert!(!s.local.deps.state.settings().await.unwrap().kill_switch);
    let (status, _, _) =
        one.send(post(&one, &format!("{base}/kill-switch"), &[("setting", "on"), ("csrf", &csrf)])).await;
    assert_eq!(status, 303);
    let change = s.local.deps.state.kill_switch_history(1).await.unwrap().remove(0);
    assert!(change.on && change.changed_by == format!("dashboard (signed in as {APPROVER})"), "{change:?}");

    // The approver was bound to their provider account on first sign-in: another
    // account with the same e-mail is refused until an admin releases the binding.
    let bindings = s.local.deps.state.subject_bindings(10).await.unwrap();
    let subject = format!("{}#{APPROVER}", provider.issuer);
    assert_eq!(
        bindings.iter().map(|b| (b.email.as_str(), b.subject.as_str())).collect::<Vec<_>>(),
        [(APPROVER, subject.as_str())]
    );
    let other = format!("{APPROVER}#2");
    let mut moved = Session::new();
    let (_, location, _) = moved.send(moved.http.get(format!("{base}/auth/login"))).await;
    let back = moved.sign_in_until(location.unwrap(), &other, &callback).await;
    let (status, _, body) = moved.send(moved.http.get(&back)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("is bound to another account at the provider"), "{body}");
    let (_, _, page) = one.send(one.http.get(format!("{base}/signin"))).await;
    assert!(page.contains(&subject), "the Sign-in page shows the binding: {page}");
    let release = format!("{base}/signin/release");
    let (status, _, _) = stranger.send(post(&stranger, &release, &[("email", APPROVER), ("csrf", &csrf)])).await;
    assert_eq!(status, 403, "not an admin");
    let (status, _, _) = one.send(post(&one, &release, &[("email", APPROVER), ("csrf", &csrf)])).await;
    assert_eq!(status, 303);
    signed_in(&base, &other, &callback).await;
    let bindings = s.local.deps.state.subject_bindings(10).await.unwrap();
    assert_eq!(bindings[0].subject, format!("{}#{other}", provider.issuer), "bound to the new account");
}

/// Headless Chromium opens the Review link, signs in on the provider's own
/// page, tries Enter and a scripted submit (nothing decided), then approves.
async fn approve_in_chromium(s: &Stack, review: &str, issuer: &str, id: &str) {
    let Some(browser) = atpilot_e2e::browser::Browser::start().await else { return };
    browser.goto(review).await;
    let on_provider = |href: &str| href.starts_with(&format!("{issuer}/"));
    assert!(on_provider(&href(&browser).await), "the provider's login page");
    browser.fill("input[name=login]", APPROVER).await;
    browser.fill("input[name=password]", "any").await;
    browser.click("button[type=submit]").await;
    // The provider's consent page, then back to the request.
    for _ in 0..50 {
        if browser.count("#approver").await == 1 {
            break;
        }
        if on_provider(&href(&browser).await) && browser.count("button[type=submit]").await > 0 {
            browser.click("button[type=submit]").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(browser.text("#approver").await, APPROVER);
    // Enter in a field: the form's default button is disabled, so nothing is submitted.
    browser.fill("#reason", "\u{E007}").await;
    assert_eq!(browser.count("#approve").await, 1, "still on the page");
    assert_eq!(state_of(s, id).await, ApprovalState::Pending);
    // A scripted submit sends no decision: refused, and the page comes back
    // with why and with the session's form, so a click still decides.
    browser.execute("document.getElementById('decision').requestSubmit()", vec![]).await;
    assert!(browser.text("#error").await.contains("decision must be approve or reject"));
    assert_eq!(state_of(s, id).await, ApprovalState::Pending);
    assert_eq!(browser.text("#approver").await, APPROVER);
    browser.click("#approve").await;
    assert_eq!(browser.text("#result").await, "Approved");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("approval-signed-in.png");
    browser.screenshot(&shot).await;
}

async fn href(b: &atpilot_e2e::browser::Browser) -> String {
    b.execute("return location.href", vec![]).await.as_str().unwrap_or_default().to_string()
}
