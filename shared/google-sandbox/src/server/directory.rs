//! The Directory API under `/admin/directory/v1` (reference §5 "Users",
//! "Groups"): users get / patch / put, `signOut`, `twoStepVerification/turnOff`;
//! groups get, `hasMember`, members get / insert / delete.

use super::auth::{Ctx, group_of, user_of};
use super::{google_error, json_resp, no_content, not_found};
use crate::seed::scopes;
use crate::world::{CustomerState, GroupRecord, UserRecord};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

type R = Result<Response, Response>;

const USER_READ: &[&str] = &[scopes::USER, scopes::USER_READONLY];
const USER_WRITE: &[&str] = &[scopes::USER];
const USER_SECURITY: &[&str] = &[scopes::USER_SECURITY];
const GROUP_READ: &[&str] =
    &[scopes::GROUP, scopes::GROUP_READONLY, scopes::GROUP_MEMBER, scopes::GROUP_MEMBER_READONLY];
const GROUP_WRITE: &[&str] = &[scopes::GROUP, scopes::GROUP_MEMBER];

pub(crate) fn dispatch(c: &Ctx<'_>) -> R {
    let s: Vec<&str> = c.segs.iter().map(String::as_str).collect();
    let m = c.method;
    match (s.as_slice(), m) {
        (["users", k], &Method::GET) => get_user(c, k),
        (["users", k], &Method::PATCH | &Method::PUT) => update_user(c, k),
        (["users", k, "signOut"], &Method::POST) => sign_out(c, k),
        (["users", k, "twoStepVerification", "turnOff"], &Method::POST) => turn_off_2sv(c, k),
        (["groups", g], &Method::GET) => get_group(c, g),
        (["groups", g, "hasMember", k], &Method::GET) => has_member(c, g, k),
        (["groups", g, "members"], &Method::POST) => insert_member(c, g),
        (["groups", g, "members", k], &Method::GET) => get_member(c, g, k),
        (["groups", g, "members", k], &Method::DELETE) => delete_member(c, g, k),
        _ => Err(google_error(404, "notFound", "Not Found")),
    }
}

/// A user as the Directory API returns it (no password, ever).
pub(crate) fn user_json(c: &CustomerState, u: &UserRecord) -> Value {
    let mut v = json!({
        "kind": "admin#directory#user", "id": u.id, "etag": format!("\"sbx-{}-{}\"", u.id, u.password_set_count),
        "primaryEmail": u.primary_email,
        "name": {"givenName": u.given_name, "familyName": u.family_name,
                 "fullName": format!("{} {}", u.given_name, u.family_name)},
        "isAdmin": u.is_admin, "isDelegatedAdmin": u.is_delegated_admin, "agreedToTerms": true,
        "suspended": u.suspended, "archived": u.archived,
        "changePasswordAtNextLogin": u.change_password_at_next_login, "ipWhitelisted": false,
        "emails": [{"address": u.primary_email, "primary": true}], "customerId": c.customer_id,
        "orgUnitPath": u.org_unit_path, "isMailboxSetup": true, "includeInGlobalAddressList": true,
        "isEnrolledIn2Sv": u.is_enrolled_in_2sv, "isEnforcedIn2Sv": u.is_enforced_in_2sv,
        "creationTime": "2024-01-15T09:00:00.000Z", "lastLoginTime": "2026-01-02T08:30:00.000Z",
    });
    if let Some(r) = &u.suspension_reason {
        v["suspensionReason"] = json!(r);
    }
    v
}

fn get_user(c: &Ctx<'_>, key: &str) -> R {
    c.require(USER_READ)?;
    c.world(|w, ci| {
        let u = user_of(w, ci, key, "userKey")?;
        let cs = &w.customers[ci];
        Ok(json_resp(200, user_json(cs, &cs.users[u])))
    })
}

/// [U] Without `hashFunction` a password is plain text of 8–100 ASCII characters.
fn password_ok(p: &Value, hashed: bool) -> bool {
    match p.as_str() {
        Some(p) if hashed => !p.is_empty(),
        Some(p) => (8..=100).contains(&p.len()) && p.bytes().all(|b| (0x20..0x7f).contains(&b)),
        None => false,
    }
}

/// `PATCH`/`PUT /users/{k}`: `password` (counted, never kept), `changePasswordAtNextLogin`,
/// `suspended` (false clears `suspensionReason`; true sets it to `ADMIN`).
fn update_user(c: &Ctx<'_>, key: &str) -> R {
    c.require(USER_WRITE)?;
    let body = c.json_body()?;
    let bool_field = |k: &str| -> Result<Option<bool>, Response> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(google_error(400, "invalid", &format!("Invalid value for: {k}"))),
        }
    };
    let change_next = bool_field("changePasswordAtNextLogin")?;
    let suspended = bool_field("suspended")?;
    let password = body.get("password");
    if password.is_some_and(|p| !password_ok(p, body.contains_key("hashFunction"))) {
        return Err(google_error(400, "invalid", "Invalid Password"));
    }
    c.world(|w, ci| {
        let ui = user_of(w, ci, key, "userKey")?;
        let cs = &mut w.customers[ci];
        let u = &mut cs.users[ui];
        if password.is_some() {
            u.password_set_count += 1;
        }
        if let Some(b) = change_next {
            u.change_password_at_next_login = b;
        }
        match suspended {
            Some(true) => {
                u.suspended = true;
                u.suspension_reason = Some("ADMIN".into());
            }
            Some(false) => {
                u.suspended = false;
                u.suspension_reason = None;
            }
            None => {}
        }
        let cs = &w.customers[ci];
        Ok(json_resp(200, user_json(cs, &cs.users[ui])))
    })
}

