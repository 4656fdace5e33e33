//! Local stand-ins for the two knowledge bases MSPs keep their documentation
//! in, each an axum server on a loopback port:
//!
//! * [`hudu`]: `…/api/v1` with `x-api-key`; companies (with
//!   `id_in_integration`), articles (`{"articles":[…]}` lists, `{"article":…}`
//!   single items), 25 per page by default and no total, a 502 on pages over
//!   a knob's size, and a rate limit whose window resets on fixed boundaries
//!   (plain-text `Retry later`, no `Retry-After`);
//! * [`itglue`]: JSON:API with `x-api-key` (a bad key is 403), organizations
//!   by `filter[psa_id]` + `filter[psa_integration_type]` or exact
//!   `filter[name]`, documents per organization created as drafts, their
//!   sections, `page[size]` (default 50, max 1000) with `meta` totals, 429
//!   past the window's budget, and `errors[]` bodies whose `detail` may be an
//!   array.
//!
//! Both keep a request log ([`Recorded`]: method, path, query, status; never
//! a body) and take [`Knobs`] while running. Facts and the choices made where
//! the reference is uncertain: `../shared/reference/kb-and-messaging.md` §1, §2, §6.

pub mod hudu;
pub mod itglue;
mod server;

pub use server::{Knobs, Recorded, Sandbox};

/// The API key both sandboxes accept.
pub const API_KEY: &str = "ITG.sandbox-key-for-tests-only";
