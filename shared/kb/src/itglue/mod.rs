//! IT Glue (JSON:API; reference §1): region base URL (`https://api.itglue.com`,
//! `https://api.eu.itglue.com`, `https://api.au.itglue.com`), header `x-api-key`
//! (a bad key is 403), bodies `application/vnd.api+json`.
//!
//! * Organizations are found by `filter[psa_id]` with
//!   `filter[psa_integration_type]=autotask` (one without the other is
//!   refused), else by exact `filter[name]` (commas escaped `\,`).
//! * Listings are read page by page (`page[size]`, `page[number]`) until
//!   `meta.next-page` is null: without `page[size]` IT Glue returns 50 rows,
//!   silently.
//! * Drafts are documents (`POST /organizations/{id}/relationships/documents`
//!   creates one unpublished) with one `Document::Text` section holding the
//!   HTML; atpilot never calls `PATCH /documents/{id}/publish`.
//! * Or, with [`ItGlueConfig::flexible_asset_type_id`], drafts are flexible
//!   assets of that type ([`assets`]).
//! * 429 is retried with exponential backoff (no `Retry-After` is documented).

mod assets;

use crate::http::{Api, Pace, shape};
use crate::{Article, ArticleDraft, KbCompany, KbError, KnowledgeBase};
use serde_json::{Value, json};
use std::time::Duration;

const KB: &str = "IT Glue";
const JSON_API: &str = "application/vnd.api+json";

/// Where and how to reach one IT Glue account.
#[derive(Debug, Clone)]
pub struct ItGlueConfig {
    /// The region's API base, e.g. `https://api.eu.itglue.com`.
    pub base_url: String,
    pub api_key: String,
    /// `page[size]` (1 to 1000).
    pub page_size: usize,
    /// The first retry's delay; it doubles per attempt.
    pub base_delay: Duration,
    pub max_attempts: u32,
    /// The longest single wait (a longer one gives up: the caller retries later).
    pub max_wait: Duration,
    /// Drafts go to flexible assets of this type instead of documents.
    pub flexible_asset_type_id: Option<i64>,
}

impl ItGlueConfig {
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        ItGlueConfig {
            base_url: base_url.into(),
            api_key: api_key.into(),
            page_size: 1000,
            base_delay: Duration::from_secs(2),
            max_attempts: 5,
            max_wait: Duration::from_secs(20),
            flexible_asset_type_id: None,
        }
    }
}

/// The IT Glue adapter of [`KnowledgeBase`].
#[derive(Debug, Clone)]
pub struct ItGlue {
    api: Api,
    cfg: ItGlueConfig,
}

fn document(v: &Value) -> Result<Article, KbError> {
    let id = v["id"].as_str().map(str::to_string).ok_or_else(|| shape(KB, "a document", "no id"))?;
    let a = &v["attributes"];
    Ok(Article {
        id,
        title: a["name"].as_str().unwrap_or_default().to_string(),
        url: a["resource-url"].as_str().map(str::to_string),
        content: None,
        draft: !a["published"].as_bool().unwrap_or(true),
    })
}

/// `filter[name]`'s value: commas escaped.
fn escape_name(name: &str) -> String {
    name.replace(',', "\\,")
}

impl ItGlue {
    pub fn new(cfg: ItGlueConfig) -> Self {
        let retry = (Pace::Backoff(cfg.base_delay), cfg.max_attempts, cfg.max_wait);
        ItGlue { api: Api::new(KB, &cfg.base_url, &cfg.api_key, retry), cfg }
    }

    async fn get(&self, what: &str, path: &str, query: &[(&str, String)]) -> Result<Value, KbError> {
        self.api.get(what, path, query).await
    }

    async fn post(&self, what: &str, path: &str, body: &Value) -> Result<Value, KbError> {
        self.api.post(what, path, body, JSON_API).await
    }

