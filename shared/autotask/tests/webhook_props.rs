//! The webhook parser and verifier never panic: arbitrary bytes and headers
//! always yield a value or a typed error.

use atpilot_autotask::webhook::{WebhookError, parse_payload, sign, verify_and_parse, verify_signature};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), header in proptest::option::of(".{0,80}"), secret in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = parse_payload(&body);
        let r = verify_and_parse(&secret, &body, header.as_deref());
        // Without the right signature nothing is accepted.
        if let Ok(ev) = r {
            prop_assert!(header.is_some());
            let _ = ev;
        }
    }

    #[test]
    fn signed_arbitrary_bytes_verify_then_parse_or_fail_typed(body in proptest::collection::vec(any::<u8>(), 0..256), secret in proptest::collection::vec(any::<u8>(), 1..40)) {
        let sig = sign(&secret, &body);
        prop_assert_eq!(verify_signature(&secret, &body, Some(&sig)), Ok(()));
        match verify_and_parse(&secret, &body, Some(&sig)) {
            Ok(_) => {}
            Err(WebhookError::NotJson(_) | WebhookError::NotAnObject | WebhookError::MissingField(_) | WebhookError::BadField { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn json_objects_with_any_casing_and_values(
        keys in proptest::collection::vec(prop_oneof![Just("Action"), Just("action"), Just("GUID"), Just("guid"), Just("Id"), Just("ID"), Just("Fields"), Just("fields"), Just("EventTime"), Just("sequencenumber"), Just("PersonID"), Just("personId"), Just("EntityType")], 0..10),
        vals in proptest::collection::vec(prop_oneof![Just(serde_json::json!(null)), Just(serde_json::json!("Update")), Just(serde_json::json!(12)), Just(serde_json::json!(-3)), Just(serde_json::json!(1.5)), Just(serde_json::json!({"a": 1})), Just(serde_json::json!([1])), Just(serde_json::json!(true)), Just(serde_json::json!("99"))], 0..10),
    ) {
        let mut m = serde_json::Map::new();
        for (k, v) in keys.iter().zip(vals.iter()) {
            m.insert(k.to_string(), v.clone());
        }
        let body = serde_json::to_vec(&m).unwrap();
        let _ = parse_payload(&body);
    }
}

#[test]
fn tampered_or_unsigned_bodies_are_rejected() {
    let body = br#"{"Action":"Deactivated","Guid":"g","EntityType":"Ticket","Id":1}"#;
    assert_eq!(verify_and_parse(b"k", body, None).unwrap_err(), WebhookError::MissingSignature);
    assert_eq!(verify_and_parse(b"k", body, Some("sha1=")).unwrap_err(), WebhookError::BadSignature);
    assert!(matches!(verify_and_parse(b"k", body, Some("sha1=!!!")).unwrap_err(), WebhookError::MalformedSignature(_)));
    assert_eq!(verify_and_parse(b"", body, Some(&sign(b"", body))).unwrap_err(), WebhookError::EmptySecret);
}
