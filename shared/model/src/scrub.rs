//! Scrubbing: remove what identifies a person or a company from a text.
//!
//! Rules, in order, per whitespace token (punctuation around it is kept):
//! links, e-mail addresses, IP addresses, phone numbers (possibly spread over several
//! tokens), hostnames and UNC paths, machine names (letters mixed with digits and
//! `-`/`_`), long numbers, known names and companies (multi-word, case-insensitive),
//! capitalised words after a greeting or sign-off, capitalised words before a company
//! suffix (Inc, LLC, GmbH…). With a shared vocabulary, every word not in it is replaced
//! too: a draft then only carries words that several different customers used, which
//! is what makes "a draft never carries another customer's text" hold.

use std::collections::BTreeSet;

pub const EMAIL: &str = "[email]";
pub const PHONE: &str = "[phone]";
pub const HOST: &str = "[host]";
pub const LINK: &str = "[link]";
pub const IP: &str = "[ip]";
pub const NAME: &str = "[name]";
pub const COMPANY: &str = "[company]";
pub const NUMBER: &str = "[number]";
pub const REDACTED: &str = "[redacted]";
pub const SECRET: &str = "[secret]";

/// Words a credential follows ("password: Summer2024!", "the new PIN is 4411",
/// "licence key ABCD-EFGH-1234").
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "passcode",
    "passphrase",
    "pin",
    "secret",
    "token",
    "key",
];
/// Words that may stand between a credential word and the credential.
const SECRET_CONNECTORS: &[&str] = &["is", "was", "to", "now", "set", "temporary", "temp", "new", "as", "of"];

/// Whether a credential word comes right before token `i`, or through at most two connectors.
fn after_secret_word(lowers: &[String], i: usize) -> bool {
    for back in 1..=3 {
        let Some(w) = i.checked_sub(back).map(|j| lowers[j].as_str()) else { return false };
        if SECRET_WORDS.contains(&w) {
            return true;
        }
        if !SECRET_CONNECTORS.contains(&w) {
            return false;
        }
    }
    false
}

/// A credential-looking word: 4+ characters with a digit, a symbol, or a capital after the first letter.
fn looks_secret(core: &str) -> bool {
    core.chars().count() >= 4
        && (core.chars().any(|c| c.is_ascii_digit())
            || core.chars().any(|c| !c.is_alphanumeric())
            || core.chars().skip(1).any(char::is_uppercase))
}

/// `password=Abc123`, `pwd:xyz9` in one token: the credential word and its separator, kept.
fn inline_secret(core: &str) -> Option<&str> {
    let at = core.find([':', '='])?;
    let word = core[..at].to_lowercase();
    (SECRET_WORDS.contains(&word.as_str()) && at + 1 < core.len()).then(|| &core[..=at])
}

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "regards",
    "cheers",
    "sincerely",
    "best",
    "mr",
    "mrs",
    "ms",
    "dr",
    "from",
    "cc",
    "to",
    "attn",
    "contact",
    "caller",
    "user",
];
const COMPANY_SUFFIXES: &[&str] = &[
    "inc",
    "llc",
    "ltd",
    "limited",
    "gmbh",
    "corp",
    "corporation",
    "co",
    "plc",
    "ag",
    "bv",
    "sa",
    "sarl",
    "pty",
    "llp",
    "lp",
    "group",
    "holdings",
    "partners",
    "associates",
    "solutions",
    "systems",
    "technologies",
    "industries",
];

/// What to scrub beyond the built-in patterns.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    /// Known names of people and companies, each as lower-case words.
    phrases: Vec<Vec<String>>,
    /// When set, words outside it are replaced by `[redacted]`.
    vocabulary: Option<BTreeSet<String>>,
}

fn lower_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
}

fn is_phone_piece(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c))
        && s.chars().any(|c| c.is_ascii_digit())
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_email(s: &str) -> bool {
    match s.find('@') {
        Some(at) => at > 0 && s[at + 1..].contains('.') && !s[at + 1..].starts_with('.'),
        None => false,
    }
}

