//! Identifiers. Autotask ids are positive 64-bit integers (company 0 is the
//! MSP's own company, so company ids may be zero). atpilot's own ids are
//! validated strings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must be a positive whole number, got {value}")]
    NotPositive { kind: &'static str, value: i64 },
    #[error("{kind} must not be negative, got {value}")]
    Negative { kind: &'static str, value: i64 },
    #[error("{kind} must be a whole number, got {input:?}")]
    NotANumber { kind: &'static str, input: String },
    #[error("{kind} {input:?} is invalid: {why}")]
    Malformed { kind: &'static str, input: String, why: &'static str },
}

macro_rules! autotask_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, allow_zero = $zero:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name(i64);

        impl $name {
            /// Parses a raw id, refusing values Autotask never issues.
            pub fn new(value: i64) -> Result<Self, IdError> {
                if $zero {
                    if value < 0 {
                        return Err(IdError::Negative { kind: $kind, value });
                    }
                } else if value <= 0 {
                    return Err(IdError::NotPositive { kind: $kind, value });
                }
                Ok(Self(value))
            }
            pub fn get(self) -> i64 {
                self.0
            }
        }
        impl TryFrom<i64> for $name {
            type Error = IdError;
            fn try_from(value: i64) -> Result<Self, IdError> {
                Self::new(value)
            }
        }
        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let n: i64 = s.trim().parse().map_err(|_| IdError::NotANumber { kind: $kind, input: s.to_string() })?;
                Self::new(n)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

autotask_id!(/// An Autotask ticket id.
    TicketId, "ticket id", allow_zero = false);
autotask_id!(/// An Autotask company id (0 is the MSP's own company).
    CompanyId, "company id", allow_zero = true);
autotask_id!(/// An Autotask contact id.
    ContactId, "contact id", allow_zero = false);
autotask_id!(/// An Autotask contract id.
    ContractId, "contract id", allow_zero = false);
autotask_id!(/// An Autotask resource (user) id.
    ResourceId, "resource id", allow_zero = false);
autotask_id!(/// An Autotask role id.
    RoleId, "role id", allow_zero = false);
autotask_id!(/// An Autotask billing code (work type) id.
    BillingCodeId, "billing code id", allow_zero = false);
autotask_id!(/// An Autotask project id.
    ProjectId, "project id", allow_zero = false);
autotask_id!(/// An Autotask time entry id.
    TimeEntryId, "time entry id", allow_zero = false);
autotask_id!(/// A ticket queue: a value of the tenant's `queueID` picklist.
    QueueId, "queue id", allow_zero = false);
autotask_id!(/// A ticket priority: a value of the tenant's `priority` picklist.
    PriorityId, "priority id", allow_zero = false);
autotask_id!(/// An issue type: a value of the tenant's `issueType` picklist.
    IssueTypeId, "issue type id", allow_zero = false);
autotask_id!(/// A sub-issue type: a value of the tenant's `subIssueType` picklist.
    SubIssueTypeId, "sub-issue type id", allow_zero = false);

/// An action the agent takes (or proposes) on one ticket. One action earns at
/// most one time entry. Letters, digits, `-` and `_`; 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActionId(String);

impl ActionId {
    pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        let why = if value.is_empty() {
            Some("it is empty")
        } else if value.len() > 64 {
            Some("it is longer than 64 characters")
        } else if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            Some("only letters, digits, '-' and '_' are allowed")
        } else {
            None
        };
        match why {
            Some(why) => Err(IdError::Malformed { kind: "action id", input: value, why }),
            None => Ok(Self(value)),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The marker written into a time entry's internal notes so that a retry
    /// can find an entry that was written before a crash.
    pub fn marker(&self) -> String {
        format!("[atpilot:{}]", self.0)
    }
}
impl TryFrom<String> for ActionId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        Self::new(value)
    }
}
impl From<ActionId> for String {
    fn from(id: ActionId) -> String {
        id.0
    }
}
impl FromStr for ActionId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::new(s)
    }
}
impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_id_refuses_zero_and_negative() {
        assert_eq!(TicketId::new(0), Err(IdError::NotPositive { kind: "ticket id", value: 0 }));
        assert!(matches!(TicketId::new(-5), Err(IdError::NotPositive { .. })));
        assert_eq!(TicketId::new(42).unwrap().get(), 42);
    }

    #[test]
    fn company_zero_is_the_msp_itself() {
        assert_eq!(CompanyId::new(0).unwrap().get(), 0);
        assert!(matches!(CompanyId::new(-1), Err(IdError::Negative { .. })));
    }

    #[test]
    fn malformed_id_strings_are_typed_errors() {
        let err = "12a".parse::<TicketId>().unwrap_err();
        assert_eq!(err, IdError::NotANumber { kind: "ticket id", input: "12a".into() });
        assert!(err.to_string().contains("whole number"));
        assert_eq!(" 7 ".parse::<ContractId>().unwrap().get(), 7);
    }

    #[test]
    fn serde_rejects_invalid_ids() {
        assert!(serde_json::from_str::<TicketId>("0").is_err());
        assert_eq!(serde_json::from_str::<TicketId>("9").unwrap().get(), 9);
        assert_eq!(serde_json::to_string(&TicketId::new(9).unwrap()).unwrap(), "9");
    }

    #[test]
    fn action_ids_are_checked() {
        assert!(ActionId::new("").is_err());
        assert!(ActionId::new("a b").is_err());
        assert!(ActionId::new("x".repeat(65)).is_err());
        let id = ActionId::new("act-1_A").unwrap();
        assert_eq!(id.marker(), "[atpilot:act-1_A]");
        assert!(serde_json::from_str::<ActionId>("\"bad id\"").is_err());
    }
}
