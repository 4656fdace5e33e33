//! The inputs of every call: the service-account key file, the admin it
//! impersonates, licence SKUs and OAuth scopes (reference §5 "Service-account
//! token", "Licensing").

use crate::error::GoogleError;
use jsonwebtoken::EncodingKey;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Google's token endpoint (reference §5), used when the key file names none.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// A service account's JSON key file, parsed. The private key stays private:
/// it only signs assertions, and `Debug` prints `<redacted>` in its place.
#[derive(Clone)]
pub struct ServiceAccountKey {
    /// The service account's e-mail: the JWT `iss`.
    pub client_email: String,
    /// The OAuth client id that domain-wide delegation is granted to (named in
    /// [`GoogleError::Token`] so an admin knows which entry to fix).
    pub client_id: Option<String>,
    /// The key's id, sent as the JWT header's `kid`.
    pub private_key_id: Option<String>,
    /// The token endpoint the file names (`https://oauth2.googleapis.com/token`).
    pub token_uri: Option<String>,
    private_key: Arc<EncodingKey>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("client_id", &self.client_id)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccountKey {
    /// Parses Google's service-account JSON key file
    /// (`{"type":"service_account","client_email","private_key" (PKCS#8 PEM),
    /// "private_key_id","client_id","token_uri",…}`).
    /// Errors ([`GoogleError::Key`], never quoting the key): not JSON, `type`
    /// not `service_account`, a missing or empty `client_email` or
    /// `private_key`, a private key that is not an RSA PEM key, a `token_uri`
    /// that is not an http(s) URL.
    pub fn from_json(json: &str) -> Result<ServiceAccountKey, GoogleError> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            GoogleError::Key(format!("the key file is not JSON ({e}); download a JSON key of the service account"))
        })?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::trim).filter(|s| !s.is_empty());
        match field("type") {
            Some("service_account") => {}
            Some(other) => {
                return Err(GoogleError::Key(format!(
                    "the key file's type is {other:?}, not \"service_account\": create a JSON key for a service account (IAM & Admin > Service accounts > Keys)"
                )));
            }
            None => return Err(missing("type")),
        }
        let client_email = field("client_email").ok_or_else(|| missing("client_email"))?.to_string();
        let pem = field("private_key").ok_or_else(|| missing("private_key"))?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
            GoogleError::Key(format!(
                "the key file's private_key is not an RSA private key in PEM ({e}); download a new JSON key"
            ))
        })?;
        let token_uri = field("token_uri").map(str::to_string);
        if let Some(t) = &token_uri {
            let ok = url::Url::parse(t).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(GoogleError::Key(format!("the key file's token_uri {t:?} is not an http(s) URL")));
            }
        }
        Ok(ServiceAccountKey {
            client_email,
            client_id: field("client_id").map(str::to_string),
            private_key_id: field("private_key_id").map(str::to_string),
            token_uri,
            private_key: Arc::new(key),
        })
    }

    /// The key that signs assertions (crate-internal: never exposed).
    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.private_key
    }
}

fn missing(field: &str) -> GoogleError {
    GoogleError::Key(format!("the key file has no {field:?}: it is not a complete service-account JSON key"))
}

/// The admin to impersonate (the JWT `sub`): an e-mail address, trimmed.
/// Parse, don't validate: holding a `Subject` means it has the shape of an
/// address (one `@`, a local part and a dotted domain, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject(String);

