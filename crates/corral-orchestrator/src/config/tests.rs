use super::settings::*;

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

#[test]
fn the_pool_is_off_by_default_pools_the_default_image_and_is_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corral.toml");
    let load = |pool_size: Option<usize>| {
        Config::load(ConfigOverrides {
            data_dir: Some(dir.path().to_owned()),
            image: Some("mine:1".into()),
            pool_size,
            ..ConfigOverrides::default()
        })
    };
    let config = load(None).expect("config loads");
    assert_eq!(config.pool.size, 0);
    assert_eq!(config.pool.images, vec!["mine:1".to_owned()]);
    std::fs::write(&path, "[pool]\nsize = 3\nimages = [\"a\", \"b\"]\n").expect("write config");
    let config = load(Some(1)).expect("config loads");
    assert_eq!(config.pool.size, 1, "the flag beats the file");
    assert_eq!(config.pool.images, vec!["a".to_owned(), "b".to_owned()]);
    let error = load(Some(1000)).expect_err("a thousand is refused");
    assert!(error.to_string().contains("pool.size"), "{error}");
    std::fs::write(&path, "[pool]\nimages = [\" \"]\n").expect("write config");
    let error = load(None).expect_err("a blank image is refused");
    assert!(error.to_string().contains("pool.images"), "{error}");
}

#[test]
fn a_relative_worker_binary_becomes_absolute() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::load(ConfigOverrides {
        data_dir: Some(dir.path().to_owned()),
        worker_bin: Some("target/corral-worker".into()),
        ..ConfigOverrides::default()
    })
    .expect("config loads");
    assert!(config.worker_bin.is_absolute(), "{:?}", config.worker_bin);
    assert!(config.worker_bin.ends_with("target/corral-worker"));
}
