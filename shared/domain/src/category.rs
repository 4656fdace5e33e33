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
    #[error("category {0:?} is invalid: use lower-case letters, digits and '-', starting with a letter, at most 48 characters (e.g. password-reset)")]
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
        self.categories.get(c).cloned().unwrap_or(CategoryPolicy { phase: self.default_phase, safe: false })
    }
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

    #[test]
    fn phases_parse_leniently_and_order() {
        assert_eq!("Human_In_The_Loop".parse::<Phase>().unwrap(), Phase::HumanInTheLoop);
        assert_eq!("internal notes".parse::<Phase>().unwrap(), Phase::InternalNotes);
        assert!(matches!("auto".parse::<Phase>(), Err(CategoryError::UnknownPhase(_))));
        assert!(Phase::Shadow < Phase::Autonomous);
        assert_eq!(serde_json::to_string(&Phase::HumanInTheLoop).unwrap(), "\"human-in-the-loop\"");
    }
}
