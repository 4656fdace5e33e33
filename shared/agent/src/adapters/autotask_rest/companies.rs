//! The names of the MSP's active customer companies (`Companies.companyName`
//! where `isActive`): what a KB draft is scrubbed of, since a resolution may
//! name another customer. One streamed query over every page.

use super::{at, port_error};
use crate::ports::PortError;
use atpilot_autotask::{Client, Filter, Query};

pub(super) async fn active_company_names(client: &Client) -> Result<Vec<String>, PortError> {
    let q = Query::new().filter(Filter::eq("isActive", true)).include(["id", "companyName"]);
    let rows = client.query::<at::Company>(q).await.map_err(port_error)?;
    Ok(rows.into_iter().filter_map(|c| c.company_name).filter(|n| !n.trim().is_empty()).collect())
}
