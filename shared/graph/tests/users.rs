//! Conformance: user reads, roles, password reset, sessions, sign-in, on the sandbox.

mod common;

use atpilot_graph::{GraphError, TemporaryPassword, UsageLocation, UserId, is_admin, roles};
use atpilot_graph_sandbox::world::roles as sb_roles;
use common::*;

#[tokio::test]
async fn get_user_selects_the_properties_the_default_set_lacks() {
    let e = env().await;
    let u = e.client.get_user(&e.tenant, "synced.user@c1.example").await.expect("user");
    assert!(u.is_synced());
    assert_eq!(u.account_enabled, Some(true));
    assert_eq!(u.usage_location.as_deref(), Some("US"));
    assert_eq!(u.assigned_licenses.len(), 1);
    let disabled = e.client.get_user(&e.tenant, "former.employee@c1.example").await.expect("user");
    assert_eq!(disabled.account_enabled, Some(false));
    assert_eq!(disabled.on_premises_sync_enabled, None);
    let by_id = e.client.get_user(&e.tenant, u.id.as_str()).await.expect("by id");
    assert_eq!(by_id.id, u.id);
    let q = e.sb.requests().into_iter().rfind(|r| !r.is_token()).and_then(|r| r.query).expect("query");
    assert!(q.contains("accountEnabled") && q.contains("onPremisesSyncEnabled"), "{q}");
}

#[tokio::test]
async fn a_guest_upn_with_ext_is_url_encoded() {
    let e = env().await;
    let upn = "guest.partner_partner.example#EXT#@c1.example";
    let u = e.client.get_user(&e.tenant, upn).await.expect("guest");
    assert_eq!(u.user_principal_name, upn);
    assert_eq!(u.user_type.as_deref(), Some("Guest"));
    let path = e.sb.requests().into_iter().rfind(|r| !r.is_token()).expect("req").path;
    assert!(path.contains("%23EXT%23"), "{path}");
}

#[tokio::test]
async fn a_missing_user_is_not_found() {
    let e = env().await;
    let err = e.client.get_user(&e.tenant, "nobody@c1.example").await.expect_err("404");
    assert!(
        matches!(err, GraphError::NotFound { ref source, .. } if source.code == "Request_ResourceNotFound"),
        "{err:?}"
    );
    assert!(err.to_string().contains("nobody@c1.example"));
}

#[tokio::test]
async fn find_user_by_address_uses_upn_mail_or_proxy_addresses_with_advanced_parameters() {
    let e = env().await;
    let (upn, id) = e.contact(0);
    let found = e.client.find_user_by_address(&e.tenant, &upn.to_uppercase()).await.expect("find").expect("some");
    assert_eq!(found.id, id);
    let alias = upn.replace("c1.example", "c1.example.onmicrosoft.example");
    assert_eq!(e.client.find_user_by_address(&e.tenant, &alias).await.expect("find").map(|u| u.id), Some(id));
    let guest = e.client.find_user_by_address(&e.tenant, "guest.partner@partner.example").await.expect("guest");
    assert_eq!(guest.map(|u| u.user_type), Some(Some("Guest".into())));
    assert!(e.client.find_user_by_address(&e.tenant, "o'nobody@c1.example").await.expect("none").is_none());
    let r = e.sb.requests().into_iter().rfind(|r| !r.is_token()).expect("req");
    assert!(r.consistency_eventual && r.query.unwrap_or_default().contains("$count=true"));
    // Even when proxyAddresses/any needs the advanced parameters ([U]), the lookup works.
    e.sb.set_knobs(|k| k.proxy_any_needs_advanced = true);
    assert!(e.client.find_user_by_address(&e.tenant, &upn).await.expect("find").is_some());
}

#[tokio::test]
async fn directory_roles_come_from_transitive_membership() {
    let e = env().await;
    let admin = e.client.user_directory_roles(&e.tenant, &e.uid("admin")).await.expect("roles");
    assert_eq!(admin.len(), 1);
    assert_eq!(admin[0].role_template_id.as_deref(), Some(roles::GLOBAL_ADMIN));
    assert!(is_admin(&admin) && admin[0].outranks_user_admin());
    let it = e.client.user_directory_roles(&e.tenant, &e.uid("it.manager")).await.expect("roles");
    assert_eq!(
        it.iter().filter_map(|r| r.role_template_id.as_deref()).collect::<Vec<_>>(),
        vec![roles::AUTHENTICATION_ADMIN]
    );
    let (_, contact) = e.contact(0);
    let none = e.client.user_directory_roles(&e.tenant, &contact).await.expect("roles");
    assert!(!is_admin(&none), "groups are not roles: {none:?}");
}

#[tokio::test]
async fn reset_password_sets_it_once_with_change_at_next_sign_in() {
    let e = env().await;
    let (upn, id) = e.contact(1);
    let pw = TemporaryPassword::generate();
    e.client.reset_password(&e.tenant, &id, &pw, true).await.expect("reset");
    let s = e.sb.user(e.tenant.as_str(), &upn).expect("read back");
    assert_eq!(s.password_changes, 1);
    assert!(s.force_change_password_next_sign_in);
    assert!(s.password_last_set.is_some());
    assert_eq!(s.password_sha256.as_deref(), Some(sha_hex(pw.expose()).as_str()));
    let lines: Vec<String> = e.sb.requests().iter().map(|r| r.line()).collect();
    assert!(lines.iter().all(|l| !l.contains(pw.expose())), "the log holds the password");
}

