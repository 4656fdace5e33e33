//! Groups and members (reference §5 "Groups"), scope [`Scope::GroupMember`]
//! (`admin.directory.group.member`) for every call.

use super::Client;
use super::transport::Call;
use crate::error::GoogleError;
use crate::key::{Scope, Subject};
use crate::model::{Group, MemberChange};
use reqwest::Method;
use serde_json::json;

impl Client {
    /// `GET /groups/{groupKey}` (e-mail, alias or id). `Ok(None)` on 404.
    pub async fn get_group(&self, admin: &Subject, group_key: &str) -> Result<Option<Group>, GoogleError> {
        let url = self.directory_url(&["groups", group_key])?;
        let r = self.send(admin, &Call::new(Method::GET, url, Scope::GroupMember)).await?;
        if r.status == 404 {
            return Ok(None);
        }
        r.require_ok()?.json("the group").map(Some)
    }

    /// `GET /groups/{groupKey}/hasMember/{memberKey}` → `{"isMember": bool}`.
    /// [U] For an address outside the customer Google answers 400 "Invalid
    /// Input: memberKey"; then the member itself is read
    /// (`GET /groups/{g}/members/{m}`: found → true, 404 → false).
    pub async fn has_member(&self, admin: &Subject, group_key: &str, member_key: &str) -> Result<bool, GoogleError> {
        #[derive(serde::Deserialize)]
        struct IsMember {
            #[serde(default, rename = "isMember")]
            is_member: bool,
        }
        let url = self.directory_url(&["groups", group_key, "hasMember", member_key])?;
        let r = self.send(admin, &Call::new(Method::GET, url, Scope::GroupMember)).await?;
        if r.status != 400 {
            return Ok(r.require_ok()?.json::<IsMember>("hasMember")?.is_member);
        }
        let url = self.directory_url(&["groups", group_key, "members", member_key])?;
        let r = self.send(admin, &Call::new(Method::GET, url, Scope::GroupMember)).await?;
        if r.status == 404 {
            return Ok(false);
        }
        r.require_ok()?;
        Ok(true)
    }

    /// `POST /groups/{groupKey}/members {"email", "role": "MEMBER"}`. A 409
    /// (reason `duplicate`, "Member already exists.") → `Unchanged`.
    pub async fn add_member(&self, admin: &Subject, group_key: &str, email: &str) -> Result<MemberChange, GoogleError> {
        if email.trim().is_empty() {
            return Err(GoogleError::InvalidInput("an empty member e-mail".into()));
        }
        let url = self.directory_url(&["groups", group_key, "members"])?;
        let body = json!({"email": email.trim(), "role": "MEMBER"});
        let r = self.send(admin, &Call::new(Method::POST, url, Scope::GroupMember).with_body(body)).await?;
        match r.status {
            409 => Ok(MemberChange::Unchanged),
            _ => r.require_ok().map(|_| MemberChange::Changed),
        }
    }

    /// `DELETE /groups/{groupKey}/members/{memberKey}` → 204 `Changed`.
    /// [U] A non-member: 404 → `Unchanged` (a 404 naming the `groupKey` stays an
    /// error); a 400 → `Unchanged` if [`Client::has_member`] says it is not a member.
    pub async fn remove_member(
        &self,
        admin: &Subject,
        group_key: &str,
        member_key: &str,
    ) -> Result<MemberChange, GoogleError> {
        let url = self.directory_url(&["groups", group_key, "members", member_key])?;
        let r = self.send(admin, &Call::new(Method::DELETE, url, Scope::GroupMember)).await?;
        if r.ok() {
            return Ok(MemberChange::Changed);
        }
        let err = r.error();
        match &err {
            GoogleError::Api { status: 404, message, .. } if !message.contains("groupKey") => {
                Ok(MemberChange::Unchanged)
            }
            GoogleError::Api { status: 400, .. } if !self.has_member(admin, group_key, member_key).await? => {
                Ok(MemberChange::Unchanged)
            }
            _ => Err(err),
        }
    }
}
