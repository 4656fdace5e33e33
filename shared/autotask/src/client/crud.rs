//! CRUD: get, create, patch, put and delete of typed entities; child entities
//! are written through their parent's URL (`Tickets/{id}/Notes`).

use super::Client;
use crate::entities::Entity;
use crate::error::{Error, Result};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

impl Client {
    /// `GET {entity}/{id}`; `None` when Autotask answers `{"item": null}` (or 404).
    pub async fn get<E: Entity>(&self, id: i64) -> Result<Option<E>> {
        match self.request(Method::GET, &format!("{}/{id}", E::PATH), None, None).await {
            Ok(v) => match v.get("item") {
                None | Some(Value::Null) => Ok(None),
                Some(item) => serde_json::from_value(item.clone()).map(Some).map_err(|e| Error::Decode(e.to_string())),
            },
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn collection_path<E: Entity>(parent_id: Option<i64>) -> Result<String> {
        match (E::PARENT, parent_id) {
            (Some((p, c)), Some(pid)) => Ok(format!("{p}/{pid}/{c}")),
            (Some((p, _)), None) => {
                Err(Error::Config(format!("{} is written through {p}/{{id}}: give the parent id", E::PATH)))
            }
            (None, _) => Ok(E::PATH.to_string()),
        }
    }

    async fn write<B: Serialize + ?Sized>(&self, method: Method, path: &str, body: &B) -> Result<i64> {
        let body = serde_json::to_value(body).map_err(|e| Error::Decode(e.to_string()))?;
        let v = self.request(method, path, None, Some(&body)).await?;
        v.get("itemId").and_then(Value::as_i64).ok_or_else(|| Error::Decode(format!("no itemId in {v}")))
    }

    /// Creates an entity at its collection (`POST /Tickets`, `POST /TimeEntries`, …).
    pub async fn create<E: Entity>(&self, e: &E) -> Result<i64> {
        self.write(Method::POST, &Self::collection_path::<E>(None)?, e).await
    }
    /// Creates a child entity through its parent (`POST /Tickets/{id}/Notes`, …).
    pub async fn create_child<E: Entity>(&self, parent_id: i64, e: &E) -> Result<i64> {
        self.write(Method::POST, &Self::collection_path::<E>(Some(parent_id))?, e).await
    }
    /// PATCH to the collection URL with `id` in the body: only set fields change.
    pub async fn patch<E: Entity>(&self, p: &E::Patch) -> Result<i64> {
        self.write(Method::PATCH, &Self::collection_path::<E>(None)?, p).await
    }
    pub async fn patch_child<E: Entity>(&self, parent_id: i64, p: &E::Patch) -> Result<i64> {
        self.write(Method::PATCH, &Self::collection_path::<E>(Some(parent_id))?, p).await
    }
    /// PUT to the collection URL: Autotask nulls every writable field not sent.
    pub async fn put<E: Entity>(&self, e: &E) -> Result<i64> {
        if e.id().is_none() {
            return Err(Error::Config("PUT needs the id in the body".into()));
        }
        self.write(Method::PUT, &Self::collection_path::<E>(None)?, e).await
    }
    pub async fn delete<E: Entity>(&self, id: i64) -> Result<()> {
        self.request(Method::DELETE, &format!("{}/{id}", E::PATH), None, None).await.map(|_| ())
    }
    pub async fn delete_child<E: Entity>(&self, parent_id: i64, id: i64) -> Result<()> {
        self.request(Method::DELETE, &format!("{}/{id}", Self::collection_path::<E>(Some(parent_id))?), None, None)
            .await
            .map(|_| ())
    }
}
