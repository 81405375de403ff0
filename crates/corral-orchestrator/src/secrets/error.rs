//! Why a secrets operation failed.

use crate::store::StoreError;

/// Why a secrets operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The name is not a valid secret name.
    #[error(
        "invalid secret name `{name}`: use 1 to 128 letters, digits, `_`, `-` or `.`, starting with a letter or `_`"
    )]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// The value is empty, too short or too large.
    #[error("invalid secret value: {message}")]
    InvalidValue {
        /// What is wrong with it.
        message: String,
    },
    /// No such secret.
    #[error("secret `{name}` not found")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// The master key does not open what was sealed with it.
    #[error("cannot open secret `{name}`: the master key is not the one it was stored with")]
    WrongKey {
        /// The secret (or the key check) that failed.
        name: String,
    },
    /// The master key is malformed or its file unusable.
    #[error("master key: {message}")]
    BadMasterKey {
        /// What is wrong.
        message: String,
    },
    /// Sealing failed (no randomness).
    #[error("cannot seal the secret")]
    Crypto,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
