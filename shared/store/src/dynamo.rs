//! The DynamoDB state store (single table; see [`crate::state`] for the design).
//!
//! Attributes: `pk`, `sk` (strings), `state`, `gsi1pk`, `gsi1sk`, `expires_at`
//! (number, the table's TTL attribute) and `data` (the record as JSON text).

use crate::state::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ReturnValue, ScalarAttributeType, TimeToLiveSpecification,
};
use std::collections::HashMap;

pub const GSI1: &str = "gsi1";
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A DynamoDB-backed [`StateStore`].
#[derive(Clone, Debug)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
}

fn sdk_error<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    what: &str,
    e: SdkError<E, R>,
) -> StoreError {
    let text = format!("DynamoDB {what}: {}", DisplayErrorContext(&e));
    match e {
        SdkError::ServiceError(_) => StoreError::Rejected(text),
        _ => StoreError::Unavailable(text),
    }
}

type Attrs = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn to_attrs(item: &Item) -> Result<Attrs, StoreError> {
    let mut m = Attrs::new();
    m.insert("pk".into(), s(&item.key.pk));
    m.insert("sk".into(), s(&item.key.sk));
    if let Some(st) = &item.state {
        m.insert("state".into(), s(st));
    }
    if let Some(g) = &item.gsi1 {
        m.insert("gsi1pk".into(), s(&g.pk));
        m.insert("gsi1sk".into(), s(&g.sk));
    }
    if let Some(t) = item.expires_at {
        m.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(t.to_string()));
    }
    m.insert(
        "data".into(),
        AttributeValue::S(serde_json::to_string(&item.data).map_err(|e| StoreError::Encode(e.to_string()))?),
    );
    Ok(m)
}

fn from_attrs(m: &Attrs) -> Result<Item, StoreError> {
    let get_s = |k: &str| m.get(k).and_then(|v| v.as_s().ok()).cloned();
    let key = Key::new(get_s("pk").unwrap_or_default(), get_s("sk").unwrap_or_default());
    let corrupt = |why: String| StoreError::Corrupt { key: key.clone(), why };
    let data = get_s("data").ok_or_else(|| corrupt("no data attribute".into()))?;
    let mut data: serde_json::Value =
        serde_json::from_str(&data).map_err(|e| corrupt(format!("data is not JSON: {e}")))?;
    // Counters keep their number in a native attribute (for atomic ADD); show it in `data` like the embedded store.
    if let (Some(n), Some(obj)) = (m.get("count").and_then(|v| v.as_n().ok()), data.as_object_mut()) {
        let n: i64 = n.parse().map_err(|_| corrupt("count is not a whole number".into()))?;
        obj.insert("count".into(), n.into());
    }
    let expires_at = match m.get(TTL_ATTRIBUTE) {
        None => None,
        Some(v) => Some(
            v.as_n()
                .ok()
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| corrupt("expires_at is not a number".into()))?,
        ),
    };
    let gsi1 = match (get_s("gsi1pk"), get_s("gsi1sk")) {
        (Some(p), Some(s)) => Some(Key::new(p, s)),
        _ => None,
    };
    Ok(Item { key: key.clone(), state: get_s("state"), gsi1, expires_at, data })
}

fn key_attrs(k: &Key) -> Attrs {
    HashMap::from([("pk".to_string(), s(&k.pk)), ("sk".to_string(), s(&k.sk))])
}

