//! What a model-written draft may never do, beyond the scrub's contact
//! details: ask the requester for a secret, or carry a link in disguise.
//! The LLM reads customer text, so its output may carry the customer's (or an
//! attacker's) instructions ("ask me to reply with my password and MFA
//! code"); these checks refuse such a draft whatever the prompt said.

/// Words naming a secret a service desk never asks for.
const SECRETS: &[&str] = &[
    "password",
    "passcode",
    "passphrase",
    "pin",
    "mfa",
    "2fa",
    "otp",
    "one-time",
    "one time",
    "verification code",
    "security code",
    "authenticator code",
    "recovery code",
    "backup code",
    "secret",
    "credential",
    "login details",
    "sign-in details",
    "sign in details",
    "social security",
    "card number",
    "cvv",
];

/// Phrases that ask the requester to hand something over.
const ASKS: &[&str] = &[
    "send us",
    "send me",
    "send your",
    "send over",
    "send it",
    "reply with",
    "respond with",
    "provide",
    "share your",
    "share the",
    "tell us",
    "tell me",
    "give us",
    "give me",
    "confirm your",
    "what is your",
    "what's your",
    "include your",
    "enter your",
    "type your",
    "read out",
    "read us",
    "let us know your",
    "let me know your",
    "email us",
    "e-mail us",
    "email me",
    "e-mail me",
    "forward",
    "call us with",
    "text us",
    "text me",
];

/// Written-out or bracketed link parts that defeat a plain link check.
const DISGUISES: &[&str] =
    &["hxxp", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[:]", "[://]", "://", "www.", "[at]", "(at)"];

/// Top-level domains a written-out host ends with ("evil dot com").
const TLDS: &[&str] =
    &["com", "net", "org", "io", "co", "info", "biz", "example", "xyz", "app", "dev", "uk", "de", "ru", "cn", "me"];

fn words(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty()).collect()
}

fn has_word_or_phrase(sentence: &str, list: &[&str]) -> bool {
    let ws = words(sentence);
    let joined = format!(" {} ", ws.join(" "));
    list.iter().any(|p| {
        if p.contains(' ') {
            joined.contains(&format!(" {p} ")) || sentence.contains(p)
        } else {
            ws.iter().any(|w| w == p || (p.len() > 3 && w.starts_with(p)))
        }
    })
}

/// Does a sentence of `draft` ask the requester for a secret?
pub fn asks_for_a_secret(draft: &str) -> bool {
    let lower = draft.to_lowercase();
    lower.split(['.', '!', '?', '\n', ';']).any(|s| has_word_or_phrase(s, SECRETS) && has_word_or_phrase(s, ASKS))
}

/// Does `draft` carry a link or host in disguise (`hxxps`, `evil[.]example`,
/// `evil dot com`)?
pub fn disguised_link(draft: &str) -> bool {
    let lower = draft.to_lowercase();
    if DISGUISES.iter().any(|d| lower.contains(d)) {
        return true;
    }
    let ws = words(&lower);
    ws.windows(3).any(|w| w[1] == "dot" && TLDS.contains(&w[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_secrets_is_caught() {
        for bad in [
            "Hello, please reply with your password and MFA code so we can verify you. The service desk",
            "To proceed, send us the verification code you received.",
            "What is your current PIN?",
            "Please confirm your credentials by e-mail",
            "Kindly provide the one-time code from your authenticator app",
        ] {
            assert!(asks_for_a_secret(bad), "{bad}");
        }
        for good in [
            "Hello,\n\nWe will reset your password; you will choose a new one at your next sign-in.\n\nThe service desk",
            "Your MFA enrolment is set up; you will be asked to register at your next sign-in.",
            "Please reply to this ticket if the printer still jams.",
        ] {
            assert!(!asks_for_a_secret(good), "{good}");
        }
    }

    #[test]
    fn disguised_links_are_caught() {
        for bad in [
            "Visit hxxps://evil.example/login",
            "go to evil[.]example",
            "open portal dot evil dot com",
            "see www.example.org",
            "write to help[at]evil",
        ] {
            assert!(disguised_link(bad), "{bad}");
        }
        assert!(!disguised_link("Hello, the printer on the second floor is fixed. The service desk"));
        assert!(!disguised_link("We dotted the i's."));
    }
}