impl Subject {
    /// Errors ([`GoogleError::InvalidInput`]) when `email` is not address-shaped.
    pub fn new(email: impl Into<String>) -> Result<Subject, GoogleError> {
        let email = email.into().trim().to_string();
        let shaped = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
        let clean = email.chars().filter(|c| *c == '@').count() == 1
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if shaped && clean {
            Ok(Subject(email))
        } else {
            Err(GoogleError::InvalidInput(format!(
                "the admin to impersonate must be an e-mail address such as admin@customer.com, not {email:?}"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Google product/SKU pair (reference §5 "Licensing"), written
/// `productId/skuId`, e.g. `Google-Apps/1010020027` (Business Starter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku {
    product_id: String,
    sku_id: String,
}

impl Sku {
    pub fn product_id(&self) -> &str {
        &self.product_id
    }
    pub fn sku_id(&self) -> &str {
        &self.sku_id
    }
}

impl FromStr for Sku {
    type Err = GoogleError;

    /// Errors unless the text is two non-empty parts without spaces around one `/`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || {
            GoogleError::InvalidInput(format!(
                "{s:?} is not a Google licence SKU: expected \"productId/skuId\", e.g. \"Google-Apps/1010020027\""
            ))
        };
        let (p, k) = t.split_once('/').ok_or_else(bad)?;
        let part_ok = |x: &str| !x.is_empty() && !x.contains('/') && !x.chars().any(|c| c.is_whitespace());
        if part_ok(p) && part_ok(k) { Ok(Sku { product_id: p.into(), sku_id: k.into() }) } else { Err(bad()) }
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.product_id, self.sku_id)
    }
}

/// The OAuth scopes atpilot asks for (reference §5 "Scopes"; §6 trap 13:
/// `signOut` and 2SV need `admin.directory.user.security`, which
/// `admin.directory.user` does not include). Each call asks for exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `admin.directory.user`: read and change users.
    User,
    /// `admin.directory.user.security`: sign-out, 2-Step Verification.
    UserSecurity,
    /// `admin.directory.group.member`: groups and their members.
    GroupMember,
    /// `apps.licensing`: licence assignments.
    Licensing,
}

impl Scope {
    /// All four, in declaration order.
    pub const ALL: [Scope; 4] = [Scope::User, Scope::UserSecurity, Scope::GroupMember, Scope::Licensing];

    /// The scope's URL, as delegated in the Admin console and sent in the JWT.
    pub fn as_url(&self) -> &'static str {
        match self {
            Scope::User => "https://www.googleapis.com/auth/admin.directory.user",
            Scope::UserSecurity => "https://www.googleapis.com/auth/admin.directory.user.security",
            Scope::GroupMember => "https://www.googleapis.com/auth/admin.directory.group.member",
            Scope::Licensing => "https://www.googleapis.com/auth/apps.licensing",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_must_be_address_shaped() {
        assert_eq!(Subject::new(" admin@c1.example ").expect("ok").as_str(), "admin@c1.example");
        assert_eq!(Subject::new("a+b@c.example").expect("ok").to_string(), "a+b@c.example");
        for bad in ["", "admin", "@c.example", "a@b", "a@@b.example", "a b@c.example", "a@.example", "a@b.example."] {
            assert!(matches!(Subject::new(bad), Err(GoogleError::InvalidInput(_))), "{bad:?}");
        }
    }

    #[test]
    fn skus_parse_and_print_product_slash_sku() {
        let s: Sku = "Google-Apps/1010020027".parse().expect("sku");
        assert_eq!((s.product_id(), s.sku_id()), ("Google-Apps", "1010020027"));
        assert_eq!(s.to_string(), "Google-Apps/1010020027");
        assert_eq!(" 101031/1010310008 ".parse::<Sku>().expect("trimmed").to_string(), "101031/1010310008");
        for bad in ["", "Google-Apps", "/1010020027", "Google-Apps/", "a/b/c", "Google Apps/1"] {
            let e = bad.parse::<Sku>().expect_err(bad).to_string();
            assert!(e.contains("productId/skuId"), "{e}");
        }
    }

    #[test]
    fn scopes_have_google_urls() {
        assert_eq!(Scope::UserSecurity.as_url(), "https://www.googleapis.com/auth/admin.directory.user.security");
        assert_eq!(Scope::Licensing.to_string(), "https://www.googleapis.com/auth/apps.licensing");
        assert_eq!(Scope::ALL.len(), 4);
    }
}
