use std::path::Path;

use corral_proto::verify::{ContainerProfile, Observations, ProfileMount};

use super::{Expected, judge};

use crate::testing::LIMITS;

fn expected(gvisor: bool) -> Expected<'static> {
    Expected {
        limits: &LIMITS,
        gvisor,
        worker_bin: Path::new("/opt/corral/corral-worker"),
        data_dirs: [Path::new("/data"), Path::new("/data")],
        no_egress: true,
        host_connections: 0,
    }
}

/// What a container made by `container_spec` shows under runc.
fn good() -> (Observations, ContainerProfile) {
    let inside: Observations = serde_json::from_value(serde_json::json!({
        "interfaces": ["lo"], "root_write": "EROFS", "root_read_only": true, "uid": 10001,
        "capabilities": {"CapBnd": "0000000000000000", "CapEff": "0000000000000000", "CapPrm": "0000000000000000"},
        "no_new_privs": "1", "no_new_privs_prctl": true, "seccomp": "2", "kernel": "6.1",
        "pids_max": "256", "memory_max": "536870912", "tmp_fs_type": "tmpfs", "tmp_size": 268_435_456,
        "sockets": [], "worker_read": "ok", "worker_write": "EACCES", "worker_pid": 7,
        "worker_mem": "EACCES", "worker_environ": "EACCES", "token_file_present": false,
        "connects": {"127.0.0.1:4000": "ECONNREFUSED", "127.0.0.1:3128": "ECONNREFUSED"}
    }))
    .expect("observations");
    let bind = |source: &str, destination: &str| ProfileMount {
        kind: "bind".into(),
        source: source.into(),
        destination: destination.into(),
        read_write: false,
    };
    let tmpfs = |extra: &str| format!("rw,nosuid,nodev,size={}{extra}", 256 << 20);
    let outside = ContainerProfile {
        readonly_rootfs: true,
        network_mode: "none".into(),
        user: "10001:10001".into(),
        cap_drop: vec!["ALL".into()],
        security_opt: vec!["no-new-privileges".into()],
        pids_limit: Some(256),
        memory: Some(512 << 20),
        memory_swap: Some(512 << 20),
        tmpfs: [
            ("/tmp".to_owned(), tmpfs(",mode=1777")),
            ("/home/corral".to_owned(), tmpfs(",mode=0700")),
        ]
        .into(),
        runtime: "runc".into(),
        mounts: vec![
            bind("/data/sockets/j-1", "/run/corral"),
            bind("/opt/corral/corral-worker", "/run/corral-worker"),
        ],
        ..ContainerProfile::default()
    };
    (inside, outside)
}

fn failing(inside: &Observations, outside: &ContainerProfile, gvisor: bool) -> Vec<String> {
    judge(&expected(gvisor), Some(inside), Some(outside))
        .into_iter()
        .filter(|row| !row.ok)
        .map(|row| row.promise)
        .collect()
}

#[test]
fn the_profile_container_spec_makes_passes_every_row() {
    let (inside, outside) = good();
    assert_eq!(failing(&inside, &outside, false), Vec::<String>::new());
}

#[test]
fn each_weakened_setting_fails_its_own_row() {
    type Weaken = fn(&mut Observations, &mut ContainerProfile);
    let cases: [(&str, Weaken); 14] = [
        ("no network", |i, _| i.interfaces.push("eth0".into())),
        ("read-only", |i, o| {
            i.root_write = "ok".into();
            o.readonly_rootfs = false;
        }),
        ("other than root", |i, _| i.uid = 0),
        ("no capabilities", |i, _| {
            i.capabilities
                .insert("CapBnd".into(), "00000000a80425fb".into());
        }),
        ("no new privileges", |_, o| o.security_opt.clear()),
        ("seccomp", |i, o| {
            i.seccomp = Some("0".into());
            o.security_opt.push("seccomp=unconfined".into());
        }),
        ("pids", |_, o| o.pids_limit = None),
        ("memory", |_, o| o.memory_swap = Some(-1)),
        ("tmpfs", |_, o| {
            o.tmpfs.insert("/tmp".into(), "rw".into());
        }),
        ("Docker", |i, _| {
            i.sockets.push("/var/run/docker.sock".into());
        }),
        ("host path", |_, o| {
            o.mounts.push(ProfileMount {
                kind: "bind".into(),
                source: "/etc".into(),
                destination: "/host-etc".into(),
                read_write: false,
            });
        }),
        ("worker's binary", |i, _| i.worker_write = "ok".into()),
        ("worker's memory", |i, _| i.worker_mem = "ok".into()),
        ("egress", |i, _| {
            i.connects.insert("127.0.0.1:4000".into(), "ok".into());
        }),
    ];
    for (name, weaken) in cases {
        let (mut inside, mut outside) = good();
        weaken(&mut inside, &mut outside);
        let failed = failing(&inside, &outside, false);
        assert_eq!(failed.len(), 1, "{name}: {failed:?}");
        assert!(failed[0].contains(name), "{name}: {failed:?}");
    }
}

#[test]
fn gvisor_is_judged_by_what_gvisor_shows() {
    let (mut inside, mut outside) = good();
    // gVisor: no NoNewPrivs line, no cgroup files, its own kernel.
    inside.no_new_privs = None;
    inside.pids_max = None;
    inside.memory_max = None;
    inside.kernel = "4.4.0".into();
    outside.runtime = "runsc".into();
    outside.pids_limit = Some(corral_runtime::host_pids_limit(256, true));
    assert_eq!(failing(&inside, &outside, true), Vec::<String>::new());
    outside.runtime = "runc".into();
    assert_eq!(failing(&inside, &outside, true).len(), 1);
}

#[test]
fn a_probe_that_printed_nothing_fails_every_row() {
    let (_, outside) = good();
    let rows = judge(&expected(false), None, Some(&outside));
    assert!(rows.iter().all(|row| !row.ok));
    assert!(rows[0].observed.contains("observations: missing"));
}

/// Podman reports each dropped capability rather than the `ALL` it was
/// given: that passes when the bounding set inside is empty, and only then.
#[test]
fn capabilities_dropped_one_by_one_pass_only_with_an_empty_bounding_set() {
    let (mut inside, mut outside) = good();
    outside.cap_drop = ["CHOWN", "DAC_OVERRIDE", "KILL", "SETUID", "SETGID"]
        .map(String::from)
        .to_vec();
    assert_eq!(failing(&inside, &outside, false), Vec::<String>::new());
    inside
        .capabilities
        .insert("CapBnd".into(), "00000000a80425fb".into());
    assert_eq!(
        failing(&inside, &outside, false),
        vec!["no capabilities (effective, permitted, bounding)".to_owned()]
    );
    let (inside, mut outside) = good();
    outside.cap_drop = Vec::new();
    assert_eq!(
        failing(&inside, &outside, false),
        vec!["no capabilities (effective, permitted, bounding)".to_owned()]
    );
}
