//! The KB's records as atpilot sees them, whichever service holds them.

use serde::{Deserialize, Serialize};

/// A company (Hudu) or organization (IT Glue): its id there and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbCompany {
    pub id: String,
    pub name: String,
}

/// An article (Hudu) or document (IT Glue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: String,
    pub title: String,
    /// Where a technician opens it, when the service says.
    pub url: Option<String>,
    /// HTML, when the listing carries it (Hudu does, IT Glue does not).
    pub content: Option<String>,
    /// Not published (IT Glue documents created over the API are drafts;
    /// Hudu has no API drafts, so its articles are never marked so).
    pub draft: bool,
}

/// What atpilot writes: a title and the body as HTML it built itself
/// (every piece of ticket text in it escaped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDraft {
    pub title: String,
    pub html: String,
}
