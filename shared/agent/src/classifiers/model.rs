//! The classifier port over a trained model (`atpilot model train`): the
//! artifact is loaded once per cold start. The category model's labels name
//! automation categories; optional queue, priority, issue type and sub-issue
//! type models predict those picklist values. Drafts stay the fixed, customer-free templates unless a
//! retrieval drafter is configured, and multi-issue detection uses the
//! model crate's heuristic.

use super::keyword::KeywordClassifier;
use crate::ports::{Classification, Classifier};
use atpilot_domain::{Category, Confidence, IssueTypeId, PriorityId, QueueId, SubIssueTypeId};
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
pub(crate) fn category_slug(label: &str) -> Result<Category, ModelLoadError> {
    let slug: String =
        label.trim().to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
    let slug = if slug.starts_with(|c: char| c.is_ascii_digit()) { format!("c-{slug}") } else { slug };
    Category::new(slug.chars().take(48).collect::<String>())
        .map_err(|e| ModelLoadError::BadLabel { label: label.into(), why: e.to_string() })
}

/// The optional models of picklist fields, each next to the category model.
#[derive(Debug, Clone, Copy, Default)]
pub struct PicklistPaths<'a> {
    pub queue: Option<&'a Path>,
    pub priority: Option<&'a Path>,
    pub issue_type: Option<&'a Path>,
    pub sub_issue_type: Option<&'a Path>,
}

impl<'a> PicklistPaths<'a> {
    pub fn from_config(m: &'a atpilot_config::ModelConfig) -> Self {
        let [queue, priority, issue_type, sub_issue_type] = m.picklist_paths();
        Self { queue, priority, issue_type, sub_issue_type }
    }
}

pub struct ModelClassifier {
    category: Model,
    categories: Vec<Category>,
    queue: Option<Model>,
    priority: Option<Model>,
    issue_type: Option<Model>,
    sub_issue_type: Option<Model>,
    /// Categories whose work needs hands on hardware.
    physical: BTreeSet<Category>,
    drafts: KeywordClassifier,
}

fn load(which: &'static str, path: &Path) -> Result<Model, ModelLoadError> {
    Model::load(path).map_err(|e| ModelLoadError::Load { which, path: path.display().to_string(), why: e.to_string() })
}

impl ModelClassifier {
    pub fn load(
        category: &Path,
        fields: PicklistPaths<'_>,
        physical: BTreeSet<Category>,
    ) -> Result<Self, ModelLoadError> {
        let mut c = Self::from_model(load("category", category)?)?;
        c.queue = fields.queue.map(|p| load("queue", p)).transpose()?;
        c.priority = fields.priority.map(|p| load("priority", p)).transpose()?;
        c.issue_type = fields.issue_type.map(|p| load("issue type", p)).transpose()?;
        c.sub_issue_type = fields.sub_issue_type.map(|p| load("sub-issue type", p)).transpose()?;
        c.physical = physical;
        Ok(c)
    }

    pub fn from_model(category: Model) -> Result<Self, ModelLoadError> {
        let categories = category.labels().iter().map(|l| category_slug(l)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            category,
            categories,
            queue: None,
            priority: None,
            issue_type: None,
            sub_issue_type: None,
            physical: BTreeSet::new(),
            drafts: KeywordClassifier,
        })
    }
}

/// A picklist value predicted by a model whose labels are the values
/// ("29682833"), or picklist labels with their value
/// ("Service Desk (29683481)", as `atpilot model train --from-autotask` names them).
fn id_label(m: &Option<Model>, text: &str) -> Option<i64> {
    m.as_ref().and_then(|m| picklist_value(&m.predict(text).label))
}

/// The picklist value a model label names: "29682833", or "Service Desk (29683481)".
pub(crate) fn picklist_value(label: &str) -> Option<i64> {
    let l = label.trim();
    l.parse().ok().or_else(|| l.strip_suffix(')')?.rsplit_once('(')?.1.trim().parse().ok())
}

