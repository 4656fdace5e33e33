//! Automation categories, the four phases, the kill switch and the policy
//! the decision function reads.

use crate::measure::{Confidence, Hours};
use crate::ticket::StatusId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// An automation category such as `password-reset`: lower-case letters,
/// digits and `-`, 1 to 48 characters, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    #[error(
        "category {0:?} is invalid: use lower-case letters, digits and '-', starting with a letter, at most 48 characters (e.g. password-reset)"
    )]
    Malformed(String),
    #[error("phase {0:?} is unknown: use shadow, internal-notes, human-in-the-loop or autonomous")]
    UnknownPhase(String),
}

impl Category {
    pub fn new(s: impl Into<String>) -> Result<Self, CategoryError> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= 48
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(s)) } else { Err(CategoryError::Malformed(s)) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Category {
    type Error = CategoryError;
    fn try_from(s: String) -> Result<Self, CategoryError> {
        Self::new(s)
    }
}
impl From<Category> for String {
    fn from(c: Category) -> String {
        c.0
    }
}
impl FromStr for Category {
    type Err = CategoryError;
    fn from_str(s: &str) -> Result<Self, CategoryError> {
        Self::new(s)
    }
}
impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the agent may do in a category. Ordered from least to most trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Read only: log predictions, drafts and proposed actions; write nothing to Autotask.
    Shadow,
    /// Internal-only notes with the suggestion; nothing customer-facing, no time entry.
    InternalNotes,
    /// Safe categories: propose, and act only when a human approves.
    HumanInTheLoop,
    /// Proven categories: act, reply and log time without a click.
    Autonomous,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Shadow, Phase::InternalNotes, Phase::HumanInTheLoop, Phase::Autonomous];
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Shadow => "shadow",
            Phase::InternalNotes => "internal-notes",
            Phase::HumanInTheLoop => "human-in-the-loop",
            Phase::Autonomous => "autonomous",
        }
    }
}
impl FromStr for Phase {
    type Err = CategoryError;
    fn from_str(s: &str) -> Result<Self, CategoryError> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Phase::ALL.into_iter().find(|p| p.as_str() == norm).ok_or_else(|| CategoryError::UnknownPhase(s.to_string()))
    }
}
impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryPolicy {
    pub phase: Phase,
    /// On the safe list (password reset, MFA enrollment, license request…):
    /// only safe categories may ever request approval or act.
    pub safe: bool,
    /// How its resolution does the work; without one it never asks for
    /// approval or acts (an internal note says why).
    #[serde(default)]
    pub runbook: Option<crate::runbook::RunbookKind>,
}

/// Everything the decision function reads besides the ticket and prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Global kill switch: when set the agent writes nothing anywhere.
    pub kill_switch: bool,
    pub categories: BTreeMap<Category, CategoryPolicy>,
    /// Phase of a category with no policy of its own.
    pub default_phase: Phase,
    /// Below this, a suggestion is only an internal note.
    pub min_confidence_for_approval: Confidence,
    /// Below this, an autonomous category falls back to an approval request.
    pub min_confidence_for_autonomy: Confidence,
    /// Block Hours: the balance left after the action must stay at or above this.
    pub block_hours_min_balance: Hours,
    /// Statuses that disengage the agent (waiting customer, on hold, escalated, complete…).
    pub disengage_statuses: BTreeSet<StatusId>,
    /// Autonomous actions allowed per rolling hour across all categories.
    pub max_autonomous_per_hour: u32,
}

impl Policy {
    pub fn category(&self, c: &Category) -> CategoryPolicy {
        self.categories.get(c).cloned().unwrap_or(CategoryPolicy {
            phase: self.default_phase,
            safe: false,
            runbook: None,
        })
    }

    /// The one rule for changing a category's phase by hand (the CLI and the
    /// dashboard both apply it): the category must be one the configuration
    /// names (a `[categories.NAME]` table; any other category simply follows
    /// `default_phase`), and only a category on the safe list may be put in
    /// human-in-the-loop or autonomous.
    pub fn check_phase_change(&self, name: &str, phase: Phase) -> Result<Category, PhaseChangeError> {
        let known: Vec<Category> = self.categories.keys().cloned().collect();
        let unknown = |close| PhaseChangeError::Unknown { name: name.to_string(), close, known: known.clone() };
        let category = match Category::new(name.trim()) {
            Ok(c) => c,
            Err(_) => {
                return Err(unknown(close_matches(&name.trim().to_ascii_lowercase().replace(['_', ' '], "-"), &known)));
            }
        };
        let Some(policy) = self.categories.get(&category) else {
            return Err(unknown(close_matches(category.as_str(), &known)));
        };
        if phase >= Phase::HumanInTheLoop && !policy.safe {
            return Err(PhaseChangeError::Unsafe { category, phase });
        }
        if phase >= Phase::HumanInTheLoop && policy.runbook.is_none() {
            return Err(PhaseChangeError::NoRunbook { category, phase });
        }
        Ok(category)
    }
}

