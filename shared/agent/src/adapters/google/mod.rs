//! The runbook port over Google Workspace (`atpilot-google`, the Admin SDK
//! with domain-wide delegation): the `google-*` runbooks, and the Google
//! twins of the `graph-*` ones, in each Autotask company's own Workspace
//! (`[google.customers]`), for the ticket's contact only. Facts:
//! `../shared/reference/graph-and-identity.md` §5.
//!
//! Every run is refused before anything changes when the company has no
//! Google customer, the contact has no address, its domain is not one of the
//! customer's, it is not a user of that customer, or it is a super admin or
//! delegated admin (a human acts on those); a suspended or archived account
//! is only touched by the unsuspend runbook. After the change the user (or
//! the membership, or the licence) is read back: the run is verified only
//! when Google shows the result. Google keeps no session state to read back
//! after `signOut`: that run rests on Google's answer, and says so.
//!
//! * `account`: reset the password, sign out, turn off 2-Step Verification, unsuspend;
//! * `access`: assign or remove a licence, add to or remove from a group.

mod access;
mod account;

use super::directory::{Done, stopped};
use crate::ports::{RunbookRun, RunbookTarget, Runbooks};
use async_trait::async_trait;
use atpilot_config::GoogleCustomer;
use atpilot_domain::{Directory, DirectoryAction as A, Runbook, RunbookStatus};
use atpilot_google::{Client, GoogleError, Subject, User};
use std::collections::{BTreeMap, HashMap};

/// One customer's Workspace as atpilot may touch it: its mapping and the admin to impersonate.
struct Customer {
    mapping: GoogleCustomer,
    /// The admin to impersonate (the mapping's `admin`, parsed).
    subject: Subject,
}

impl std::ops::Deref for Customer {
    type Target = GoogleCustomer;
    fn deref(&self) -> &GoogleCustomer {
        &self.mapping
    }
}

/// The Google Workspace runbooks of one service account.
pub struct GoogleRunbooks {
    client: Client,
    /// Autotask company id → its Workspace customer.
    customers: HashMap<i64, Customer>,
}

fn facts(u: &User) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("primaryEmail".to_string(), u.primary_email.clone()),
        ("suspended".to_string(), u.suspended.to_string()),
        ("changePasswordAtNextLogin".to_string(), u.change_password_at_next_login.to_string()),
        ("isEnrolledIn2Sv".to_string(), u.is_enrolled_in_2sv.to_string()),
    ])
}

fn failed(e: &GoogleError) -> String {
    format!("Google Workspace answered: {e}. Nothing more was done; a technician must finish it by hand")
}

type Stop = (RunbookStatus, String);

fn google_failed(e: GoogleError) -> Stop {
    (RunbookStatus::Failed, failed(&e))
}

fn refused(why: String) -> Stop {
    (RunbookStatus::Refused, why)
}

/// Where a run acts: the customer's admin to impersonate and the user.
struct Target<'a> {
    admin: &'a Subject,
    /// The customer's domains (a group outside them is refused).
    domains: &'a [String],
    user: User,
}

impl GoogleRunbooks {
    /// The customer and user a run may touch, or why not (nothing changed yet).
    async fn target_user(&self, action: A, t: &RunbookTarget<'_>) -> Result<Target<'_>, Stop> {
        let company = t.ticket.company_id;
        let Some(customer) = self.customers.get(&company.get()) else {
            return Err(refused(format!(
                "company {company} has no Google Workspace customer in [google.customers]: do it by hand, or map the company"
            )));
        };
        let Some(email) = t.requester_email.map(str::trim) else {
            return Err(refused("the ticket's contact has no e-mail address, so no user can be matched".into()));
        };
        if !customer.serves(email) {
            return Err(refused(format!(
                "{email} is not in the company's Google Workspace domains ({}): atpilot never acts across customers",
                customer.domains.join(", ")
            )));
        }
        let user = match self.client.get_user(&customer.subject, email).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                return Err(refused(format!("{email} is not a user of the company's own Google Workspace")));
            }
            // Google answers 403 for a user the admin may not see: another customer's, or an admin without the rights.
            Err(e) if e.status() == Some(403) && e.reason() != Some("insufficientPermissions") => {
                return Err(refused(format!(
                    "Google would not show {email} to {} ({e}): the user belongs to another Workspace customer than {}, or that admin lacks the rights; check google.customers.{company}",
                    customer.subject, customer.customer_id
                )));
            }
            Err(e) => return Err(google_failed(e)),
        };
        let who = atpilot_domain::untrusted::one_line(&user.primary_email);
        if user.customer_id.as_deref() != Some(customer.customer_id.as_str()) {
            return Err(refused(format!(
                "{who} is not shown as a user of Workspace customer {}: atpilot never acts across customers",
                customer.customer_id
            )));
        }
        if !user.primary_email.eq_ignore_ascii_case(email) {
            return Err(refused(format!(
                "{email} is an alias of {who}: a technician checks whose account it is and does this by hand"
            )));
        }
        match (user.is_admin, user.is_delegated_admin) {
            (Some(false), Some(false)) => {}
            (Some(true), _) => return Err(refused(format!("{who} is a super admin: a technician does this by hand"))),
            (_, Some(true)) => {
                return Err(refused(format!("{who} is a delegated admin: a technician does this by hand")));
            }
            _ => {
                return Err(refused(format!(
                    "Google did not say whether {who} is an administrator: a technician does this by hand"
                )));
            }
        }
        if user.archived {
            return Err(refused(format!("{who} is archived: a technician decides whether to restore it")));
        }
        if user.suspended && action != A::EnableSignIn {
            return Err(refused(format!("{who} is suspended: a technician decides whether to unsuspend it")));
        }
        Ok(Target { admin: &customer.subject, domains: &customer.domains, user })
    }
}

