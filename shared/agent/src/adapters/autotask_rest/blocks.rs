//! Block Hours: a contract's blocks, its per-role factors and the labour
//! not yet posted against it, read in parallel.

use super::{at, date, port_error};
use crate::ports::{BlockData, PortError};
use atpilot_autotask::{Client, Filter, Query};
use atpilot_domain::block::{self, Block};
use atpilot_domain::{ContractId, Hours, RoleId};

pub(super) async fn block_data(client: &Client, contract: ContractId, role: RoleId) -> Result<BlockData, PortError> {
    let of_contract = || Query::new().filter(Filter::eq("contractID", contract.get()));
    // Labour not yet approved and posted has not reached hoursApproved, but will.
    let unposted_q = of_contract().filter(Filter::not_exist("billingApprovalDateTime")).include([
        "id",
        "roleID",
        "hoursToBill",
        "hoursWorked",
        "isNonBillable",
    ]);
    // Three endpoints, three independent reads: in parallel, not one after another.
    let (blocks, factors, entries) = futures::try_join!(
        client.query::<at::ContractBlock>(of_contract()),
        client.query::<at::ContractBlockHourFactor>(of_contract()),
        client.query::<at::TimeEntry>(unposted_q),
    )
    .map_err(port_error)?;
    let blocks = blocks
        .into_iter()
        .filter_map(|b| {
            Some(Block {
                start: date(&b.start_date)?,
                end: date(&b.end_date)?,
                hours: Hours::new(b.hours.unwrap_or(0.0)).ok()?,
                hours_approved: Hours::new(b.hours_approved.unwrap_or(0.0)).ok()?,
                active: b.status.unwrap_or(1) == 1,
            })
        })
        .collect();
    let factor_of = |r: Option<i64>| {
        factors.iter().find(|f| f.role_id.is_some() && f.role_id == r).and_then(|f| f.block_hour_multiplier)
    };
    let unposted = entries
        .iter()
        .filter(|e| e.is_non_billable != Some(true))
        .map(|e| {
            block::debit(
                Hours::new(e.hours_to_bill.or(e.hours_worked).unwrap_or(0.0)).unwrap_or(Hours::ZERO),
                factor_of(e.role_id),
            )
            .get()
        })
        .sum::<f64>();
    Ok(BlockData { blocks, factor: factor_of(Some(role.get())), unposted: Hours::new(unposted).unwrap_or(Hours::ZERO) })
}
