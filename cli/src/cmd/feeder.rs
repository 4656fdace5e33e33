//! `atpilot dev`'s demo traffic: realistic tickets from the companies' own
//! contacts, and simulated dispatchers who triage a share of them a little
//! later in the Autotask UI (their issue and sub-issue type, sometimes a
//! re-route to another category and queue) and technicians who complete
//! some with a written resolution, so the dashboard's shadow comparison, the
//! timeline's dispatcher entries and the KB drafts fill within minutes.

use std::sync::Arc;
use std::time::Duration;

/// A demo ticket: title, description, and the issue / sub-issue type a
/// dispatcher gives it (the sandbox's picklists: `tenant/catalog.rs`).
struct Demo {
    title: &'static str,
    description: &'static str,
    issue_type: i64,
    sub_issue_type: Option<i64>,
}

const fn demo(title: &'static str, description: &'static str, issue_type: i64, sub: Option<i64>) -> Demo {
    Demo { title, description, issue_type, sub_issue_type: sub }
}

/// What a technician writes in `resolution` on completing each demo ticket
/// (same order as [`TICKETS`]): the KB drafts' source.
const RESOLUTIONS: &[&str] = &[
    "Verified the caller with the manager on file.\nReset the password in the Microsoft 365 admin center with a change at next sign-in.\nConfirmed the user signed in and chose a new password.",
    "Sent the Authenticator enrollment link.\nWalked the user through scanning the QR code on the new phone.\nConfirmed a sign-in with an app approval.",
    "Assigned a Microsoft 365 Business Standard licence from the free pool.\nWaited for the mailbox to provision and confirmed Outlook signs in.",
    "Updated the VPN client to the current version.\nSet the client keep-alive to 30 seconds and turned off Wi-Fi power saving on the laptop.\nConfirmed a stable two-hour session.",
    "Closed Outlook.\nOpened Mail in the Control Panel and added a new Outlook profile.\nSet the new profile as the default and started Outlook; new email synced again.",
    "Ordered a replacement screen under warranty and booked an on-site visit.\nSwapped the screen and tested the display at every resolution.",
    "Cleared the saved credentials in Windows Credential Manager and in the phone's mail app.\nReconnected the VPN with the new password and confirmed email syncs.",
    "Granted Full Access and Send As on the shared mailbox in the Exchange admin center.\nWaited for automapping and confirmed the mailbox appears in Outlook.",
];

/// Realistic tickets, one category after another, across contract types.
const TICKETS: &[Demo] = &[
    demo(
        "Password reset",
        "Hi, I forgot my password and I'm locked out of my account since this morning.",
        1,
        Some(101),
    ),
    demo(
        "MFA enrollment on my new phone",
        "I got a new phone: please help me set up multi-factor authentication with the Authenticator app on it.",
        1,
        Some(102),
    ),
    demo(
        "Microsoft 365 license needed",
        "I moved to the sales team and need a Microsoft 365 license with the desktop apps.",
        2,
        Some(201),
    ),
    demo("VPN keeps disconnecting", "The VPN drops every 20 minutes when working from home.", 5, Some(502)),
    demo("Outlook not syncing", "My Outlook mailbox stopped syncing new email since yesterday.", 3, None),
    demo("Laptop screen broken", "My laptop screen is cracked and needs to be replaced.", 4, Some(401)),
    demo(
        "Locked out after password change",
        "I changed my password and now I'm locked out of the VPN and email.",
        1,
        Some(101),
    ),
    demo("Shared mailbox access", "Please give me access to the accounts shared mailbox.", 3, Some(302)),
];

/// The index of the licence request in [`TICKETS`].
const LICENCE_DEMO: usize = 2;
/// The licence request of the company on Google Workspace.
const GOOGLE_LICENCE: Demo = demo(
    "Google Workspace license needed",
    "I moved to the sales team and need a Google Workspace license, please assign one to me.",
    2,
    Some(201),
);

/// What the simulated dispatcher does with the n-th ticket: `None` leaves it
/// alone; else the demo whose issue / sub-issue type they set (its own, or,
/// for one ticket in ten, another category's: a re-route) and whether they
/// also move it to another queue.
fn dispatch(n: usize) -> Option<(&'static Demo, bool)> {
    match n % 10 {
        0 | 3 | 5 => Some((&TICKETS[n % TICKETS.len()], false)),
        7 => Some((&TICKETS[(n + 3) % TICKETS.len()], true)),
        _ => None,
    }
}