/// Why a hand-made phase change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhaseChangeError {
    #[error("{}", unknown_message(.name, .close, .known))]
    Unknown { name: String, close: Vec<Category>, known: Vec<Category> },
    #[error(
        "{category} is not on the safe list: it cannot ask for approval or act, so it cannot be put in the {phase} phase. Mark it safe in the configuration first (hardware and anything needing hands never is)"
    )]
    Unsafe { category: Category, phase: Phase },
    #[error(
        "{category} has no runbook: nothing would do its work, so it cannot be put in the {phase} phase. Set categories.{category}.runbook in the configuration first (\"reply-only\" when the reply is the work)"
    )]
    NoRunbook { category: Category, phase: Phase },
}

fn unknown_message(name: &str, close: &[Category], known: &[Category]) -> String {
    let list = |v: &[Category]| v.iter().map(Category::as_str).collect::<Vec<_>>().join(", ");
    let hint = match close {
        [] => String::new(),
        [one] => format!(": did you mean {one}?"),
        many => format!(": did you mean one of {}?", list(many)),
    };
    format!(
        "category {name:?} is not in the configuration{hint} (its categories: {}; add a [categories.NAME] table to manage another)",
        if known.is_empty() { "none".to_string() } else { list(known) }
    )
}

/// Known categories within two edits of `name`, or that contain it or are contained in it, closest first.
fn close_matches(name: &str, known: &[Category]) -> Vec<Category> {
    let mut scored: Vec<(usize, &Category)> = known
        .iter()
        .filter_map(|k| {
            let d = edit_distance(name, k.as_str());
            let within = d <= 2 || (name.len() >= 3 && (k.as_str().contains(name) || name.contains(k.as_str())));
            within.then_some((d, k))
        })
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, k)| k.clone()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_are_checked() {
        assert!(Category::new("password-reset").is_ok());
        assert!(Category::new("mfa2").is_ok());
        for bad in ["", "Password", "-x", "1abc", "a_b", &"a".repeat(49)] {
            assert!(matches!(Category::new(bad), Err(CategoryError::Malformed(_))), "{bad}");
        }
    }

    fn policy() -> Policy {
        let cat = |n: &str, safe: bool| {
            let runbook = (n != "mfa-enrollment").then_some(crate::RunbookKind::ReplyOnly);
            (Category::new(n).unwrap(), CategoryPolicy { phase: Phase::Shadow, safe, runbook })
        };
        Policy {
            kill_switch: false,
            categories: [
                cat("password-reset", true),
                cat("mfa-enrollment", true),
                cat("hardware", false),
                cat("network", false),
            ]
            .into_iter()
            .collect(),
            default_phase: Phase::Shadow,
            min_confidence_for_approval: Confidence::new(0.6).unwrap(),
            min_confidence_for_autonomy: Confidence::new(0.75).unwrap(),
            block_hours_min_balance: Hours::new(1.0).unwrap(),
            disengage_statuses: BTreeSet::new(),
            max_autonomous_per_hour: 10,
        }
    }

    #[test]
    fn phase_changes_refuse_unknown_and_unsafe_categories() {
        let p = policy();
        assert_eq!(p.check_phase_change("password-reset", Phase::Autonomous).unwrap().as_str(), "password-reset");
        assert_eq!(p.check_phase_change("hardware", Phase::InternalNotes).unwrap().as_str(), "hardware");
        let e = p.check_phase_change("pasword-reset", Phase::Autonomous).unwrap_err();
        assert!(
            matches!(&e, PhaseChangeError::Unknown { close, .. } if close == &[Category::new("password-reset").unwrap()]),
            "{e:?}"
        );
        assert!(e.to_string().contains("did you mean password-reset?"), "{e}");
        let e = p.check_phase_change("Password_Reset", Phase::Shadow).unwrap_err();
        assert!(e.to_string().contains("did you mean password-reset?"), "{e}");
        let e = p.check_phase_change("printers", Phase::Shadow).unwrap_err();
        assert!(matches!(&e, PhaseChangeError::Unknown { close, .. } if close.is_empty()), "{e:?}");
        for phase in [Phase::HumanInTheLoop, Phase::Autonomous] {
            let e = p.check_phase_change("hardware", phase).unwrap_err();
            assert!(matches!(e, PhaseChangeError::Unsafe { .. }), "{e:?}");
            assert!(e.to_string().contains("hardware is not on the safe list"), "{e}");
            let e = p.check_phase_change("mfa-enrollment", phase).unwrap_err();
            assert!(matches!(e, PhaseChangeError::NoRunbook { .. }), "{e:?}");
            assert!(e.to_string().contains("categories.mfa-enrollment.runbook"), "{e}");
        }
        assert!(p.check_phase_change("mfa-enrollment", Phase::InternalNotes).is_ok(), "notes need no runbook");
    }

    #[test]
    fn phases_parse_leniently_and_order() {
        assert_eq!("Human_In_The_Loop".parse::<Phase>().unwrap(), Phase::HumanInTheLoop);
        assert_eq!("internal notes".parse::<Phase>().unwrap(), Phase::InternalNotes);
        assert!(matches!("auto".parse::<Phase>(), Err(CategoryError::UnknownPhase(_))));
        assert!(Phase::Shadow < Phase::Autonomous);
        assert_eq!(serde_json::to_string(&Phase::HumanInTheLoop).unwrap(), "\"human-in-the-loop\"");
    }
}
