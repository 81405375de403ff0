//! HTTP plumbing every API of the server shares: the one error type, the
//! JSON and query extractors that answer in its shape (and what JSON weighs
//! once read), and socket settings.
//!
//! A leaf: it imports nothing of the crate, so the user API, the worker API
//! and `/mcp` use it without reaching into one another.

pub mod admission;
mod error;
mod held;
mod json;
mod tcp;
mod unread;
pub mod weight;

pub use error::{ApiError, InternalErrorCause};
pub use held::{HeldWeight, WeightBudget, take as take_weight, within_budget};
pub use json::{ApiJson, ApiQuery, parse as parse_json};
pub use tcp::no_delay;
pub use unread::{close_if_body_unread, declares_body};