impl ModelClassifier {
    /// The category model's evidence for `text`, when it agrees on the label
    /// (it reads the text as words only; a disagreement shows nothing rather
    /// than evidence for another label).
    fn evidence(&self, text: &str, index: usize) -> Option<atpilot_domain::Evidence> {
        let e = self.category.evidence(text, 5);
        (e.index == index).then(|| atpilot_domain::Evidence {
            words: e.words.into_iter().map(|(w, x)| (w, f64::from(x))).collect(),
            runner_up: e.runner_up.and_then(|(i, p)| self.categories.get(i).cloned().map(|c| (c, f64::from(p)))),
        })
    }
}

impl Classifier for ModelClassifier {
    fn classify(&self, title: &str, description: &str) -> Classification {
        let text = format!("{title}\n{description}");
        let p = self.category.predict(&text);
        let category = self
            .categories
            .get(p.index)
            .cloned()
            .unwrap_or_else(|| Category::new("other").unwrap_or_else(|_| unreachable!()));
        let confidence = Confidence::new(p.confidence.clamp(0.0, 1.0))
            .unwrap_or_else(|_| Confidence::new(0.0).unwrap_or_else(|_| unreachable!()));
        let multi = atpilot_model::multi_issue::detect(&text);
        // Drafts: the fixed template of the predicted category, when there is one.
        let template = self.drafts.classify(title, description);
        let same = template.prediction.category == category;
        let template_physical = same && template.prediction.needs_physical_access;
        let draft = if same { template.draft } else { None };
        let mut prediction = template.prediction;
        prediction.category = category.clone();
        prediction.confidence = confidence;
        // A trained artifact's confidence is calibrated on tickets it was not trained
        // on, unless there were too few of them to fit a map: then it only suggests.
        prediction.calibrated = self.category.is_calibrated();
        prediction.queue_id = id_label(&self.queue, &text).and_then(|v| QueueId::new(v).ok());
        prediction.priority = id_label(&self.priority, &text).and_then(|v| PriorityId::new(v).ok());
        prediction.issue_type =
            id_label(&self.issue_type, &text).and_then(|v| IssueTypeId::new(v).ok()).or(prediction.issue_type);
        prediction.sub_issue_type = id_label(&self.sub_issue_type, &text)
            .and_then(|v| SubIssueTypeId::new(v).ok())
            .or(prediction.sub_issue_type);
        prediction.multi_issue = multi.several;
        prediction.needs_physical_access = self.physical.contains(&category) || template_physical;
        prediction.evidence = self.evidence(&text, p.index);
        Classification { prediction, draft, notes: Vec::new(), model_written: Vec::new() }
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
            (
                "Password Reset",
                [
                    "forgot my password locked out",
                    "reset password please account locked",
                    "cannot log in password expired",
                ],
            ),
            ("Printer", ["printer jammed paper tray", "printer offline cannot print", "toner empty on the printer"]),
            (
                "VPN",
                ["vpn keeps disconnecting from home", "cannot connect to vpn tunnel", "vpn client error remote access"],
            ),
        ];
        for round in 0..30 {
            for (label, phrases) in &samples {
                texts.push(format!("{} #{round}", phrases[round % 3]));
                labels.push(label.to_string());
            }
        }
        let (model, _) =
            atpilot_model::train(&texts, &labels, &atpilot_model::TrainConfig::default(), &|_| {}).expect("trains");
        let c = ModelClassifier::from_model(model).unwrap();
        let out = c.classify("Locked out", "I forgot my password again");
        assert_eq!(out.prediction.category.as_str(), "password-reset");
        assert!(out.prediction.confidence.get() > 0.5, "{}", out.prediction.confidence.get());
        assert!(out.draft.is_some(), "the template draft of the predicted category");
        let out = c.classify("Printing", "the printer is jammed");
        assert_eq!(out.prediction.category.as_str(), "printer");
        assert!(out.draft.is_none(), "no template for this category: no draft rather than a wrong one");
        // 90 tickets are too few to calibrate on: the confidence may suggest, never act
        assert!(!out.prediction.calibrated);
        let (texts, labels) = ([texts.clone(), texts].concat(), [labels.clone(), labels].concat());
        let (model, _) =
            atpilot_model::train(&texts, &labels, &atpilot_model::TrainConfig::default(), &|_| {}).expect("trains");
        let c = ModelClassifier::from_model(model).unwrap();
        assert!(c.classify("Locked out", "I forgot my password again").prediction.calibrated);
    }
}

