//! Contracts and how a ticket is billed.
//!
//! Contract types are a tenant picklist (`Contracts.contractType`): the
//! numbers differ per tenant, so they are mapped at run time from the
//! picklist's labels, never hard-coded.

use crate::ids::{CompanyId, ContractId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What atpilot understands of a contract type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractKind {
    /// Managed services, flat fee: may auto-resolve aggressively.
    RecurringService,
    /// Incident contracts: each ticket is a billable event.
    PerTicket,
    /// Prepaid hours, debited as labour is approved and posted.
    BlockHours,
    /// Billed by the hour: resolution needs the time entry first.
    TimeAndMaterials,
    /// Fixed price or retainer.
    FixedPriceOrRetainer,
    /// A contract type atpilot does not know (e.g. "Umbrella", a renamed label).
    Unknown,
}

impl fmt::Display for ContractKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContractKind::RecurringService => "Recurring Service",
            ContractKind::PerTicket => "Per Ticket",
            ContractKind::BlockHours => "Block Hours",
            ContractKind::TimeAndMaterials => "Time & Materials",
            ContractKind::FixedPriceOrRetainer => "Fixed Price/Retainer",
            ContractKind::Unknown => "unknown contract type",
        })
    }
}

/// One value of an Autotask picklist (`entityInformation/fields`): the value
/// is a string on the wire even for numeric picklists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PicklistEntry {
    pub value: String,
    pub label: String,
    #[serde(default = "yes")]
    pub is_active: bool,
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractTypeError {
    #[error("contract type {value:?} is not in this tenant's contractType picklist (known: {known})")]
    UnknownValue { value: String, known: String },
    #[error("the contractType picklist is empty: read Contracts/entityInformation/fields again")]
    EmptyPicklist,
}

/// The tenant's `contractType` picklist, mapped to [`ContractKind`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTypeMap {
    by_value: BTreeMap<String, (String, ContractKind)>,
}

/// Maps a picklist label to a kind, by meaning rather than by number.
pub fn kind_from_label(label: &str) -> ContractKind {
    let l: String = label
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match l.as_str() {
        "recurring service" | "recurring services" | "managed" | "managed services" => ContractKind::RecurringService,
        "per ticket" | "incident" | "per incident" => ContractKind::PerTicket,
        "block hours" | "block hour" | "block" => ContractKind::BlockHours,
        "time and materials" | "time materials" | "t m" => ContractKind::TimeAndMaterials,
        "fixed price" | "retainer" | "fixed price retainer" => ContractKind::FixedPriceOrRetainer,
        _ => ContractKind::Unknown,
    }
}

impl ContractTypeMap {
    pub fn from_picklist(entries: &[PicklistEntry]) -> Result<Self, ContractTypeError> {
        if entries.is_empty() {
            return Err(ContractTypeError::EmptyPicklist);
        }
        let by_value = entries
            .iter()
            .map(|e| (e.value.trim().to_string(), (e.label.clone(), kind_from_label(&e.label))))
            .collect();
        Ok(Self { by_value })
    }

    /// The kind of a contract's `contractType` value. A value missing from the
    /// picklist is an error (the cached picklist may be stale), not a guess.
    pub fn kind_of(&self, value: &str) -> Result<ContractKind, ContractTypeError> {
        self.by_value.get(value.trim()).map(|(_, k)| *k).ok_or_else(|| ContractTypeError::UnknownValue {
            value: value.to_string(),
            known: self.by_value.iter().map(|(v, (l, _))| format!("{v}={l}")).collect::<Vec<_>>().join(", "),
        })
    }
}

/// A contract as the decision needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub id: ContractId,
    pub company_id: CompanyId,
    pub kind: ContractKind,
    pub name: String,
    /// Autotask status: active contracts only are candidates for a ticket.
    pub active: bool,
}

/// How a ticket is billed, derived from the ticket and the contracts around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "binding", rename_all = "snake_case")]
pub enum BillingBinding {
    /// The ticket names exactly one contract, which was loaded.
    Contract { contract: Contract },
    /// The ticket belongs to a project or carries a project code.
    Project,
    /// The ticket names no contract and its company has several active ones,
    /// or the work spans several contracts.
    SeveralContracts { contract_ids: Vec<ContractId> },
    /// No contract could be established (none named, or the named one was not found).
    Unknown { why: String },
}

