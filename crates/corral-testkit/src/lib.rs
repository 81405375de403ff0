//! Test support for corral (dev-only).
