//! More ways a request names another person than the one asking, beside
//! [`super::SOMEONE_ELSE`]'s phrases: someone's account by a possessive
//! ("Liam's password"), by name after "for" ("the password for Tom Baker"),
//! as "a user" or by a username ("for user tbaker"), or as a group ("our
//! whole team", "the reception account"). A false alarm costs a technician
//! a look; a miss lets atpilot answer the wrong person, so these lean wide.

/// Phrases (whole words, lower case) by which the request is for others.
pub(super) const GROUP_OR_OTHER: &[&str] = &[
    "for our",
    "for a user",
    "for the user",
    "for user",
    "of user",
    "of the user",
    "for users",
    "all users",
    "their password",
    "their account",
    "their passwords",
    "their accounts",
    "whole team",
    "our team",
    "the team is",
    "reception account",
    "reception login",
    "front desk account",
    "my coworker",
    "my co-worker",
    "my teammate",
    "my employee",
    "my wife",
    "my husband",
    "they can't",
    "they cannot",
    "they are locked",
    "they're locked",
];

/// What a possessive or a "for" may name that is an account, not a person's.
const ACCOUNT_WORDS: &[&str] = &[
    "password",
    "passwords",
    "account",
    "accounts",
    "login",
    "log-in",
    "sign-in",
    "mfa",
    "2fa",
    "licence",
    "license",
    "mailbox",
    "email",
    "e-mail",
    "laptop",
    "computer",
    "access",
    "authenticator",
    "phone",
];

/// Words ending in 's that are not a person's ("it's", "today's").
const NOT_PEOPLE: &[&str] = &[
    "it",
    "that",
    "what",
    "there",
    "here",
    "let",
    "who",
    "one",
    "today",
    "yesterday",
    "company",
    "team",
    "everyone",
    "microsoft",
    "google",
    "windows",
    "outlook",
    "office",
];

/// "for them" asks for others, "for them to work" does not.
pub(super) fn for_them(ws: &[String]) -> bool {
    (1..ws.len()).any(|i| ws[i - 1] == "for" && ws[i] == "them" && ws.get(i + 1).is_none_or(|w| w != "to"))
}

/// "<someone>'s <account word>" within two words ("Liam's password", "Tom's new laptop").
pub(super) fn possessive(ws: &[String]) -> bool {
    ws.iter().enumerate().any(|(i, w)| {
        let Some(owner) = w.strip_suffix("'s") else { return false };
        // "my account's password", "the laptop's login": a thing's, not a person's.
        let thing = i > 0 && matches!(ws[i - 1].as_str(), "my" | "our" | "the" | "your" | "this" | "that");
        let person = !owner.is_empty() && !owner.contains('@') && !NOT_PEOPLE.contains(&owner) && !thing;
        person && ws[i + 1..(i + 3).min(ws.len())].iter().any(|n| ACCOUNT_WORDS.contains(&n.as_str()))
    })
}

/// Products and words a capitalised word after "for" may be that are not people.
const NOT_NAMES: &[&str] = &[
    "Outlook",
    "Teams",
    "Microsoft",
    "Office",
    "Windows",
    "Google",
    "Gmail",
    "Zoom",
    "Slack",
    "Adobe",
    "Azure",
    "Entra",
    "Exchange",
    "Skype",
    "Apple",
    "Android",
    "Chrome",
    "Edge",
    "Firefox",
    "Citrix",
    "Xero",
    "Sage",
    "Okta",
    "Dropbox",
    "Salesforce",
    "Sharepoint",
    "Onedrive",
    "Intune",
    "Mac",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Wifi",
    "Wi-Fi",
    "Remote",
    "Home",
    "Me",
    "Myself",
    "Excel",
    "Word",
    "Powerpoint",
    "Duo",
    "Jira",
    "Autotask",
    "Email",
    "Mail",
    "Calendar",
    "Printer",
];

/// "for <Name>" or "of <Name>" in the text as written: a capitalised word
/// (then lower case) after a lower-case "for" or "of", not a product, not
/// followed by an account word ("for Portal account"), not the requester's own name.
pub(super) fn for_a_name(text: &str, own_name: Option<&str>) -> bool {
    let own: Vec<String> = own_name.map(|n| n.split_whitespace().map(str::to_lowercase).collect()).unwrap_or_default();
    let ws: Vec<&str> =
        text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ';' | ':')).collect();
    (0..ws.len().saturating_sub(1)).any(|i| {
        let name = ws[i + 1].trim_end_matches("'s");
        let account = ws.get(i + 2).is_some_and(|n| ACCOUNT_WORDS.contains(&n.to_lowercase().as_str()));
        let mut cs = name.chars();
        let capitalised = cs.next().is_some_and(char::is_uppercase) && cs.clone().count() >= 1;
        let rest_lower = cs.all(|c| c.is_lowercase() || c == '-');
        let person = capitalised && rest_lower && !NOT_NAMES.contains(&name) && !own.contains(&name.to_lowercase());
        matches!(ws[i], "for" | "of") && !account && person
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> Vec<String> {
        s.to_lowercase().split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn possessives_and_names_after_for_are_others_products_and_the_requester_are_not() {
        assert!(possessive(&ws("please reset liam's password")));
        assert!(possessive(&ws("tom's new laptop")));
        assert!(!possessive(&ws("it's my password")) && !possessive(&ws("today's login")));
        assert!(for_them(&ws("reset the password for them")) && !for_them(&ws("licences for them to work")));
        assert!(for_a_name("Please reset the password for Liam", None));
        assert!(for_a_name("Can you reset the password for Tom Baker? Locked out.", None));
        assert!(!for_a_name("Reset my password for Outlook", None));
        assert!(!for_a_name("Password reset for Jane please", Some("Jane Doe")));
        assert!(!for_a_name("For Monday: reset my password", None), "a capital For starts a sentence");
        assert!(!for_a_name("a password for VPN access", None), "all capitals: a product or an acronym");
        assert!(for_a_name("Please reset the password of Jane Smith", None));
        assert!(!for_a_name("password reset for Portal account", None), "a thing's account");
        assert!(!possessive(&ws("my account's password")) && !possessive(&ws("the laptop's login")));
        assert!(for_a_name("for Liam", None), "at the very end");
    }
}