fn is_link(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://")
        || l.starts_with("https://")
        || l.starts_with("www.")
        || l.starts_with("ftp://")
        || l.starts_with("smb://")
        || l.starts_with("rdp://")
        || l.starts_with("file://")
        || l.starts_with("\\\\")
}

/// `srv01.contoso.local`, `mail.acme.com`, `acme.co.uk` (but not `e.g` or a sentence end).
fn is_hostname(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return false;
    }
    let ok_chars = parts.iter().all(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let tld = parts[parts.len() - 1];
    ok_chars && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()) && parts[0].len() >= 2
}

/// `PC-0042`, `HostName_221`, `LT0042`, `srv01`: letters mixed with digits.
fn is_machine_name(s: &str) -> bool {
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    let seps = s.chars().filter(|c| *c == '-' || *c == '_').count();
    let clean = s.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    clean && letters > 0 && digits > 0 && (seps > 0 || (digits >= 2 && s.len() >= 5))
}

fn split_punct(tok: &str) -> (&str, &str, &str) {
    let start = tok.find(|c: char| c.is_alphanumeric() || c == '\\' || c == '+' || c == '(').unwrap_or(tok.len());
    let end = tok
        .rfind(|c: char| c.is_alphanumeric())
        .map(|i| i + tok[i..].chars().next().unwrap().len_utf8())
        .unwrap_or(start);
    let end = end.max(start);
    // a phone number may end with ')' only if it opened with '('
    (&tok[..start], &tok[start..end], &tok[end..])
}

fn is_capitalised(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_uppercase()) && c.all(|c| c.is_alphabetic() || c == '-' || c == '\'')
}

/// Zero-width and other invisible format characters.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// The text's tokens, each with the whitespace after it, and the leading whitespace.
fn tokens(text: &str) -> (&str, Vec<(&str, &str)>) {
    let mut toks: Vec<(&str, &str)> = Vec::new();
    let lead_len = text.len() - text.trim_start().len();
    let mut rest = &text[lead_len..];
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (tok, after) = (&rest[..end], &rest[end..]);
        let ws_len = after.len() - after.trim_start().len();
        toks.push((tok, &after[..ws_len]));
        rest = &after[ws_len..];
    }
    (&text[..lead_len], toks)
}

/// A phone number over several tokens from `i` ("+1 (555) 123-4567"): its
/// replacement and the index after it.
fn phone_run(toks: &[(&str, &str)], i: usize) -> Option<(String, usize)> {
    let (tok, _) = toks[i];
    let core = split_punct(tok).1;
    if !(is_phone_piece(core) || (core.is_empty() && is_phone_piece(tok))) {
        return None;
    }
    let mut j = i;
    let mut digits = 0;
    while j < toks.len() && is_phone_piece(toks[j].0.trim_end_matches([',', ';', ':'])) {
        digits += toks[j].0.chars().filter(|c| c.is_ascii_digit()).count();
        j += 1;
    }
    if digits < 7 || is_ipv4(core) {
        return None;
    }
    let tail: String = toks[j - 1].0.chars().rev().take_while(|c| [',', ';', ':'].contains(c)).collect();
    Some((format!("{PHONE}{tail}"), j))
}

