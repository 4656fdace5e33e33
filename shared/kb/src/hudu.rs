//! Hudu (`https://<instance>/api/v1`, header `x-api-key`; reference §2).
//!
//! * Lists are `{"articles":[…]}` / `{"companies":[…]}`, 25 per page by
//!   default with no total: every page is read until a short one, at
//!   [`HuduConfig::page_size`] (100: larger article pages have answered 502).
//! * Single items come wrapped (`{"article":…}`); a bare item is accepted too.
//! * The API cannot create drafts: articles are live at once, so atpilot
//!   parks them in the folder configured for AI drafts, never with sharing on.
//! * 429 (`Retry later`, no `Retry-After`): the window resets every 5 minutes
//!   on the minute, so the client waits for the next boundary.

use crate::http::{Api, Pace, shape};
use crate::{Article, ArticleDraft, KbCompany, KbError, KnowledgeBase};
use serde_json::{Value, json};
use std::time::Duration;

const KB: &str = "Hudu";
/// A listing longer than this many pages is an error, never a silent cut.
const MAX_PAGES: usize = 10_000;

/// Where and how to reach one Hudu instance.
#[derive(Debug, Clone)]
pub struct HuduConfig {
    /// `https://<instance>/api/v1`.
    pub base_url: String,
    pub api_key: String,
    /// The folder AI drafts go to (`None`: the company's root).
    pub drafts_folder_id: Option<i64>,
    pub page_size: usize,
    /// The rate limit's window (5 minutes).
    pub window: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The longest single wait (a longer one gives up: the caller retries later).
    pub max_wait: Duration,
}

impl HuduConfig {
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        HuduConfig {
            base_url: base_url.into(),
            api_key: api_key.into(),
            drafts_folder_id: None,
            page_size: 100,
            window: Duration::from_secs(300),
            max_attempts: 3,
            max_wait: Duration::from_secs(20),
        }
    }
}

/// The Hudu adapter of [`KnowledgeBase`].
#[derive(Debug, Clone)]
pub struct Hudu {
    api: Api,
    cfg: HuduConfig,
}

fn id_of(v: &Value) -> Option<String> {
    v["id"].as_i64().map(|i| i.to_string()).or_else(|| v["id"].as_str().map(str::to_string))
}

fn article(v: &Value) -> Result<Article, KbError> {
    let id = id_of(v).ok_or_else(|| shape(KB, "an article", "no id"))?;
    Ok(Article {
        id,
        title: v["name"].as_str().unwrap_or_default().to_string(),
        url: v["url"].as_str().map(str::to_string),
        content: v["content"].as_str().map(str::to_string),
        draft: v["draft"].as_bool().unwrap_or(false),
    })
}

/// Whether a Hudu company carries the Autotask company id: as
/// `id_in_integration` (top level), or ([U] in the reference) as the
/// `sync_id` or `identifier` of one of its `integrations`; numbers or strings.
fn carries_psa_id(c: &Value, id: i64) -> bool {
    let is = |v: &Value| v.as_i64() == Some(id) || v.as_str().is_some_and(|s| s.trim() == id.to_string());
    is(&c["id_in_integration"])
        || c["integrations"]
            .as_array()
            .is_some_and(|list| list.iter().any(|i| is(&i["sync_id"]) || is(&i["identifier"])))
}

impl Hudu {
    pub fn new(cfg: HuduConfig) -> Self {
        let retry = (Pace::Window(cfg.window), cfg.max_attempts, cfg.max_wait);
        Hudu { api: Api::new(KB, &cfg.base_url, &cfg.api_key, retry), cfg }
    }

    async fn get(&self, what: &str, path: &str, query: &[(&str, String)]) -> Result<Value, KbError> {
        self.api.get(what, path, query).await
    }

