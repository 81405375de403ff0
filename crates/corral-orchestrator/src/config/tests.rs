use super::*;

#[test]
fn flags_beat_the_file_and_the_file_beats_defaults() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("corral.toml"),
        "max_concurrent_jobs = 2\nimage = \"from-file\"\n[limits]\nmemory = \"128m\"\n",
    )
    .expect("write config");
    let config = Config::load(ConfigOverrides {
        data_dir: Some(dir.path().to_owned()),
        image: Some("from-flag".into()),
        ..ConfigOverrides::default()
    })
    .expect("config loads");
    assert_eq!(config.default_image, "from-flag");
    assert_eq!(config.max_concurrent_jobs, 2);
    assert_eq!(config.default_limits.memory_bytes, 128 << 20);
    assert_eq!(config.default_limits.pids, DEFAULT_PIDS);
}

#[test]
fn unknown_keys_and_absurd_limits_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corral.toml");
    std::fs::write(&path, "max_parallel_jobs = 2\n").expect("write config");
    let error = Config::load(ConfigOverrides {
        data_dir: Some(dir.path().to_owned()),
        ..ConfigOverrides::default()
    })
    .expect_err("typo is refused");
    assert!(error.to_string().contains("max_parallel_jobs"), "{error}");

    std::fs::write(&path, "[limits]\npids = 1\n").expect("write config");
    let error = Config::load(ConfigOverrides {
        data_dir: Some(dir.path().to_owned()),
        ..ConfigOverrides::default()
    })
    .expect_err("one pid is refused");
    assert!(error.to_string().contains("pids"), "{error}");
}