/// The rules that look at one token alone (and the credential word before
/// it): credentials, links, e-mail addresses, IP addresses (v4 and v6, MAC
/// addresses too), hosts (with a port or path), paths, long numbers.
fn pattern(lowers: &[String], i: usize, prev: &str, tok: &str, core: &str, bare: &str) -> Option<&'static str> {
    let host_part = bare.split(['/', '\\']).next().unwrap_or(bare);
    let host_part =
        host_part.rsplit_once(':').filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit())).map_or(host_part, |(h, _)| h);
    // "password: letmein": right after the credential word and its colon, any word is the credential.
    let right_after = i > 0 && SECRET_WORDS.contains(&lowers[i - 1].as_str()) && prev.ends_with([':', '=']);
    if after_secret_word(lowers, i) && (looks_secret(core) || right_after) {
        Some(SECRET)
    } else if is_link(core) || is_link(tok) {
        Some(LINK)
    } else if is_email(bare) {
        Some(EMAIL)
    } else if is_ipv4(bare) || is_ipv4(host_part) || is_ipv6_or_mac(bare) {
        Some(IP)
    } else if is_hostname(bare) || is_hostname(host_part) || core.starts_with('\\') || is_path(bare) {
        Some(HOST)
    } else if core.chars().filter(|c| c.is_ascii_digit()).count() >= 4
        && core.chars().all(|c| c.is_ascii_digit() || "-/.:".contains(c))
    {
        Some(NUMBER)
    } else {
        None
    }
}

/// `fe80::1ff:fe23:4567:890a`, `2001:db8::1`, `00:1A:2B:3C:4D:5E`, `00-1A-2B-3C-4D-5E`.
fn is_ipv6_or_mac(s: &str) -> bool {
    let groups: Vec<&str> = s.split([':', '-']).collect();
    let hex = |g: &&str| g.len() <= 4 && g.chars().all(|c| c.is_ascii_hexdigit());
    let mac = groups.len() == 6 && groups.iter().all(|g| g.len() == 2 && hex(g));
    let v6 = s.contains(':')
        && s.matches(':').count() >= 2
        && groups.iter().all(hex)
        && s.chars().any(|c| c.is_ascii_digit());
    mac || v6
}

/// `C:\Users\jsmith\…`, `/home/jsmith/…`: a path names its machine's people and shares.
fn is_path(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/'))
        || s.starts_with("//")
}

impl Scrubber {
    pub fn new() -> Self {
        Self::default()
    }

