//! `atpilot dev --oidc-issuer URL` against a real OpenID provider
//! (node-oidc-provider from tests/oidc-provider): every page but /healthz and
//! the webhook needs sign-in; the demo's admin signs in and sees the
//! dashboard; a person with no role gets 403; a replayed callback is refused.

#[path = "../../shared/signin/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{Browser, CLIENT_ID, SECRET};

struct Dev(std::process::Child);
impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_needs_a_signed_in_person_with_a_role() {
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let callback = format!("{base}/auth/callback");
    let Some(provider) = support::provider(3600, &callback) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args(["dev", "--listen", &format!("127.0.0.1:{port}"), "--state"])
        .arg(dir.path())
        .args(["--tickets-per-minute", "0", "--sandbox-tickets", "300", "--oidc-issuer", &provider.issuer])
        .env("ATPILOT_OIDC_CLIENT_ID", CLIENT_ID)
        .env("ATPILOT_OIDC_CLIENT_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("atpilot dev starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("dashboard on http://"), "first line: {line:?}");
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let _dev = Dev(child);

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Open without a person: health and the webhook (refused for its signature, not sent to sign in).
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    let hook = http.post(format!("{base}/webhooks/autotask")).body("{}").send().await.unwrap();
    assert!(hook.status().is_client_error(), "{}", hook.status());
    // Everything else sends the browser to sign in, or refuses a POST outright.
    let page = http.get(format!("{base}/outbox")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/auth/login?return_to=%2Foutbox");
    let post = http.post(format!("{base}/kill-switch")).body("on=true").send().await.unwrap();
    assert_eq!(post.status(), 401);

    // The demo's admin signs in (the provider's login page) and lands on the page asked for.
    let mut admin = Browser::new();
    let (status, location, _) = admin.send(admin.http.get(format!("{base}/auth/login?return_to=%2Foutbox"))).await;
    assert_eq!(status, 303);
    let back = admin.sign_in_until(location.unwrap(), "dispatch@msp.example", &callback).await;
    let (status, location, body) = admin.send(admin.http.get(&back)).await;
    assert_eq!((status, location.as_deref()), (303, Some("/outbox")), "{body}");
    assert!(admin.cookies.contains_key("atpilot_session"), "{:?}", admin.cookies.keys());
    let (status, _, body) = admin.send(admin.http.get(format!("{base}/outbox"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = admin.send(admin.http.get(format!("{base}/"))).await;
    assert_eq!(status, 200);
    // The same callback again decides nothing.
    let (status, _, body) = admin.send(admin.http.get(&back)).await;
    assert_eq!(status, 400, "{body}");

    // Someone the configuration does not name: signed in, but 403 on every page.
    let mut stranger = Browser::new();
    let (_, location, _) = stranger.send(stranger.http.get(format!("{base}/auth/login"))).await;
    let back = stranger.sign_in_until(location.unwrap(), "stranger@example.org", &callback).await;
    let (status, _, _) = stranger.send(stranger.http.get(&back)).await;
    assert_eq!(status, 303);
    let (status, _, body) = stranger.send(stranger.http.get(format!("{base}/"))).await;
    assert_eq!(status, 403);
    assert!(body.contains("signed in as stranger@example.org"), "{body}");
    // A tampered session cookie is no session.
    let mut forged = Browser::new();
    forged.cookies.insert("atpilot_session".into(), "AAAA".repeat(20));
    let (status, _, _) = forged.send(forged.http.get(format!("{base}/"))).await;
    assert_eq!(status, 303, "sent to sign in");
}
