//! `/users…` (reference §3 "Get user", "Reset password", "Revoke sessions",
//! "Enable/disable", "Licenses: assignLicense", "Admin roles"; §2 for the
//! default property set, `$select` and advanced queries).

use super::graph::{Ctx, perms};
use super::odata::{page, parse_filter, select};
use super::{denied, graph_error, json_resp, lock, no_content, not_found};
use crate::world::{TenantState, UserRecord, roles};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};
use sha2::Digest;

type R = Result<Response, Response>;

/// Graph's default user property set: no `accountEnabled`, `usageLocation`,
/// `assignedLicenses` or `onPremisesSyncEnabled` (reference §2).
pub(crate) const DEFAULT_USER_PROPS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

const SYNCED_TEXT: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";
const COMPLEXITY_TEXT: &str = "The specified password does not comply with password complexity requirements. Please provide a different password.";

fn bad_request(msg: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest", msg)
}

/// Every property the sandbox knows of a user.
pub(crate) fn user_json(u: &UserRecord) -> Map<String, Value> {
    let (given, surname) = u.display_name.split_once(' ').unwrap_or((&u.display_name, ""));
    let v = json!({
        "id": u.id, "businessPhones": [], "displayName": u.display_name, "givenName": given, "surname": surname,
        "jobTitle": null, "mobilePhone": null, "officeLocation": null, "preferredLanguage": "en-US",
        "mail": u.mail, "userPrincipalName": u.upn, "accountEnabled": u.account_enabled,
        "usageLocation": u.usage_location,
        "assignedLicenses": u.licenses.iter().map(|s| json!({"skuId": s, "disabledPlans": []})).collect::<Vec<_>>(),
        "onPremisesSyncEnabled": if u.synced { Value::Bool(true) } else { Value::Null },
        "userType": u.user_type, "proxyAddresses": u.proxy_addresses,
        "signInSessionsValidFromDateTime": u.sign_in_sessions_valid_from.to_rfc3339(),
        "lastPasswordChangeDateTime": u.password_last_set.map(|t| t.to_rfc3339()),
    });
    v.as_object().cloned().unwrap_or_default()
}

fn with_tenant<T>(c: &Ctx<'_>, f: impl FnOnce(&mut TenantState) -> Result<T, Response>) -> Result<T, Response> {
    let mut w = lock(&c.sh.world);
    let t = w.tenants.get_mut(c.tenant).ok_or_else(|| not_found(c.tenant))?;
    f(t)
}

fn context(c: &Ctx<'_>, what: &str) -> String {
    format!("{}/v1.0/$metadata#{what}", c.sh.base)
}

pub(crate) fn list(c: &Ctx<'_>) -> R {
    c.require(perms::READ_USER)?;
    let filter = match c.req.param("$filter") {
        Some(f) => Some(parse_filter(&f).map_err(|e| bad_request(&e))?),
        None => None,
    };
    let count = c.req.param("$count").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let advanced = filter
        .as_ref()
        .and_then(|f| f.advanced_operator(c.knobs.proxy_any_needs_advanced))
        .or_else(|| c.req.param("$search").map(|_| "$search"))
        .or_else(|| (filter.is_some() && c.req.param("$orderby").is_some()).then_some("$orderby"));
    if let Some(op) = advanced {
        if !(c.req.eventual() && count) {
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
        Ok(t.users
            .iter()
            .map(user_json)
            .filter(|u| filter.as_ref().is_none_or(|f| f.matches(u)))
            .map(|u| select(&u, sel.as_deref(), DEFAULT_USER_PROPS))
            .collect())
    })?;
    let body = page(items, size, &c.sh.base, &c.req.path(), c.req.raw_query, count && c.req.eventual())
        .map_err(|e| bad_request(&e))?;
    Ok(json_resp(StatusCode::OK, body))
}

/// `GET /users/$count`: 400 "$count is not currently supported." without
/// `ConsistencyLevel: eventual` (reference §2), else the count as text.
pub(crate) fn count(c: &Ctx<'_>) -> R {
    c.require(perms::READ_USER)?;
    if !c.req.eventual() {
        return Err(bad_request("$count is not currently supported."));
    }
    let n = with_tenant(c, |t| Ok(t.users.len()))?;
    Ok((StatusCode::OK, [("content-type", "text/plain")], n.to_string()).into_response())
}

