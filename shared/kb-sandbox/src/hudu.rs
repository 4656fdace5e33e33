//! The Hudu sandbox: `GET|POST /api/v1/articles`, `GET|PUT /api/v1/articles/{id}`,
//! `GET /api/v1/companies`, `GET /api/v1/companies/{id}` (Hudu-spec v2.44.0 as
//! summarized in `../shared/reference/kb-and-messaging.md` §2). A bad key is 401
//! `{"success":false,"error":…}`; past the window's budget, 429 with the plain
//! text `Retry later` and no `Retry-After`.

// A refusal *is* the HTTP answer, built once per request: its size does not matter here.
#![allow(clippy::result_large_err)]

use crate::server::{Knobs, Sandbox, Shared, key_ok, lock, params};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A company: Autotask-synced ones carry the Autotask companyID in
/// `id_in_integration` ([U] in the reference; the client also matches by name).
#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub id_in_integration: Option<String>,
}

/// An article. `company_id` `None` is a global article.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: i64,
    pub name: String,
    pub content: String,
    pub company_id: Option<i64>,
    pub folder_id: Option<i64>,
}

/// What the Hudu instance holds.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub companies: Vec<Company>,
    pub articles: Vec<Article>,
    /// New articles get ids from here on at least (0: from the highest
    /// plus one): a later `atpilot dev` run on kept state never hands out an
    /// id an earlier run's drafts link to.
    pub first_new_id: i64,
}

impl World {
    /// Adds an article and returns its id.
    pub fn add_article(&mut self, name: &str, content: &str, company_id: Option<i64>) -> i64 {
        let id = (self.articles.iter().map(|a| a.id).max().unwrap_or(0) + 1).max(self.first_new_id);
        self.articles.push(Article { id, name: name.into(), content: content.into(), company_id, folder_id: None });
        id
    }
}

type S = Arc<Shared<World>>;

/// Starts a Hudu sandbox holding `world`; its API base is [`base`].
pub async fn start(world: World) -> std::io::Result<Sandbox<World>> {
    let shared = Shared::new(world, Knobs::hudu());
    let app = Router::new()
        .route("/api/v1/articles", get(list_articles).post(create_article))
        .route("/api/v1/articles/{id}", get(get_article).put(update_article))
        .route("/api/v1/companies", get(list_companies))
        .route("/api/v1/companies/{id}", get(get_company))
        .with_state(shared.clone());
    Sandbox::serve(shared, app).await
}

/// The API base URL of a running Hudu sandbox (`https://<instance>/api/v1` in production).
pub fn base(sb: &Sandbox<World>) -> String {
    format!("http://{}/api/v1", sb.addr())
}

fn article_json(a: &Article) -> Value {
    json!({
        "id": a.id, "slug": format!("article-{}", a.id), "name": a.name, "draft": false, "content": a.content,
        "url": format!("https://docs.msp.example/kba/article-{}", a.id), "object_type": "Article",
        "folder_id": a.folder_id, "enable_sharing": false, "share_url": null, "company_id": a.company_id,
        "created_at": "2026-11-01T09:00:00.000Z", "updated_at": "2026-11-01T09:00:00.000Z",
    })
}

fn company_json(c: &Company, in_integrations: bool) -> Value {
    if in_integrations {
        let integrations: Vec<Value> = c.id_in_integration.iter().map(|id| json!({
            "integrator_id": 1, "integrator_name": "autotask", "sync_id": id.parse::<i64>().ok(), "identifier": id, "company_id": c.id,
        })).collect();
        return json!({"id": c.id, "name": c.name, "id_in_integration": null, "integrations": integrations});
    }
    json!({"id": c.id, "name": c.name, "id_in_integration": c.id_in_integration, "integrations": []})
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"success": false, "error": message}))).into_response()
}

/// Hudu's answer to a bad key or a request over the window's budget; `None` lets it through.
fn gate(s: &S, method: &Method, headers: &HeaderMap) -> Option<Response> {
    if !key_ok(headers) {
        Some(error(StatusCode::UNAUTHORIZED, "Invalid API key"))
    } else if s.over_limit(method) {
        Some((StatusCode::TOO_MANY_REQUESTS, "Retry later").into_response())
    } else {
        None
    }
}

/// Runs `f` behind the gate and records the answer.
fn serve(s: &S, method: &Method, uri: &Uri, headers: &HeaderMap, f: impl FnOnce() -> Response) -> Response {
    s.answer(method, uri, gate(s, method, headers), f)
}

