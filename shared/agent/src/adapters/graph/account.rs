//! The account runbooks: reset the password (shown once to the approver,
//! never stored), revoke sign-in sessions, remove the MFA methods. Facts:
//! reference §3 "Reset password", "Revoke sessions", "Force MFA re-registration".

use super::{Done, GraphRunbooks, facts, failed, reply, stopped};
use crate::ports::{RunbookRun, ShownOnce};
use atpilot_domain::{RunbookKind, RunbookOutcome, RunbookStatus};
use atpilot_graph::{TemporaryPassword, TenantId, User};
use std::collections::BTreeMap;

type Stop = (RunbookStatus, String);

/// A moment safely before the change (provider clocks round to the second).
fn just_before() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::seconds(5)
}

impl GraphRunbooks {
    pub(super) async fn reset_password(&self, tenant: &TenantId, user: User, plan: &str) -> RunbookRun {
        let kind = RunbookKind::GraphResetPassword;
        if user.is_synced() {
            let why = format!(
                "{} is synchronised from on-premises Active Directory: reset the password there",
                user.user_principal_name
            );
            return stopped(kind, plan, RunbookStatus::Refused, why);
        }
        let started = just_before();
        let password = TemporaryPassword::generate();
        if let Err(e) = self.client.reset_password(tenant, &user.id, &password, true).await {
            return stopped(kind, plan, RunbookStatus::Failed, failed(&e));
        }
        let (status, mut after, reason) = match self.client.get_user(tenant, user.id.as_str()).await {
            Ok(back) if back.last_password_change_date_time.is_some_and(|at| at >= started) => {
                (RunbookStatus::Verified, facts(&back), None)
            }
            Ok(back) => (
                RunbookStatus::Executed,
                facts(&back),
                Some(
                    "Graph accepted the reset but did not report a new lastPasswordChangeDateTime: check the user"
                        .into(),
                ),
            ),
            Err(e) => (
                RunbookStatus::Executed,
                BTreeMap::new(),
                Some(format!("Graph accepted the reset but the user could not be read back ({e})")),
            ),
        };
        after.insert("forceChangePasswordNextSignIn".into(), "true".into());
        let outcome = RunbookOutcome { before: facts(&user), after, reason, ..RunbookOutcome::new(kind, plan, status) };
        let reply = reply(&format!(
            "We reset the password of your account {}. The technician who approved it will give you a temporary password; you will choose a new one when you next sign in.",
            user.user_principal_name
        ));
        RunbookRun { outcome, reply: Some(reply), secret: Some(ShownOnce(password.expose().to_string())) }
    }

    pub(super) async fn revoke_sessions(&self, tenant: &TenantId, user: User) -> Result<Done, Stop> {
        let started = just_before();
        self.client.revoke_sign_in_sessions(tenant, &user.id).await.map_err(|e| (RunbookStatus::Failed, failed(&e)))?;
        let back = self.client.get_user(tenant, user.id.as_str()).await;
        let (status, after, reason) = match back {
            Ok(b) if b.sign_in_sessions_valid_from_date_time.is_some_and(|at| at >= started) => {
                (RunbookStatus::Verified, facts(&b), None)
            }
            Ok(b) => (
                RunbookStatus::Executed,
                facts(&b),
                Some(
                    "Graph accepted the revocation but signInSessionsValidFromDateTime did not move: check the user"
                        .into(),
                ),
            ),
            Err(e) => {
                (RunbookStatus::Executed, BTreeMap::new(), Some(format!("the user could not be read back ({e})")))
            }
        };
        Ok(Done {
            status,
            before: facts(&user),
            after,
            reason,
            reply: reply(&format!(
                "We signed your account {} out of every session, on every device. Sign in again with your usual password.",
                user.user_principal_name
            )),
        })
    }

    pub(super) async fn reset_mfa(&self, tenant: &TenantId, user: User) -> Result<Done, Stop> {
        let fail = |e: atpilot_graph::GraphError| (RunbookStatus::Failed, failed(&e));
        let count = |n: usize| BTreeMap::from([("authenticationMethods".to_string(), n.to_string())]);
        let before = self.client.list_authentication_methods(tenant, &user.id).await.map_err(fail)?;
        let report = self.client.remove_all_authentication_methods(tenant, &user.id).await.map_err(fail)?;
        let left = self.client.list_authentication_methods(tenant, &user.id).await.map_err(fail)?;
        // The password method stays (it cannot be removed); anything else left means it did not complete.
        let others = left.iter().filter(|m| !m.id.eq_ignore_ascii_case(atpilot_graph::PASSWORD_METHOD_ID)).count();
        let (status, reason) = if report.complete() && others == 0 {
            (RunbookStatus::Verified, None)
        } else {
            let failures: Vec<String> = report.failed.iter().map(|(m, e)| format!("{}: {e}", m.odata_type)).collect();
            let why = format!(
                "{others} method(s) other than the password are still registered ({}); a technician must remove them",
                if failures.is_empty() {
                    "none failed, some could not be deleted through Graph".into()
                } else {
                    failures.join("; ")
                }
            );
            (RunbookStatus::Failed, Some(why))
        };
        Ok(Done {
            status,
            before: count(before.len()),
            after: count(left.len()),
            reason,
            reply: reply(&format!(
                "We removed the sign-in verification (MFA) methods registered for your account {}. At your next sign-in you will be asked to set one up again, for example the Microsoft Authenticator app.",
                user.user_principal_name
            )),
        })
    }

    pub(super) async fn enable_sign_in(&self, tenant: &TenantId, user: User) -> Result<Done, Stop> {
        let upn = user.user_principal_name.clone();
        if user.is_synced() {
            return Err((
                RunbookStatus::Refused,
                format!("{upn} is synchronised from on-premises Active Directory: enable it there"),
            ));
        }
        let fail = |e: atpilot_graph::GraphError| (RunbookStatus::Failed, failed(&e));
        if user.account_enabled != Some(true) {
            self.client.set_account_enabled(tenant, &user.id, true).await.map_err(fail)?;
        }
        let back = self.client.get_user(tenant, user.id.as_str()).await.map_err(fail)?;
        let (status, reason) = if back.account_enabled == Some(true) {
            (RunbookStatus::Verified, None)
        } else {
            (RunbookStatus::Executed, Some(format!("Graph accepted the change but {upn} is still disabled")))
        };
        Ok(Done {
            status,
            before: facts(&user),
            after: facts(&back),
            reason,
            reply: reply(&format!(
                "Sign-in is turned back on for your account {upn}. Sign in with your usual password."
            )),
        })
    }
}