impl DynamoStateStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// From the environment: the SDK's standard configuration (region,
    /// credentials, `AWS_ENDPOINT_URL`) and the table name.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(Client::new(&conf), table)
    }

    /// Like [`Self::from_env`], for a command a person runs: first checks
    /// that the SDK found a region and credentials, and says in one sentence
    /// what is missing instead of failing on the first call.
    pub async fn from_env_checked(table: impl Into<String>) -> Result<Self, StoreError> {
        use aws_sdk_dynamodb::config::ProvideCredentials;
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        if conf.region().is_none() {
            return Err(StoreError::Unavailable(
                "no AWS region is set: set AWS_REGION (or AWS_PROFILE with a region) to reach the DynamoDB table"
                    .into(),
            ));
        }
        let found = match conf.credentials_provider() {
            Some(p) => p.provide_credentials().await.is_ok(),
            None => false,
        };
        if !found {
            return Err(StoreError::Unavailable("no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws sso login`)".into()));
        }
        Ok(Self::new(Client::new(&conf), table))
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as the SAM template declares it (on-demand, GSI, TTL).
    /// For tests and local emulators; in AWS the template owns the table.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Encode(e.to_string()))
        };
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .map_err(|e| StoreError::Encode(e.to_string()))
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key("gsi1pk", KeyType::Hash)?)
            .key_schema(key("gsi1sk", KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .attribute_definitions(attr("gsi1pk")?)
            .attribute_definitions(attr("gsi1sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .send()
            .await
            .map_err(|e| sdk_error("CreateTable", e))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(|e| StoreError::Encode(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
        Ok(())
    }
}

#[async_trait]
impl StateStore for DynamoStateStore {
    async fn put(&self, item: Item, condition: Condition) -> Result<WriteOutcome, StoreError> {
        let now = now_epoch().to_string();
        let mut req = self.client.put_item().table_name(&self.table).set_item(Some(to_attrs(&item)?));
        req = match &condition {
            Condition::Always => req,
            Condition::NotExists => req
                .condition_expression("attribute_not_exists(pk) OR (attribute_exists(#ttl) AND #ttl <= :now)")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":now", AttributeValue::N(now)),
            Condition::StateIs(st) => req
                .condition_expression("#st = :st AND (attribute_not_exists(#ttl) OR #ttl > :now)")
                .expression_attribute_names("#st", "state")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":st", s(st))
                .expression_attribute_values(":now", AttributeValue::N(now)),
        };
        match req.send().await {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(WriteOutcome::ConditionFailed { current: self.get(&item.key).await? })
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        let now = now_epoch();
        match out.item() {
            None => Ok(None),
            Some(m) => {
                let item = from_attrs(m)?;
                Ok((!item.is_expired(now)).then_some(item))
            }
        }
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let (pk_attr, sk_attr) = match query.index {
            Index::Primary => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        };
        let now = now_epoch();
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .scan_index_forward(!query.descending)
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(&query.pk))
                .set_exclusive_start_key(start.take());
            req = match &query.sk_prefix {
                Some(p) => req
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", sk_attr)
                    .expression_attribute_values(":prefix", s(p)),
                None => req.key_condition_expression("#pk = :pk"),
            };
            req = match query.index {
                Index::Primary => req.consistent_read(true),
                Index::Gsi1 => req.index_name(GSI1),
            };
            let page = req.send().await.map_err(|e| sdk_error("Query", e))?;
            for m in page.items() {
                let item = from_attrs(m)?;
                if !item.is_expired(now) {
                    out.push(item);
                    if query.limit.is_some_and(|l| out.len() >= l) {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
        Ok(())
    }

    async fn increment(&self, key: &Key, by: i64, expires_at: Option<i64>) -> Result<i64, StoreError> {
        // An expired counter restarts: reset it first, conditionally, so two
        // writers cannot both reset it.
        let now = now_epoch();
        if let Some(existing) = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?
            .item()
        {
            let item = from_attrs(existing)?;
            if item.is_expired(now) {
                let reset = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .condition_expression("#ttl <= :now")
                    .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                    .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                    .send()
                    .await;
                if let Err(e) = reset {
                    if !e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) {
                        return Err(sdk_error("DeleteItem", e));
                    }
                }
            }
        }
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .expression_attribute_names("#c", "count")
            .expression_attribute_names("#d", "data")
            .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
            .expression_attribute_values(":empty", s("{}"))
            .return_values(ReturnValue::UpdatedNew);
        req = match expires_at {
            Some(t) => req
                .update_expression("ADD #c :by SET #d = if_not_exists(#d, :empty), #ttl = if_not_exists(#ttl, :ttl)")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":ttl", AttributeValue::N(t.to_string())),
            None => req.update_expression("ADD #c :by SET #d = if_not_exists(#d, :empty)"),
        };
        let out = req.send().await.map_err(|e| sdk_error("UpdateItem", e))?;
        out.attributes()
            .and_then(|a| a.get("count"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError::Corrupt { key: key.clone(), why: "UpdateItem returned no count".into() })
    }
}
