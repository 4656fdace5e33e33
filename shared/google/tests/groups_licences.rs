//! Groups and licences: happy paths read back, the duplicate and non-member
//! cases as `Unchanged`, both [U] shapes of hasMember and non-member removal,
//! seats and the no-seat error.

mod common;

use atpilot_google::{MemberChange, Sku};
use atpilot_google_sandbox::{Knobs, SKU_BUSINESS_STANDARD, SKU_BUSINESS_STARTER};
use common::env;

#[tokio::test]
async fn get_group_and_has_member() {
    let e = env().await;
    let g = e.client.get_group(&e.admin, "staff@c1.example").await.expect("get").expect("staff");
    assert_eq!((g.email.as_str(), g.name.as_deref(), g.admin_created), ("staff@c1.example", Some("Staff"), Some(true)));
    assert_eq!(e.client.get_group(&e.admin, "nope@c1.example").await.expect("404 is fine"), None);
    assert!(e.client.has_member(&e.admin, "staff@c1.example", "ann.archer@c1.example").await.expect("ann"));
    assert!(!e.client.has_member(&e.admin, "staff@c1.example", "ben.baker@c1.example").await.expect("ben"));
    // [U] an external address: 400 "Invalid Input: memberKey", then members.get decides.
    assert!(!e.client.has_member(&e.admin, "staff@c1.example", "x@partner.example").await.expect("external"));
    assert_eq!(e.api_requests("/hasMember/x@partner.example")[0].status, 400);
    e.sb.set_knobs(Knobs { has_member_external_400: false, ..Knobs::default() });
    assert!(!e.client.has_member(&e.admin, "staff@c1.example", "x@partner.example").await.expect("external, 200"));
}

#[tokio::test]
async fn add_member_then_duplicate_is_unchanged() {
    let e = env().await;
    let add = e.client.add_member(&e.admin, "sales@c1.example", "ben.baker@c1.example").await.expect("add");
    assert_eq!(add, MemberChange::Changed);
    assert_eq!(e.sb.group_members("sales@c1.example"), Some(vec!["ben.baker@c1.example".to_string()]));
    let again = e.client.add_member(&e.admin, "sales@c1.example", "ben.baker@c1.example").await.expect("dup");
    assert_eq!(again, MemberChange::Unchanged);
    assert_eq!(e.api_requests("/members").iter().map(|r| r.status).collect::<Vec<_>>(), vec![200, 409]);
    assert!(e.client.has_member(&e.admin, "sales@c1.example", "ben.baker@c1.example").await.expect("member"));
    // An external address can be a member, and hasMember's 400 falls back to members.get.
    e.client.add_member(&e.admin, "sales@c1.example", "x@partner.example").await.expect("external add");
    assert!(e.client.has_member(&e.admin, "sales@c1.example", "x@partner.example").await.expect("external"));
}

#[tokio::test]
async fn remove_member_then_again_is_unchanged_in_both_shapes() {
    let e = env().await;
    let r = e.client.remove_member(&e.admin, "staff@c1.example", "ann.archer@c1.example").await.expect("remove");
    assert_eq!(r, MemberChange::Changed);
    assert_eq!(e.sb.group_members("staff@c1.example"), Some(vec![]));
    let again = e.client.remove_member(&e.admin, "staff@c1.example", "ann.archer@c1.example").await.expect("404");
    assert_eq!(again, MemberChange::Unchanged);
    e.sb.set_knobs(Knobs { remove_non_member_404: false, ..Knobs::default() });
    let again = e.client.remove_member(&e.admin, "staff@c1.example", "ann.archer@c1.example").await.expect("400");
    assert_eq!(again, MemberChange::Unchanged);
    // An unknown group stays an error.
    let err = e.client.remove_member(&e.admin, "nope@c1.example", "ann.archer@c1.example").await.expect_err("group");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn licence_assign_read_remove_and_seats() {
    let e = env().await;
    let starter: Sku = SKU_BUSINESS_STARTER.parse().expect("sku");
    let (total, used) = e.sb.seats_in("c1.example", SKU_BUSINESS_STARTER).expect("seats");
    assert_eq!(e.client.license_assignment(&e.admin, &starter, "ann.archer@c1.example").await.expect("get"), None);
    let a = e.client.assign_license(&e.admin, &starter, "ann.archer@c1.example").await.expect("assign");
    assert_eq!(
        (a.product_id.as_str(), a.sku_id.as_str(), a.user_id.as_str()),
        ("Google-Apps", "1010020027", "ann.archer@c1.example")
    );
    assert_eq!(a.sku_name.as_deref(), Some("Google Workspace Business Starter"));
    assert_eq!(e.sb.seats_in("c1.example", SKU_BUSINESS_STARTER), Some((total, used + 1)));
    assert!(e.sb.user("ann.archer@c1.example").expect("ann").licences.contains(&SKU_BUSINESS_STARTER.to_string()));
    let read = e.client.license_assignment(&e.admin, &starter, "ann.archer@c1.example").await.expect("get");
    assert_eq!(read.as_ref(), Some(&a));
    let err = e.client.assign_license(&e.admin, &starter, "ann.archer@c1.example").await.expect_err("already");
    assert!(err.is_already_assigned() && !err.is_no_seats(), "{err:?}");
    let r = e.client.remove_license(&e.admin, &starter, "ann.archer@c1.example").await.expect("remove");
    assert_eq!(r, MemberChange::Changed);
    assert_eq!(e.sb.seats_in("c1.example", SKU_BUSINESS_STARTER), Some((total, used)));
    let r = e.client.remove_license(&e.admin, &starter, "ann.archer@c1.example").await.expect("remove again");
    assert_eq!(r, MemberChange::Unchanged);
}

#[tokio::test]
async fn no_free_seat_is_recognised_in_both_shapes() {
    let e = env().await;
    let standard: Sku = SKU_BUSINESS_STANDARD.parse().expect("sku");
    assert_eq!(e.sb.seats_in("c1.example", SKU_BUSINESS_STANDARD), Some((1, 1)));
    let err = e.client.assign_license(&e.admin, &standard, "ben.baker@c1.example").await.expect_err("no seat");
    assert!(err.is_no_seats() && err.status() == Some(412), "{err:?}");
    e.sb.set_knobs(Knobs { no_seat_status: 400, ..Knobs::default() });
    let err = e.client.assign_license(&e.admin, &standard, "ben.baker@c1.example").await.expect_err("no seat");
    assert!(err.is_no_seats() && err.status() == Some(400), "{err:?}");
    e.sb.set_seats_in("c1.example", SKU_BUSINESS_STANDARD, 2);
    e.client.assign_license(&e.admin, &standard, "ben.baker@c1.example").await.expect("a seat was bought");
    assert_eq!(e.sb.seats_in("c1.example", SKU_BUSINESS_STANDARD), Some((2, 2)));
    assert!(e.sb.user("ben.baker@c1.example").expect("ben").licences.contains(&SKU_BUSINESS_STANDARD.to_string()));
}
