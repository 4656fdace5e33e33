//! Replies that claim work already done (a reply-only resolution must not).

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
    fn replies_claiming_done_work_are_caught() {
        assert_eq!(claims_work_done("Hello,\n\nWe have  reset your password."), Some("we have reset"));
        assert_eq!(claims_work_done("Your licence has been ASSIGNED"), Some("has been assigned"));
        assert_eq!(
            claims_work_done("To reset your password yourself, choose Forgot my password on the sign-in page."),
            None
        );
    }
}
