//! Licences (reference §5 "Licensing": `…/apps/licensing/v1/product/{productId}/sku/{skuId}/user[/{userId}]`),
//! scope [`Scope::Licensing`]. `userId` is the user's current e-mail.

use super::Client;
use super::transport::Call;
use crate::error::GoogleError;
use crate::key::{Scope, Sku, Subject};
use crate::model::{LicenseAssignment, MemberChange};
use reqwest::Method;
use serde_json::json;

impl Client {
    /// `GET …/product/{p}/sku/{s}/user/{userId}`. `Ok(None)` on 404 (the user does not hold it).
    pub async fn license_assignment(
        &self,
        admin: &Subject,
        sku: &Sku,
        user_id: &str,
    ) -> Result<Option<LicenseAssignment>, GoogleError> {
        let url = self.licensing_url(&["product", sku.product_id(), "sku", sku.sku_id(), "user", user_id])?;
        let r = self.send(admin, &Call::new(Method::GET, url, Scope::Licensing)).await?;
        if r.status == 404 {
            return Ok(None);
        }
        r.require_ok()?.json("the licence assignment").map(Some)
    }

    /// `POST …/product/{p}/sku/{s}/user {"userId"}` → the assignment. Errors as
    /// Google sends them: no seat left → [`GoogleError::is_no_seats`]; already
    /// held → [`GoogleError::is_already_assigned`] (check with
    /// [`Client::license_assignment`] first to skip that case).
    pub async fn assign_license(
        &self,
        admin: &Subject,
        sku: &Sku,
        user_id: &str,
    ) -> Result<LicenseAssignment, GoogleError> {
        if user_id.trim().is_empty() {
            return Err(GoogleError::InvalidInput("an empty user id for a licence".into()));
        }
        let url = self.licensing_url(&["product", sku.product_id(), "sku", sku.sku_id(), "user"])?;
        let call = Call::new(Method::POST, url, Scope::Licensing).with_body(json!({"userId": user_id.trim()}));
        self.send(admin, &call).await?.require_ok()?.json("the licence assignment")
    }

    /// `DELETE …/product/{p}/sku/{s}/user/{userId}` (empty answer) → `Changed`;
    /// 404 (not held) → `Unchanged`. [U] A licence assigned by OU refuses with
    /// 412 `conditionNotMet` "Auto License un-assignment is not allowed.", an error.
    pub async fn remove_license(&self, admin: &Subject, sku: &Sku, user_id: &str) -> Result<MemberChange, GoogleError> {
        let url = self.licensing_url(&["product", sku.product_id(), "sku", sku.sku_id(), "user", user_id])?;
        let r = self.send(admin, &Call::new(Method::DELETE, url, Scope::Licensing)).await?;
        match r.status {
            404 => Ok(MemberChange::Unchanged),
            _ => r.require_ok().map(|_| MemberChange::Changed),
        }
    }
}
