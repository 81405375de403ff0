//! The secrets store: named values sealed at rest, write-only through the
//! API, opened only to hand a job its grants and to teach the leak detector
//! what to look for.
//!
//! # Layout
//! - `value`: [`SecretValue`], zeroized and never printed
//! - `crypto`: [`MasterKey`], sealing and opening
//! - `sealed`: the [`Secrets`] store: names checked, values sealed, opened for grants
//! - `error`: [`SecretError`]
//! - `grants`: checking a job's grants before it is stored

mod crypto;
mod error;
pub mod grants;
mod sealed;
#[cfg(test)]
mod tests;
mod value;

pub use crypto::MasterKey;
pub use error::SecretError;
pub use sealed::{SecretInfo, Secrets, validate_name};
pub use value::SecretValue;
