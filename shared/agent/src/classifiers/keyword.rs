//! A transparent keyword classifier: the default until an MSP trains a model
//! on its own history (`atpilot model train`), and the sandbox demo's model.
//! Its score is not a calibrated probability, so its predictions are marked
//! uncalibrated and the decision never lets them reach an approval or an
//! autonomous action (they may only suggest). Its drafts are fixed templates,
//! so it can never copy another customer's text.

use crate::ports::{Classification, Classifier};
use atpilot_domain::{Category, Confidence, Prediction};

struct Rule {
    category: &'static str,
    words: &'static [&'static str],
    physical: bool,
    draft: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        category: "password-reset",
        words: &["password", "locked out", "lockout", "reset my", "forgot"],
        physical: false,
        draft: "Hello,\n\nYou can reset your password yourself: on the sign-in page of your work account, choose the \"Forgot password\" link and follow the steps; you will confirm your identity with the method you registered. If that does not work, reply to this message and a technician will help you.\n\nKind regards,\nThe service desk",
    },
    Rule {
        category: "mfa-enrollment",
        words: &["mfa", "multi-factor", "authenticator", "2fa", "two-factor"],
        physical: false,
        draft: "Hello,\n\nTo set up multi-factor (2-step) verification, sign in to your work account on a computer, open its security settings (Security info for Microsoft 365, 2-Step Verification for Google Workspace) and follow the steps to add the authenticator app on your phone. If you get stuck, reply to this message and a technician will help you.\n\nKind regards,\nThe service desk",
    },
    Rule {
        category: "license-request",
        words: &["license", "licence", "subscription", "office 365", "microsoft 365", "m365"],
        physical: false,
        draft: "Hello,\n\nThank you for your licence request. A technician will check it with your company's approver and confirm here once the licence is assigned.\n\nKind regards,\nThe service desk",
    },
    Rule {
        category: "hardware",
        words: &["laptop", "monitor", "keyboard", "printer jam", "broken", "screen", "docking", "replace"],
        physical: true,
        draft: "Hello,\n\nThank you for reporting this. A technician will contact you to arrange a visit.\n\nKind regards,\nThe service desk",
    },
    Rule {
        category: "email",
        words: &["outlook", "mailbox", "email", "e-mail", "shared mailbox"],
        physical: false,
        draft: "Hello,\n\nWe are looking into your mailbox issue and will update you shortly.\n\nKind regards,\nThe service desk",
    },
    Rule {
        category: "network",
        words: &["vpn", "wifi", "wi-fi", "network", "internet", "firewall"],
        physical: false,
        draft: "Hello,\n\nWe are looking into the connection problem and will update you shortly.\n\nKind regards,\nThe service desk",
    },
];

/// The keyword classifier.
#[derive(Debug, Default, Clone)]
pub struct KeywordClassifier;

impl Classifier for KeywordClassifier {
    fn classify(&self, title: &str, description: &str) -> Classification {
        let text = format!("{} {}", title, description).to_lowercase();
        let mut scores: Vec<(usize, &Rule)> = RULES
            .iter()
            .map(|r| (r.words.iter().filter(|w| text.contains(*w)).count(), r))
            .filter(|(n, _)| *n > 0)
            .collect();
        scores.sort_by_key(|s| std::cmp::Reverse(s.0));
        let multi_issue = scores.len() >= 2
            && [" also ", " and another", "second issue", "two things", "as well"].iter().any(|w| text.contains(w));
        let (category, confidence, physical, draft) = match scores.first() {
            Some((hits, rule)) => {
                let runner_up = scores.get(1).map(|(n, _)| *n).unwrap_or(0);
                // More distinct hits and a clearer margin raise confidence; capped below certainty.
                let c = (0.55 + 0.12 * (*hits as f64) + 0.08 * (*hits - runner_up) as f64).min(0.95);
                (rule.category, c, rule.physical, Some(rule.draft.to_string()))
            }
            None => ("other", 0.3, false, None),
        };
        Classification {
            prediction: Prediction {
                category: Category::new(category).unwrap_or_else(|_| unreachable!("rule categories are valid")),
                confidence: Confidence::new(confidence)
                    .unwrap_or_else(|_| unreachable!("confidence is clamped to [0.3, 0.95]")),
                queue_id: None,
                priority: None,
                issue_type: None,
                sub_issue_type: None,
                multi_issue,
                needs_physical_access: physical,
                // A keyword score is no probability: it may suggest, never act.
                calibrated: false,
                evidence: None,
            },
            draft,
            notes: Vec::new(),
            model_written: Vec::new(),
        }
    }

    fn categories(&self) -> Vec<Category> {
        RULES.iter().map(|r| r.category).chain(["other"]).filter_map(|c| Category::new(c).ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_categories_and_stays_humble() {
        let c = KeywordClassifier.classify("Password reset", "I am locked out of my account");
        assert_eq!(c.prediction.category.as_str(), "password-reset");
        assert!(c.prediction.confidence.get() > 0.6 && c.prediction.confidence.get() <= 0.95);
        assert!(!c.prediction.needs_physical_access);
        let c = KeywordClassifier.classify("Laptop screen broken", "");
        assert!(c.prediction.needs_physical_access);
        let c = KeywordClassifier.classify("Hello", "nothing recognisable");
        assert_eq!(c.prediction.category.as_str(), "other");
        assert!(c.draft.is_none());
    }

    #[test]
    fn detects_several_issues() {
        let c = KeywordClassifier.classify("Password and VPN", "I forgot my password and also the VPN is down");
        assert!(c.prediction.multi_issue);
    }

    #[test]
    fn drafts_never_echo_the_ticket() {
        let c = KeywordClassifier
            .classify("Password for jane@acme.example", "Reset password for Jane Smith at Acme Corp, phone 555-0100");
        let d = c.draft.unwrap();
        assert!(!d.contains("Jane") && !d.contains("acme") && !d.contains("Acme") && !d.contains("555"));
    }
}
