//! Picklist labels the dashboard's comparison needs: what category a
//! dispatcher's issue / sub-issue type stands for.

use super::port_error;
use crate::ports::PortError;
use atpilot_autotask::Client;

/// The sub-issue type's label, else the issue type's, from the tenant's
/// Tickets picklists (cached by the client): the same rule the category
/// model is trained with (`shared/audit/src/training.rs`).
pub(super) async fn category_label(
    client: &Client,
    issue_type: Option<i64>,
    sub_issue_type: Option<i64>,
) -> Result<Option<String>, PortError> {
    for (field, value) in [("subIssueType", sub_issue_type), ("issueType", issue_type)] {
        let Some(value) = value else { continue };
        let list = client.picklist("Tickets", field).await.map_err(port_error)?;
        if let Some(label) = list.label_of(value).map(str::trim).filter(|l| !l.is_empty()) {
            return Ok(Some(label.to_string()));
        }
    }
    Ok(None)
}