    /// Names of people and companies to remove wherever they appear.
    pub fn with_names<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, names: I) -> Self {
        for n in names {
            let w = lower_words(n.as_ref());
            if !w.is_empty() {
                self.phrases.push(w);
            }
        }
        // longest first so "acme corp europe" wins over "acme"
        self.phrases.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        self.phrases.dedup();
        self
    }

    /// Only these (lower-case) words may survive.
    pub fn with_vocabulary(mut self, vocabulary: BTreeSet<String>) -> Self {
        self.vocabulary = Some(vocabulary);
        self
    }

    pub fn scrub(&self, text: &str) -> String {
        // Zero-width and other format characters (U+200B in Outlook mail) would split a name.
        let text: String = text.chars().filter(|c| !is_format_char(*c)).collect();
        let (lead, toks) = tokens(&text);
        let mut out: Vec<(String, &str)> = Vec::with_capacity(toks.len());
        let lowers: Vec<String> = toks.iter().map(|(t, _)| split_punct(t).1.to_lowercase()).collect();
        let mut i = 0;
        let mut after_greeting = false;
        while i < toks.len() {
            let (tok, ws) = toks[i];
            let (pre, core, post) = split_punct(tok);
            // known multi-word names
            if let Some(len) = self.match_phrase(&lowers, i) {
                let last_post = split_punct(toks[i + len - 1].0).2;
                let is_company = i + len < toks.len() && COMPANY_SUFFIXES.contains(&lowers[i + len].as_str());
                let len = if is_company { len + 1 } else { len };
                let last_post = if is_company { split_punct(toks[i + len - 1].0).2 } else { last_post };
                out.push((format!("{pre}{}{last_post}", if is_company { COMPANY } else { NAME }), toks[i + len - 1].1));
                i += len;
                after_greeting = false;
                continue;
            }
            if let Some((phone, j)) = phone_run(&toks, i) {
                out.push((phone, toks[j - 1].1));
                i = j;
                after_greeting = false;
                continue;
            }
            let lower = &lowers[i];
            // "(10.0.0.12)": the core keeps an opening parenthesis for phone numbers.
            let bare = core.trim_start_matches('(');
            if let Some(keep) = inline_secret(core) {
                out.push((format!("{pre}{keep}{SECRET}{post}"), ws));
                i += 1;
                after_greeting = false;
                continue;
            }
            let replacement: Option<&str> = if core.is_empty() {
                None
            } else if let Some(r) = pattern(&lowers, i, if i > 0 { toks[i - 1].0 } else { "" }, tok, core, bare) {
                Some(r)
            } else if is_machine_name(core) && !self.in_vocabulary(lower) {
                Some(HOST)
            } else if after_greeting && is_capitalised(core) && !GREETINGS.contains(&lower.as_str()) {
                Some(NAME)
            } else if is_capitalised(core)
                && i + 1 < toks.len()
                && COMPANY_SUFFIXES.contains(&lowers[i + 1].as_str())
                && is_capitalised(split_punct(toks[i + 1].0).1)
            {
                // "Contoso Ltd": swallow the suffix too
                let (_, _, post2) = split_punct(toks[i + 1].0);
                out.push((format!("{pre}{COMPANY}{post2}"), toks[i + 1].1));
                i += 2;
                after_greeting = false;
                continue;
            } else if self.vocabulary.as_ref().is_some_and(|v| {
                core.chars().any(|c| c.is_alphabetic()) && !lower_words(core).iter().all(|w| v.contains(w))
            }) {
                Some(REDACTED)
            } else {
                None
            };
            match replacement {
                Some(r) => {
                    // an opening parenthesis the core kept stays outside the replacement
                    out.push((format!("{pre}{}{r}{post}", &core[..core.len() - bare.len()]), ws));
                    // a name after a greeting may have two parts: "Hi John Smith,"
                    if r != NAME || !post.is_empty() {
                        after_greeting = false;
                    }
                }
                None => {
                    out.push((tok.to_string(), ws));
                    after_greeting = GREETINGS.contains(&lower.as_str()) && (post.is_empty() || post == ",");
                    if after_greeting
                        && post == ","
                        && !["thanks", "regards", "cheers", "sincerely", "best"].contains(&lower.as_str())
                    {
                        after_greeting = false;
                    }
                }
            }
            i += 1;
        }
        let mut s = String::with_capacity(text.len());
        s.push_str(lead);
        for (t, ws) in out {
            s.push_str(&t);
            s.push_str(ws);
        }
        s
    }

    fn in_vocabulary(&self, w: &str) -> bool {
        self.vocabulary.as_ref().is_some_and(|v| v.contains(w))
    }

    fn match_phrase(&self, lowers: &[String], i: usize) -> Option<usize> {
        'outer: for p in &self.phrases {
            if i + p.len() > lowers.len() {
                continue;
            }
            for (k, w) in p.iter().enumerate() {
                // a token may hold several words ("o'brien", "acme-corp"): compare its words
                let tw = lower_words(&lowers[i + k]);
                if (tw.len() != 1 || &tw[0] != w) && !(p.len() == 1 && tw.iter().any(|x| x == w)) {
                    continue 'outer;
                }
            }
            return Some(p.len());
        }
        None
    }
}

