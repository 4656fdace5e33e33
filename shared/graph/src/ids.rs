//! Newtypes for the identifiers and secrets the client handles, so a tenant id
//! is never passed where a user id is expected and secrets never reach a log.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(v: impl Into<String>) -> Self {
                Self(v.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(v: &str) -> Self {
                Self(v.to_string())
            }
        }

        impl From<String> for $name {
            fn from(v: String) -> Self {
                Self(v)
            }
        }
    };
}

id_newtype!(
    /// A customer tenant: its GUID (preferred) or one of its verified domains.
    /// Each Autotask company maps to at most one.
    TenantId
);
id_newtype!(
    /// The application (client) id of the multi-tenant app registration.
    ClientId
);
id_newtype!(
    /// A user's object id (GUID). Operations also accept a UPN where Graph does
    /// (`/users/{id | userPrincipalName}`); see [`crate::Client::get_user`].
    UserId
);
id_newtype!(
    /// A licence's part number as `subscribedSkus` reports it, e.g. `SPE_E3`.
    SkuPartNumber
);
id_newtype!(
    /// A licence's `skuId` (GUID), the key `assignLicense` takes.
    SkuId
);
id_newtype!(
    /// A group's object id (GUID).
    GroupId
);

/// A two-letter usage location (ISO 3166-1 alpha-2), required before a licence
/// can be assigned (reference §3 "Licenses: assignLicense").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UsageLocation(String);

impl UsageLocation {
    /// Accepts exactly two ASCII letters; stores them upper-case.
    pub fn new(code: &str) -> Option<Self> {
        let ok = code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic());
        ok.then(|| Self(code.to_ascii_uppercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UsageLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bearer token for one tenant. Opaque (reference §1: treat Graph tokens as
/// opaque); `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(v: impl Into<String>) -> Self {
        Self(v.into())
    }
    /// The raw value, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// A client secret's *value* (not its id, reference §6 trap 10). `Debug` redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(v: impl Into<String>) -> Self {
        Self(v.into())
    }
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        assert_eq!(format!("{:?}", AccessToken::new("eyJ.abc")), "AccessToken(<redacted>)");
        assert!(!format!("{:?}", ClientSecret::new("s3cr3t")).contains("s3cr3t"));
    }

    #[test]
    fn usage_location_is_two_letters() {
        assert_eq!(UsageLocation::new("us").map(|u| u.to_string()), Some("US".into()));
        assert!(UsageLocation::new("USA").is_none());
        assert!(UsageLocation::new("U1").is_none());
        assert!(UsageLocation::new("").is_none());
    }
}
