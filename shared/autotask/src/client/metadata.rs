//! Metadata: entity fields (`entityInformation/fields`) cached single-flight
//! with a TTL, picklists read from them, and user-defined field definitions.

use super::Client;
use crate::entities::{EntityInformation, FieldInfo, PicklistValue};
use crate::error::{Error, Result};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// A picklist (labels ↔ values).
#[derive(Debug, Clone, Default)]
pub struct Picklist {
    pub values: Vec<PicklistValue>,
}

impl Picklist {
    pub fn label_of(&self, value: impl ToString) -> Option<&str> {
        let v = value.to_string();
        self.values.iter().find(|p| p.value == v).map(|p| p.label.as_str())
    }
    /// The value of a label (case-insensitive), parsed as an integer when numeric.
    pub fn value_of(&self, label: &str) -> Option<&str> {
        self.values.iter().find(|p| p.label.eq_ignore_ascii_case(label)).map(|p| p.value.as_str())
    }
    pub fn id_of(&self, label: &str) -> Option<i64> {
        self.value_of(label).and_then(|v| v.parse().ok())
    }
    pub fn active(&self) -> impl Iterator<Item = &PicklistValue> {
        self.values.iter().filter(|p| p.is_active)
    }
}

impl Client {
    /// `entityInformation/fields`, cached for `picklist_ttl` (single-flight, so a
    /// cold cache never bursts into the thread limit).
    pub async fn fields(&self, entity_path: &str) -> Result<Arc<Vec<FieldInfo>>> {
        let key = entity_path.to_ascii_lowercase();
        let mut cache = self.inner.fields.lock().await;
        if let Some((at, f)) = cache.get(&key) {
            if at.elapsed() < self.inner.cfg.picklist_ttl {
                self.inner.stats.lock().unwrap().picklist_cache_hits += 1;
                return Ok(f.clone());
            }
        }
        self.inner.stats.lock().unwrap().picklist_cache_misses += 1;
        let v = self.request(Method::GET, &format!("{entity_path}/entityInformation/fields"), None, None).await?;
        let fields: Vec<FieldInfo> = serde_json::from_value(v.get("fields").cloned().unwrap_or(json!([])))
            .map_err(|e| Error::Decode(e.to_string()))?;
        let f = Arc::new(fields);
        cache.insert(key, (Instant::now(), f.clone()));
        Ok(f)
    }

    /// `{entity_path}/entityInformation` (not cached: setup reads it once).
    pub async fn entity_information(&self, entity_path: &str) -> Result<EntityInformation> {
        let v = self.request(Method::GET, &format!("{entity_path}/entityInformation"), None, None).await?;
        serde_json::from_value(v.get("info").cloned().unwrap_or(json!({}))).map_err(|e| Error::Decode(e.to_string()))
    }

    /// A picklist (queues, statuses, priorities, issue types, contract types, …).
    pub async fn picklist(&self, entity_path: &str, field: &str) -> Result<Picklist> {
        let fields = self.fields(entity_path).await?;
        let f = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(field))
            .ok_or_else(|| Error::Config(format!("{entity_path} has no field {field}")))?;
        Ok(Picklist { values: f.picklist_values.clone() })
    }

    /// Drops cached metadata (e.g. after a tenant admin changed a picklist).
    pub async fn invalidate_fields(&self) {
        self.inner.fields.lock().await.clear();
    }

    /// `GET {entity}/entityInformation/userDefinedFields`.
    pub async fn udf_definitions(&self, entity_path: &str) -> Result<Vec<FieldInfo>> {
        let v = self
            .request(Method::GET, &format!("{entity_path}/entityInformation/userDefinedFields"), None, None)
            .await?;
        serde_json::from_value(v.get("fields").cloned().unwrap_or(json!([]))).map_err(|e| Error::Decode(e.to_string()))
    }
}
