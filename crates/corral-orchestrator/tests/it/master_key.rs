//! The master key: a world-readable key file is refused, a wrong key stops
//! the server with a clear error and loses nothing.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use corral_docker::DockerRuntime;
use corral_orchestrator::internals::{MasterKey, SecretValue};
use corral_orchestrator::{Config, ConfigOverrides, ServeError};

fn config(data_dir: &std::path::Path, master_key: Option<String>) -> Config {
    let mut config = Config::load(ConfigOverrides {
        data_dir: Some(data_dir.to_owned()),
        listen: Some("127.0.0.1:0".parse().expect("address")),
        worker_bin: Some(corral_testkit::worker_bin()),
        ..ConfigOverrides::default()
    })
    .expect("config");
    config.master_key = master_key.map(SecretValue::new);
    config
}

async fn start(config: Config) -> Result<corral_orchestrator::RunningServer, ServeError> {
    corral_testkit::ensure_docker();
    let runtime = DockerRuntime::connect().await.expect("Docker");
    corral_orchestrator::start(config, Arc::new(runtime)).await
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_and_loses_nothing() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let server = start(config(data_dir.path(), None))
        .await
        .expect("first start");
    let key_file = data_dir.path().join("master.key");
    assert_eq!(
        std::fs::metadata(&key_file)
            .expect("key file")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let value = SecretValue::new("kept-across-restarts".into());
    server
        .jobs
        .secrets()
        .set("KEPT", &value)
        .await
        .expect("set");
    server.stop(Duration::from_secs(10)).await;

    let wrong = MasterKey::generate_hex().expect("random");
    let error = start(config(data_dir.path(), Some(wrong)))
        .await
        .err()
        .expect("a wrong key is refused");
    assert!(error.to_string().contains("master key"), "{error}");

    let server = start(config(data_dir.path(), None))
        .await
        .expect("the right key still works");
    let revealed = server
        .jobs
        .secrets()
        .reveal("KEPT")
        .await
        .expect("the secret survived");
    assert_eq!(revealed.expose(), "kept-across-restarts");
    server.stop(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_key_file_others_can_read_is_refused() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let key_file = data_dir.path().join("master.key");
    std::fs::write(&key_file, MasterKey::generate_hex().expect("random")).expect("write key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let error = start(config(data_dir.path(), None))
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("readable by others"), "{error}");
}