/// The page size: `$top` (1–999) capped by the knob.
pub(crate) fn top(c: &Ctx<'_>) -> Result<usize, Response> {
    match c.req.param("$top") {
        None => Ok(c.knobs.page_size),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=999).contains(&n) => Ok(n.min(c.knobs.page_size)),
            _ => Err(bad_request(&format!("Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."))),
        },
    }
}

pub(crate) fn get(c: &Ctx<'_>, id: &str) -> R {
    c.require(perms::READ_USER)?;
    let sel = c.req.param("$select");
    let mut v = with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        Ok(select(&user_json(&t.users[i]), sel.as_deref(), DEFAULT_USER_PROPS))
    })?;
    v["@odata.context"] = json!(context(c, "users/$entity"));
    Ok(json_resp(StatusCode::OK, v))
}

/// Entra's password policy (reference §3): 8–256, printable ASCII, 3 of 4 classes.
pub(crate) fn meets_policy(p: &str) -> bool {
    let n = p.chars().count();
    let ascii = p.bytes().all(|b| (0x20..0x7f).contains(&b));
    let classes = [
        p.bytes().any(|b| b.is_ascii_uppercase()),
        p.bytes().any(|b| b.is_ascii_lowercase()),
        p.bytes().any(|b| b.is_ascii_digit()),
        p.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ];
    (8..=256).contains(&n) && ascii && classes.iter().filter(|x| **x).count() >= 3
}

pub(crate) fn patch(c: &Ctx<'_>, id: &str) -> R {
    let body = c.req.json().and_then(|v| v.as_object().cloned()).ok_or_else(|| bad_request("Invalid request body."))?;
    let profile = body.get("passwordProfile");
    let enabled = body.get("accountEnabled");
    let location = body.get("usageLocation");
    let others = body.keys().any(|k| !matches!(k.as_str(), "passwordProfile" | "accountEnabled" | "usageLocation"));
    if profile.is_some() {
        c.require(perms::PASSWORD)?;
    }
    if enabled.is_some() {
        c.require(perms::ENABLE)?;
    }
    if location.is_some() || others {
        c.require(perms::WRITE_USER)?;
    }
    with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        let u = &t.users[i];
        let may = t.sp_may_manage(u);
        if (profile.is_some() && !may) || (enabled.is_some() && t.is_protected(u) && !may) {
            return Err(denied());
        }
        if (profile.is_some() || enabled.is_some()) && u.synced {
            return Err(bad_request(SYNCED_TEXT));
        }
        let password = match profile {
            Some(p) => {
                let pw =
                    p.get("password").and_then(Value::as_str).ok_or_else(|| bad_request("Invalid passwordProfile."))?;
                if !meets_policy(pw) {
                    return Err(bad_request(COMPLEXITY_TEXT));
                }
                let force = p.get("forceChangePasswordNextSignIn").and_then(Value::as_bool).unwrap_or(false);
                Some((sha_hex(pw), force))
            }
            None => None,
        };
        let enabled = match enabled {
            Some(v) => Some(v.as_bool().ok_or_else(|| bad_request("Invalid value for accountEnabled."))?),
            None => None,
        };
        let location = match location {
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(Some(s.to_ascii_uppercase()))
            }
            Some(_) => {
                return Err(bad_request("Invalid value specified for property 'usageLocation' of resource 'User'."));
            }
            None => None,
        };
        let u = &mut t.users[i];
        if let Some((hash, force)) = password {
            u.password_changes += 1;
            u.password_last_set = Some(Utc::now());
            u.password_sha256 = Some(hash);
            u.force_change_password_next_sign_in = force;
        }
        if let Some(e) = enabled {
            u.account_enabled = e;
        }
        if let Some(l) = location {
            u.usage_location = l;
        }
        Ok(no_content())
    })
}

