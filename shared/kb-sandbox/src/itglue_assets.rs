//! The IT Glue sandbox's flexible assets (reference §1): `GET
//! /flexible_asset_types/{id}` (its fields under `included` with
//! `?include=flexible_asset_fields`), `GET /flexible_assets` (refused with 422
//! without `filter[flexible_asset_type_id]`; `filter[organization_id]`
//! optional; paged), `POST /flexible_assets` (every required trait present,
//! no unknown trait key) and `GET /flexible_assets/{id}`.

use super::{FlexibleAsset, S, attributes, errors, ok, paged, serve};
use crate::server::{lock, params};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

fn asset_json(a: &FlexibleAsset, title_key: Option<&str>) -> Value {
    let name = title_key.and_then(|k| a.traits.get(k)).and_then(Value::as_str).unwrap_or_default();
    json!({"id": a.id.to_string(), "type": "flexible-assets", "attributes": {
        "organization-id": a.organization_id, "flexible-asset-type-id": a.type_id, "name": name, "traits": a.traits,
        "resource-url": format!("https://msp.itglue.com/{}/assets/records/{}", a.organization_id, a.id),
    }})
}

/// The `name-key` of the type's title field.
fn title_key(s: &S, type_id: i64) -> Option<String> {
    let w = lock(&s.world);
    let t = w.flexible_asset_types.iter().find(|t| t.id == type_id)?;
    t.fields.iter().find(|f| f.use_for_title).map(|f| f.name_key.clone())
}

pub(super) async fn asset_type(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let w = lock(&s.world);
        let Some(t) = w.flexible_asset_types.iter().find(|t| t.id == id) else {
            return errors(StatusCode::NOT_FOUND, "Record not found", "flexible asset type not found", &s);
        };
        let mut body =
            json!({"data": {"id": t.id.to_string(), "type": "flexible-asset-types", "attributes": {"name": t.name}}});
        if params(uri.query()).get("include").is_some_and(|i| i.split(',').any(|x| x == "flexible_asset_fields")) {
            let included: Vec<Value> = t
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| json!({"id": format!("{id}{i}"), "type": "flexible-asset-fields", "attributes": {
                    "name": f.name_key, "name-key": f.name_key, "kind": f.kind, "required": f.required, "use-for-title": f.use_for_title, "order": i,
                }}))
                .collect();
            body["included"] = json!(included);
        }
        ok(StatusCode::OK, body)
    })
}

pub(super) async fn assets(State(s): State<S>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let p = params(uri.query());
        let Some(type_id) = p.get("filter[flexible_asset_type_id]").and_then(|v| v.parse::<i64>().ok()) else {
            let detail = "filter[flexible_asset_type_id] is required";
            return errors(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", detail, &s);
        };
        let org = p.get("filter[organization_id]").and_then(|v| v.parse::<i64>().ok());
        let key = title_key(&s, type_id);
        let found: Vec<Value> = lock(&s.world)
            .flexible_assets
            .iter()
            .filter(|a| a.type_id == type_id && org.is_none_or(|o| a.organization_id == o))
            .map(|a| asset_json(a, key.as_deref()))
            .collect();
        paged(found, &p, &s).map(|v| ok(StatusCode::OK, v)).unwrap_or_else(|e| e)
    })
}

pub(super) async fn asset(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let found = lock(&s.world).flexible_assets.iter().find(|a| a.id == id).cloned();
        match found {
            Some(a) => ok(StatusCode::OK, json!({"data": asset_json(&a, title_key(&s, a.type_id).as_deref())})),
            None => errors(StatusCode::NOT_FOUND, "Record not found", "flexible asset not found", &s),
        }
    })
}

/// Why the traits do not fit the type, if they do not.
fn trait_refusal(s: &S, type_id: i64, traits: &serde_json::Map<String, Value>) -> Option<&'static str> {
    let w = lock(&s.world);
    let Some(t) = w.flexible_asset_types.iter().find(|t| t.id == type_id) else {
        return Some("flexible asset type not found");
    };
    if traits.keys().any(|k| !t.fields.iter().any(|f| &f.name_key == k)) {
        return Some("Request contains invalid trait keys");
    }
    let missing = t.fields.iter().any(|f| f.required && traits.get(&f.name_key).is_none_or(|v| v.is_null() || v == ""));
    missing.then_some("can't be blank")
}

pub(super) async fn create_asset(
    State(s): State<S>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&s.clone(), &method, &uri, &headers, || {
        let a = match attributes(&body, "flexible-assets", &s) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let (Some(org), Some(type_id)) = (a["organization-id"].as_i64(), a["flexible-asset-type-id"].as_i64()) else {
            return errors(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Entity",
                "organization-id and flexible-asset-type-id are required",
                &s,
            );
        };
        let traits = a["traits"].as_object().cloned().unwrap_or_default();
        if let Some(why) = trait_refusal(&s, type_id, &traits) {
            return errors(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", why, &s);
        }
        let key = title_key(&s, type_id);
        let mut w = lock(&s.world);
        if !w.organizations.iter().any(|o| o.id == org) {
            return errors(StatusCode::NOT_FOUND, "Record not found", "organization not found", &s);
        }
        let id = w.next_id(true);
        let asset = FlexibleAsset { id, organization_id: org, type_id, traits };
        let body = json!({"data": asset_json(&asset, key.as_deref())});
        w.flexible_assets.push(asset);
        ok(StatusCode::CREATED, body)
    })
}
