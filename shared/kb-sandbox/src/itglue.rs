//! The IT Glue sandbox (JSON:API, `../shared/reference/kb-and-messaging.md` §1):
//! `GET /organizations` (`filter[psa_id]` needs `filter[psa_integration_type]`;
//! `filter[name]` is exact, commas escaped `\,`), `GET|POST
//! /organizations/{id}/relationships/documents` (created as drafts), `GET
//! /documents/{id}`, `GET|POST /documents/{id}/relationships/sections` (a
//! section without its `resource-type` is 400) and `PATCH
//! /documents/{id}/publish` (a POST there is 404). Paging: `page[size]`
//! (default 50, at most 1000) and `page[number]`, with `meta` totals. A bad
//! key is 403; past the window's budget, 429; errors are `{"errors":[…]}`.

// A refusal *is* the HTTP answer, built once per request: its size does not matter here.
#![allow(clippy::result_large_err)]

use crate::server::{Knobs, Sandbox, Shared, key_ok, lock, params};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// An organization; PSA-synced ones carry the PSA's company id as `psa_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    /// (`psa_integration_type`, `psa_id`), e.g. ("autotask", "174").
    pub psa: Option<(String, String)>,
}

/// A document and its sections (`resource-type`, HTML content), in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: i64,
    pub name: String,
    pub organization_id: i64,
    pub published: bool,
    pub sections: Vec<(String, String)>,
}

/// A field of a flexible asset type (`flexible-asset-fields`).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name_key: String,
    /// `Text`, `Textbox`, `Tag`, `Select`…
    pub kind: String,
    pub required: bool,
    pub use_for_title: bool,
}

/// A flexible asset type and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FlexibleAssetType {
    pub id: i64,
    pub name: String,
    pub fields: Vec<Field>,
}

/// A flexible asset: its traits by `name-key`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlexibleAsset {
    pub id: i64,
    pub organization_id: i64,
    pub type_id: i64,
    pub traits: serde_json::Map<String, Value>,
}

/// What the IT Glue account holds.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub organizations: Vec<Organization>,
    pub documents: Vec<Document>,
    pub flexible_asset_types: Vec<FlexibleAssetType>,
    pub flexible_assets: Vec<FlexibleAsset>,
    /// New documents and flexible assets get ids from here on at least (0:
    /// from the highest plus one): a later `atpilot dev` run on kept state
    /// never hands out an id an earlier run's drafts link to.
    pub first_new_id: i64,
}

impl World {
    /// The id of a new document (`assets` false) or flexible asset.
    pub(crate) fn next_id(&self, assets: bool) -> i64 {
        let highest = if assets {
            self.flexible_assets.iter().map(|a| a.id).max()
        } else {
            self.documents.iter().map(|d| d.id).max()
        };
        (highest.unwrap_or(0) + 1).max(self.first_new_id)
    }

    /// Adds a published document with one text section and returns its id.
    pub fn add_document(&mut self, organization_id: i64, name: &str, html: &str) -> i64 {
        let id = self.next_id(false);
        let sections = vec![("Document::Text".to_string(), html.to_string())];
        self.documents.push(Document { id, name: name.into(), organization_id, published: true, sections });
        id
    }

    /// Adds a "KB Article" flexible asset type (a title Text field, a Textbox
    /// body, an optional Tag) with `id` and returns it.
    pub fn add_kb_type(&mut self, id: i64) -> i64 {
        let field = |k: &str, kind: &str, required, title| Field {
            name_key: k.into(),
            kind: kind.into(),
            required,
            use_for_title: title,
        };
        let fields = vec![
            field("title", "Text", true, true),
            field("body", "Textbox", true, false),
            field("related", "Tag", false, false),
        ];
        self.flexible_asset_types.push(FlexibleAssetType { id, name: "KB Article".into(), fields });
        id
    }

    /// Adds a flexible asset of `type_id` with these title and body traits and returns its id.
    pub fn add_asset(&mut self, organization_id: i64, type_id: i64, title: &str, html: &str) -> i64 {
        let id = self.next_id(true);
        let mut traits = serde_json::Map::new();
        traits.insert("title".into(), json!(title));
        traits.insert("body".into(), json!(html));
        self.flexible_assets.push(FlexibleAsset { id, organization_id, type_id, traits });
        id
    }
}

pub(crate) type S = Arc<Shared<World>>;

