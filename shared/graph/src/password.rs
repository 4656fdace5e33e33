//! Temporary passwords: generated from a CSPRNG to meet Entra's policy
//! (reference §3 "Reset password": 8–256 characters, 3 of the 4 character
//! classes, no Unicode). The value never appears in `Debug` or `Display`.

use rand::Rng;
use rand::seq::SliceRandom;
use std::fmt;

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGIT: &[u8] = b"23456789";
/// Symbols Entra accepts; none that quote, escape or confuse when read aloud.
const SYMBOL: &[u8] = b"!@#$%^&*-_=+?";

/// Length of a generated password.
pub const GENERATED_LEN: usize = 16;

/// A temporary password. Shown once to whoever must pass it on; never logged,
/// never in an error message, never in Autotask.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryPassword(String);

impl TemporaryPassword {
    /// 16 ASCII characters from a CSPRNG (`rand::rng()`, ChaCha seeded by the
    /// OS), with at least one character of each of the four classes (more than
    /// the three the policy asks), ambiguous characters (0/O, 1/l/I) left out.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let classes = [UPPER, LOWER, DIGIT, SYMBOL];
        let all: Vec<u8> = classes.concat();
        let mut out: Vec<u8> = classes.iter().map(|c| c[rng.random_range(0..c.len())]).collect();
        while out.len() < GENERATED_LEN {
            out.push(all[rng.random_range(0..all.len())]);
        }
        out.shuffle(&mut rng);
        Self(out.into_iter().map(char::from).collect())
    }

    /// Wraps a password chosen elsewhere, if it meets the policy.
    pub fn from_chosen(value: String) -> Result<Self, PolicyViolation> {
        check_policy(&value)?;
        Ok(Self(value))
    }

    /// The value, to put in the request body or to show once to a human.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TemporaryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TemporaryPassword(<redacted>)")
    }
}

impl fmt::Display for TemporaryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a password does not meet Entra's policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("a password must be 8 to 256 characters long, got {0}")]
    Length(usize),
    #[error("a password must be printable ASCII (Entra refuses Unicode)")]
    NotAscii,
    #[error("a password needs 3 of the 4 classes (upper, lower, digit, symbol), it has {0}")]
    Classes(usize),
}

/// Entra's policy (reference §3): 8–256 characters, printable ASCII, at least
/// 3 of upper case, lower case, digits and symbols.
pub fn check_policy(p: &str) -> Result<(), PolicyViolation> {
    let n = p.chars().count();
    if !(8..=256).contains(&n) {
        return Err(PolicyViolation::Length(n));
    }
    if !p.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(PolicyViolation::NotAscii);
    }
    let has = |f: fn(&u8) -> bool| p.as_bytes().iter().any(f);
    let classes = [
        has(u8::is_ascii_uppercase),
        has(u8::is_ascii_lowercase),
        has(u8::is_ascii_digit),
        has(|b| !b.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|x| *x)
    .count();
    if classes < 3 {
        return Err(PolicyViolation::Classes(classes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        let mut seen = HashSet::new();
        for _ in 0..500 {
            let p = TemporaryPassword::generate();
            assert_eq!(p.expose().len(), GENERATED_LEN);
            assert!(p.expose().is_ascii());
            assert_eq!(check_policy(p.expose()), Ok(()));
            assert!(seen.insert(p.expose().to_string()), "a repeated password");
        }
    }

    #[test]
    fn password_never_shows_in_debug_or_display() {
        let p = TemporaryPassword::generate();
        assert!(!format!("{p:?}").contains(p.expose()));
        assert!(!format!("{p}").contains(p.expose()));
    }

    #[test]
    fn policy_rejects_short_unicode_and_two_class_passwords() {
        assert_eq!(check_policy("Ab1!"), Err(PolicyViolation::Length(4)));
        assert_eq!(check_policy(&"Ab1!".repeat(65)), Err(PolicyViolation::Length(260)));
        assert_eq!(check_policy("Zoë-Müller-2024"), Err(PolicyViolation::NotAscii));
        assert_eq!(check_policy("abcdefgh12"), Err(PolicyViolation::Classes(2)));
        assert_eq!(check_policy("abcdefgh1!"), Ok(()));
        assert!(TemporaryPassword::from_chosen("password".into()).is_err());
    }
}
