//! Paging: one query page, the next page through `nextPageUrl` (same host
//! only) with a fallback to the id cursor, bounded-memory streams of raw or
//! typed items (`in` lists over 500 split into several queries), and counts.

use super::{Client, PagingMode};
use crate::entities::Entity;
use crate::error::{Error, Result};
use crate::query::{Filter, Query};
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::Value;

/// A page of raw items.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_page_url: Option<String>,
}

impl Client {
    /// One page of a query (`POST {entity}/query`).
    pub async fn query_page(&self, entity_path: &str, q: &Query) -> Result<Page> {
        let body = serde_json::to_value(q).map_err(|e| Error::Decode(e.to_string()))?;
        let v = self.request(Method::POST, &format!("{entity_path}/query"), None, Some(&body)).await?;
        page_of(v)
    }

    /// The next page: POST to `nextPageUrl` with the same body.
    async fn follow(&self, next: &str, q: &Query) -> Result<Page> {
        let zone = self.zone_url().await?;
        let same_origin = match (url::Url::parse(next), url::Url::parse(&zone)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        };
        if !same_origin {
            // Never send credentials to another host.
            return Err(Error::NotFound {
                status: 0,
                messages: vec![format!("nextPageUrl {next} is not on the zone host")],
            });
        }
        let body = serde_json::to_value(q).map_err(|e| Error::Decode(e.to_string()))?;
        page_of(self.request(Method::POST, next, None, Some(&body)).await?)
    }

    /// Streams raw items of a query with bounded memory (one page at a time).
    /// `in` lists over 500 are split into several queries.
    pub fn stream_values(&self, entity_path: &str, q: Query) -> impl Stream<Item = Result<Value>> + Send + 'static {
        let client = self.clone();
        let path = entity_path.to_string();
        let parts = q.split();
        let parts: Vec<Result<Query>> = match parts {
            Ok(p) => p.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(parts)
            .map(move |part| {
                let client = client.clone();
                let path = path.clone();
                match part {
                    Ok(q) => client
                        .pages(path, q)
                        .map_ok(|items| futures::stream::iter(items.into_iter().map(Ok)))
                        .try_flatten()
                        .boxed(),
                    Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
                }
            })
            .flatten()
    }

    fn pages(&self, path: String, q: Query) -> impl Stream<Item = Result<Vec<Value>>> + Send + 'static {
        enum St {
            Start,
            Next(String, i64),
            Cursor(i64),
            Done,
        }
        let client = self.clone();
        let mode = self.inner.cfg.paging;
        let page_size = q.max_records.unwrap_or(crate::query::MAX_RECORDS) as usize;
        futures::stream::try_unfold(St::Start, move |st| {
            let client = client.clone();
            let path = path.clone();
            let q = q.clone();
            async move {
                let page = match st {
                    St::Done => return Ok(None),
                    St::Start => client.query_page(&path, &q).await?,
                    St::Next(url, last) => match client.follow(&url, &q).await {
                        Ok(p) => p,
                        Err(Error::NotFound { .. } | Error::MethodNotAllowed { .. }) => {
                            tracing::info!(entity = %path, "nextPageUrl failed; falling back to the id cursor");
                            client.query_page(&path, &cursor(&q, last)).await?
                        }
                        Err(e) => return Err(e),
                    },
                    St::Cursor(last) => client.query_page(&path, &cursor(&q, last)).await?,
                };
                let last = page.items.iter().filter_map(|i| i.get("id").and_then(Value::as_i64)).max();
                let next = match (mode, page.next_page_url.clone(), last) {
                    (_, _, None) => St::Done,
                    (PagingMode::NextPageUrl, Some(u), Some(l)) => St::Next(u, l),
                    (PagingMode::NextPageUrl, None, _) => St::Done,
                    (PagingMode::IdCursor, _, Some(l))
                        if page.items.len() >= page_size || page.next_page_url.is_some() =>
                    {
                        St::Cursor(l)
                    }
                    (PagingMode::IdCursor, _, _) => St::Done,
                };
                if page.items.is_empty() {
                    return Ok(None);
                }
                Ok(Some((page.items, next)))
            }
        })
    }

    /// Streams typed entities.
    pub fn stream<E: Entity>(&self, q: Query) -> impl Stream<Item = Result<E>> + Send + 'static {
        self.stream_values(E::PATH, q)
            .and_then(|v| async move { serde_json::from_value::<E>(v).map_err(|e| Error::Decode(e.to_string())) })
    }

    /// Collects every match (for small result sets; use [`Client::stream`] for large ones).
    pub async fn query<E: Entity>(&self, q: Query) -> Result<Vec<E>> {
        self.stream::<E>(q).try_collect().await
    }

    /// `POST {entity}/query/count` (summed over split parts).
    pub async fn count<E: Entity>(&self, q: &Query) -> Result<u64> {
        self.count_path(E::PATH, q).await
    }

    pub async fn count_path(&self, entity_path: &str, q: &Query) -> Result<u64> {
        let mut total = 0;
        for part in q.split()? {
            let body = serde_json::to_value(&part).map_err(|e| Error::Decode(e.to_string()))?;
            let v = self.request(Method::POST, &format!("{entity_path}/query/count"), None, Some(&body)).await?;
            total +=
                v.get("queryCount").and_then(Value::as_u64).ok_or_else(|| Error::Decode("no queryCount".into()))?;
        }
        Ok(total)
    }
}

fn cursor(q: &Query, last: i64) -> Query {
    let mut q = q.clone();
    q.filter.push(Filter::gt("id", last));
    q
}

fn page_of(v: Value) -> Result<Page> {
    let items = match v.get("items") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => vec![],
        Some(_) => return Err(Error::Decode("items is not an array".into())),
    };
    let next = v
        .get("pageDetails")
        .and_then(|p| p.get("nextPageUrl"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from);
    Ok(Page { items, next_page_url: next })
}
