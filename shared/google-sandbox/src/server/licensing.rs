//! The Licensing API under `/apps/licensing/v1` (reference §5 "Licensing"):
//! `product/{p}/sku/{s}/user` POST, `…/user/{userId}` GET and DELETE, scope
//! `apps.licensing`. [U] texts: "User license assignment limit exceeded"
//! (no seat, status per knob), "User already has a license for the specified
//! product and SKU" (412 conditionNotMet).

use super::auth::{Ctx, user_of};
use super::{google_error, json_resp, no_content};
use crate::seed::scopes;
use crate::world::{CustomerState, SkuRecord};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

type R = Result<Response, Response>;

const NOT_HELD: &str = "User does not have a license for specified sku and product";

pub(crate) fn dispatch(c: &Ctx<'_>) -> R {
    let s: Vec<&str> = c.segs.iter().map(String::as_str).collect();
    match (s.as_slice(), c.method) {
        (["product", p, "sku", k, "user"], &Method::POST) => insert(c, &format!("{p}/{k}")),
        (["product", p, "sku", k, "user", u], &Method::GET) => get(c, &format!("{p}/{k}"), u),
        (["product", p, "sku", k, "user", u], &Method::DELETE) => delete(c, &format!("{p}/{k}"), u),
        _ => Err(google_error(404, "notFound", "Not Found")),
    }
}

fn assignment_json(sku: &SkuRecord, user_id: &str, base: &str) -> Value {
    json!({"kind": "licensing#licenseAssignment", "etags": format!("\"sbx-{}-{user_id}\"", sku.sku_id),
           "productId": sku.product_id, "skuId": sku.sku_id, "userId": user_id,
           "selfLink": format!("{base}/apps/licensing/v1/product/{}/sku/{}/user/{user_id}", sku.product_id, sku.sku_id),
           "productName": sku.product_name, "skuName": sku.sku_name})
}

fn sku_of(cs: &CustomerState, sku: &str) -> Result<usize, Response> {
    cs.sku_idx(sku).ok_or_else(|| google_error(400, "invalid", "Invalid productId or skuId."))
}

fn get(c: &Ctx<'_>, sku: &str, user: &str) -> R {
    c.require(&[scopes::LICENSING])?;
    c.world(|w, ci| {
        let u = user_of(w, ci, user, "userId")?;
        let cs = &w.customers[ci];
        let k = sku_of(cs, sku)?;
        let holder = &cs.users[u];
        if holder.licences.iter().any(|l| l.eq_ignore_ascii_case(sku)) {
            Ok(json_resp(200, assignment_json(&cs.skus[k], &holder.primary_email, &c.sh.base)))
        } else {
            Err(google_error(404, "notFound", NOT_HELD))
        }
    })
}

/// `POST …/user {"userId"}`: already held → 412; no free seat → `knobs.no_seat_status`.
fn insert(c: &Ctx<'_>, sku: &str) -> R {
    c.require(&[scopes::LICENSING])?;
    let body = c.json_body()?;
    let user = body.get("userId").and_then(Value::as_str).map(str::trim).unwrap_or_default().to_string();
    if user.is_empty() {
        return Err(google_error(400, "required", "Missing required field: userId"));
    }
    c.world(|w, ci| {
        let u = user_of(w, ci, &user, "userId")?;
        let cs = &mut w.customers[ci];
        let k = sku_of(cs, sku)?;
        if cs.users[u].licences.iter().any(|l| l.eq_ignore_ascii_case(sku)) {
            return Err(google_error(
                412,
                "conditionNotMet",
                "User already has a license for the specified product and SKU",
            ));
        }
        if cs.used(sku) >= cs.skus[k].total {
            let status = c.knobs.no_seat_status;
            let reason = if status == 412 { "conditionNotMet" } else { "invalid" };
            return Err(google_error(status, reason, "User license assignment limit exceeded"));
        }
        let key = cs.skus[k].key();
        cs.users[u].licences.push(key);
        Ok(json_resp(200, assignment_json(&cs.skus[k], &cs.users[u].primary_email, &c.sh.base)))
    })
}

/// `DELETE …/user/{userId}` → 204 with an empty body; not held → 404.
fn delete(c: &Ctx<'_>, sku: &str, user: &str) -> R {
    c.require(&[scopes::LICENSING])?;
    c.world(|w, ci| {
        let u = user_of(w, ci, user, "userId")?;
        let cs = &mut w.customers[ci];
        sku_of(cs, sku)?;
        let before = cs.users[u].licences.len();
        cs.users[u].licences.retain(|l| !l.eq_ignore_ascii_case(sku));
        if cs.users[u].licences.len() < before {
            Ok(no_content())
        } else {
            Err(google_error(404, "notFound", NOT_HELD))
        }
    })
}
