use corral_proto::{IsolationLevel, Job};

use super::profile::same_profile;
use super::*;

fn job(project: Option<&str>) -> Job {
    let defaults = crate::testing::LIMITS;
    let profile = Profile::new("corral/default:latest", &defaults, IsolationLevel::Runc);
    Job {
        project: project.map(str::to_owned),
        ..template("j-1", &profile, &defaults)
    }
}

#[test]
fn a_job_with_a_project_never_takes_a_pool_container() {
    assert!(Profile::of(&job(Some("/src"))).is_none());
    assert!(Profile::of(&job(None)).is_some());
    let copied = Job {
        project_mode: corral_proto::ProjectMode::Copy,
        ..job(Some("/src"))
    };
    assert!(
        Profile::of(&copied).is_some(),
        "a copied project is unpacked"
    );
}

#[test]
fn the_claude_image_is_pooled_with_the_memory_claude_jobs_get() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = crate::config::Config::load(crate::config::ConfigOverrides {
        data_dir: Some(dir.path().to_owned()),
        pool_size: Some(1),
        ..crate::config::ConfigOverrides::default()
    })
    .expect("config");
    config.pool.images = vec![config.default_image.clone(), config.claude_image.clone()];
    let pool = Pool::from_config(&config).expect("a pool");
    assert_eq!(
        pool.profiles[0].memory_bytes,
        config.default_limits.memory_bytes
    );
    assert_eq!(
        pool.profiles[1].memory_bytes,
        super::super::validate::CLAUDE_MEMORY
    );
}

#[test]
fn limits_outside_the_container_do_not_change_the_profile() {
    let plain = job(None);
    let mut longer = job(None);
    longer.limits.timeout_secs = 5;
    longer.limits.max_llm_calls = 99;
    assert!(same_profile(&plain, &longer));
    let mut bigger = job(None);
    bigger.limits.memory_bytes *= 2;
    assert!(!same_profile(&plain, &bigger));
    let (plain, bigger) = (Profile::of(&plain), Profile::of(&bigger));
    assert!(
        plain
            .zip(bigger)
            .is_some_and(|(plain, bigger)| plain.fits(&bigger))
    );
    let mut other_tmpfs = job(None);
    other_tmpfs.limits.tmpfs_bytes *= 2;
    let other_tmpfs = Profile::of(&other_tmpfs).expect("profile");
    assert!(!Profile::of(&job(None)).expect("profile").fits(&other_tmpfs));
    let plain = job(None);
    let mut gvisor = job(None);
    gvisor.isolation_level = IsolationLevel::Gvisor;
    assert!(!same_profile(&plain, &gvisor));
    let mut other = job(None);
    other.image = "corral/claude:latest".into();
    assert!(!same_profile(&plain, &other));
}
