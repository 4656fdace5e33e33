//! Test support shared by the sign-in tests (here and `cli/tests/signin.rs`):
//! a real OpenID provider (node-oidc-provider from `tests/oidc-provider`) on
//! loopback, and a small browser that keeps cookies, follows redirects and
//! fills the provider's development login page.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::BufRead;

pub const CLIENT_ID: &str = "atpilot-test";
pub const SECRET: &str = "a-client-secret-for-the-test-provider";

pub struct Provider {
    child: std::process::Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The provider, or `None` (the test is skipped) where node or its packages
/// are missing and ATPILOT_REQUIRE_BROWSER is not 1.
pub fn provider(id_token_ttl: u32, redirect_uri: &str) -> Option<Provider> {
    // The workspace's tests/oidc-provider, from whichever crate includes this module.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("tests/oidc-provider"))
        .find(|d| d.join("provider.mjs").exists())
        .expect("tests/oidc-provider in the workspace");
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
        .args([CLIENT_ID, SECRET, redirect_uri])
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

/// A browser on the provider: cookies kept, redirects followed until the callback.
pub struct Browser {
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, cookies: BTreeMap::new() }
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
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

    /// Signs in as `login` from `url` until a redirect to `callback`: that URL.
    pub async fn sign_in_until(&mut self, mut url: String, login: &str, callback: &str) -> String {
        for _ in 0..12 {
            if url.starts_with(callback) {
                return url;
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
pub fn form(html: &str) -> (String, BTreeMap<String, String>) {
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
