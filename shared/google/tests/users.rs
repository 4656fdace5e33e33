//! Users: get, password reset, suspension, sign-out and 2SV, each read back
//! in the sandbox; permission errors name the scope.

mod common;

use atpilot_google::{GoogleError, Scope};
use common::{env, subject};

#[tokio::test]
async fn get_user_reads_google_fields_and_404_is_none() {
    let e = env().await;
    let admin = e.client.get_user(&e.admin, "admin@c1.example").await.expect("get").expect("admin");
    assert!(admin.is_admin == Some(true) && admin.is_enrolled_in_2sv && admin.is_enforced_in_2sv);
    assert_eq!(admin.customer_id.as_deref(), Some("C00000001"));
    let helpdesk = e.client.get_user(&e.admin, "helpdesk@c1.example").await.expect("get").expect("helpdesk");
    assert!(helpdesk.is_delegated_admin == Some(true) && helpdesk.is_admin == Some(false));
    let leaver = e.client.get_user(&e.admin, "leaver@c1.example").await.expect("get").expect("leaver");
    assert!(leaver.suspended);
    assert_eq!(leaver.suspension_reason.as_deref(), Some("ADMIN"));
    // By id, and a key with '+' (percent-encoded on the way).
    let by_id = e.client.get_user(&e.admin, &leaver.id).await.expect("by id").expect("leaver by id");
    assert_eq!(by_id.primary_email, "leaver@c1.example");
    let plus = e.client.get_user(&e.admin, "cy+it@c1.example").await.expect("plus").expect("cy");
    assert_eq!(plus.primary_email, "cy+it@c1.example");
    assert!(e.api_requests("/users/cy%2Bit@c1.example").len() == 1);
    assert_eq!(e.client.get_user(&e.admin, "ghost@c1.example").await.expect("404 is fine"), None);
}

#[tokio::test]
async fn reset_password_sets_it_once_with_change_at_next_login() {
    let e = env().await;
    let before = e.sb.user("ann.archer@c1.example").expect("ann");
    assert_eq!(before.password_set_count, 0);
    assert!(!before.change_password_at_next_login);
    e.client.reset_password(&e.admin, "ann.archer@c1.example", "Tr0ub4dor&3-horse").await.expect("reset");
    let after = e.sb.user("ann.archer@c1.example").expect("ann");
    assert_eq!(after.password_set_count, 1);
    assert!(after.change_password_at_next_login);
    let read = e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect("get").expect("ann");
    assert!(read.change_password_at_next_login);
    let log = format!("{:?}", e.sb.requests());
    assert!(!log.contains("Tr0ub4dor"), "the log never holds a password");
}

#[tokio::test]
async fn a_password_outside_8_to_100_ascii_is_refused_before_sending() {
    let e = env().await;
    for bad in ["short1!".to_string(), "x".repeat(101), "Pässwört-lang-genug".to_string()] {
        let err = e.client.reset_password(&e.admin, "ann.archer@c1.example", &bad).await.expect_err("refused");
        assert!(matches!(err, GoogleError::InvalidInput(_)), "{err:?}");
        assert!(!err.to_string().contains(&bad));
    }
    assert!(e.sb.requests().is_empty(), "nothing was sent: {:?}", e.sb.requests());
    assert_eq!(e.sb.user("ann.archer@c1.example").expect("ann").password_set_count, 0);
}

#[tokio::test]
async fn suspend_and_unsuspend_are_read_back() {
    let e = env().await;
    e.client.set_suspended(&e.admin, "ben.baker@c1.example", true).await.expect("suspend");
    let ben = e.sb.user("ben.baker@c1.example").expect("ben");
    assert!(ben.suspended);
    assert_eq!(ben.suspension_reason.as_deref(), Some("ADMIN"));
    e.client.set_suspended(&e.admin, "leaver@c1.example", false).await.expect("unsuspend");
    let leaver = e.client.get_user(&e.admin, "leaver@c1.example").await.expect("get").expect("leaver");
    assert!(!leaver.suspended && leaver.suspension_reason.is_none());
}

#[tokio::test]
async fn sign_out_and_2sv_turn_off_use_the_security_scope() {
    let e = env().await;
    e.client.sign_out(&e.admin, "ann.archer@c1.example").await.expect("sign out");
    assert_eq!(e.sb.user("ann.archer@c1.example").expect("ann").sign_out_count, 1);
    assert!(e.sb.user("twostep@c1.example").expect("twostep").is_enrolled_in_2sv);
    e.client.turn_off_2sv(&e.admin, "twostep@c1.example").await.expect("2sv off");
    assert!(!e.sb.user("twostep@c1.example").expect("twostep").is_enrolled_in_2sv);
    let read = e.client.get_user(&e.admin, "twostep@c1.example").await.expect("get").expect("twostep");
    assert!(!read.is_enrolled_in_2sv);
    let statuses: Vec<u16> = e.api_requests("/signOut").iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![204]);
    let err = e.client.sign_out(&e.admin, "ghost@c1.example").await.expect_err("unknown user");
    assert_eq!((err.status(), err.reason()), (Some(404), Some("notFound")));
}

#[tokio::test]
async fn a_non_super_admin_subject_gets_a_permission_error_naming_the_scope() {
    let e = env().await;
    let helpdesk = subject("helpdesk@c1.example");
    let err = e.client.turn_off_2sv(&helpdesk, "twostep@c1.example").await.expect_err("not a super admin");
    assert!(
        matches!(&err, GoogleError::Api { status: 403, reason, scope: Scope::UserSecurity, .. }
            if reason.as_deref() == Some("forbidden")),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("https://www.googleapis.com/auth/admin.directory.user.security"), "{text}");
    assert!(text.contains("super administrator"), "{text}");
    assert!(e.sb.user("twostep@c1.example").expect("twostep").is_enrolled_in_2sv, "nothing changed");
    // Another customer's user is not reachable through this customer's admin.
    let err = e.client.get_user(&e.admin, "dee.dunn@c2.example").await.expect_err("other customer");
    assert_eq!((err.status(), err.reason()), (Some(403), Some("forbidden")));
    assert_eq!(e.api_requests("/users/dee.dunn@c2.example").len(), 1, "a 403 forbidden is not retried");
}