fn sha_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_synced_user_is_refused_with_its_reason() {
    let e = env().await;
    let pw = TemporaryPassword::generate();
    let err = e.client.reset_password(&e.tenant, &e.uid("synced.user"), &pw, true).await.expect_err("synced");
    assert!(matches!(err, GraphError::SyncedUser { .. }), "{err:?}");
    assert!(err.to_string().contains("on-premises") && !err.to_string().contains(pw.expose()));
    assert!(!format!("{err:?}").contains(pw.expose()));
    let err = e.client.set_account_enabled(&e.tenant, &e.uid("synced.user"), false).await.expect_err("synced");
    assert!(matches!(err, GraphError::SyncedUser { .. }));
    assert_eq!(e.sb.user(e.tenant.as_str(), "synced.user@c1.example").map(|s| s.password_changes), Some(0));
}

#[tokio::test]
async fn a_user_admin_app_cannot_reset_an_admin_but_a_privileged_one_can() {
    let e = env().await;
    let pw = TemporaryPassword::generate();
    for who in ["admin", "it.manager"] {
        let err = e.client.reset_password(&e.tenant, &e.uid(who), &pw, true).await.expect_err("outranked");
        assert!(
            matches!(err, GraphError::InsufficientPrivileges { ref needs, .. } if needs.role == Some("User Administrator")),
            "{err:?}"
        );
        assert!(err.to_string().contains("outranks"));
    }
    e.client
        .reset_password(&e.tenant, &e.uid("helpdesk.lead"), &pw, true)
        .await
        .expect("helpdesk admins are resettable");
    e.sb.set_sp_roles(e.tenant.as_str(), &[sb_roles::PRIVILEGED_AUTHENTICATION_ADMIN]);
    e.client.reset_password(&e.tenant, &e.uid("admin"), &pw, false).await.expect("privileged auth admin may");
    let s = e.sb.user(e.tenant.as_str(), "admin@c1.example").expect("admin");
    assert_eq!((s.password_changes, s.force_change_password_next_sign_in), (1, false));
}

#[tokio::test]
async fn a_missing_permission_or_role_names_what_is_missing() {
    let e = env().await;
    let (_, id) = e.contact(0);
    e.sb.set_app_permissions(e.tenant.as_str(), &["User.Read.All"]);
    let err = e.client.reset_password(&e.tenant, &id, &TemporaryPassword::generate(), true).await.expect_err("403");
    let GraphError::InsufficientPrivileges { needs, source, .. } = &err else { panic!("{err:?}") };
    assert_eq!(needs.permission, "User-PasswordProfile.ReadWrite.All");
    assert_eq!(source.code, "Authorization_RequestDenied");
    assert!(err.to_string().contains("User-PasswordProfile.ReadWrite.All"));
    let err = e.client.revoke_sign_in_sessions(&e.tenant, &id).await.expect_err("403");
    assert!(err.to_string().contains("User.RevokeSessions.All"), "{err}");
    // The role, not the permission, is missing.
    e.sb.set_app_permissions(e.tenant.as_str(), &["User.Read.All", "User-PasswordProfile.ReadWrite.All"]);
    e.sb.set_sp_roles(e.tenant.as_str(), &[]);
    let err = e.client.reset_password(&e.tenant, &id, &TemporaryPassword::generate(), true).await.expect_err("403");
    assert!(err.to_string().contains("User Administrator role"), "{err}");
}

#[tokio::test]
async fn revoke_sessions_accepts_200_and_204() {
    let e = env().await;
    let (upn, id) = e.contact(2);
    let before = e.sb.user(e.tenant.as_str(), &upn).expect("user").sign_in_sessions_valid_from;
    e.client.revoke_sign_in_sessions(&e.tenant, &id).await.expect("200 value true");
    e.sb.set_knobs(|k| k.revoke_status = 204);
    e.client.revoke_sign_in_sessions(&e.tenant, &id).await.expect("204");
    let s = e.sb.user(e.tenant.as_str(), &upn).expect("user");
    assert_eq!(s.revocations, 2);
    assert!(s.sign_in_sessions_valid_from > before);
}

#[tokio::test]
async fn enable_disable_and_usage_location_are_applied() {
    let e = env().await;
    let id = e.uid("former.employee");
    e.client.set_account_enabled(&e.tenant, &id, true).await.expect("enable");
    assert_eq!(e.sb.user(e.tenant.as_str(), id.as_str()).map(|s| s.account_enabled), Some(true));
    let loc = UsageLocation::new("de").expect("DE");
    e.client.set_usage_location(&e.tenant, &id, &loc).await.expect("usage location");
    assert_eq!(e.sb.user(e.tenant.as_str(), id.as_str()).and_then(|s| s.usage_location), Some("DE".into()));
    let err = e.client.set_account_enabled(&e.tenant, &e.uid("admin"), false).await.expect_err("admin target");
    assert!(matches!(err, GraphError::InsufficientPrivileges { .. }));
    let err = e.client.set_account_enabled(&e.tenant, &UserId::new("missing"), true).await.expect_err("404");
    assert!(matches!(err, GraphError::NotFound { .. }));
}