/// Where the classify function's model layer is mounted (infra/template.yaml,
/// `ModelLayer`; filled by `scripts/model-layer`).
pub const MODEL_LAYER_DIR: &str = "/opt/models";
/// The picklist models the layer may hold besides `category.atm` (`scripts/model-layer` names them so).
pub const FIELD_MODELS: [&str; 4] = ["queue.atm", "priority.atm", "issue-type.atm", "sub-issue-type.atm"];

/// The classifier the configuration asks for: the trained models when
/// `[model] category_path` is set; else the models shipped in the model layer
/// ([`MODEL_LAYER_DIR`]: `category.atm`, with `queue.atm`, `priority.atm`,
/// `issue-type.atm` and `sub-issue-type.atm` when present); else the keyword classifier. Logs which one is in use.
pub fn from_config(m: &atpilot_config::ModelConfig) -> Result<std::sync::Arc<dyn Classifier>, ModelLoadError> {
    from_config_in(m, Path::new(MODEL_LAYER_DIR))
}

/// [`from_config`] with the layer directory given. Explicitly configured paths
/// must load (an error names the file); a layer without a category model, or
/// whose models do not load, never fails a cold start: it falls back to the
/// keyword classifier and says why in the log.
pub fn from_config_in(
    m: &atpilot_config::ModelConfig,
    layer_dir: &Path,
) -> Result<std::sync::Arc<dyn Classifier>, ModelLoadError> {
    if let Some(c) = &m.category_path {
        let classifier = ModelClassifier::load(c, PicklistPaths::from_config(m), m.physical_categories.clone())?;
        tracing::info!(category = %c.display(), queue = ?m.queue_path, priority = ?m.priority_path, issue_type = ?m.issue_type_path, sub_issue_type = ?m.sub_issue_type_path, "classifier: trained models from [model] paths");
        return Ok(std::sync::Arc::new(classifier));
    }
    let in_layer = |name: &str| Some(layer_dir.join(name)).filter(|p| p.is_file());
    let Some(category) = in_layer("category.atm") else {
        if FIELD_MODELS.iter().any(|f| in_layer(f).is_some()) {
            tracing::warn!(dir = %layer_dir.display(), "classifier: keyword classifier; the model layer has picklist models but no category.atm, which they need");
        } else {
            tracing::info!(dir = %layer_dir.display(), "classifier: keyword classifier (no [model] category_path, no category.atm in the model layer)");
        }
        return Ok(std::sync::Arc::new(KeywordClassifier));
    };
    let [queue, priority, issue_type, sub_issue_type] = FIELD_MODELS.map(in_layer);
    let fields = PicklistPaths {
        queue: queue.as_deref(),
        priority: priority.as_deref(),
        issue_type: issue_type.as_deref(),
        sub_issue_type: sub_issue_type.as_deref(),
    };
    match ModelClassifier::load(&category, fields, m.physical_categories.clone()) {
        Ok(c) => {
            tracing::info!(category = %category.display(), queue = ?queue, priority = ?priority, issue_type = ?issue_type, sub_issue_type = ?sub_issue_type, "classifier: trained models from the model layer");
            Ok(std::sync::Arc::new(c))
        }
        Err(e) => {
            tracing::error!(error = %e, "classifier: keyword classifier; the model layer's models do not load (rebuild them with atpilot model train and scripts/model-layer)");
            Ok(std::sync::Arc::new(KeywordClassifier))
        }
    }
}

