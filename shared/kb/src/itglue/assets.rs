//! IT Glue flexible assets as the KB target (reference §1 "Flexible assets"):
//! for accounts whose documents API is missing or unreliable, drafts go to a
//! flexible asset type chosen in configuration. The type's fields are read
//! (`GET /flexible_asset_types/{id}?include=flexible_asset_fields`): the
//! `use_for_title` Text field holds the title, the first Textbox field the
//! HTML; a type with any other required field is refused (atpilot cannot
//! fill it). Listing needs `filter[flexible_asset_type_id]`; a create sends
//! every trait (a PATCH would delete the ones left out, so none is made).
//! Flexible assets have no draft state: the article is visible to
//! technicians, and [`placement`] says so.

use super::ItGlue;
use crate::http::shape;
use crate::{Article, ArticleDraft, KbCompany, KbError};
use serde_json::{Value, json};

const KB: &str = "IT Glue";

/// The two traits atpilot writes: the title's and the body's `name-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Traits {
    pub title: String,
    pub body: String,
}

/// The sentence the internal note and the dashboard use for where an asset is.
pub(super) fn placement(type_id: i64) -> String {
    format!(
        "It is a flexible asset (type {type_id}), visible to technicians: flexible assets have no draft state in IT Glue; review it there"
    )
}

/// The traits of the type from its fields (`included` items of type `flexible-asset-fields`).
pub(super) fn traits_of(type_id: i64, v: &Value) -> Result<Traits, KbError> {
    let what = format!("flexible asset type {type_id}");
    let fields: Vec<&Value> = v["included"]
        .as_array()
        .ok_or_else(|| shape(KB, &what, "no included fields"))?
        .iter()
        .filter(|f| f["type"] == "flexible-asset-fields")
        .collect();
    let key = |f: &Value| f["attributes"]["name-key"].as_str().map(str::to_string);
    let kind = |f: &Value| f["attributes"]["kind"].as_str().unwrap_or_default().to_string();
    let title =
        fields.iter().find(|f| f["attributes"]["use-for-title"] == true && kind(f) == "Text").and_then(|f| key(f));
    let body = fields.iter().find(|f| kind(f) == "Textbox").and_then(|f| key(f));
    let (Some(title), Some(body)) = (title, body) else {
        return Err(KbError::Api {
            kb: KB,
            status: 422,
            what,
            message: "atpilot needs a Text field used for the title and a Textbox field for the article: choose such a type in [kb] itglue_flexible_asset_type_id".into(),
        });
    };
    if let Some(other) =
        fields.iter().find(|f| f["attributes"]["required"] == true && key(f).is_some_and(|k| k != title && k != body))
    {
        return Err(KbError::Api {
            kb: KB,
            status: 422,
            what,
            message: format!(
                "its required field {:?} is one atpilot cannot fill: make it optional, or choose a type with only a title and a Textbox",
                other["attributes"]["name"].as_str().unwrap_or_default()
            ),
        });
    }
    Ok(Traits { title, body })
}

fn asset(v: &Value, t: &Traits) -> Result<Article, KbError> {
    let id = v["id"].as_str().map(str::to_string).ok_or_else(|| shape(KB, "a flexible asset", "no id"))?;
    let a = &v["attributes"];
    let traits = &a["traits"];
    let title = traits[&t.title].as_str().or(a["name"].as_str()).unwrap_or_default().to_string();
    Ok(Article {
        id,
        title,
        url: a["resource-url"].as_str().map(str::to_string),
        content: traits[&t.body].as_str().map(str::to_string),
        draft: false,
    })
}

impl ItGlue {
    async fn traits(&self, type_id: i64) -> Result<Traits, KbError> {
        let path = format!("/flexible_asset_types/{type_id}");
        let v = self.get("the flexible asset type", &path, &[("include", "flexible_asset_fields".into())]).await?;
        traits_of(type_id, &v)
    }

    /// Every asset of the type in `company`, all pages.
    pub(super) async fn assets(&self, type_id: i64, company: &KbCompany) -> Result<Vec<Article>, KbError> {
        let t = self.traits(type_id).await?;
        let q =
            [("filter[flexible_asset_type_id]", type_id.to_string()), ("filter[organization_id]", company.id.clone())];
        self.all("the flexible asset list", "/flexible_assets", &q).await?.iter().map(|v| asset(v, &t)).collect()
    }

    /// One asset's HTML (read again when the listing gave none).
    pub(super) async fn asset_content(&self, type_id: i64, a: &Article) -> Result<String, KbError> {
        if let Some(c) = &a.content {
            return Ok(c.clone());
        }
        let t = self.traits(type_id).await?;
        let v = self.get("the flexible asset", &format!("/flexible_assets/{}", a.id), &[]).await?;
        Ok(asset(&v["data"], &t)?.content.unwrap_or_default())
    }

    /// Creates the asset once (one of this title is the draft already) and reads it back.
    pub(super) async fn create_asset(
        &self,
        type_id: i64,
        company: &KbCompany,
        draft: &ArticleDraft,
    ) -> Result<Article, KbError> {
        if let Some(a) = self.assets(type_id, company).await?.into_iter().find(|a| a.title == draft.title) {
            return Ok(a);
        }
        let t = self.traits(type_id).await?;
        let org: i64 = company.id.parse().map_err(|_| shape(KB, "the organization", "its id is not a number"))?;
        let body = json!({"data": {"type": "flexible-assets", "attributes": {
            "organization-id": org, "flexible-asset-type-id": type_id,
            "traits": {t.title.clone(): draft.title, t.body.clone(): draft.html},
        }}});
        let created = self.post("the flexible asset creation", "/flexible_assets", &body).await?;
        let id = created["data"]["id"]
            .as_str()
            .ok_or_else(|| shape(KB, "the flexible asset creation", "no id"))?
            .to_string();
        let v = self.get("the flexible asset read-back", &format!("/flexible_assets/{id}"), &[]).await?;
        let stored = asset(&v["data"], &t)?;
        if stored.title != draft.title || stored.content.as_deref() != Some(draft.html.as_str()) {
            return Err(shape(KB, "the flexible asset read-back", "the stored asset is not the one sent"));
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, kind: &str, required: bool, title: bool) -> Value {
        json!({"type": "flexible-asset-fields", "attributes": {"name": key, "name-key": key, "kind": kind, "required": required, "use-for-title": title}})
    }

    #[test]
    fn the_title_and_body_traits_come_from_the_type_and_unfillable_types_are_refused() {
        let ok = json!({"included": [field("title", "Text", true, true), field("notes", "Text", false, false), field("body", "Textbox", false, false)]});
        assert_eq!(traits_of(7, &ok).unwrap(), Traits { title: "title".into(), body: "body".into() });
        let required = json!({"included": [field("title", "Text", true, true), field("body", "Textbox", true, false), field("owner", "Tag", true, false)]});
        let e = traits_of(7, &required).unwrap_err().to_string();
        assert!(e.contains("\"owner\"") && e.contains("cannot fill"), "{e}");
        let no_body = json!({"included": [field("title", "Text", true, true)]});
        assert!(traits_of(7, &no_body).unwrap_err().to_string().contains("Textbox"));
    }
}
