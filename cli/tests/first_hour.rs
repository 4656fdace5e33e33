//! The first hour with `atpilot dev`, walked in headless Chromium: every page
//! (dashboard, approvals, outbox, routing audit, settings, sign-in, a
//! ticket's timeline, an approval link's page, a missing page) carries the
//! same navigation and stylesheet, none is raw JSON, and a screenshot of each
//! is written under the test's output directory (`first-hour/`). The timeline
//! of an autonomous resolution shows the reply as posted and its time entry;
//! a pending approval opened from the dashboard shows the customer's message
//! and what Approve does; the Action column says what was done;
//! the shadow comparison shows agreement figures within three minutes.

mod dev_process;

use atpilot_e2e::browser::Browser;
use dev_process::start_dev_at as start_dev;
use std::time::{Duration, Instant};

/// A decision of the running dev with this action whose ticket shows `kind` in its timeline.
async fn ticket_with(base: &str, action: &str, kind: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let decisions: Vec<serde_json::Value> =
            reqwest::get(format!("{base}/api/decisions")).await.unwrap().json().await.unwrap();
        for d in decisions.iter().filter(|d| d["action"] == action) {
            let t = d["ticket_id"].as_i64().unwrap();
            let tl: serde_json::Value =
                reqwest::get(format!("{base}/api/tickets/{t}")).await.unwrap().json().await.unwrap();
            if tl["entries"].as_array().unwrap().iter().any(|e| e["kind"] == kind) {
                return t;
            }
        }
        assert!(Instant::now() < deadline, "no {action} decision with a {kind} entry within 90 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Checks the layout of the page the browser shows and writes its screenshot.
async fn check_page(browser: &Browser, name: &str) {
    for (href, label) in atpilot_agent::html::NAV {
        let found = browser.count(&format!("header a[href=\"{href}\"]")).await;
        assert_eq!(found, 1, "{name}: the navigation's {label} link");
    }
    let style: serde_json::Value =
        browser.execute("return getComputedStyle(document.querySelector('header')).backgroundColor", vec![]).await;
    assert_eq!(style, "rgb(29, 36, 51)", "{name}: the layout's stylesheet");
    let body = browser.text("body").await;
    assert!(!body.trim_start().starts_with('{'), "{name} is not raw JSON");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("first-hour");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join(format!("{name}.png"));
    browser.screenshot(&shot).await;
    eprintln!("screenshot: {}", shot.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_hour_every_page_in_one_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, base) = start_dev(dir.path());
    let resolved = ticket_with(&base, "autonomous", "time-entry").await;
    let asked = ticket_with(&base, "request-approval", "approval-requested").await;
    let Some(browser) = Browser::start().await else { return };
    // The simulated dispatchers triage tickets 15 to 40 s after they arrive: the shadow
    // comparison shows agreement figures within the first minutes.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        browser.goto(&format!("{base}/")).await;
        let figures = browser
            .execute(
                "return [...document.querySelectorAll('td.category-agreement')].map(td => td.textContent).join(' ')",
                vec![],
            )
            .await;
        if figures.as_str().is_some_and(|f| f.contains('%')) {
            break;
        }
        assert!(Instant::now() < deadline, "no category agreement on the dashboard within 3 minutes: {figures}");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    for (name, path) in [
        ("dashboard", "/".to_string()),
        ("approvals", "/approvals/".into()),
        ("outbox", "/outbox".into()),
        ("audit", "/audit".into()),
        ("settings", "/settings".into()),
        ("signin", "/signin".into()),
        ("missing", "/no-such-page".into()),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        check_page(&browser, name).await;
    }

    // From the dashboard to an autonomous resolution's timeline: the reply as posted, the time entry.
    browser.goto(&format!("{base}/")).await;
    browser.click(&format!("a.ticket[href=\"/tickets/{resolved}\"]")).await;
    // #timeline is on the ticket's page only: reading it waits for that page (the title would not).
    let timeline = browser.text("#timeline").await;
    assert!(browser.title().await.starts_with(&format!("Ticket {resolved}")));
    assert!(timeline.contains("Decided to act on its own") && timeline.contains("Reply posted"), "{timeline}");
    assert!(timeline.contains("Reply as posted"), "{timeline}");
    // The classification evidence of the model dev trains at start.
    assert!(timeline.contains("words that weighed most") && timeline.contains("runner-up"), "{timeline}");
    assert!(timeline.contains("written") && timeline.contains("work measured"), "{timeline}");
    check_page(&browser, "ticket-timeline").await;

    // The Action column says what was done, not only the mode; four charts.
    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.count("figure.chart svg").await, 4, "the dashboard's charts");
    let actions = browser.text("#decisions-table").await;
    assert!(actions.contains("Reply posted") && actions.contains("Time entry"), "{actions}");

    // A pending approval, opened from the dashboard: the approvals page offers the link its
    // approver was sent (in the outbox locally), which shows the customer's message and the plan.
    browser.goto(&format!("{base}/tickets/{asked}")).await;
    assert!(browser.text("#timeline").await.contains("Approval requested"));
    browser.goto(&format!("{base}/")).await;
    let opens = browser
        .execute("return [...document.querySelectorAll('#approvals a.open-approval')].map(a => a.href)", vec![])
        .await;
    let opens: Vec<String> = opens.as_array().unwrap().iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    // The simulated dispatchers close or move some tickets while their request is pending: such a
    // request's link says so (no form) until the next sweep expires it; then another request is opened.
    let mut link = None;
    for open in opens.iter().take(6) {
        browser.goto(open).await;
        assert!(browser.text(":target a.open-as").await.starts_with("Open as "), "the approvals page, at the request");
        let href = browser.execute("return document.querySelector(':target a.open-as').href", vec![]).await;
        browser.click(":target a.open-as").await;
        // #approver is on a request's page only, #message on a refusal's: either means the new page is there.
        browser.text("#approver, #message").await;
        if browser.count("#approver").await == 1 {
            link = href.as_str().map(str::to_string);
            break;
        }
        let why = browser.text("#message").await;
        assert!(why.contains("the ticket changed") || why.contains("already expired"), "{why}");
    }
    let link = link.expect("a pending request whose ticket nobody changed");
    let page = browser.text("body").await;
    assert!(page.contains("What Approve does") && page.contains("Customer's message"), "{page}");
    assert!(page.contains("Requester (from Autotask)"), "{page}");
    check_page(&browser, "approval-page").await;

    // Restarted on the same state: new decisions within a minute, and the old link still
    // answers (why it can no longer be decided), never "not issued by atpilot".
    drop(dev);
    let restarted = chrono::Utc::now();
    let (_dev, base) = start_dev(dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while newest_decision(&base).await <= restarted {
        assert!(Instant::now() < deadline, "no new decision within a minute of the restart");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let port = base.rsplit(':').next().unwrap();
    let old_port = link.split("127.0.0.1:").nth(1).unwrap().split('/').next().unwrap();
    browser.goto(&link.replace(&format!("127.0.0.1:{old_port}"), &format!("127.0.0.1:{port}"))).await;
    let page = browser.text("body").await;
    assert!(!page.contains("not issued by atpilot"), "{page}");
    // Its ticket went with the old sandbox: expired at the restart (or by a sweep before it, if a
    // simulated dispatcher closed it meanwhile), and the page says why.
    assert!(page.contains("earlier atpilot dev run") || page.contains("the ticket changed"), "{page}");
    check_page(&browser, "approval-page-after-restart").await;
}

/// When the newest decision was made (the API lists newest first).
async fn newest_decision(base: &str) -> chrono::DateTime<chrono::Utc> {
    let list: Vec<serde_json::Value> =
        reqwest::get(format!("{base}/api/decisions")).await.unwrap().json().await.unwrap();
    list.first().and_then(|d| d["decided_at"].as_str()).and_then(|t| t.parse().ok()).unwrap_or_default()
}
