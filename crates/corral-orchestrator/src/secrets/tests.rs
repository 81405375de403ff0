use std::sync::Arc;

use super::{MasterKey, SecretError, SecretValue, Secrets};
use crate::store::SqliteStore;

fn key_hex() -> String {
    MasterKey::generate_hex().expect("random")
}

#[tokio::test]
async fn values_are_sealed_at_rest_and_a_wrong_key_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corral.db");
    let hex = key_hex();
    let store = Arc::new(SqliteStore::open(&path).expect("store"));
    let secrets = Secrets::open(store.clone(), MasterKey::from_hex(&hex).expect("key"))
        .await
        .expect("open");
    let value = SecretValue::new("plaintext-value-4711".into());
    secrets.set("API_TOKEN", &value).await.expect("set");
    drop(secrets);
    drop(store);
    for file in ["corral.db", "corral.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        assert!(
            !bytes
                .windows(20)
                .any(|window| window == b"plaintext-value-4711"),
            "{file} holds the plaintext"
        );
    }
    let store = Arc::new(SqliteStore::open(&path).expect("store"));
    let wrong = Secrets::open(store.clone(), MasterKey::from_hex(&key_hex()).expect("key")).await;
    assert!(
        matches!(wrong, Err(SecretError::WrongKey { .. })),
        "a wrong key is refused"
    );
    let secrets = Secrets::open(store, MasterKey::from_hex(&hex).expect("key"))
        .await
        .expect("right key");
    assert_eq!(
        secrets.reveal("API_TOKEN").await.expect("reveal").expose(),
        "plaintext-value-4711"
    );
    let listed = secrets.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
}

#[tokio::test]
async fn bad_names_and_values_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
    let secrets = Secrets::open(store, MasterKey::from_hex(&key_hex()).expect("key"))
        .await
        .expect("open");
    let good = SecretValue::new("long-enough-value".into());
    for name in ["", "1ABC", "has space", "semi;colon", &"X".repeat(129)] {
        assert!(
            matches!(
                secrets.set(name, &good).await,
                Err(SecretError::InvalidName { .. })
            ),
            "{name}"
        );
    }
    for value in [
        String::new(),
        "short".into(),
        "x".repeat(super::sealed::MAX_VALUE_BYTES + 1),
    ] {
        let result = secrets.set("NAME", &SecretValue::new(value)).await;
        assert!(matches!(result, Err(SecretError::InvalidValue { .. })));
    }
    assert!(matches!(
        secrets.remove("MISSING").await,
        Err(SecretError::NotFound { .. })
    ));
    assert!(
        secrets.list().await.expect("list").is_empty(),
        "nothing stored"
    );
}
