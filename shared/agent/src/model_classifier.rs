//! The classifier port over a trained model (`atpilot model train`): the
//! artifact is loaded once per cold start. The category model's labels name
//! automation categories; optional queue and priority models predict those
//! picklist values. Drafts stay the fixed, customer-free templates unless a
//! retrieval drafter is configured, and multi-issue detection uses the
//! model crate's heuristic.

use crate::classifier::KeywordClassifier;
use crate::ports::{Classification, Classifier};
use atpilot_domain::{Category, Confidence, PriorityId, QueueId};
use atpilot_model::Model;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ModelLoadError {
    #[error("cannot load the {which} model {path}: {why}")]
    Load { which: &'static str, path: String, why: String },
    #[error("the category model's label {label:?} is not a category name ({why})")]
    BadLabel { label: String, why: String },
}

/// Turns a dispatcher label ("Password Reset") into a category name ("password-reset").
pub fn category_slug(label: &str) -> Result<Category, ModelLoadError> {
    let slug: String = label.trim().to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
    let slug = if slug.starts_with(|c: char| c.is_ascii_digit()) { format!("c-{slug}") } else { slug };
    Category::new(slug.chars().take(48).collect::<String>()).map_err(|e| ModelLoadError::BadLabel { label: label.into(), why: e.to_string() })
}

pub struct ModelClassifier {
    category: Model,
    categories: Vec<Category>,
    queue: Option<Model>,
    priority: Option<Model>,
    /// Categories whose work needs hands on hardware.
    physical: BTreeSet<Category>,
    drafts: KeywordClassifier,
}

fn load(which: &'static str, path: &Path) -> Result<Model, ModelLoadError> {
    Model::load(path).map_err(|e| ModelLoadError::Load { which, path: path.display().to_string(), why: e.to_string() })
}

impl ModelClassifier {
    pub fn load(category: &Path, queue: Option<&Path>, priority: Option<&Path>, physical: BTreeSet<Category>) -> Result<Self, ModelLoadError> {
        let category_model = load("category", category)?;
        let categories = category_model.labels().iter().map(|l| category_slug(l)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            category: category_model,
            categories,
            queue: queue.map(|p| load("queue", p)).transpose()?,
            priority: priority.map(|p| load("priority", p)).transpose()?,
            physical,
            drafts: KeywordClassifier,
        })
    }

    pub fn from_model(category: Model) -> Result<Self, ModelLoadError> {
        let categories = category.labels().iter().map(|l| category_slug(l)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { category, categories, queue: None, priority: None, physical: BTreeSet::new(), drafts: KeywordClassifier })
    }
}

/// A picklist value predicted by a model whose labels are the values
/// ("29682833"), or picklist labels with their value
/// ("Service Desk (29683481)", as `atpilot model train --from-autotask` names them).
fn id_label(m: &Option<Model>, text: &str) -> Option<i64> {
    m.as_ref().and_then(|m| picklist_value(&m.predict(text).label))
}

fn picklist_value(label: &str) -> Option<i64> {
    let l = label.trim();
    l.parse().ok().or_else(|| l.strip_suffix(')')?.rsplit_once('(')?.1.trim().parse().ok())
}

impl Classifier for ModelClassifier {
    fn classify(&self, title: &str, description: &str) -> Classification {
        let text = format!("{title}\n{description}");
        let p = self.category.predict(&text);
        let category = self.categories.get(p.index).cloned().unwrap_or_else(|| Category::new("other").unwrap_or_else(|_| unreachable!()));
        let confidence = Confidence::new(f64::from(p.confidence).clamp(0.0, 1.0)).unwrap_or_else(|_| Confidence::new(0.0).unwrap_or_else(|_| unreachable!()));
        let multi = atpilot_model::multi_issue::detect(&text);
        // Drafts: the fixed template of the predicted category, when there is one.
        let template = self.drafts.classify(title, description);
        let same = template.prediction.category == category;
        let template_physical = same && template.prediction.needs_physical_access;
        let draft = if same { template.draft } else { None };
        let mut prediction = template.prediction;
        prediction.category = category.clone();
        prediction.confidence = confidence;
        prediction.queue_id = id_label(&self.queue, &text).and_then(|v| QueueId::new(v).ok());
        prediction.priority = id_label(&self.priority, &text).and_then(|v| PriorityId::new(v).ok());
        prediction.multi_issue = multi.several;
        prediction.needs_physical_access = self.physical.contains(&category) || template_physical;
        Classification { prediction, draft, notes: Vec::new() }
    }

    fn categories(&self) -> Vec<Category> {
        self.categories.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_category_names() {
        assert_eq!(category_slug("Password Reset").unwrap().as_str(), "password-reset");
        assert_eq!(category_slug("  MFA / 2FA enrollment ").unwrap().as_str(), "mfa-2fa-enrollment");
        assert_eq!(category_slug("365 licenses").unwrap().as_str(), "c-365-licenses");
        assert!(category_slug("!!!").is_err());
    }

    #[test]
    fn picklist_values_from_labels() {
        assert_eq!(picklist_value("29682833"), Some(29682833));
        assert_eq!(picklist_value("Service Desk (29683481)"), Some(29683481));
        assert_eq!(picklist_value("Tier 2 (Escalations) (7)"), Some(7));
        assert_eq!(picklist_value("Priority 1"), None);
        assert_eq!(picklist_value("High (urgent)"), None);
    }
}

#[cfg(test)]
mod trained {
    use super::*;

    /// A model trained on a small history drives the classifier port.
    #[test]
    fn a_trained_model_classifies_through_the_port() {
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        let samples = [
            ("Password Reset", ["forgot my password locked out", "reset password please account locked", "cannot log in password expired"]),
            ("Printer", ["printer jammed paper tray", "printer offline cannot print", "toner empty on the printer"]),
            ("VPN", ["vpn keeps disconnecting from home", "cannot connect to vpn tunnel", "vpn client error remote access"]),
        ];
        for round in 0..30 {
            for (label, phrases) in &samples {
                texts.push(format!("{} #{round}", phrases[round % 3]));
                labels.push(label.to_string());
            }
        }
        let (model, _) = atpilot_model::train(&texts, &labels, &atpilot_model::TrainConfig::default(), &|_| {}).expect("trains");
        let c = ModelClassifier::from_model(model).unwrap();
        let out = c.classify("Locked out", "I forgot my password again");
        assert_eq!(out.prediction.category.as_str(), "password-reset");
        assert!(out.prediction.confidence.get() > 0.5, "{}", out.prediction.confidence.get());
        assert!(out.draft.is_some(), "the template draft of the predicted category");
        let out = c.classify("Printing", "the printer is jammed");
        assert_eq!(out.prediction.category.as_str(), "printer");
        assert!(out.draft.is_none(), "no template for this category: no draft rather than a wrong one");
    }
}

/// The classifier the configuration asks for: the trained models when
/// `[model] category_path` is set, the keyword classifier otherwise.
pub fn from_config(m: &atpilot_config::ModelConfig) -> Result<std::sync::Arc<dyn Classifier>, ModelLoadError> {
    match &m.category_path {
        None => Ok(std::sync::Arc::new(KeywordClassifier)),
        Some(c) => Ok(std::sync::Arc::new(ModelClassifier::load(c, m.queue_path.as_deref(), m.priority_path.as_deref(), m.physical_categories.clone())?)),
    }
}