#[path = "itglue_assets.rs"]
mod assets;

/// Starts an IT Glue sandbox holding `world`; its API base is [`base`].
pub async fn start(world: World) -> std::io::Result<Sandbox<World>> {
    let shared = Shared::new(world, Knobs::itglue());
    let app = Router::new()
        .route("/organizations", get(organizations))
        .route("/organizations/{id}/relationships/documents", get(documents).post(create_document))
        .route("/documents/{id}", get(document))
        .route("/documents/{id}/relationships/sections", get(sections).post(create_section))
        // A POST to the publish path is a 404, as IT Glue answers it.
        .route("/documents/{id}/publish", patch(publish).fallback(not_found))
        .route("/flexible_asset_types/{id}", get(assets::asset_type))
        .route("/flexible_assets", get(assets::assets).post(assets::create_asset))
        .route("/flexible_assets/{id}", get(assets::asset))
        .fallback(not_found)
        .with_state(shared.clone());
    Sandbox::serve(shared, app).await
}

/// The API base URL of a running IT Glue sandbox (`https://api.itglue.com` in the US region).
pub fn base(sb: &Sandbox<World>) -> String {
    format!("http://{}", sb.addr())
}

pub(crate) fn errors(status: StatusCode, title: &str, detail: &str, s: &S) -> Response {
    let detail = if lock(&s.knobs).detail_as_array { json!([detail]) } else { json!(detail) };
    let body = json!({"errors": [{"status": status.as_u16(), "title": title, "detail": detail}]});
    (status, [("content-type", "application/vnd.api+json")], body.to_string()).into_response()
}

pub(crate) fn ok(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/vnd.api+json")], body.to_string()).into_response()
}

/// Answers auth and rate-limit refusals; `None` lets the request through.
fn gate(s: &S, method: &Method, headers: &HeaderMap) -> Option<Response> {
    if !key_ok(headers) {
        return Some(errors(StatusCode::FORBIDDEN, "Forbidden", "Invalid API key", s));
    }
    s.over_limit(method).then(|| errors(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", "Rate limit exceeded", s))
}

/// Runs `f` behind the gate and records the answer.
pub(crate) fn serve(s: &S, method: &Method, uri: &Uri, headers: &HeaderMap, f: impl FnOnce() -> Response) -> Response {
    s.answer(method, uri, gate(s, method, headers), f)
}

/// One JSON:API page of `items` with its `meta`.
pub(crate) fn paged(items: Vec<Value>, p: &HashMap<String, String>, s: &S) -> Result<Value, Response> {
    let default = lock(&s.knobs).default_page_size;
    let size: usize = match p.get("page[size]").map(|v| v.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return Err(errors(StatusCode::BAD_REQUEST, "Bad Request", "page[size] must be 1 to 1000", s)),
    };
    let number: usize = p.get("page[number]").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let total = items.len();
    let pages = total.div_ceil(size).max(1);
    let data: Vec<Value> = items.into_iter().skip((number - 1) * size).take(size).collect();
    let next = (number < pages).then_some(number + 1);
    let prev = (number > 1).then(|| number - 1);
    Ok(
        json!({"data": data, "meta": {"current-page": number, "next-page": next, "prev-page": prev, "total-pages": pages, "total-count": total}}),
    )
}

fn org_json(o: &Organization) -> Value {
    json!({"id": o.id.to_string(), "type": "organizations", "attributes": {
        "name": o.name, "psa-integration": o.psa.as_ref().map(|p| p.0.clone()), "psa-id": o.psa.as_ref().map(|p| p.1.clone()),
    }})
}

fn doc_json(d: &Document) -> Value {
    json!({"id": d.id.to_string(), "type": "documents", "attributes": {
        "name": d.name, "organization-id": d.organization_id, "published": d.published, "draft": !d.published,
        "resource-url": format!("https://msp.itglue.com/{}/docs/{}", d.organization_id, d.id),
    }})
}

/// `filter[name]`'s value with its escaped commas (`\,`) restored.
fn unescape(v: &str) -> String {
    v.replace("\\,", ",")
}

async fn organizations(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let p = params(uri.query());
        if p.contains_key("filter[psa_id]") && !p.contains_key("filter[psa_integration_type]") {
            let detail = "filter[psa_id] must be accompanied by filter[psa_integration_type]";
            return errors(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", detail, &s);
        }
        let found: Vec<Value> = lock(&s.world)
            .organizations
            .iter()
            .filter(|o| p.get("filter[name]").is_none_or(|n| o.name == unescape(n)))
            .filter(|o| match (p.get("filter[psa_integration_type]"), p.get("filter[psa_id]")) {
                (Some(t), Some(id)) => o.psa.as_ref() == Some(&(t.clone(), id.clone())),
                _ => true,
            })
            .map(org_json)
            .collect();
        paged(found, &p, &s).map(|v| ok(StatusCode::OK, v)).unwrap_or_else(|e| e)
    })
}

async fn documents(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap, Path(org): Path<i64>) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let found: Vec<Value> =
            lock(&s.world).documents.iter().filter(|d| d.organization_id == org).map(doc_json).collect();
        paged(found, &params(uri.query()), &s).map(|v| ok(StatusCode::OK, v)).unwrap_or_else(|e| e)
    })
}