/// One page of `items`: `page` (1-based) and `page_size`; `Err` is the 502 of an oversized page.
fn page<T: Clone>(items: &[T], p: &HashMap<String, String>, k: &Knobs) -> Result<Vec<T>, Response> {
    let size: usize = p.get("page_size").and_then(|v| v.parse().ok()).unwrap_or(k.default_page_size).max(1);
    if k.bad_gateway_over.is_some_and(|max| size > max) {
        return Err((StatusCode::BAD_GATEWAY, "502 Bad Gateway").into_response());
    }
    let n: usize = p.get("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    Ok(items.iter().skip((n - 1) * size).take(size).cloned().collect())
}

async fn list_articles(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let p = params(uri.query());
        let company: Option<i64> = p.get("company_id").and_then(|v| v.parse().ok());
        let name = p.get("name");
        let all: Vec<Article> = lock(&s.world)
            .articles
            .iter()
            .filter(|a| company.is_none_or(|c| a.company_id == Some(c)))
            .filter(|a| name.is_none_or(|n| &a.name == n))
            .cloned()
            .collect();
        let k = lock(&s.knobs).clone();
        match page(&all, &p, &k) {
            Ok(items) => {
                axum::Json(json!({"articles": items.iter().map(article_json).collect::<Vec<_>>()})).into_response()
            }
            Err(r) => r,
        }
    })
}

fn article_fields(body: &[u8]) -> Result<Value, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|_| error(StatusCode::BAD_REQUEST, "Invalid JSON"))?;
    match v.get("article") {
        Some(a) if a.is_object() => Ok(a.clone()),
        _ => Err(error(StatusCode::UNPROCESSABLE_ENTITY, "Unable to process request: article is required")),
    }
}

async fn create_article(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || match article_fields(&body) {
        Err(r) => r,
        Ok(a) => match a.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) {
            None => error(StatusCode::UNPROCESSABLE_ENTITY, "Name can't be blank"),
            Some(name) => {
                let mut w = lock(&s.world);
                let content = a.get("content").and_then(Value::as_str).unwrap_or_default();
                let company = a.get("company_id").and_then(Value::as_i64);
                let id = w.add_article(name, content, company);
                let folder = a.get("folder_id").and_then(Value::as_i64);
                let stored = w.articles.iter_mut().find(|x| x.id == id).map(|x| {
                    x.folder_id = folder;
                    x.clone()
                });
                let body = stored.as_ref().map(article_json).unwrap_or_default();
                let bare = lock(&s.knobs).bare_created_article;
                axum::Json(if bare { body } else { json!({"article": body}) }).into_response()
            }
        },
    })
}

async fn get_article(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || match lock(&s.world).articles.iter().find(|a| a.id == id) {
        Some(a) => axum::Json(json!({"article": article_json(a)})).into_response(),
        None => error(StatusCode::NOT_FOUND, "Record not found"),
    })
}

async fn update_article(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || match article_fields(&body) {
        Err(r) => r,
        Ok(a) => {
            let mut w = lock(&s.world);
            match w.articles.iter_mut().find(|x| x.id == id) {
                None => error(StatusCode::NOT_FOUND, "Record not found"),
                Some(x) => {
                    if let Some(n) = a.get("name").and_then(Value::as_str) {
                        x.name = n.into();
                    }
                    if let Some(c) = a.get("content").and_then(Value::as_str) {
                        x.content = c.into();
                    }
                    axum::Json(json!({"article": article_json(x)})).into_response()
                }
            }
        }
    })
}

async fn list_companies(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let p = params(uri.query());
        let in_integrations = lock(&s.knobs).psa_id_in_integrations;
        let all: Vec<Company> = lock(&s.world)
            .companies
            .iter()
            .filter(|c| {
                p.get("id_in_integration").is_none_or(|v| !in_integrations && c.id_in_integration.as_ref() == Some(v))
            })
            .filter(|c| p.get("name").is_none_or(|v| &c.name == v))
            .cloned()
            .collect();
        let k = lock(&s.knobs).clone();
        match page(&all, &p, &k) {
            Ok(items) => {
                let list: Vec<Value> = items.iter().map(|c| company_json(c, in_integrations)).collect();
                axum::Json(json!({ "companies": list })).into_response()
            }
            Err(r) => r,
        }
    })
}

async fn get_company(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || match lock(&s.world).companies.iter().find(|c| c.id == id) {
        Some(c) => {
            let in_integrations = lock(&s.knobs).psa_id_in_integrations;
            axum::Json(json!({"company": company_json(c, in_integrations)})).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "Record not found"),
    })
}
