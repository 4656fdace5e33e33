//! The knowledge bases MSPs keep their documentation in, behind one port
//! ([`KnowledgeBase`]) with two adapters: [`hudu::Hudu`] and
//! [`itglue::ItGlue`]. atpilot writes resolved tickets there as drafts for a
//! technician to review; it never publishes.
//!
//! Every adapter:
//! * matches a company by its PSA integration id first (the Autotask
//!   companyID), then by exact name, and never guesses: no match is `None`,
//!   several are [`KbError::Ambiguous`];
//! * reads every page of a listing (nothing silently truncated);
//! * creates a draft once: a second call with the same title in the same
//!   company returns the article already there (completed if a crash left it
//!   half written), and the created article is read back;
//! * waits out rate limits the way the service resets them and gives up with
//!   [`KbError::RateLimited`] after a bounded number of attempts.
//!
//! Facts: `../shared/reference/kb-and-messaging.md` §1 (IT Glue), §2 (Hudu), §6 (traps).

pub mod error;
mod http;
pub mod hudu;
pub mod itglue;
pub mod model;
pub mod similarity;

pub use error::KbError;
pub use model::{Article, ArticleDraft, KbCompany};

/// A knowledge base atpilot drafts articles in.
#[async_trait::async_trait]
pub trait KnowledgeBase: Send + Sync {
    /// "Hudu" or "IT Glue", for messages.
    fn name(&self) -> &'static str;

    /// Where an article that is not a draft ([`Article::draft`] false) sits,
    /// as a sentence for the ticket's note and the dashboard (`None`: the
    /// caller's wording for the KB).
    fn placement(&self) -> Option<String> {
        None
    }

    /// The KB's company for an Autotask company: by its PSA integration id,
    /// else by exact `name`; `None` when neither matches.
    ///
    /// # Errors
    /// [`KbError::Ambiguous`] when several companies match; the service's errors.
    async fn company(&self, autotask_company_id: i64, name: &str) -> Result<Option<KbCompany>, KbError>;

    /// Every article (document) of `company`, all pages.
    ///
    /// # Errors
    /// The service's errors.
    async fn articles(&self, company: &KbCompany) -> Result<Vec<Article>, KbError>;

    /// An article's content as HTML (the listing's, or read when the listing has none).
    ///
    /// # Errors
    /// The service's errors.
    async fn content(&self, article: &Article) -> Result<String, KbError>;

    /// Creates `draft` in `company` as an unpublished article, once (see the
    /// module docs), and returns it as the service stored it.
    ///
    /// # Errors
    /// The service's errors.
    async fn create_draft(&self, company: &KbCompany, draft: &ArticleDraft) -> Result<Article, KbError>;
}

/// The existing article of `company` most similar to `draft` (title and
/// content, [`similarity::score`]) with its score, if there is any article.
/// Titles rank every article; the content of the best `CONTENT_CANDIDATES` by
/// title is read (IT Glue listings carry none) to score them in full.
///
/// # Errors
/// The service's errors.
pub async fn closest(
    kb: &dyn KnowledgeBase,
    company: &KbCompany,
    draft: &ArticleDraft,
) -> Result<Option<(Article, f64)>, KbError> {
    const CONTENT_CANDIDATES: usize = 5;
    // Each title scored once, then ranked.
    let mut ranked: Vec<(f64, Article)> =
        kb.articles(company).await?.into_iter().map(|a| (similarity::title_score(&draft.title, &a.title), a)).collect();
    ranked.sort_by(|(x, a), (y, b)| y.total_cmp(x).then_with(|| a.id.cmp(&b.id)));
    let mut best: Option<(Article, f64)> = None;
    for (_, a) in ranked.into_iter().take(CONTENT_CANDIDATES) {
        let content = kb.content(&a).await?;
        let s = similarity::score(draft, &a.title, &content);
        if best.as_ref().is_none_or(|(_, b)| s > *b) {
            best = Some((a, s));
        }
    }
    Ok(best)
}