/// True when the scrubbed text still contains any of `names` (case-insensitive, whole
/// words) or an e-mail address: a last check before a draft leaves the building.
pub fn leaks(text: &str, names: &[&str]) -> bool {
    let words = lower_words(text);
    if text.split_whitespace().any(|t| is_email(split_punct(t).1)) {
        return true;
    }
    names.iter().any(|n| {
        let nw = lower_words(n);
        !nw.is_empty() && words.windows(nw.len()).any(|w| w == nw.as_slice())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_after_their_word_are_removed_and_ordinary_words_kept() {
        let s = Scrubber::new();
        for (text, gone) in [
            ("Her password: Summer2024! works now.", "Summer2024"),
            ("I set the temporary password to Xk9#tQ2 for her", "Xk9#tQ2"),
            ("new PIN is 4411", "4411"),
            ("licence key ABCD-EFGH-1234 applied", "ABCD-EFGH-1234"),
            ("login with pwd=Hunter2 then", "Hunter2"),
            ("password is CorrectHorse", "CorrectHorse"),
        ] {
            let out = s.scrub(text);
            assert!(!out.contains(gone) && out.contains(SECRET), "{text} -> {out}");
        }
        for (text, gone) in [
            ("password: letmein", "letmein"),
            ("pass: Hunter2 works", "Hunter2"),
            ("open https://portal and srv01.acme.local:8443 then acme.sharepoint.com/sites/hr", "srv01"),
            ("gateway fe80::1ff:fe23:4567:890a and MAC 00:1A:2B:3C:4D:5E", "fe80"),
            ("files in C:\\Users\\jsmith\\Desktop and smb://fs01/share", "jsmith"),
            ("Dana\u{200B} Reyes called", "Reyes"),
        ] {
            let out = Scrubber::new().with_names(["Dana Reyes"]).scrub(text);
            assert!(!out.contains(gone), "{text} -> {out}");
        }
        let ip = s.scrub("the server (10.0.0.12) and (fs01.acme.local)");
        assert_eq!(ip, "the server ([ip]) and ([host])");
        let kept = s.scrub("I reset the password for the user and the PIN policy");
        assert_eq!(kept, "I reset the password for the user and the PIN policy");
    }

    #[test]
    fn scrubs_contact_details() {
        let s = Scrubber::new();
        let out = s.scrub(
            "Call me on +1 (555) 123-4567 or mail jane.doe@contoso.com, host srv01.contoso.local, ip 10.0.0.12.",
        );
        assert!(
            !out.contains("555") && !out.contains("jane") && !out.contains("contoso") && !out.contains("10.0.0.12"),
            "{out}"
        );
        assert!(out.contains(PHONE) && out.contains(EMAIL) && out.contains(HOST) && out.contains(IP), "{out}");
        assert!(out.ends_with('.'), "{out}");
    }

    #[test]
    fn scrubs_machine_names_links_and_numbers() {
        let out = Scrubber::new()
            .scrub("Rebooted PC-0042 and HostName_221, see https://portal.acme.com/x?id=3, ticket 1550391");
        assert!(
            !out.contains("0042") && !out.contains("221") && !out.contains("acme") && !out.contains("1550391"),
            "{out}"
        );
    }

    #[test]
    fn scrubs_names_after_greetings_and_known_companies() {
        let s = Scrubber::new().with_names(["Fabrikam Europe", "Bob Jones"]);
        let out = s.scrub("Hi Alice, I reset the password for Bob Jones at Fabrikam Europe. Regards,\nCharlie Brown");
        for bad in ["Alice", "Bob", "Jones", "Fabrikam", "Charlie", "Brown"] {
            assert!(!out.contains(bad), "{bad} in {out}");
        }
        assert!(out.contains("I reset the password"), "{out}");
        let out = Scrubber::new().scrub("Licence moved from Northwind Traders Ltd yesterday");
        assert!(!out.contains("Traders"), "{out}");
    }

    #[test]
    fn vocabulary_keeps_only_shared_words() {
        let vocab: BTreeSet<String> =
            ["reset", "the", "password", "and", "mfa"].iter().map(|s| s.to_string()).collect();
        let out = Scrubber::new().with_vocabulary(vocab).scrub("Reset the password and MFA for zyxwquux");
        assert_eq!(out, "Reset the password and MFA for [redacted]".replace("for", "[redacted]"));
    }

    #[test]
    fn leak_check() {
        assert!(leaks("contact bob jones please", &["Bob Jones"]));
        assert!(!leaks("contact [name] please", &["Bob Jones"]));
        assert!(leaks("mail x@y.com", &[]));
    }
}
