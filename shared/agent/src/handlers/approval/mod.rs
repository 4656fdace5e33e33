//! Approvals: a request goes to the category's approvers in Teams (an
//! Adaptive Card) and/or e-mail (SES); each link opens a confirmation page
//! that never changes anything (link scanners and previews fetch links);
//! only the POST from that page decides. Without sign-in, each approver gets
//! links bound to them (signed with HMAC-SHA256, expiring); with sign-in,
//! one Review link names the request and the signed-in approver decides. A
//! request is decided once, through the conditional pending → approved /
//! rejected / expired transition.
//!
//! Rooms: [`token`] signs and checks the links, [`request`] writes the
//! request's messages, [`send`] delivers them (recorded per channel and
//! recipient), [`decide`] carries out the POST and the sweep, [`http`] serves
//! the pages (their markup is in [`crate::html::approval`]), [`error`] says
//! why a decision was refused, `stored` reads the request and its decision.

pub(crate) mod decide;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod request;
pub(crate) mod send;
pub(crate) mod stored;
pub(crate) mod token;

pub use crate::html::Page;
pub use decide::{Decided, DecisionForm, SweepReport, decide_request, sweep};
pub use error::ApprovalError;
pub use http::{SignedInPerson, handle_http, handle_http_as};
pub use request::CARD_VERSION;
pub use token::{Claims, Links, links, review_link, sign_token};