/// `POST /users/{k}/signOut` → 204, empty.
fn sign_out(c: &Ctx<'_>, key: &str) -> R {
    c.require(USER_SECURITY)?;
    c.world(|w, ci| {
        let u = user_of(w, ci, key, "userKey")?;
        w.customers[ci].users[u].sign_out_count += 1;
        Ok(no_content())
    })
}

/// `POST /users/{k}/twoStepVerification/turnOff` → 204. [U] A user not
/// enrolled also gets 204 (Google may answer 400 invalid; the client then reports that error).
fn turn_off_2sv(c: &Ctx<'_>, key: &str) -> R {
    c.require(USER_SECURITY)?;
    c.world(|w, ci| {
        let u = user_of(w, ci, key, "userKey")?;
        w.customers[ci].users[u].is_enrolled_in_2sv = false;
        Ok(no_content())
    })
}

fn group_json(g: &GroupRecord) -> Value {
    json!({"kind": "admin#directory#group", "id": g.id, "etag": format!("\"sbx-{}\"", g.id), "email": g.email,
           "name": g.name, "directMembersCount": g.members.len().to_string(), "description": "",
           "adminCreated": g.admin_created, "nonEditableAliases": []})
}

fn member_json(cs: &CustomerState, email: &str) -> Value {
    let id = cs.user_idx(email).map(|u| cs.users[u].id.clone()).unwrap_or_else(|| format!("ext-{email}"));
    json!({"kind": "admin#directory#member", "etag": format!("\"sbx-{id}\""), "id": id, "email": email,
           "role": "MEMBER", "type": "USER", "status": "ACTIVE"})
}

fn get_group(c: &Ctx<'_>, key: &str) -> R {
    c.require(GROUP_READ)?;
    c.world(|w, ci| {
        let g = group_of(w, ci, key)?;
        Ok(json_resp(200, group_json(&w.customers[ci].groups[g])))
    })
}

/// A member key as the e-mail it stands for: a user id or address of the
/// customer becomes the user's primary e-mail; anything else stays as sent.
fn member_email(cs: &CustomerState, key: &str) -> (String, bool) {
    match cs.user_idx(key) {
        Some(u) => (cs.users[u].primary_email.clone(), true),
        None => (key.to_string(), false),
    }
}

/// `GET /groups/{g}/hasMember/{m}` → `{"isMember":bool}`; [U] an address outside
/// the customer gets 400 "Invalid Input: memberKey" (knob).
fn has_member(c: &Ctx<'_>, group: &str, key: &str) -> R {
    c.require(GROUP_READ)?;
    c.world(|w, ci| {
        let g = group_of(w, ci, group)?;
        let cs = &w.customers[ci];
        let (email, internal) = member_email(cs, key);
        let is = cs.groups[g].has(&email);
        if !is && !internal && c.knobs.has_member_external_400 {
            return Err(google_error(400, "invalid", "Invalid Input: memberKey"));
        }
        Ok(json_resp(200, json!({"isMember": is})))
    })
}

fn get_member(c: &Ctx<'_>, group: &str, key: &str) -> R {
    c.require(GROUP_READ)?;
    c.world(|w, ci| {
        let g = group_of(w, ci, group)?;
        let cs = &w.customers[ci];
        let (email, _) = member_email(cs, key);
        let found = cs.groups[g].members.iter().find(|m| m.eq_ignore_ascii_case(&email)).cloned();
        found.map(|m| json_resp(200, member_json(cs, &m))).ok_or_else(|| not_found("memberKey"))
    })
}

/// `POST /groups/{g}/members {"email","role"}` → the member; a duplicate → 409
/// exactly as the reference quotes it.
fn insert_member(c: &Ctx<'_>, group: &str) -> R {
    c.require(GROUP_WRITE)?;
    let body = c.json_body()?;
    let email = body.get("email").and_then(Value::as_str).map(str::trim).filter(|e| !e.is_empty());
    let email = email.ok_or_else(|| google_error(400, "required", "Missing required field: email"))?.to_string();
    c.world(|w, ci| {
        let g = group_of(w, ci, group)?;
        let cs = &mut w.customers[ci];
        let (email, _) = member_email(cs, &email);
        if cs.groups[g].has(&email) {
            return Err(google_error(409, "duplicate", "Member already exists."));
        }
        cs.groups[g].members.push(email.clone());
        Ok(json_resp(200, member_json(cs, &email)))
    })
}

/// `DELETE /groups/{g}/members/{m}` → 204; [U] a non-member → 404 (knob) or 400.
fn delete_member(c: &Ctx<'_>, group: &str, key: &str) -> R {
    c.require(GROUP_WRITE)?;
    c.world(|w, ci| {
        let g = group_of(w, ci, group)?;
        let cs = &mut w.customers[ci];
        let (email, _) = member_email(cs, key);
        let before = cs.groups[g].members.len();
        cs.groups[g].members.retain(|m| !m.eq_ignore_ascii_case(&email));
        if cs.groups[g].members.len() < before {
            Ok(no_content())
        } else if c.knobs.remove_non_member_404 {
            Err(not_found("memberKey"))
        } else {
            Err(google_error(400, "invalid", "Invalid Input: memberKey"))
        }
    })
}
