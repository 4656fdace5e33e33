//! `/subscribedSkus`, `/groups…` and `/users/{id}/authentication/…`
//! (reference §3 "Licenses: subscribedSkus", "Groups", "Force MFA re-registration").

use super::graph::{Ctx, perms};
use super::odata::{page, parse_filter, select};
use super::users::top;
use super::{graph_error, json_resp, lock, no_content, not_found};
use crate::world::{GroupRecord, TenantState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

type R = Result<Response, Response>;

const DEFAULT_GROUP_PROPS: &[&str] = &["id", "displayName", "mail", "groupTypes", "mailEnabled", "securityEnabled"];
const ALREADY_MEMBER: &str =
    "One or more added object references already exist for the following modified properties: 'members'.";
const EXCHANGE_MANAGED: &str = "Cannot Update a mail-enabled security groups and or distribution list.";

fn bad_request(msg: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest", msg)
}

fn with_tenant<T>(c: &Ctx<'_>, f: impl FnOnce(&mut TenantState) -> Result<T, Response>) -> Result<T, Response> {
    let mut w = lock(&c.sh.world);
    let t = w.tenants.get_mut(c.tenant).ok_or_else(|| not_found(c.tenant))?;
    f(t)
}

pub(crate) fn subscribed_skus(c: &Ctx<'_>) -> R {
    c.require(perms::READ_SKUS)?;
    if c.req.param("$filter").is_some() {
        return Err(graph_error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Unsupported Query."));
    }
    let items: Vec<Value> = with_tenant(c, |t| {
        Ok(t.skus
            .iter()
            .map(|s| {
                json!({"id": format!("{}_{}", t.id, s.sku_id), "accountId": t.id, "accountName": t.display_name,
                       "appliesTo": s.applies_to, "capabilityStatus": s.capability_status,
                       "consumedUnits": t.consumed(&s.sku_id),
                       "prepaidUnits": {"enabled": s.enabled_units, "suspended": 0, "warning": 0, "lockedOut": 0},
                       "servicePlans": [], "skuId": s.sku_id, "skuPartNumber": s.part_number})
            })
            .collect())
    })?;
    Ok(json_resp(
        StatusCode::OK,
        json!({"@odata.context": format!("{}/v1.0/$metadata#subscribedSkus", c.sh.base), "value": items}),
    ))
}

fn group_json(g: &GroupRecord) -> Map<String, Value> {
    let v = json!({"id": g.id, "displayName": g.display_name, "mail": g.mail, "groupTypes": g.group_types,
                   "mailEnabled": g.mail_enabled, "securityEnabled": g.security_enabled,
                   "onPremisesSyncEnabled": null, "isAssignableToRole": g.is_assignable_to_role});
    v.as_object().cloned().unwrap_or_default()
}

pub(crate) fn list_groups(c: &Ctx<'_>) -> R {
    c.require(perms::READ_GROUPS)?;
    let filter = match c.req.param("$filter") {
        Some(f) => Some(parse_filter(&f).map_err(|e| bad_request(&e))?),
        None => None,
    };
    let count = c.req.param("$count").is_some_and(|v| v == "true") && c.req.eventual();
    if let Some(op) = filter.as_ref().and_then(|f| f.advanced_operator(false)) {
        if !count {
            return Err(graph_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                &format!(
                    "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
                ),
            ));
        }
    }
    let size = top(c)?;
    let sel = c.req.param("$select");
    let items: Vec<Value> = with_tenant(c, |t| {
        Ok(t.groups
            .iter()
            .map(group_json)
            .filter(|g| filter.as_ref().is_none_or(|f| f.matches(g)))
            .map(|g| select(&g, sel.as_deref(), DEFAULT_GROUP_PROPS))
            .collect())
    })?;
    let body = page(items, size, &c.sh.base, &c.req.path(), c.req.raw_query, count).map_err(|e| bad_request(&e))?;
    Ok(json_resp(StatusCode::OK, body))
}

pub(crate) fn add_member(c: &Ctx<'_>, gid: &str) -> R {
    c.require(perms::MEMBERS)?;
    let body = c.req.json().unwrap_or(Value::Null);
    let reference = body.get("@odata.id").and_then(Value::as_str).unwrap_or_default();
    let uid = reference
        .split_once("/directoryObjects/")
        .map(|(_, id)| id.trim_matches('/').to_string())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad_request("Invalid object identifier in @odata.id."))?;
    let read_only = c.knobs.mail_enabled_security_groups_read_only;
    with_tenant(c, |t| {
        let g = t.groups.iter().position(|g| g.id.eq_ignore_ascii_case(gid)).ok_or_else(|| not_found(gid))?;
        let u = t.user_idx(&uid).ok_or_else(|| not_found(&uid))?;
        let user_id = t.users[u].id.clone();
        let group = &mut t.groups[g];
        if read_only && group.exchange_managed() {
            return Err(bad_request(EXCHANGE_MANAGED));
        }
        if !group.members.insert(user_id) {
            return Err(bad_request(ALREADY_MEMBER));
        }
        Ok(no_content())
    })
}

pub(crate) fn remove_member(c: &Ctx<'_>, gid: &str, uid: &str) -> R {
    c.require(perms::MEMBERS)?;
    let read_only = c.knobs.mail_enabled_security_groups_read_only;
    with_tenant(c, |t| {
        let g = t.groups.iter().position(|g| g.id.eq_ignore_ascii_case(gid)).ok_or_else(|| not_found(gid))?;
        let user_id = t.user_idx(uid).map(|u| t.users[u].id.clone()).unwrap_or_else(|| uid.to_string());
        let group = &mut t.groups[g];
        if read_only && group.exchange_managed() {
            return Err(bad_request(EXCHANGE_MANAGED));
        }
        if !group.members.remove(&user_id) {
            return Err(not_found(uid));
        }
        Ok(no_content())
    })
}

pub(crate) fn list_methods(c: &Ctx<'_>, id: &str) -> R {
    c.require(perms::READ_METHODS)?;
    let size = top(c)?;
    let items: Vec<Value> = with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        Ok(t.users[i].methods.iter().map(|m| json!({"@odata.type": m.odata_type, "id": m.id})).collect())
    })?;
    let body = page(items, size, &c.sh.base, &c.req.path(), c.req.raw_query, false).map_err(|e| bad_request(&e))?;
    Ok(json_resp(StatusCode::OK, body))
}

/// `DELETE /users/{id}/authentication/{xMethods}/{methodId}`: the collection
/// must match the method's type; the password method cannot be deleted.
pub(crate) fn delete_method(c: &Ctx<'_>, id: &str, coll: &str, mid: &str) -> R {
    c.require(perms::WRITE_METHODS)?;
    with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        let u = &mut t.users[i];
        let m = u.methods.iter().position(|m| m.id.eq_ignore_ascii_case(mid)).ok_or_else(|| not_found(mid))?;
        let ty = &u.methods[m].odata_type;
        let expected = ty
            .strip_prefix("#microsoft.graph.")
            .and_then(|k| k.strip_suffix("AuthenticationMethod"))
            .map(|k| format!("{k}Methods"))
            .unwrap_or_default();
        if expected == "passwordMethods" || !coll.eq_ignore_ascii_case(&expected) {
            return Err(bad_request(&format!("The method {mid} cannot be deleted through {coll}.")));
        }
        u.methods.remove(m);
        Ok(no_content())
    })
}
