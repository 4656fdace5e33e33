//! E-mail addresses in the configuration (approvers, admins, recipients):
//! one `@`, a dotted domain, no spaces; a bad one is refused naming its key.

use crate::{ConfigError, invalid};

fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(user), Some(domain), None)
        if !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !s.contains(char::is_whitespace))
}

pub(crate) fn check_emails(key: &str, list: &[String]) -> Result<(), ConfigError> {
    match list.iter().find(|a| !looks_like_email(a)) {
        Some(bad) => {
            Err(invalid(key, format!("{bad:?} is not an e-mail address"), "write addresses like \"ana@msp.example\""))
        }
        None => Ok(()),
    }
}
