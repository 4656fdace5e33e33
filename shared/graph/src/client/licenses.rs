//! Licences (reference §3 "Licenses: subscribedSkus" and "Licenses:
//! assignLicense"; §6 trap 4).

use super::Client;
use super::transport::Req;
use crate::error::{ApiError, GraphError, Needs, map_api_error};
use crate::ids::{SkuId, SkuPartNumber, TenantId, UserId};
use crate::model::SubscribedSku;
use reqwest::Method;
use serde_json::json;

const READ_SKUS: Needs = Needs {
    operation: "read subscriptions",
    permission: "LicenseAssignment.Read.All (older docs: Organization.Read.All)",
    role: None,
};
const ASSIGN: Needs =
    Needs { operation: "assign or remove a licence", permission: "LicenseAssignment.ReadWrite.All", role: None };

/// [C] text: "License assignment cannot be done for user with invalid usage location."
fn is_usage_location_refusal(api: &ApiError) -> bool {
    api.status == 400 && api.message.to_ascii_lowercase().contains("invalid usage location")
}

/// [U] text: "Subscription with SKU <guid> does not have any available licenses."
fn is_no_seats_refusal(api: &ApiError) -> bool {
    api.status == 400 && api.message.to_ascii_lowercase().contains("does not have any available licenses")
}

impl Client {
    /// `GET /subscribedSkus` (no `$filter` supported), keeping only SKUs with
    /// `appliesTo: "User"` (the only assignable ones). Free seats:
    /// [`SubscribedSku::free_units`]. Permission `LicenseAssignment.Read.All`.
    pub async fn subscribed_skus(&self, tenant: &TenantId) -> Result<Vec<SubscribedSku>, GraphError> {
        let url = self.url(&["subscribedSkus"], &[])?;
        let all: Vec<SubscribedSku> = self.get_all(tenant, Req::get(url), &READ_SKUS, "subscribed SKUs").await?;
        Ok(all.into_iter().filter(|s| s.applies_to.eq_ignore_ascii_case("User")).collect())
    }

    /// The user-assignable SKU with this part number (case-insensitive), if the tenant has it.
    pub async fn sku_by_part_number(
        &self,
        tenant: &TenantId,
        part: &SkuPartNumber,
    ) -> Result<Option<SubscribedSku>, GraphError> {
        let skus = self.subscribed_skus(tenant).await?;
        Ok(skus.into_iter().find(|s| s.sku_part_number.as_str().eq_ignore_ascii_case(part.as_str())))
    }

    /// `POST /users/{id}/assignLicense {"addLicenses":[{"skuId","disabledPlans":[]}],"removeLicenses":[]}`
    /// → 200 (both arrays always sent). Permission `LicenseAssignment.ReadWrite.All`.
    /// No usage location → [`GraphError::UsageLocationRequired`]; no free seat →
    /// [`GraphError::NoFreeLicenses`].
    pub async fn assign_license(&self, tenant: &TenantId, user: &UserId, sku: &SkuId) -> Result<(), GraphError> {
        let body = json!({"addLicenses": [{"skuId": sku.as_str(), "disabledPlans": []}], "removeLicenses": []});
        self.license_call(tenant, user, sku, body).await
    }

    /// `POST /users/{id}/assignLicense {"addLicenses":[],"removeLicenses":[skuId]}` → 200.
    /// Permission `LicenseAssignment.ReadWrite.All`.
    pub async fn remove_license(&self, tenant: &TenantId, user: &UserId, sku: &SkuId) -> Result<(), GraphError> {
        let body = json!({"addLicenses": [], "removeLicenses": [sku.as_str()]});
        self.license_call(tenant, user, sku, body).await
    }

    async fn license_call(
        &self,
        tenant: &TenantId,
        user: &UserId,
        sku: &SkuId,
        body: serde_json::Value,
    ) -> Result<(), GraphError> {
        let url = self.url(&["users", user.as_str(), "assignLicense"], &[])?;
        let r = self.send(tenant, &Req::with(Method::POST, url, Some(body))).await?;
        if r.ok() {
            return Ok(());
        }
        let api = r.api_error();
        if is_usage_location_refusal(&api) {
            return Err(GraphError::UsageLocationRequired { user: user.to_string(), source: Box::new(api) });
        }
        if is_no_seats_refusal(&api) {
            return Err(GraphError::NoFreeLicenses { sku: sku.to_string(), source: Box::new(api) });
        }
        Err(map_api_error(tenant, &ASSIGN, &format!("user {user} or SKU {sku}"), api))
    }
}
