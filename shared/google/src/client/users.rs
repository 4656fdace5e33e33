//! Users (reference §5 "Users"; base `…/admin/directory/v1`; `userKey` = the
//! primary e-mail, an alias or the id).

use super::Client;
use super::transport::Call;
use crate::error::GoogleError;
use crate::key::{Scope, Subject};
use crate::model::User;
use reqwest::Method;
use serde_json::json;

/// [U] Without `hashFunction` a password is plain text of 8–100 ASCII characters.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 100;

/// Checks a plain-text password's bounds (printable ASCII, 8–100), before it is
/// sent. The error never quotes the password.
pub fn check_password(password: &str) -> Result<(), GoogleError> {
    let n = password.chars().count();
    let printable = password.bytes().all(|b| (0x20..0x7f).contains(&b));
    if (PASSWORD_MIN..=PASSWORD_MAX).contains(&n) && printable {
        Ok(())
    } else {
        Err(GoogleError::InvalidInput(format!(
            "a Google password must be {PASSWORD_MIN}–{PASSWORD_MAX} printable ASCII characters (this one has {n} characters{})",
            if printable { "" } else { ", some not printable ASCII" }
        )))
    }
}

impl Client {
    /// `GET /users/{userKey}`, scope [`Scope::User`]. `Ok(None)` on 404.
    pub async fn get_user(&self, admin: &Subject, user_key: &str) -> Result<Option<User>, GoogleError> {
        let url = self.directory_url(&["users", user_key])?;
        let r = self.send(admin, &Call::new(Method::GET, url, Scope::User)).await?;
        if r.status == 404 {
            return Ok(None);
        }
        r.require_ok()?.json("the user").map(Some)
    }

    /// `PATCH /users/{userKey} {"password": <plain>, "changePasswordAtNextLogin": true}`,
    /// scope [`Scope::User`]. No `hashFunction`: plain text over TLS, 8–100
    /// printable ASCII characters, else [`GoogleError::InvalidInput`] before
    /// anything is sent. Google never returns the password.
    /// `changePasswordAtNextLogin` does not apply to users of a third-party IdP.
    pub async fn reset_password(&self, admin: &Subject, user_key: &str, password: &str) -> Result<(), GoogleError> {
        check_password(password)?;
        let body = json!({"password": password, "changePasswordAtNextLogin": true});
        self.patch_user(admin, user_key, body).await
    }

    /// `PATCH /users/{userKey} {"suspended": bool}`, scope [`Scope::User`].
    pub async fn set_suspended(&self, admin: &Subject, user_key: &str, suspended: bool) -> Result<(), GoogleError> {
        self.patch_user(admin, user_key, json!({"suspended": suspended})).await
    }

    async fn patch_user(&self, admin: &Subject, user_key: &str, body: serde_json::Value) -> Result<(), GoogleError> {
        let url = self.directory_url(&["users", user_key])?;
        self.send(admin, &Call::new(Method::PATCH, url, Scope::User).with_body(body)).await?.require_ok()?;
        Ok(())
    }

    /// `POST /users/{userKey}/signOut` (empty body, empty answer): ends all web
    /// and device sessions. Scope [`Scope::UserSecurity`] (not included in `admin.directory.user`).
    pub async fn sign_out(&self, admin: &Subject, user_key: &str) -> Result<(), GoogleError> {
        let url = self.directory_url(&["users", user_key, "signOut"])?;
        self.send(admin, &Call::new(Method::POST, url, Scope::UserSecurity)).await?.require_ok()?;
        Ok(())
    }

    /// `POST /users/{userKey}/twoStepVerification/turnOff`: the "reset MFA"
    /// step. Scope [`Scope::UserSecurity`].
    pub async fn turn_off_2sv(&self, admin: &Subject, user_key: &str) -> Result<(), GoogleError> {
        let url = self.directory_url(&["users", user_key, "twoStepVerification", "turnOff"])?;
        self.send(admin, &Call::new(Method::POST, url, Scope::UserSecurity)).await?.require_ok()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_bounds_are_8_to_100_printable_ascii() {
        assert!(check_password("Abcdefg1").is_ok());
        assert!(check_password(&"x".repeat(100)).is_ok());
        for bad in ["Abcdef1", "Pässwörd123", "tab\there12"] {
            let e = check_password(bad).expect_err(bad).to_string();
            assert!(!e.contains(bad) && e.contains("8–100"), "{e}");
        }
        assert!(check_password(&"x".repeat(101)).is_err());
    }
}