#[cfg(test)]
mod layer {
    use super::*;

    fn train_to(path: &Path, labels: [&str; 2]) {
        let mut texts = Vec::new();
        let mut ys = Vec::new();
        for i in 0..40 {
            texts.push(if i % 2 == 0 {
                format!("forgot my password locked out {i}")
            } else {
                format!("printer jammed paper tray {i}")
            });
            ys.push(labels[i % 2].to_string());
        }
        let (m, _) = atpilot_model::train(&texts, &ys, &atpilot_model::TrainConfig::default(), &|_| {}).unwrap();
        std::fs::write(path, m.to_bytes()).unwrap();
    }

    #[test]
    fn the_layer_models_are_used_when_present_and_never_fail_a_cold_start() {
        let dir = tempfile::tempdir().unwrap();
        let none = atpilot_config::ModelConfig::default();
        let text = ("Locked out", "I forgot my password again");
        // no layer, or an empty one: the keyword classifier
        let c = from_config_in(&none, &dir.path().join("missing")).unwrap();
        assert_eq!(c.classify(text.0, text.1).prediction.queue_id, None);
        // a queue model alone is not enough
        train_to(&dir.path().join("queue.atm"), ["Service Desk (29683481)", "Field Services (29683483)"]);
        assert!(from_config_in(&none, dir.path()).is_ok());
        // category + queue models in the layer: used, and the queue label gives its value
        train_to(&dir.path().join("category.atm"), ["Password Reset", "Printer"]);
        let c = from_config_in(&none, dir.path()).unwrap();
        let p = c.classify(text.0, text.1).prediction;
        assert_eq!(p.category.as_str(), "password-reset");
        // The evidence: the words that weighed for it, and the runner-up category.
        let e = p.evidence.as_ref().expect("a trained model explains its category");
        assert!(e.words.iter().any(|(w, _)| w == "password" || w == "forgot"), "{e:?}");
        assert_eq!(e.runner_up.as_ref().map(|(c, _)| c.as_str()), Some("printer"));
        assert_eq!(p.queue_id.map(|q| q.get()), Some(29683481));
        assert_eq!(p.issue_type, None, "no issue type model yet");
        // issue and sub-issue type models, named as `--from-autotask` labels them
        train_to(&dir.path().join("issue-type.atm"), ["Accounts (12)", "Hardware (14)"]);
        train_to(&dir.path().join("sub-issue-type.atm"), ["Password (201)", "Printer (233)"]);
        let p = from_config_in(&none, dir.path())
            .unwrap()
            .classify("Printing", "the printer jammed paper tray again")
            .prediction;
        assert_eq!(
            (p.category.as_str(), p.issue_type.map(|v| v.get()), p.sub_issue_type.map(|v| v.get())),
            ("printer", Some(14), Some(233))
        );
        // the same models from explicit [model] paths
        let paths = atpilot_config::ModelConfig {
            category_path: Some(dir.path().join("category.atm")),
            issue_type_path: Some(dir.path().join("issue-type.atm")),
            sub_issue_type_path: Some(dir.path().join("sub-issue-type.atm")),
            ..Default::default()
        };
        let p = from_config_in(&paths, &dir.path().join("missing")).unwrap().classify(text.0, text.1).prediction;
        assert_eq!(
            (p.issue_type.map(|v| v.get()), p.sub_issue_type.map(|v| v.get()), p.queue_id),
            (Some(12), Some(201), None)
        );
        // a broken layer model falls back to keywords instead of failing
        std::fs::write(dir.path().join("category.atm"), b"not a model").unwrap();
        assert!(from_config_in(&none, dir.path()).is_ok());
        // an explicitly configured path that does not load is still an error
        let explicit =
            atpilot_config::ModelConfig { category_path: Some(dir.path().join("category.atm")), ..Default::default() };
        assert!(from_config_in(&explicit, dir.path()).is_err());
    }
}
