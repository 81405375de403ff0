//! Bearer tokens (the user API's and each job's) and random ids.
//!
//! A [`Token`] never prints its value: `Debug` and `Display` show
//! `[REDACTED]`, and comparison takes the same time whatever the input.

use std::fmt;

use subtle::ConstantTimeEq;

/// Bytes of entropy in a token: 256 bits.
const TOKEN_BYTES: usize = 32;

/// The system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct RandomError(String);

/// `count` random bytes.
pub fn random_bytes(count: usize) -> Result<Vec<u8>, RandomError> {
    let mut buffer = vec![0u8; count];
    getrandom::fill(&mut buffer).map_err(|error| RandomError(error.to_string()))?;
    Ok(buffer)
}

/// `bytes` random bytes, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, RandomError> {
    random_bytes(bytes).map(hex::encode)
}

/// A secret bearer token.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A fresh 256-bit token.
    pub fn generate() -> Result<Self, RandomError> {
        random_hex(TOKEN_BYTES).map(Self)
    }

    /// Wraps a token read from a file or the environment.
    pub fn from_secret(value: String) -> Self {
        Self(value)
    }

    /// The value, for the one place that must write or send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the token, hex: what may be persisted so a restarted
    /// orchestrator can still check the token without ever storing it.
    pub fn hash_hex(&self) -> String {
        hash_hex(self.0.as_bytes())
    }

    /// Constant-time comparison with what a client presented.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// SHA-256 of `bytes`, hex.
pub fn hash_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A token known only by its hash: checks what a client presents in
/// constant time, and cannot reveal the token.
#[derive(Debug, Clone)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a stored `hash_hex`.
    pub fn from_hex(hash: String) -> Self {
        Self(hash)
    }

    /// The hash, hex, for the store.
    pub fn as_hex(&self) -> &str {
        &self.0
    }

    /// Whether `presented` hashes to this.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(
            hash_hex(presented.as_bytes())
                .as_bytes()
                .ct_eq(self.0.as_bytes()),
        )
    }
}

/// The token in an `Authorization: Bearer …` header value, if any.
pub fn bearer(header: Option<&axum::http::HeaderValue>) -> Option<&str> {
    header?.to_str().ok()?.strip_prefix("Bearer ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves_and_never_print() {
        let token = Token::generate().expect("random");
        assert_eq!(token.expose().len(), 64);
        assert!(token.matches(token.expose()));
        assert!(!token.matches(""));
        assert!(!token.matches(&token.expose()[..63]));
        assert_ne!(Token::generate().expect("random").expose(), token.expose());
        assert!(!format!("{token:?} {token}").contains(token.expose()));
    }
}
