//! atpilot's model: a ticket classifier that learns from the MSP's own history.
//!
//! * [`features`]: hashed word uni/bi-grams and character 3–5-grams of whitespace tokens
//!   (punctuation and digits kept: `job_1424`, `host.company.com`) with sublinear TF–IDF
//!   weighting (no vocabulary to store, nothing to download).
//! * [`train`]: a multinomial linear model trained by averaged SGD with seeded shuffles
//!   (same data + same seed → the same artifact bytes), calibrated on held-out
//!   predictions (temperature scaling of the probabilities; the confidence is a
//!   logistic model of being right over the top probability, how far the
//!   runner-up trails and the predicted label: [`calibrate`], [`rank`]).
//! * [`Model`]: inference and the compact binary artifact (int8 weights, one row per
//!   hashed feature that was seen in training).
//! * [`data`]: CSV loading with any column names and errors that name the file and line.
//! * [`metrics`]: accuracy, macro-F1, coverage at a precision target, calibration error.
//! * [`scrub`], [`drafter`]: reply drafts from similar resolved tickets of the same
//!   category that never carry another customer's text.
//! * [`multi_issue`]: does a ticket ask for several unrelated things?

pub mod calibrate;
pub mod data;
pub mod drafter;
mod error;
pub mod explain;
pub mod features;
pub mod metrics;
mod model;
pub mod multi_issue;
pub mod rank;
mod rng;
pub mod scrub;
pub mod train;

pub use error::ModelError;
pub use model::{Model, Prediction};
pub use train::{Progress, TrainConfig, TrainReport, train, train_weighted};
