//! Sign-in against a real OpenID provider: node-oidc-provider (OpenID
//! Certified), started here on loopback from `tests/oidc-provider` (its npm
//! packages are installed by `scripts/test`). A small client follows the
//! provider's redirects and fills its development login page, as a browser would.

use atpilot_signin::{Client, ClientConfig, SignInError, Validator};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::time::Duration;

const CLIENT_ID: &str = "atpilot-test";
const SECRET: &str = "a-client-secret-for-the-test-provider";

struct Provider {
    child: std::process::Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The provider, or `None` (the test is skipped) where node or its packages
/// are missing and ATPILOT_REQUIRE_BROWSER is not 1.
fn provider(id_token_ttl: u32) -> Option<Provider> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
    let ready = dir.join("node_modules/oidc-provider/package.json").exists();
    let required = std::env::var("ATPILOT_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    if !ready {
        assert!(!required, "the OpenID provider's packages are missing: npm ci --prefix tests/oidc-provider");
        eprintln!("SKIPPED: no tests/oidc-provider/node_modules (npm ci --prefix tests/oidc-provider)");
        return None;
    }
    let port = free_port();
    let mut child = std::process::Command::new("node")
        .arg("provider.mjs")
        .arg(port.to_string())
        .args([CLIENT_ID, SECRET, "http://127.0.0.1:9/auth/callback"])
        .env("ID_TOKEN_TTL", id_token_ttl.to_string())
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("node runs");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("ready "), "the provider did not start: {line:?}");
    // Keep reading what it prints, so it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Some(Provider { child, issuer: line.trim_start_matches("ready ").trim().to_string() })
}

async fn client(p: &Provider, skew: Duration) -> Client {
    Client::connect(ClientConfig {
        issuer: p.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uri: "http://127.0.0.1:9/auth/callback".into(),
        clock_skew: skew,
    })
    .await
    .expect("discovery")
}

/// A browser on the provider: cookies kept, redirects followed until the callback.
struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, cookies: BTreeMap::new() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let r = req.header(reqwest::header::COOKIE, cookie).send().await.unwrap();
        for c in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.trim().into(), v.trim().into());
            }
        }
        let location = r.headers().get(reqwest::header::LOCATION).map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), location, r.text().await.unwrap())
    }

    /// Signs in as `login` from `url` (the authorize URL): the code and state the callback gets.
    async fn sign_in(&mut self, mut url: String, login: &str) -> (String, String) {
        for _ in 0..12 {
            if url.starts_with("http://127.0.0.1:9/auth/callback") {
                let u = url::Url::parse(&url).unwrap();
                let q: BTreeMap<String, String> = u.query_pairs().into_owned().collect();
                return (q["code"].clone(), q["state"].clone());
            }
            let (status, location, body) = self.send(self.http.get(&url)).await;
            if let Some(l) = location {
                url = url::Url::parse(&url).unwrap().join(&l).unwrap().into();
                continue;
            }
            assert_eq!(status, 200, "{url}: {body}");
            let (action, mut fields) = form(&body);
            if fields.contains_key("login") {
                fields.insert("login".into(), login.into());
                fields.insert("password".into(), "any".into());
            }
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
            let req = self
                .http
                .post(&action)
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
            let (_, location, page) = self.send(req).await;
            let l = location.unwrap_or_else(|| panic!("the provider's form did not redirect: {page}"));
            url = url::Url::parse(&action).unwrap().join(&l).unwrap().into();
        }
        panic!("the sign-in did not reach the callback");
    }
}