/// `data.attributes` of a JSON:API body of `kind`, or the 400/422 answer.
pub(crate) fn attributes(body: &[u8], kind: &str, s: &S) -> Result<Value, Response> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| errors(StatusCode::BAD_REQUEST, "Bad Request", "the body is not JSON", s))?;
    let data = &v["data"];
    if data["type"] != kind {
        return Err(errors(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", "data.type is wrong", s));
    }
    Ok(data["attributes"].clone())
}

async fn create_document(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(org): Path<i64>,
    body: Bytes,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let a = match attributes(&body, "documents", &s) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let Some(name) = a["name"].as_str().filter(|n| !n.trim().is_empty()) else {
            return errors(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", "can't be blank", &s);
        };
        let mut w = lock(&s.world);
        if !w.organizations.iter().any(|o| o.id == org) {
            return errors(StatusCode::NOT_FOUND, "Record not found", "organization not found", &s);
        }
        let id = w.next_id(false);
        let d = Document { id, name: name.into(), organization_id: org, published: false, sections: vec![] };
        let body = json!({"data": doc_json(&d)});
        w.documents.push(d);
        ok(StatusCode::CREATED, body)
    })
}

async fn document(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || match lock(&s.world).documents.iter().find(|d| d.id == id) {
        Some(d) => ok(StatusCode::OK, json!({"data": doc_json(d)})),
        None => errors(StatusCode::NOT_FOUND, "Record not found", "document not found", &s),
    })
}

async fn sections(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let w = lock(&s.world);
        let Some(d) = w.documents.iter().find(|d| d.id == id) else {
            return errors(StatusCode::NOT_FOUND, "Record not found", "document not found", &s);
        };
        let data: Vec<Value> = d
            .sections
            .iter()
            .enumerate()
            .map(|(i, (kind, html))| json!({"id": format!("{id}-{i}"), "type": "document-sections", "attributes": {"resource-type": kind, "content": html, "sort": i}}))
            .collect();
        ok(StatusCode::OK, json!({"data": data}))
    })
}

async fn create_section(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let a = match attributes(&body, "document-sections", &s) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let Some(kind) = a["resource-type"].as_str().filter(|k| !k.is_empty()) else {
            let detail = "param is missing or the value is empty: resource_type";
            return errors(StatusCode::BAD_REQUEST, "Bad Request", detail, &s);
        };
        let mut w = lock(&s.world);
        let Some(d) = w.documents.iter_mut().find(|d| d.id == id) else {
            return errors(StatusCode::NOT_FOUND, "Record not found", "document not found", &s);
        };
        d.sections.push((kind.to_string(), a["content"].as_str().unwrap_or_default().to_string()));
        let i = d.sections.len() - 1;
        ok(
            StatusCode::CREATED,
            json!({"data": {"id": format!("{id}-{i}"), "type": "document-sections", "attributes": {"resource-type": kind, "sort": i}}}),
        )
    })
}

async fn publish(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let mut w = lock(&s.world);
        match w.documents.iter_mut().find(|d| d.id == id) {
            Some(d) => {
                d.published = true;
                ok(StatusCode::OK, json!({"data": doc_json(d)}))
            }
            None => errors(StatusCode::NOT_FOUND, "Record not found", "document not found", &s),
        }
    })
}

async fn not_found(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || errors(StatusCode::NOT_FOUND, "Not Found", "no such route", &s))
}
