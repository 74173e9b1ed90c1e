//! earshot: embedded streaming speech-to-text.
#![warn(missing_docs)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod decode;
pub mod error;
pub mod features;
pub mod model;

pub use error::{Error, Result};