/// The first form of a page: its action and its inputs' names and values.
fn form(html: &str) -> (String, BTreeMap<String, String>) {
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).map(|i| tag[i + key.len()..].split('"').next().unwrap_or_default().to_string())
    };
    let start = html.find("<form").expect("a form");
    let end = html[start..].find("</form>").map_or(html.len(), |e| start + e);
    let f = &html[start..end];
    let open = &f[..f.find('>').unwrap()];
    let action = attr(open, "action").expect("an action");
    let mut fields = BTreeMap::new();
    for input in f.split("<input").skip(1) {
        let tag = &input[..input.find('>').unwrap_or(input.len())];
        if let Some(name) = attr(tag, "name") {
            fields.insert(name, attr(tag, "value").unwrap_or_default());
        }
    }
    (action, fields)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_with_pkce_state_and_nonce_and_reads_the_identity() {
    let Some(p) = provider(3600) else { return };
    let c = client(&p, Duration::from_secs(120)).await;
    let login = c.start("/approvals/a1");
    assert!(login.authorize_url.contains("code_challenge_method=S256") && login.authorize_url.contains("nonce="));
    let (code, state) = Browser::new().sign_in(login.authorize_url.clone(), "dispatch@msp.example").await;
    let who = c.finish(&login.pending, &code, &state).await.unwrap();
    assert_eq!(who.email.as_deref(), Some("dispatch@msp.example"));
    assert_eq!(who.subject, format!("{}#dispatch@msp.example", p.issuer));
    // The code is single-use at the provider: a replayed callback is refused.
    let again = c.finish(&login.pending, &code, &state).await.unwrap_err();
    assert!(matches!(again, SignInError::Provider { status: 400, .. }), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_are_not_this_sign_ins_are_refused() {
    let Some(p) = provider(3600) else { return };
    let c = client(&p, Duration::from_secs(120)).await;
    let login = c.start("/");
    let (code, state) = Browser::new().sign_in(login.authorize_url.clone(), "ana@msp.example").await;
    let wrong_state = c.redeem(&login.pending, &code, "another-state").await.unwrap_err();
    assert!(matches!(wrong_state, SignInError::Callback(_)), "{wrong_state}");
    let tokens = c.redeem(&login.pending, &code, &state).await.unwrap();
    let id = tokens.id_token.clone();
    let refused = |r: Result<atpilot_signin::Identity, SignInError>, what: &str| {
        let e = r.expect_err(what);
        assert!(matches!(e, SignInError::IdToken(_)), "{what}: {e}");
        e.to_string()
    };
    assert!(c.validator().check(&id, &login.pending.nonce).await.is_ok(), "the genuine token passes");
    let nonce = refused(c.validator().check(&id, "a-replayed-sign-in").await, "another nonce");
    assert!(nonce.contains("nonce"), "{nonce}");
    // A changed claim breaks the signature.
    let parts: Vec<&str> = id.split('.').collect();
    let forged_claims = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut v: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        v["email"] = "boss@msp.example".into();
        b64.encode(serde_json::to_vec(&v).unwrap())
    };
    refused(
        c.validator().check(&format!("{}.{forged_claims}.{}", parts[0], parts[2]), &login.pending.nonce).await,
        "forged",
    );
    // alg "none": no signature at all.
    let none = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.", b64.encode(br#"{"alg":"none","typ":"JWT"}"#), parts[1])
    };
    refused(c.validator().check(&none, &login.pending.nonce).await, "alg none");
    // Another client's audience, another issuer.
    let http = reqwest::Client::new();
    let other_aud = Validator::new(c.metadata(), "another-client", Duration::from_secs(120), http.clone());
    refused(other_aud.check(&id, &login.pending.nonce).await, "wrong audience");
    let mut elsewhere = c.metadata().clone();
    elsewhere.issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0".into();
    let other_iss = Validator::new(&elsewhere, CLIENT_ID, Duration::from_secs(120), http);
    refused(other_iss.check(&id, &login.pending.nonce).await, "wrong issuer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_id_token_is_refused() {
    let Some(p) = provider(1) else { return };
    let c = client(&p, Duration::ZERO).await;
    let login = c.start("/");
    let (code, state) = Browser::new().sign_in(login.authorize_url.clone(), "ana@msp.example").await;
    let tokens = c.redeem(&login.pending, &code, &state).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let e = c.validator().check(&tokens.id_token, &login.pending.nonce).await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("expired"), "{e}");
}