#[async_trait]
impl Runbooks for GoogleRunbooks {
    fn describe(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> String {
        let who = t.requester_email.unwrap_or("the ticket's contact (no e-mail address)");
        let company = t.ticket.company_id;
        let place = match self.customers.get(&company.get()) {
            Some(c) => format!("the Google Workspace of company {company} (customer {})", c.customer_id),
            None => format!("company {company} (no Google Workspace customer mapped: it will be refused)"),
        };
        let p = runbook.parameter().unwrap_or_default();
        let Some((Directory::Google, action)) = runbook.kind().directory() else {
            return format!("{runbook}: not a Google Workspace runbook");
        };
        match action {
            A::ResetPassword => format!(
                "Reset the Google Workspace password of {who} in {place}; require a new one at the next sign-in; show the temporary password once to the approver"
            ),
            A::SignOut => format!("Sign {who} out of every Google session on every device in {place}"),
            A::ResetMfa => {
                format!("Turn off 2-Step Verification for {who} in {place}, so they enrol again at the next sign-in")
            }
            A::AssignLicense => {
                format!(
                    "Assign the Google licence {p} to {who} in {place}, if Google has a free seat (else escalate with the SKU)"
                )
            }
            A::AddGroupMember => format!("Add {who} to the Google group {p} in {place}"),
            A::RemoveLicense => format!("Remove the Google licence {p} of {who} in {place}"),
            A::RemoveGroupMember => format!("Remove {who} from the Google group {p} in {place}"),
            A::EnableSignIn => format!("Unsuspend the Google Workspace account of {who} in {place}"),
        }
    }

    /// The ticket's contact is one of the company's Google Workspace users (by domain).
    fn serves(&self, t: &RunbookTarget<'_>) -> bool {
        let customer = self.customers.get(&t.ticket.company_id.get());
        customer.zip(t.requester_email).is_some_and(|(c, email)| c.serves(email))
    }

    fn knows_company(&self, t: &RunbookTarget<'_>) -> bool {
        self.customers.contains_key(&t.ticket.company_id.get())
    }

    async fn run(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        let plan = self.describe(runbook, t);
        let kind = runbook.kind();
        let Some((Directory::Google, action)) = kind.directory() else {
            let why = format!("{kind} is not a Google Workspace runbook");
            return stopped(kind, &plan, RunbookStatus::Refused, why);
        };
        let target = match self.target_user(action, t).await {
            Ok(found) => found,
            Err((status, why)) => return stopped(kind, &plan, status, why),
        };
        let p = runbook.parameter().unwrap_or_default();
        let done = match action {
            A::ResetPassword => return self.reset_password(target, &plan).await,
            A::SignOut => self.sign_out(target).await,
            A::ResetMfa => self.reset_2sv(target).await,
            A::EnableSignIn => self.unsuspend(target).await,
            A::AssignLicense => self.assign_license(target, p).await,
            A::RemoveLicense => self.remove_license(target, p).await,
            A::AddGroupMember => self.group_membership(target, p, true).await,
            A::RemoveGroupMember => self.group_membership(target, p, false).await,
        };
        match done {
            Ok(d) => d.into_run(kind, &plan),
            Err((status, why)) => stopped(kind, &plan, status, why),
        }
    }
}

/// The Google runbooks of a `[google]` section, with the service account's
/// JSON key (from Secrets Manager or the variable `service_account_env`
/// names); `sandbox` (token, Directory and Licensing base URLs) when the
/// section says "sandbox". Errors, in words: a key, URL or admin address that
/// does not parse.
pub fn from_config(
    g: &atpilot_config::GoogleConfig,
    key_json: &str,
    sandbox: Option<(&str, &str, &str)>,
) -> Result<GoogleRunbooks, String> {
    let (token, directory, licensing) = match (g.is_sandbox(), sandbox) {
        (true, Some(urls)) => urls,
        (true, None) => return Err("google URLs are \"sandbox\": only `atpilot dev` runs the Google sandbox".into()),
        (false, _) => (g.token_url.as_str(), g.directory_url.as_str(), g.licensing_url.as_str()),
    };
    let parse = |key: &str, u: &str| url::Url::parse(u).map_err(|e| format!("{key} {u:?} is not a URL: {e}"));
    let key = atpilot_google::ServiceAccountKey::from_json(key_json)
        .map_err(|e| format!("the Google service account key: {e}"))?;
    let cfg = atpilot_google::GoogleConfig::new(key).with_base_urls(
        parse("google.token_url", token)?,
        parse("google.directory_url", directory)?,
        parse("google.licensing_url", licensing)?,
    );
    let client = Client::new(cfg).map_err(|e| format!("the Google client: {e}"))?;
    let mut customers = HashMap::new();
    for (company, c) in &g.customers {
        let id = company.parse::<i64>().map_err(|_| format!("google.customers.{company} is not a company id"))?;
        let admin = Subject::new(&c.admin).map_err(|e| format!("google.customers.{company}.admin: {e}"))?;
        let customer = Customer { mapping: c.clone(), subject: admin };
        customers.insert(id, customer);
    }
    Ok(GoogleRunbooks { client, customers })
}
