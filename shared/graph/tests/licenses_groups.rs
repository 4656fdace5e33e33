//! Conformance: licences, groups and authentication methods, on the sandbox.

mod common;

use atpilot_graph::{GraphError, GroupId, Membership, MethodDeletion, SkuPartNumber, UsageLocation};
use common::*;

#[tokio::test]
async fn subscribed_skus_report_free_units_of_user_skus_only() {
    let e = env().await;
    let skus = e.client.subscribed_skus(&e.tenant).await.expect("skus");
    let parts: Vec<&str> = skus.iter().map(|s| s.sku_part_number.as_str()).collect();
    assert!(parts.contains(&"SPE_E3") && parts.contains(&"O365_BUSINESS_PREMIUM"));
    assert!(!parts.contains(&"WINDOWS_STORE"), "a Company SKU is not assignable");
    let e3 = skus.iter().find(|s| s.sku_part_number.as_str() == "SPE_E3").expect("E3");
    let (_, consumed) = e.sb.sku(e.tenant.as_str(), "SPE_E3").expect("sandbox E3");
    assert_eq!(e3.consumed_units, consumed);
    assert_eq!(e3.free_units(), 25 - consumed);
    let bp = e.client.sku_by_part_number(&e.tenant, &SkuPartNumber::new("o365_business_premium")).await.expect("bp");
    assert_eq!(bp.map(|s| s.free_units()), Some(0));
}

#[tokio::test]
async fn assigning_a_licence_consumes_a_seat_and_removing_frees_it() {
    let e = env().await;
    let e3 = e.client.sku_by_part_number(&e.tenant, &SkuPartNumber::new("SPE_E3")).await.expect("skus").expect("E3");
    let id = e.uid("helpdesk.lead");
    e.client.assign_license(&e.tenant, &id, &e3.sku_id).await.expect("assign");
    let after = e.client.sku_by_part_number(&e.tenant, &SkuPartNumber::new("SPE_E3")).await.expect("skus").expect("E3");
    assert_eq!(after.free_units(), e3.free_units() - 1);
    let u = e.client.get_user(&e.tenant, id.as_str()).await.expect("user");
    assert!(u.has_license(&e3.sku_id));
    e.client.remove_license(&e.tenant, &id, &e3.sku_id).await.expect("remove");
    assert_eq!(e.sb.sku(e.tenant.as_str(), "SPE_E3").map(|s| s.1), Some(e3.consumed_units));
}

#[tokio::test]
async fn no_free_seats_is_typed() {
    let e = env().await;
    let bp = e.client.sku_by_part_number(&e.tenant, &SkuPartNumber::new("O365_BUSINESS_PREMIUM")).await.expect("ok");
    let bp = bp.expect("sku");
    let err = e.client.assign_license(&e.tenant, &e.uid("helpdesk.lead"), &bp.sku_id).await.expect_err("no seats");
    assert!(matches!(err, GraphError::NoFreeLicenses { ref sku, .. } if sku == bp.sku_id.as_str()), "{err:?}");
    assert!(err.to_string().contains("no free seats"));
}

#[tokio::test]
async fn a_missing_usage_location_is_typed_and_fixed_by_setting_one() {
    let e = env().await;
    let (upn, _) =
        e.sb.users(e.tenant.as_str())
            .into_iter()
            .find(|(upn, _)| {
                e.sb.user(e.tenant.as_str(), upn).is_some_and(|s| s.usage_location.is_none() && !upn.contains("#EXT#"))
            })
            .expect("a contact without usage location");
    let id = e.uid(&upn);
    let e3 = e.client.sku_by_part_number(&e.tenant, &SkuPartNumber::new("SPE_E3")).await.expect("ok").expect("E3");
    let err = e.client.assign_license(&e.tenant, &id, &e3.sku_id).await.expect_err("no location");
    assert!(matches!(err, GraphError::UsageLocationRequired { .. }), "{err:?}");
    e.client.set_usage_location(&e.tenant, &id, &UsageLocation::new("US").expect("US")).await.expect("location");
    e.client.assign_license(&e.tenant, &id, &e3.sku_id).await.expect("assign after location");
    assert_eq!(e.sb.user(e.tenant.as_str(), &upn).map(|s| s.licenses), Some(vec![e3.sku_id.as_str().to_string()]));
}