    /// Every item of `key` over all pages, until an empty page: Hudu gives no
    /// total, and an instance that caps `page_size` lower would make a short
    /// page look like the last one.
    async fn all(&self, what: &str, path: &str, key: &str, query: &[(&str, String)]) -> Result<Vec<Value>, KbError> {
        let size = self.cfg.page_size.max(1);
        let mut out = vec![];
        for page in 1..=MAX_PAGES {
            let mut q = query.to_vec();
            q.push(("page", page.to_string()));
            q.push(("page_size", size.to_string()));
            let v = self.get(what, path, &q).await?;
            let items = v[key].as_array().ok_or_else(|| shape(KB, what, &format!("no {key} list")))?;
            if items.is_empty() {
                return Ok(out);
            }
            out.extend(items.iter().cloned());
        }
        Err(shape(KB, what, &format!("more than {MAX_PAGES} pages: not read to the end")))
    }

    /// The companies `query` finds, kept only when `keep` says so; several is ambiguous.
    async fn one_company(
        &self,
        query: &[(&str, String)],
        name: &str,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<Option<KbCompany>, KbError> {
        let found: Vec<Value> =
            self.all("the company search", "/companies", "companies", query).await?.into_iter().filter(keep).collect();
        match found.as_slice() {
            [] => Ok(None),
            [c] => Ok(Some(KbCompany {
                id: id_of(c).ok_or_else(|| shape(KB, "a company", "no id"))?,
                name: c["name"].as_str().unwrap_or_default().to_string(),
            })),
            many => Err(KbError::Ambiguous { kb: KB, name: name.to_string(), count: many.len() }),
        }
    }

    async fn read_back(&self, id: &str) -> Result<Article, KbError> {
        let v = self.get("the article read-back", &format!("/articles/{id}"), &[]).await?;
        article(v.get("article").unwrap_or(&v))
    }
}

#[async_trait::async_trait]
impl KnowledgeBase for Hudu {
    fn name(&self) -> &'static str {
        KB
    }

    fn placement(&self) -> Option<String> {
        Some("It is in the drafts folder, visible to technicians there (Hudu has no API drafts): review it before sharing it".into())
    }

    async fn company(&self, autotask_company_id: i64, name: &str) -> Result<Option<KbCompany>, KbError> {
        let psa = |c: &Value| carries_psa_id(c, autotask_company_id);
        let by_id = self.one_company(&[("id_in_integration", autotask_company_id.to_string())], name, psa).await?;
        if by_id.is_some() {
            return Ok(by_id);
        }
        let wanted = name.trim();
        let by_name = self
            .one_company(&[("name", wanted.to_string())], name, |c| {
                psa(c) || c["name"].as_str().is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted))
            })
            .await?;
        if by_name.is_some() {
            return Ok(by_name);
        }
        // [U] The PSA id may sit only in `integrations[]` (which no filter reads): every company, once.
        self.one_company(&[], name, psa).await
    }

    async fn articles(&self, company: &KbCompany) -> Result<Vec<Article>, KbError> {
        let items =
            self.all("the article list", "/articles", "articles", &[("company_id", company.id.clone())]).await?;
        items.iter().map(article).collect()
    }

    async fn content(&self, a: &Article) -> Result<String, KbError> {
        match &a.content {
            Some(c) => Ok(c.clone()),
            None => Ok(self.read_back(&a.id).await?.content.unwrap_or_default()),
        }
    }

    async fn create_draft(&self, company: &KbCompany, draft: &ArticleDraft) -> Result<Article, KbError> {
        let query = [("company_id", company.id.clone()), ("name", draft.title.clone())];
        let existing = self.all("the article lookup", "/articles", "articles", &query).await?;
        if let Some(a) = existing.iter().find(|a| a["name"].as_str() == Some(draft.title.as_str())) {
            return article(a);
        }
        let company_id: i64 = company.id.parse().map_err(|_| shape(KB, "the company", "its id is not a number"))?;
        let body = json!({"article": {
            "name": draft.title, "content": draft.html, "company_id": company_id,
            "folder_id": self.cfg.drafts_folder_id, "enable_sharing": false,
        }});
        let what = "the article creation";
        let v = self.api.post(what, "/articles", &body, "application/json").await?;
        let id = id_of(v.get("article").unwrap_or(&v)).ok_or_else(|| shape(KB, what, "no id in the answer"))?;
        let stored = self.read_back(&id).await?;
        if stored.title != draft.title {
            return Err(shape(KB, "the article read-back", "the stored title differs from the one sent"));
        }
        Ok(stored)
    }
}