/// SHA-256 hex of a password: the sandbox keeps no plain text.
pub(crate) fn sha_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn revoke(c: &Ctx<'_>, id: &str) -> R {
    c.require(perms::REVOKE)?;
    let status = c.knobs.revoke_status;
    let ctx = context(c, "Edm.Boolean");
    with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        let u = &mut t.users[i];
        u.sign_in_sessions_valid_from = Utc::now();
        u.revocations += 1;
        Ok(if status == 204 {
            no_content()
        } else {
            json_resp(StatusCode::OK, json!({"@odata.context": ctx, "value": true}))
        })
    })
}

pub(crate) fn assign_license(c: &Ctx<'_>, id: &str) -> R {
    c.require(perms::ASSIGN)?;
    let body = c.req.json().unwrap_or(Value::Null);
    let missing: Vec<&str> =
        ["addLicenses", "removeLicenses"].into_iter().filter(|k| !body.get(*k).is_some_and(Value::is_array)).collect();
    if !missing.is_empty() {
        return Err(bad_request(&format!(
            "One or more parameters of the function import 'assignLicense' are missing from the request payload. The missing parameters are: {}.",
            missing.join(", ")
        )));
    }
    let add: Vec<String> = body["addLicenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("skuId").and_then(Value::as_str).map(str::to_ascii_lowercase))
        .collect();
    let remove: Vec<String> = body["removeLicenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
        .collect();
    with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        for sku in &add {
            let s = t.sku_idx(sku).filter(|s| t.skus[*s].applies_to == "User");
            let Some(s) = s else {
                return Err(bad_request(&format!("License {sku} does not correspond to a valid company License.")));
            };
            if t.users[i].usage_location.is_none() {
                return Err(bad_request("License assignment cannot be done for user with invalid usage location."));
            }
            let held = t.users[i].licenses.iter().any(|l| l.eq_ignore_ascii_case(sku));
            if !held && t.consumed(sku) >= t.skus[s].enabled_units {
                return Err(bad_request(&format!("Subscription with SKU {sku} does not have any available licenses.")));
            }
        }
        for sku in &remove {
            if !t.users[i].licenses.iter().any(|l| l.eq_ignore_ascii_case(sku)) {
                return Err(bad_request("User does not have a corresponding license."));
            }
        }
        let u = &mut t.users[i];
        u.licenses.retain(|l| !remove.iter().any(|r| r.eq_ignore_ascii_case(l)));
        for sku in add {
            if !u.licenses.iter().any(|l| l.eq_ignore_ascii_case(&sku)) {
                u.licenses.push(sku);
            }
        }
        let mut v = select(&user_json(u), None, DEFAULT_USER_PROPS);
        v["@odata.context"] = json!(format!("{}/v1.0/$metadata#users/$entity", c.sh.base));
        Ok(json_resp(StatusCode::OK, v))
    })
}

/// `memberOf` / `transitiveMemberOf`: groups and `#microsoft.graph.directoryRole`
/// entries with `roleTemplateId`; transitive adds roles held through role-assignable groups.
pub(crate) fn member_of(c: &Ctx<'_>, id: &str, direct_only: bool) -> R {
    c.require(perms::READ_USER)?;
    let size = top(c)?;
    let items = with_tenant(c, |t| {
        let i = t.user_idx(id).ok_or_else(|| not_found(id))?;
        let u = &t.users[i];
        let role_ids = if direct_only { u.roles.clone() } else { t.roles_of(u) };
        let mut items: Vec<Value> = t
            .groups
            .iter()
            .filter(|g| g.members.contains(&u.id))
            .map(|g| {
                json!({"@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name,
                            "mail": g.mail, "securityEnabled": g.security_enabled})
            })
            .collect();
        items.extend(role_ids.iter().map(|r| {
            json!({"@odata.type": "#microsoft.graph.directoryRole", "id": format!("d1{}", r.get(2..).unwrap_or_default()),
                   "displayName": roles::name(r), "roleTemplateId": r})
        }));
        Ok(items)
    })?;
    let body = page(items, size, &c.sh.base, &c.req.path(), c.req.raw_query, false).map_err(|e| bad_request(&e))?;
    Ok(json_resp(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_follows_entra() {
        assert!(meets_policy("Abcdef1!"));
        assert!(meets_policy("abcdefg1!"));
        assert!(!meets_policy("abcdefgh1"));
        assert!(!meets_policy("Ab1!"));
        assert!(!meets_policy("Äbcdefg1!"));
    }
}
