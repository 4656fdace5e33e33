//! The account runbooks on Google Workspace: reset the password (shown once
//! to the approver, never stored; Google never returns it), sign out of every
//! session, turn off 2-Step Verification, unsuspend. Facts: reference §5
//! "Users" (`PATCH users` with `password` and `changePasswordAtNextLogin`,
//! `signOut`, `twoStepVerification/turnOff`; the last two need the
//! `admin.directory.user.security` scope).

use super::{Done, GoogleRunbooks, Stop, Target, facts, failed, google_failed};
use crate::adapters::directory::{reply, stopped};
use crate::ports::{RunbookRun, ShownOnce};
use atpilot_domain::{RunbookKind, RunbookOutcome, RunbookStatus};
use atpilot_graph::TemporaryPassword;
use std::collections::BTreeMap;

impl GoogleRunbooks {
    pub(super) async fn reset_password(&self, t: Target<'_>, plan: &str) -> RunbookRun {
        let kind = RunbookKind::GoogleResetPassword;
        let user = t.user;
        let password = TemporaryPassword::generate();
        if let Err(e) = self.client.reset_password(t.admin, &user.id, password.expose()).await {
            return stopped(kind, plan, RunbookStatus::Failed, failed(&e));
        }
        // Google never returns a password: what can be read back is that a
        // new one is required at the next sign-in, and (when the flag was
        // already set by an earlier reset) that the user changed (its etag).
        let changed = |back: &atpilot_google::User| {
            !user.change_password_at_next_login || (back.etag.is_some() && back.etag != user.etag)
        };
        let (status, after, reason) = match self.client.get_user(t.admin, &user.id).await {
            Ok(Some(back)) if back.change_password_at_next_login && changed(&back) => {
                (RunbookStatus::Verified, facts(&back), None)
            }
            Ok(Some(back)) if back.change_password_at_next_login => (
                RunbookStatus::Executed,
                facts(&back),
                Some(
                    "Google accepted the reset, but the user already had to change the password at the next sign-in and Google shows no other change: a technician sets a new password by hand"
                        .into(),
                ),
            ),
            Ok(Some(back)) => (
                RunbookStatus::Executed,
                facts(&back),
                Some(
                    "Google accepted the reset but does not show changePasswordAtNextLogin: the account may sign in through another identity provider; check it"
                        .into(),
                ),
            ),
            Ok(None) => (RunbookStatus::Executed, BTreeMap::new(), Some("the user could not be read back".into())),
            Err(e) => (
                RunbookStatus::Executed,
                BTreeMap::new(),
                Some(format!("Google accepted the reset but the user could not be read back ({e})")),
            ),
        };
        let outcome = RunbookOutcome { before: facts(&user), after, reason, ..RunbookOutcome::new(kind, plan, status) };
        let reply = reply(&format!(
            "We reset the password of your Google account {}. The technician who approved it will give you a temporary password; you will choose a new one when you next sign in.",
            user.primary_email
        ));
        RunbookRun { outcome, reply: Some(reply), secret: Some(ShownOnce(password.expose().to_string())) }
    }

    pub(super) async fn sign_out(&self, t: Target<'_>) -> Result<Done, Stop> {
        let user = t.user;
        self.client.sign_out(t.admin, &user.id).await.map_err(google_failed)?;
        let mut after = facts(&self.read_back(t.admin, &user.id).await?);
        // [C] signOut answers with an empty body and Google exposes no
        // session state to read back: its success answer is the evidence.
        after.insert("signOut".into(), "accepted by Google (no session state to read back)".into());
        Ok(Done {
            status: RunbookStatus::Verified,
            before: facts(&user),
            after,
            reason: None,
            reply: reply(&format!(
                "We signed your Google account {} out of every session, on every device. Sign in again with your usual password.",
                user.primary_email
            )),
        })
    }

    pub(super) async fn reset_2sv(&self, t: Target<'_>) -> Result<Done, Stop> {
        let user = t.user;
        let email = user.primary_email.clone();
        let enforced = if user.is_enforced_in_2sv {
            " Your organisation requires it, so you will be asked to set it up again when you next sign in."
        } else {
            " You can set it up again from your Google Account's Security page."
        };
        if !user.is_enrolled_in_2sv {
            return Ok(Done {
                status: RunbookStatus::Verified,
                after: facts(&user),
                before: facts(&user),
                reason: None,
                reply: reply(&format!(
                    "2-Step Verification was not turned on for your Google account {email}, so nothing needed to change.{enforced}"
                )),
            });
        }
        self.client.turn_off_2sv(t.admin, &user.id).await.map_err(google_failed)?;
        let back = self.read_back(t.admin, &user.id).await?;
        let (status, reason) = if back.is_enrolled_in_2sv {
            (
                RunbookStatus::Executed,
                Some(format!("Google accepted the change but {email} is still enrolled in 2-Step Verification")),
            )
        } else {
            (RunbookStatus::Verified, None)
        };
        Ok(Done {
            status,
            before: facts(&user),
            after: facts(&back),
            reason,
            reply: reply(&format!("We turned off 2-Step Verification for your Google account {email}.{enforced}")),
        })
    }

    pub(super) async fn unsuspend(&self, t: Target<'_>) -> Result<Done, Stop> {
        let user = t.user;
        let email = user.primary_email.clone();
        if user.suspended {
            self.client.set_suspended(t.admin, &user.id, false).await.map_err(google_failed)?;
        }
        let back = self.read_back(t.admin, &user.id).await?;
        let (status, reason) = if back.suspended {
            (RunbookStatus::Executed, Some(format!("Google accepted the change but {email} is still suspended")))
        } else {
            (RunbookStatus::Verified, None)
        };
        let unchanged = if user.suspended { "" } else { " It was not suspended, so nothing needed to change." };
        Ok(Done {
            status,
            before: facts(&user),
            after: facts(&back),
            reason,
            reply: reply(&format!(
                "Your Google account {email} is active again.{unchanged} Sign in with your usual password."
            )),
        })
    }

    /// The user as Google shows them now.
    pub(super) async fn read_back(
        &self,
        admin: &atpilot_google::Subject,
        id: &str,
    ) -> Result<atpilot_google::User, Stop> {
        match self.client.get_user(admin, id).await {
            Ok(Some(u)) => Ok(u),
            Ok(None) => {
                Err((RunbookStatus::Executed, "Google accepted the change but the user could not be read back".into()))
            }
            Err(e) => Err((
                RunbookStatus::Executed,
                format!("Google accepted the change but the user could not be read back ({e})"),
            )),
        }
    }
}
