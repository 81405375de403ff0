//! Podman's default seccomp profile, made as strict as Docker's where it
//! matters to corral: Podman lets an unprivileged container make new user
//! namespaces (so rootless nesting works), Docker does not, and a user
//! namespace is the door to much of the kernel a job should never reach
//! (the hostile suite's "new user namespace" probe found it open).
//!
//! The engine's own profile is read on this host (corral reaches only a
//! local engine) and changed in one way: `clone` and `unshare` are allowed
//! only without any namespace flag, and `clone3`, whose flags seccomp
//! cannot read, fails with `ENOSYS` so the C library falls back to
//! `clone`. Everything else stays as Podman ships it.

use std::path::Path;

use serde_json::{Value, json};

/// Where Podman keeps its default profile: the administrator's, then the
/// package's.
const PROFILES: [&str; 2] = [
    "/etc/containers/seccomp.json",
    "/usr/share/containers/seccomp.json",
];

/// Every `CLONE_NEW*` flag: mount, cgroup, UTS, IPC, user, PID, network.
const NAMESPACE_FLAGS: u64 =
    0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000;

/// `ENOSYS`: "no such call", so callers fall back.
const ENOSYS: u64 = 38;

/// Podman's profile, tightened, in a file of its own that lives as long as
/// the returned handle; `Err` says why it could not be made (then no job
/// may run on Podman).
pub fn podman_profile() -> Result<tempfile::NamedTempFile, String> {
    let (path, text) = PROFILES
        .iter()
        .find_map(|path| Some((*path, std::fs::read_to_string(path).ok()?)))
        .ok_or_else(|| {
            format!(
                "Podman's seccomp profile is in neither {}: corral tightens it for every job and \
                 will not run jobs without it",
                PROFILES.join(" nor ")
            )
        })?;
    let mut profile: Value = serde_json::from_str(&text)
        .map_err(|error| format!("{path} is not a seccomp profile: {error}"))?;
    tighten(&mut profile).map_err(|error| format!("{path}: {error}"))?;
    let mut file = tempfile::Builder::new()
        .prefix("corral-seccomp-")
        .suffix(".json")
        .tempfile()
        .map_err(|error| format!("cannot write the tightened profile: {error}"))?;
    serde_json::to_writer(&mut file, &profile)
        .map_err(|error| format!("cannot write the tightened profile: {error}"))?;
    Ok(file)
}

/// The path a tightened profile was written to, for `SecurityOpt`.
pub fn security_opt(path: &Path) -> String {
    format!("seccomp={}", path.display())
}

/// Makes `profile` refuse every namespace flag to `clone` and `unshare`,
/// and `clone3` (see the module).
pub fn tighten(profile: &mut Value) -> Result<(), String> {
    let rules = profile
        .get_mut("syscalls")
        .and_then(Value::as_array_mut)
        .ok_or("no `syscalls` list")?;
    let guarded = ["clone", "clone3", "unshare"];
    for rule in rules.iter_mut() {
        let allows = rule.get("action").and_then(Value::as_str) == Some("SCMP_ACT_ALLOW");
        if let (true, Some(names)) = (allows, rule.get_mut("names").and_then(Value::as_array_mut)) {
            names.retain(|name| !name.as_str().is_some_and(|name| guarded.contains(&name)));
        }
    }
    let without_namespaces = |call: &str, index: u64, arches: Value| {
        json!({
            "names": [call],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": index, "value": NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            "includes": arches,
        })
    };
    // On s390 `clone` takes its flags second.
    let s390 = json!(["s390", "s390x"]);
    rules.push(json!({
        "names": ["clone"],
        "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
        "excludes": {"arches": s390},
    }));
    rules.push(without_namespaces("clone", 1, json!({"arches": s390})));
    rules.push(without_namespaces("unshare", 0, json!({})));
    rules.push(json!({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS}));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{NAMESPACE_FLAGS, tighten};

    fn rules_for<'a>(profile: &'a Value, call: &str) -> Vec<&'a Value> {
        profile["syscalls"]
            .as_array()
            .expect("syscalls")
            .iter()
            .filter(|rule| {
                rule["names"]
                    .as_array()
                    .is_some_and(|names| names.iter().any(|name| name == call))
            })
            .collect()
    }

    #[test]
    fn clone_and_unshare_are_allowed_only_without_namespace_flags_and_clone3_fails() {
        let mut profile = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["read", "clone", "clone3", "unshare", "write"], "action": "SCMP_ACT_ALLOW", "args": []},
                {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "args": []}
            ]
        });
        tighten(&mut profile).expect("tightened");
        assert_eq!(
            profile["syscalls"][0]["names"],
            json!(["read", "write"]),
            "the broad allow no longer names them"
        );
        for call in ["clone", "unshare"] {
            let rules = rules_for(&profile, call);
            assert!(!rules.is_empty(), "{call}");
            for rule in rules {
                assert_eq!(rule["action"], "SCMP_ACT_ALLOW");
                assert_eq!(rule["args"][0]["op"], "SCMP_CMP_MASKED_EQ", "{rule}");
                assert_eq!(rule["args"][0]["value"], NAMESPACE_FLAGS, "{rule}");
                assert_eq!(rule["args"][0]["valueTwo"], 0, "{rule}");
            }
        }
        let clone3 = rules_for(&profile, "clone3");
        assert_eq!(clone3.len(), 1);
        assert_eq!(clone3[0]["action"], "SCMP_ACT_ERRNO");
        assert_eq!(rules_for(&profile, "setns")[0]["action"], "SCMP_ACT_ERRNO");
    }

    #[test]
    fn a_profile_without_a_syscall_list_is_refused() {
        assert!(tighten(&mut json!({"defaultAction": "SCMP_ACT_ALLOW"})).is_err());
    }
}