#[tokio::test]
async fn group_membership_add_is_idempotent_and_remove_reports_non_members() {
    let e = env().await;
    let g = e.client.find_group_by_mail(&e.tenant, "sales@c1.example").await.expect("find").expect("sales");
    assert_eq!(g.group_types, vec!["Unified".to_string()]);
    let (_, id) = e.contact(0);
    assert_eq!(e.client.add_group_member(&e.tenant, &g.id, &id).await.expect("add"), Membership::Added);
    assert_eq!(e.client.add_group_member(&e.tenant, &g.id, &id).await.expect("again"), Membership::AlreadyMember);
    assert!(e.sb.group(e.tenant.as_str(), g.id.as_str()).expect("group").members.contains(id.as_str()));
    assert_eq!(e.client.remove_group_member(&e.tenant, &g.id, &id).await.expect("rm"), Membership::Removed);
    assert_eq!(e.client.remove_group_member(&e.tenant, &g.id, &id).await.expect("rm"), Membership::NotMember);
    assert!(e.client.find_group_by_mail(&e.tenant, "nothing@c1.example").await.expect("find").is_none());
    let err = e.client.add_group_member(&e.tenant, &GroupId::new("missing"), &id).await.expect_err("404");
    assert!(matches!(err, GraphError::NotFound { .. }));
}

#[tokio::test]
async fn a_mail_enabled_security_group_is_left_to_exchange() {
    let e = env().await;
    let g = e.client.find_group_by_mail(&e.tenant, "finance@c1.example").await.expect("find").expect("finance");
    assert!(g.is_exchange_managed());
    let (_, id) = e.contact(1);
    let err = e.client.add_group_member(&e.tenant, &g.id, &id).await.expect_err("exchange");
    assert!(matches!(err, GraphError::GroupManagedInExchange { .. }), "{err:?}");
    e.sb.set_knobs(|k| k.mail_enabled_security_groups_read_only = false);
    assert_eq!(e.client.add_group_member(&e.tenant, &g.id, &id).await.expect("add"), Membership::Added);
}

#[tokio::test]
async fn methods_are_listed_and_deleted_except_the_password() {
    let e = env().await;
    let (upn, id) = e.contact(0);
    let methods = e.client.list_authentication_methods(&e.tenant, &id).await.expect("methods");
    assert_eq!(methods.len(), 3);
    let pw = methods.iter().find(|m| m.odata_type.ends_with("passwordAuthenticationMethod")).expect("password");
    assert!(matches!(
        e.client.delete_authentication_method(&e.tenant, &id, pw).await.expect("skip"),
        MethodDeletion::Skipped { .. }
    ));
    let report = e.client.remove_all_authentication_methods(&e.tenant, &id).await.expect("report");
    assert!(report.complete());
    assert_eq!((report.deleted.len(), report.skipped.len()), (2, 1));
    let left = e.sb.user(e.tenant.as_str(), &upn).expect("user").method_ids;
    assert_eq!(left, vec![atpilot_graph::model::PASSWORD_METHOD_ID.to_string()]);
}

#[tokio::test]
async fn paging_follows_next_links_across_several_pages() {
    let e = env().await;
    e.sb.set_knobs(|k| k.page_size = 1);
    let (_, id) = e.contact(0);
    let methods = e.client.list_authentication_methods(&e.tenant, &id).await.expect("methods");
    assert_eq!(methods.len(), 3);
    let roles = e.client.user_directory_roles(&e.tenant, &e.uid("it.manager")).await.expect("roles");
    assert_eq!(roles.len(), 1, "the role on the second page is found");
    let (upn, _) = e.contact(2);
    assert!(e.client.find_user_by_address(&e.tenant, &upn).await.expect("find").is_some());
    let pages =
        e.sb.requests().iter().filter(|r| r.query.as_deref().is_some_and(|q| q.contains("$skiptoken="))).count();
    assert!(pages >= 3, "{pages} follow-up pages");
}
