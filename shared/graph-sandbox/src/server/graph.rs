//! Graph `/v1.0/…`: the bearer token decides the tenant (Graph URLs carry
//! none); an empty, unknown or expired token gets 401
//! `InvalidAuthenticationToken`; every endpoint checks the tenant's consented
//! application permissions (any one of the accepted set, least privileged
//! first) and answers 403 `Authorization_RequestDenied` when none is granted.

use super::{Answer, Shared, denied, directory, graph_error, lock, users};
use crate::Knobs;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::Utc;

/// One Graph request, path segments after `v1.0`, decoded.
pub(crate) struct Req<'a> {
    pub method: &'a Method,
    pub segs: &'a [String],
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Req<'_> {
    /// A query parameter (decoded), by exact name.
    pub fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.raw_query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
    /// `ConsistencyLevel: eventual` present.
    pub fn eventual(&self) -> bool {
        self.headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
    }
    /// The raw path as Graph's paging links need it (`/v1.0/…`).
    pub fn path(&self) -> String {
        let segs: Vec<String> = self.segs.iter().map(|s| crate::server::graph::encode_seg(s)).collect();
        format!("/v1.0/{}", segs.join("/"))
    }
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.body).ok()
    }
}

fn encode_seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@$".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The application permissions an endpoint accepts (least privileged first).
pub(crate) mod perms {
    pub const READ_USER: &[&str] =
        &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    pub const PASSWORD: &[&str] =
        &["User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
    pub const ENABLE: &[&str] = &["User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
    pub const WRITE_USER: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
    pub const REVOKE: &[&str] = &["User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
    pub const READ_METHODS: &[&str] = &["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"];
    pub const WRITE_METHODS: &[&str] = &["UserAuthenticationMethod.ReadWrite.All"];
    pub const READ_SKUS: &[&str] = &[
        "LicenseAssignment.Read.All",
        "LicenseAssignment.ReadWrite.All",
        "Organization.Read.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const ASSIGN: &[&str] = &["LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
    pub const READ_GROUPS: &[&str] = &[
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    pub const MEMBERS: &[&str] = &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"];
}

/// The tenant of the bearer token, or the 401 Graph answers.
fn authenticate(sh: &Shared, headers: &HeaderMap) -> Result<String, Response> {
    let unauthorized = |m: &str| graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", m);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("Access token is empty."))?;
    let issued =
        lock(&sh.tokens).get(token).cloned().ok_or_else(|| unauthorized("Access token validation failure."))?;
    if issued.expires_at <= Utc::now() {
        return Err(unauthorized("Lifetime validation failed, the token is expired."));
    }
    Ok(issued.tenant)
}

/// Routes a Graph request.
pub(crate) fn dispatch(sh: &Shared, req: &Req<'_>) -> Answer {
    let tenant = match authenticate(sh, req.headers) {
        Ok(t) => t,
        Err(resp) => return Answer::new(resp, None),
    };
    let knobs = lock(&sh.knobs).clone();
    let ctx = Ctx { sh, req, knobs: &knobs, tenant: &tenant };
    let resp = route(&ctx);
    Answer::new(resp, Some(tenant))
}

/// What a handler sees.
pub(crate) struct Ctx<'a> {
    pub sh: &'a Shared,
    pub req: &'a Req<'a>,
    pub knobs: &'a Knobs,
    pub tenant: &'a str,
}

impl Ctx<'_> {
    /// 403 unless the tenant granted one of `any_of`.
    pub fn require(&self, any_of: &[&str]) -> Result<(), Response> {
        let w = lock(&self.sh.world);
        let ok = w.tenants.get(self.tenant).is_some_and(|t| t.has_permission(any_of));
        if ok { Ok(()) } else { Err(denied()) }
    }
}

fn route(c: &Ctx<'_>) -> Response {
    let s: Vec<&str> = c.req.segs.iter().map(String::as_str).collect();
    let m = c.req.method;
    let r = match (m.as_str(), s.as_slice()) {
        ("GET", ["users"]) => users::list(c),
        ("GET", ["users", "$count"]) => users::count(c),
        ("GET", ["users", id]) => users::get(c, id),
        ("PATCH", ["users", id]) => users::patch(c, id),
        ("POST", ["users", id, "revokeSignInSessions"]) => users::revoke(c, id),
        ("POST", ["users", id, "assignLicense"]) => users::assign_license(c, id),
        ("GET", ["users", id, rel @ ("transitiveMemberOf" | "memberOf")]) => {
            users::member_of(c, id, *rel == "memberOf")
        }
        ("GET", ["users", id, "authentication", "methods"]) => directory::list_methods(c, id),
        ("DELETE", ["users", id, "authentication", coll, mid]) => directory::delete_method(c, id, coll, mid),
        ("GET", ["subscribedSkus"]) => directory::subscribed_skus(c),
        ("GET", ["groups"]) => directory::list_groups(c),
        ("POST", ["groups", gid, "members", "$ref"]) => directory::add_member(c, gid),
        ("DELETE", ["groups", gid, "members", uid, "$ref"]) => directory::remove_member(c, gid, uid),
        _ => Err(graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{}'.", s.last().copied().unwrap_or_default()),
        )),
    };
    r.unwrap_or_else(|e| e)
}