    /// Every `data` item over all pages (until `meta.next-page` is null).
    async fn all(&self, what: &str, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>, KbError> {
        let mut out = vec![];
        for page in 1..=10_000 {
            let mut q = query.to_vec();
            q.push(("page[size]", self.cfg.page_size.clamp(1, 1000).to_string()));
            q.push(("page[number]", page.to_string()));
            let v = self.get(what, path, &q).await?;
            let items = v["data"].as_array().ok_or_else(|| shape(KB, what, "no data list"))?;
            out.extend(items.iter().cloned());
            // Without `meta` there is no telling whether more pages follow: an error, never a cut.
            let meta = v.get("meta").filter(|m| m.is_object()).ok_or_else(|| shape(KB, what, "no meta (paging)"))?;
            if meta["next-page"].is_null() || items.is_empty() {
                return Ok(out);
            }
        }
        Err(shape(KB, what, "more than 10000 pages: not read to the end"))
    }

    async fn one_org(&self, query: &[(&str, String)], name: &str) -> Result<Option<KbCompany>, KbError> {
        let found = self.all("the organization search", "/organizations", query).await?;
        match found.as_slice() {
            [] => Ok(None),
            [o] => Ok(Some(KbCompany {
                id: o["id"].as_str().map(str::to_string).ok_or_else(|| shape(KB, "an organization", "no id"))?,
                name: o["attributes"]["name"].as_str().unwrap_or_default().to_string(),
            })),
            many => Err(KbError::Ambiguous { kb: KB, name: name.to_string(), count: many.len() }),
        }
    }

    async fn sections(&self, document_id: &str) -> Result<Vec<Value>, KbError> {
        let v = self
            .get("the document's sections", &format!("/documents/{document_id}/relationships/sections"), &[])
            .await?;
        let mut items = v["data"].as_array().cloned().unwrap_or_default();
        items.sort_by_key(|s| s["attributes"]["sort"].as_i64().unwrap_or(0));
        Ok(items)
    }

    async fn add_text(&self, document_id: &str, html: &str) -> Result<(), KbError> {
        let body = json!({"data": {"type": "document-sections", "attributes": {"resource-type": "Document::Text", "content": html}}});
        self.post("the document's text", &format!("/documents/{document_id}/relationships/sections"), &body).await?;
        Ok(())
    }

    async fn read_back(&self, id: &str) -> Result<Article, KbError> {
        document(&self.get("the document read-back", &format!("/documents/{id}"), &[]).await?["data"])
    }
}

#[async_trait::async_trait]
impl KnowledgeBase for ItGlue {
    fn name(&self) -> &'static str {
        KB
    }

    async fn company(&self, autotask_company_id: i64, name: &str) -> Result<Option<KbCompany>, KbError> {
        let psa =
            [("filter[psa_id]", autotask_company_id.to_string()), ("filter[psa_integration_type]", "autotask".into())];
        if let Some(o) = self.one_org(&psa, name).await? {
            return Ok(Some(o));
        }
        self.one_org(&[("filter[name]", escape_name(name.trim()))], name).await
    }

    fn placement(&self) -> Option<String> {
        self.cfg.flexible_asset_type_id.map(assets::placement)
    }

    async fn articles(&self, company: &KbCompany) -> Result<Vec<Article>, KbError> {
        if let Some(t) = self.cfg.flexible_asset_type_id {
            return self.assets(t, company).await;
        }
        let path = format!("/organizations/{}/relationships/documents", company.id);
        self.all("the document list", &path, &[]).await?.iter().map(document).collect()
    }

    async fn content(&self, a: &Article) -> Result<String, KbError> {
        if let Some(t) = self.cfg.flexible_asset_type_id {
            return self.asset_content(t, a).await;
        }
        let sections = self.sections(&a.id).await?;
        Ok(sections.iter().filter_map(|s| s["attributes"]["content"].as_str()).collect::<Vec<_>>().join("\n"))
    }

    async fn create_draft(&self, company: &KbCompany, draft: &ArticleDraft) -> Result<Article, KbError> {
        if let Some(t) = self.cfg.flexible_asset_type_id {
            return self.create_asset(t, company, draft).await;
        }
        // Once: a document of this title already there is the draft (given its text if a crash left it without).
        if let Some(a) = self.articles(company).await?.into_iter().find(|a| a.title == draft.title) {
            if self.sections(&a.id).await?.is_empty() {
                self.add_text(&a.id, &draft.html).await?;
            }
            return self.read_back(&a.id).await;
        }
        let org: i64 = company.id.parse().map_err(|_| shape(KB, "the organization", "its id is not a number"))?;
        let body = json!({"data": {"type": "documents", "attributes": {"name": draft.title, "organization_id": org}}});
        let path = format!("/organizations/{}/relationships/documents", company.id);
        let created = self.post("the document creation", &path, &body).await?;
        let id = created["data"]["id"].as_str().ok_or_else(|| shape(KB, "the document creation", "no id"))?.to_string();
        self.add_text(&id, &draft.html).await?;
        let stored = self.read_back(&id).await?;
        if stored.title != draft.title || self.sections(&id).await?.is_empty() {
            return Err(shape(KB, "the document read-back", "the stored document is not the one sent"));
        }
        Ok(stored)
    }
}
