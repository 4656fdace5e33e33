//! Runbooks: how a category's resolution does its work. A category resolves
//! (asks for approval or acts) only through a runbook; until an action
//! runbook (Microsoft 365, Google Workspace, a webhook) is configured, the
//! only one is [`RunbookKind::ReplyOnly`]: the answer is the work (how-to
//! questions, self-service instructions), and its reply must not claim work
//! nobody did ([`claims_work_done`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The runbook a category resolves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunbookKind {
    /// The reply is the work: nothing is changed anywhere but the ticket.
    ReplyOnly,
}

impl RunbookKind {
    pub const ALL: [RunbookKind; 1] = [RunbookKind::ReplyOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            RunbookKind::ReplyOnly => "reply-only",
        }
    }
}

impl fmt::Display for RunbookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunbookKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RunbookKind::ALL.into_iter().find(|k| k.as_str() == s.trim()).ok_or_else(|| {
            let known: Vec<&str> = RunbookKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("{s:?} is not a runbook; one of: {}", known.join(", "))
        })
    }
}

/// Phrases by which a reply says work was already done on the requester's
/// account. A reply-only resolution changes nothing, so such a reply would
/// be false.
const DONE: &[&str] = &[
    "we have reset",
    "we've reset",
    "we reset",
    "i have reset",
    "i've reset",
    "has been reset",
    "was reset",
    "have been reset",
    "we have assigned",
    "we've assigned",
    "has been assigned",
    "was assigned",
    "we have added",
    "we've added",
    "has been added",
    "was added",
    "we have granted",
    "has been granted",
    "we have enabled",
    "has been enabled",
    "is now enabled",
    "we have unlocked",
    "has been unlocked",
    "we have started",
    "we have enrolled",
    "has been enrolled",
    "we have removed",
    "has been removed",
    "we have created",
    "has been created",
    "we have fixed",
    "has been fixed",
    "we have installed",
    "has been installed",
    "we have changed",
    "has been changed",
    "we have set up",
    "has been set up",
    "we have disabled",
    "has been disabled",
    "we have revoked",
    "has been revoked",
];

/// The phrase by which `reply` claims work already done, if any (case and
/// spacing ignored).
pub fn claims_work_done(reply: &str) -> Option<&'static str> {
    let text = reply.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    DONE.iter().find(|p| text.contains(*p)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbooks_parse_by_name() {
        assert_eq!("reply-only".parse::<RunbookKind>(), Ok(RunbookKind::ReplyOnly));
        assert!("graph".parse::<RunbookKind>().unwrap_err().contains("one of: reply-only"));
    }

    #[test]
    fn replies_claiming_done_work_are_caught() {
        assert_eq!(claims_work_done("Hello,\n\nWe have  reset your password."), Some("we have reset"));
        assert_eq!(claims_work_done("Your licence has been ASSIGNED"), Some("has been assigned"));
        assert_eq!(
            claims_work_done("To reset your password yourself, choose Forgot my password on the sign-in page."),
            None
        );
    }
}