fn fields(pairs: &[(&str, serde_json::Value)]) -> serde_json::Map<String, serde_json::Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Whether a technician completes the n-th ticket (three in ten), and when (seconds after it came in).
fn completion(n: usize) -> Option<u64> {
    matches!(n % 10, 2 | 5 | 8).then(|| 45 + (n as u64 * 11) % 31)
}

/// Feeds `per_minute` tickets a minute into the sandbox (webhooks fire),
/// triages some of them 15 to 40 seconds later as a technician would, and
/// completes three in ten after 45 to 75 seconds with a written resolution
/// (status `complete`).
pub fn spawn(sb: Arc<atpilot_autotask_sandbox::Sandbox>, per_minute: u32, complete: i64) {
    let facts = sb.facts();
    let contracts: Vec<i64> = facts.contracts_by_type.values().flatten().copied().collect();
    // A technician: neither the API user nor the agent (whose changes the webhook excludes).
    let human = (1..).map(|i| facts.api_resource_id + i).find(|r| *r != facts.agent_resource_id).unwrap_or(1);
    let queue = facts.queues.first().map(|q| q.0).unwrap_or(1);
    let other_queue = facts.queues.get(1).map(|q| q.0).unwrap_or(queue);
    // About every other licence request comes from the company `atpilot dev`
    // puts on Google Workspace, so a Google-backed resolution shows within minutes.
    let google_contract = atpilot_local::google_demo_company(&sb).and_then(|g| {
        contracts.iter().copied().find(|c| sb.row("Contracts", *c).and_then(|r| r["companyID"].as_i64()) == Some(g))
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(60.0 / per_minute.max(1) as f64));
        let mut n = 0usize;
        loop {
            tick.tick().await;
            let mut d = &TICKETS[n % TICKETS.len()];
            // (one a technician will not complete, so it waits for its approval)
            let licence = n % TICKETS.len() == LICENCE_DEMO && completion(n).is_none();
            let contract = match google_contract.filter(|_| licence) {
                Some(c) => {
                    d = &GOOGLE_LICENCE;
                    c
                }
                None => contracts[(n * 7) % contracts.len().max(1)],
            };
            let company =
                sb.row("Contracts", contract).and_then(|r| r.get("companyID").and_then(|v| v.as_i64())).unwrap_or(0);
            // The requester: one of the company's own contacts (the request-risk check verifies it).
            let contact: serde_json::Value = sb.contacts_of(company).first().copied().into();
            let created = fields(&[
                ("companyID", company.into()),
                ("contactID", contact),
                ("contractID", contract.into()),
                ("title", d.title.into()),
                ("description", d.description.into()),
                ("status", 1.into()),
                ("priority", 2.into()),
                ("queueID", queue.into()),
            ]);
            let ticket = sb.simulate_ticket_create(created, human);
            if let Some((set, reroute)) = dispatch(n) {
                let sb = sb.clone();
                let delay = Duration::from_secs(15 + (n as u64 * 7) % 26);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let mut change =
                        fields(&[("issueType", set.issue_type.into()), ("subIssueType", set.sub_issue_type.into())]);
                    if reroute {
                        change.insert("queueID".into(), other_queue.into());
                    }
                    sb.simulate_ticket_update(ticket, change, human);
                });
            }
            if let Some(after) = completion(n) {
                let (sb, resolution) = (sb.clone(), RESOLUTIONS[n % TICKETS.len()]);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(after)).await;
                    sb.simulate_ticket_update(
                        ticket,
                        fields(&[("status", complete.into()), ("resolution", resolution.into())]),
                        human,
                    );
                });
            }
            n += 1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_tickets_in_ten_are_triaged_and_one_is_rerouted() {
        let triaged: Vec<usize> = (0..10).filter(|n| dispatch(*n).is_some()).collect();
        assert_eq!(triaged, [0, 3, 5, 7]);
        let (set, moved) = dispatch(7).unwrap();
        assert!(moved && set.title != TICKETS[7 % TICKETS.len()].title, "a re-route to another category");
        assert!(TICKETS.iter().all(|t| t.issue_type > 0));
        assert_eq!(RESOLUTIONS.len(), TICKETS.len(), "a resolution per demo ticket");
        assert_eq!((0..10).filter(|n| completion(*n).is_some()).count(), 3);
    }
}
