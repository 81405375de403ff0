//! Sealing secrets at rest: XChaCha20-Poly1305 under a 256-bit master key,
//! a fresh random 192-bit nonce per write, the secret's name bound as
//! associated data (so a sealed value moved to another name fails to open).

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::{SecretError, SecretValue};

/// Bytes in a master key.
pub const KEY_BYTES: usize = 32;
/// Bytes in a nonce.
const NONCE_BYTES: usize = 24;

/// The key every secret is sealed under. Never printed, wiped on drop.
pub struct MasterKey(Zeroizing<[u8; KEY_BYTES]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl MasterKey {
    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let bytes =
            Zeroizing::new(
                hex::decode(text.trim()).map_err(|_| SecretError::BadMasterKey {
                    message: "must be 64 hex digits".into(),
                })?,
            );
        let key: [u8; KEY_BYTES] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| SecretError::BadMasterKey {
                    message: format!("must be {KEY_BYTES} bytes (64 hex digits)"),
                })?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// A fresh random key, hex-encoded, for a new key file.
    pub fn generate_hex() -> Result<String, SecretError> {
        crate::token::random_hex(KEY_BYTES).map_err(|error| SecretError::BadMasterKey {
            message: error.to_string(),
        })
    }

    /// `CORRAL_MASTER_KEY` when given, else the key file, created (mode
    /// 0600) at first start and refused when others can read it.
    pub fn load(from_env: Option<&SecretValue>, key_file: &Path) -> Result<Self, SecretError> {
        if let Some(hex) = from_env {
            return Self::from_hex(hex.expose());
        }
        let hex = crate::data_dir::read_or_create_private(key_file, Self::generate_hex).map_err(
            |error| SecretError::BadMasterKey {
                message: error.to_string(),
            },
        )?;
        Self::from_hex(&Zeroizing::new(hex))
    }

    /// Seals `value` under `name`; returns (nonce, ciphertext).
    pub fn seal(&self, name: &str, value: &str) -> Result<(Vec<u8>, Vec<u8>), SecretError> {
        let nonce = crate::token::random_bytes(NONCE_BYTES).map_err(|_| SecretError::Crypto)?;
        let cipher = XChaCha20Poly1305::new(self.0.as_slice().into());
        let payload = Payload {
            msg: value.as_bytes(),
            aad: name.as_bytes(),
        };
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| SecretError::Crypto)?;
        Ok((nonce, sealed))
    }

    /// Seals `bytes` under `label` (a blob: a sandbox's snapshot); returns
    /// the nonce followed by the ciphertext.
    pub fn seal_blob(&self, label: &str, bytes: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = crate::token::random_bytes(NONCE_BYTES).map_err(|_| SecretError::Crypto)?;
        let cipher = XChaCha20Poly1305::new(self.0.as_slice().into());
        let payload = Payload {
            msg: bytes,
            aad: label.as_bytes(),
        };
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| SecretError::Crypto)?;
        nonce.extend_from_slice(&sealed);
        Ok(nonce)
    }

    /// Opens a blob sealed under `label`; a wrong key, label or a changed
    /// byte is [`SecretError::WrongKey`].
    pub fn open_blob(&self, label: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        let wrong = || SecretError::WrongKey {
            name: label.to_owned(),
        };
        if blob.len() < NONCE_BYTES {
            return Err(wrong());
        }
        let (nonce, sealed) = blob.split_at(NONCE_BYTES);
        let cipher = XChaCha20Poly1305::new(self.0.as_slice().into());
        let payload = Payload {
            msg: sealed,
            aad: label.as_bytes(),
        };
        cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| wrong())
    }

    /// Opens a sealed value; a wrong key or a moved value is [`SecretError::WrongKey`].
    pub fn open(
        &self,
        name: &str,
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<SecretValue, SecretError> {
        if nonce.len() != NONCE_BYTES {
            return Err(SecretError::WrongKey {
                name: name.to_owned(),
            });
        }
        let cipher = XChaCha20Poly1305::new(self.0.as_slice().into());
        let payload = Payload {
            msg: sealed,
            aad: name.as_bytes(),
        };
        let plain = Zeroizing::new(cipher.decrypt(XNonce::from_slice(nonce), payload).map_err(
            |_| SecretError::WrongKey {
                name: name.to_owned(),
            },
        )?);
        let text = std::str::from_utf8(&plain).map_err(|_| SecretError::WrongKey {
            name: name.to_owned(),
        })?;
        Ok(SecretValue::new(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_key() -> MasterKey {
        MasterKey::from_hex(&MasterKey::generate_hex().expect("random")).expect("key")
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_name() {
        let key = fresh_key();
        let (nonce, sealed) = key.seal("GITHUB_TOKEN", "ghp_value").expect("seal");
        assert!(!sealed.windows(9).any(|window| window == b"ghp_value"));
        assert_eq!(
            key.open("GITHUB_TOKEN", &nonce, &sealed)
                .expect("open")
                .expose(),
            "ghp_value"
        );
        assert!(matches!(
            key.open("OTHER", &nonce, &sealed),
            Err(SecretError::WrongKey { .. })
        ));
        assert!(matches!(
            fresh_key().open("GITHUB_TOKEN", &nonce, &sealed),
            Err(SecretError::WrongKey { .. })
        ));
        let (second_nonce, _) = key.seal("GITHUB_TOKEN", "ghp_value").expect("seal");
        assert_ne!(nonce, second_nonce, "a fresh nonce per write");
    }

    #[test]
    fn bad_master_keys_are_refused() {
        assert!(MasterKey::from_hex("abc").is_err());
        assert!(MasterKey::from_hex(&"00".repeat(31)).is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
    }
}
