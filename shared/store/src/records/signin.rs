//! Who is who at the OpenID provider: each person's e-mail bound to the
//! provider's stable subject (`entra:{tid}:{oid}`, else `{iss}#{sub}`) on
//! their first sign-in, so a later account that merely carries the same
//! e-mail is not taken for them. An admin releases a binding (a mailbox
//! moved to a new account); the next sign-in binds again. Re-exported from
//! [`crate::records`].

use super::{Claim, State, decode, encode};
use crate::state::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One person's binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectBinding {
    /// The e-mail the provider gives, lower case.
    pub email: String,
    /// The provider's stable subject.
    pub subject: String,
    pub bound_at: DateTime<Utc>,
}

fn key(email: &str) -> Key {
    Key::new(format!("signin#{}", email.trim().to_ascii_lowercase()), "binding")
}

impl State {
    /// Binds the e-mail to the subject unless it is bound already:
    /// `Claimed`, or the binding that exists (same subject or not).
    pub async fn bind_subject(&self, b: &SubjectBinding) -> Result<Claim<SubjectBinding>, StoreError> {
        let b = SubjectBinding { email: b.email.trim().to_ascii_lowercase(), ..b.clone() };
        let item = Item::new(key(&b.email), encode(&b)?).with_gsi1("signin-bindings", b.email.clone());
        self.put_once(item, "binding").await
    }

    /// Every binding, by e-mail.
    pub async fn subject_bindings(&self, limit: usize) -> Result<Vec<SubjectBinding>, StoreError> {
        self.store.query(&Query::gsi1("signin-bindings").limit(limit)).await?.iter().map(decode).collect()
    }

    /// Releases a binding (none: nothing to do).
    pub async fn release_subject(&self, email: &str) -> Result<(), StoreError> {
        self.store.delete(&key(email)).await
    }
}