impl BillingBinding {
    /// Derives the binding. `company_contracts` are the active contracts of the
    /// ticket's company (as loaded by the caller); `spans_several` is set when
    /// the work itself touches several contracts.
    pub fn derive(
        ticket_contract: Option<ContractId>,
        is_project: bool,
        company_contracts: &[Contract],
        spans_several: bool,
    ) -> BillingBinding {
        if is_project {
            return BillingBinding::Project;
        }
        if spans_several {
            return BillingBinding::SeveralContracts { contract_ids: company_contracts.iter().map(|c| c.id).collect() };
        }
        match ticket_contract {
            Some(id) => match company_contracts.iter().find(|c| c.id == id) {
                Some(c) => BillingBinding::Contract { contract: c.clone() },
                None => BillingBinding::Unknown {
                    why: format!("contract {id} named on the ticket was not found among the company's contracts"),
                },
            },
            None => {
                let active: Vec<ContractId> = company_contracts.iter().filter(|c| c.active).map(|c| c.id).collect();
                if active.len() > 1 {
                    BillingBinding::SeveralContracts { contract_ids: active }
                } else {
                    BillingBinding::Unknown { why: "the ticket names no contract".into() }
                }
            }
        }
    }

    pub fn contract_id(&self) -> Option<ContractId> {
        match self {
            BillingBinding::Contract { contract } => Some(contract.id),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<ContractKind> {
        match self {
            BillingBinding::Contract { contract } => Some(contract.kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &str, l: &str) -> PicklistEntry {
        PicklistEntry { value: v.into(), label: l.into(), is_active: true }
    }

    fn standard_picklist() -> Vec<PicklistEntry> {
        vec![
            entry("1", "Time and Materials"),
            entry("3", "Fixed Price"),
            entry("4", "Block Hours"),
            entry("6", "Retainer"),
            entry("7", "Recurring Service"),
            entry("8", "Per Ticket"),
            entry("9", "Umbrella"),
        ]
    }

    #[test]
    fn maps_documented_labels() {
        let map = ContractTypeMap::from_picklist(&standard_picklist()).unwrap();
        assert_eq!(map.kind_of("7").unwrap(), ContractKind::RecurringService);
        assert_eq!(map.kind_of("1").unwrap(), ContractKind::TimeAndMaterials);
        assert_eq!(map.kind_of("4").unwrap(), ContractKind::BlockHours);
        assert_eq!(map.kind_of("8").unwrap(), ContractKind::PerTicket);
        assert_eq!(map.kind_of("3").unwrap(), ContractKind::FixedPriceOrRetainer);
        assert_eq!(map.kind_of("6").unwrap(), ContractKind::FixedPriceOrRetainer);
        assert_eq!(map.kind_of("9").unwrap(), ContractKind::Unknown);
    }

    #[test]
    fn values_differ_per_tenant_labels_decide() {
        // A tenant whose numbers are shuffled and whose labels use other spellings.
        let map = ContractTypeMap::from_picklist(&[
            entry("21", "Time & Materials"),
            entry("22", "Incident"),
            entry("23", "Block-Hours"),
        ])
        .unwrap();
        assert_eq!(map.kind_of("21").unwrap(), ContractKind::TimeAndMaterials);
        assert_eq!(map.kind_of("22").unwrap(), ContractKind::PerTicket);
        assert_eq!(map.kind_of("23").unwrap(), ContractKind::BlockHours);
    }

    #[test]
    fn unknown_picklist_value_is_a_typed_error() {
        let map = ContractTypeMap::from_picklist(&standard_picklist()).unwrap();
        let err = map.kind_of("42").unwrap_err();
        assert!(matches!(err, ContractTypeError::UnknownValue { .. }));
        assert!(err.to_string().contains("7=Recurring Service"));
        assert_eq!(ContractTypeMap::from_picklist(&[]).unwrap_err(), ContractTypeError::EmptyPicklist);
    }

    fn contract(id: i64, kind: ContractKind) -> Contract {
        Contract {
            id: ContractId::new(id).unwrap(),
            company_id: CompanyId::new(5).unwrap(),
            kind,
            name: format!("c{id}"),
            active: true,
        }
    }

    #[test]
    fn binding_rules() {
        let cs = vec![contract(1, ContractKind::RecurringService), contract(2, ContractKind::BlockHours)];
        let one = ContractId::new(1).unwrap();
        assert_eq!(BillingBinding::derive(Some(one), false, &cs, false).kind(), Some(ContractKind::RecurringService));
        assert_eq!(BillingBinding::derive(Some(one), true, &cs, false), BillingBinding::Project);
        assert!(matches!(BillingBinding::derive(None, false, &cs, false), BillingBinding::SeveralContracts { .. }));
        assert!(matches!(BillingBinding::derive(Some(one), false, &cs, true), BillingBinding::SeveralContracts { .. }));
        assert!(matches!(BillingBinding::derive(None, false, &cs[..1], false), BillingBinding::Unknown { .. }));
        assert!(matches!(
            BillingBinding::derive(Some(ContractId::new(9).unwrap()), false, &cs, false),
            BillingBinding::Unknown { .. }
        ));
    }
}
