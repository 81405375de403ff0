//! The sealed secrets store: names checked, values sealed under the master
//! key, opened only for a job's grants.

use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use super::SecretError;
use super::crypto::MasterKey;
use super::value::SecretValue;
use crate::store::{SecretRecord, SecretRecords};

/// Longest secret name.
pub(super) const MAX_NAME_LEN: usize = 128;
/// Largest secret value: a private key fits, a file does not.
pub const MAX_VALUE_BYTES: usize = 64 << 10;
/// Shortest value: anything shorter cannot be told apart from ordinary output.
pub const MIN_VALUE_BYTES: usize = 8;
/// Meta key of the sealed check value that proves the master key.
pub(super) const KEY_CHECK: &str = "master_key_check";
/// What the check value seals.
pub(super) const KEY_CHECK_PLAINTEXT: &str = "corral master key check";

/// What the API shows of a secret: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SecretInfo {
    /// The name.
    pub name: String,
    /// When it was first stored.
    #[serde(with = "corral_proto::timestamp")]
    pub created_at: OffsetDateTime,
    /// When its value was last written.
    #[serde(with = "corral_proto::timestamp")]
    pub updated_at: OffsetDateTime,
    /// When a job last received it.
    #[serde(with = "corral_proto::timestamp::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

impl From<SecretRecord> for SecretInfo {
    fn from(record: SecretRecord) -> Self {
        Self {
            name: record.name,
            created_at: record.created_at,
            updated_at: record.updated_at,
            last_used_at: record.last_used_at,
        }
    }
}

/// The secrets service; cheap to clone.
#[derive(Clone)]
pub struct Secrets {
    pub(super) records: Arc<dyn SecretRecords>,
    pub(super) key: Arc<MasterKey>,
}

impl Secrets {
    /// Opens the store under `key`, refusing a key other than the one the
    /// existing secrets were sealed with (nothing is changed then).
    pub async fn open(
        records: Arc<dyn SecretRecords>,
        key: MasterKey,
    ) -> Result<Self, SecretError> {
        if let Some(sealed) = records.meta(KEY_CHECK).await? {
            let wrong_key = || SecretError::WrongKey {
                name: "(key check)".into(),
            };
            let (nonce, ciphertext) = sealed.split_at(sealed.len().min(24));
            let check = key
                .open(KEY_CHECK, nonce, ciphertext)
                .map_err(|_| wrong_key())?;
            if check.expose() != KEY_CHECK_PLAINTEXT {
                return Err(wrong_key());
            }
        } else {
            let (mut nonce, ciphertext) = key.seal(KEY_CHECK, KEY_CHECK_PLAINTEXT)?;
            nonce.extend(ciphertext);
            records.put_meta(KEY_CHECK, nonce).await?;
        }
        Ok(Self {
            records,
            key: Arc::new(key),
        })
    }

    /// Stores or replaces `name`.
    pub async fn set(&self, name: &str, value: &SecretValue) -> Result<SecretInfo, SecretError> {
        validate_name(name)?;
        let length = value.expose().len();
        if length < MIN_VALUE_BYTES {
            return Err(SecretError::InvalidValue {
                message: format!(
                    "shorter than {MIN_VALUE_BYTES} bytes, too short to be told apart from ordinary output"
                ),
            });
        }
        if length > MAX_VALUE_BYTES {
            return Err(SecretError::InvalidValue {
                message: format!("{length} bytes is over the {MAX_VALUE_BYTES}-byte limit"),
            });
        }
        let (nonce, sealed) = self.key.seal(name, value.expose())?;
        Ok(self.records.put_secret(name, nonce, sealed).await?.into())
    }

    /// Every secret's name and history.
    pub async fn list(&self) -> Result<Vec<SecretInfo>, SecretError> {
        Ok(self
            .records
            .secrets()
            .await?
            .into_iter()
            .map(SecretInfo::from)
            .collect())
    }

    /// Whether `name` exists.
    pub async fn exists(&self, name: &str) -> Result<bool, SecretError> {
        Ok(self.records.secret(name).await?.is_some())
    }

    /// Removes `name`.
    pub async fn remove(&self, name: &str) -> Result<(), SecretError> {
        if self.records.delete_secret(name).await? {
            Ok(())
        } else {
            Err(SecretError::NotFound {
                name: name.to_owned(),
            })
        }
    }

    /// Opens `name` for a job, stamping its last use.
    pub async fn reveal(&self, name: &str) -> Result<SecretValue, SecretError> {
        let record = self
            .records
            .secret(name)
            .await?
            .ok_or_else(|| SecretError::NotFound {
                name: name.to_owned(),
            })?;
        let value = self.key.open(name, &record.nonce, &record.ciphertext)?;
        self.records.touch_secret(name).await?;
        Ok(value)
    }

    /// Opens every secret, for the leak detector.
    pub async fn reveal_all(&self) -> Result<Vec<(String, SecretValue)>, SecretError> {
        let mut values = Vec::new();
        for record in self.records.secrets().await? {
            let value = self
                .key
                .open(&record.name, &record.nonce, &record.ciphertext)?;
            values.push((record.name, value));
        }
        Ok(values)
    }

    /// The master key, for blobs sealed like secrets (sandbox snapshots).
    pub fn key(&self) -> &MasterKey {
        &self.key
    }

    /// The store behind, for the redaction audit.
    pub fn records(&self) -> &Arc<dyn SecretRecords> {
        &self.records
    }
}

/// Checks a secret name.
pub fn validate_name(name: &str) -> Result<(), SecretError> {
    let mut chars = name.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid_start && valid_rest && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(SecretError::InvalidName {
            name: name.to_owned(),
        })
    }
}
