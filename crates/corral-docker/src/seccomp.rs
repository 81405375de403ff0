//! Podman's default seccomp profile, made as strict as Docker's where it
//! matters to corral: Podman lets an unprivileged container make new user
//! namespaces (so rootless nesting works), Docker does not, and a user
//! namespace is the door to much of the kernel a job should never reach
//! (the hostile suite's "new user namespace" probe found it open).
//!
//! The engine's own profile is read on this host (corral reaches only a
//! local engine) and changed where it is weaker than Docker's for an
//! unprivileged job: `clone` and `unshare` are allowed only without any
//! namespace flag, and `clone3`, whose flags seccomp cannot read, fails
//! with `ENOSYS` so the C library falls back to `clone`; `keyctl`,
//! `add_key` and `request_key` (the kernel keyring is not namespaced: jobs
//! running as one uid would share a keyring, a channel between them) and
//! `syslog` (the host's kernel log) are left to the default action, which
//! must refuse. A profile that allows by default, or names a call with
//! `name` rather than `names`, is refused rather than patched.

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

/// Calls no rule of the engine's may decide: corral's rules below, or the
/// default action, decide them.
const GUARDED: [&str; 7] = [
    "clone",
    "clone3",
    "unshare",
    "keyctl",
    "add_key",
    "request_key",
    "syslog",
];

/// Default actions that refuse a call.
const REFUSING: [&str; 5] = [
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
];

/// Makes `profile` as strict as the module says, or says why it cannot.
pub fn tighten(profile: &mut Value) -> Result<(), String> {
    let default = profile.get("defaultAction").and_then(Value::as_str);
    if !default.is_some_and(|action| REFUSING.contains(&action)) {
        return Err(format!(
            "its default action is {default:?}, not a refusal: corral only tightens a profile that \
             refuses what it does not list"
        ));
    }
    let rules = profile
        .get_mut("syscalls")
        .and_then(Value::as_array_mut)
        .ok_or("no `syscalls` list")?;
    for rule in rules.iter_mut() {
        if rule.get("name").is_some() {
            return Err("a rule names its call with `name`; corral reads only `names`".to_owned());
        }
        // Whatever the rule's action (allow, log, trace…), these calls are
        // no longer its to decide.
        if let Some(names) = rule.get_mut("names").and_then(Value::as_array_mut) {
            names.retain(|name| !name.as_str().is_some_and(|name| GUARDED.contains(&name)));
        }
    }
    let flags = |index: u64| json!([{"index": index, "value": NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]);
    // On s390 `clone` takes its flags second.
    let s390 = json!(["s390", "s390x"]);
    rules.push(json!({
        "names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": flags(0),
        "excludes": {"arches": s390},
    }));
    rules.push(json!({
        "names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": flags(1),
        "includes": {"arches": s390},
    }));
    rules.push(json!({"names": ["unshare"], "action": "SCMP_ACT_ALLOW", "args": flags(0)}));
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
                {"names": ["read", "clone", "clone3", "unshare", "keyctl", "add_key", "request_key", "syslog", "write"],
                 "action": "SCMP_ACT_ALLOW", "args": []},
                {"names": ["unshare", "clone"], "action": "SCMP_ACT_LOG", "args": []},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "args": []}
            ]
        });
        tighten(&mut profile).expect("tightened");
        assert_eq!(
            profile["syscalls"][0]["names"],
            json!(["read", "write"]),
            "the broad allow no longer names them"
        );
        assert_eq!(
            profile["syscalls"][1]["names"],
            json!([]),
            "nor a logging rule"
        );
        assert_eq!(
            profile["syscalls"][2]["names"],
            json!([]),
            "nor a rule for a capability"
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
        for call in ["keyctl", "add_key", "request_key", "syslog"] {
            assert!(
                rules_for(&profile, call).is_empty(),
                "{call} left to the refusing default"
            );
        }
        assert_eq!(rules_for(&profile, "setns")[0]["action"], "SCMP_ACT_ERRNO");
    }

    #[test]
    fn a_profile_that_allows_by_default_or_is_shaped_otherwise_is_refused() {
        assert!(tighten(&mut json!({"defaultAction": "SCMP_ACT_ERRNO"})).is_err());
        for default in ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"] {
            let mut profile = json!({"defaultAction": default, "syscalls": []});
            assert!(tighten(&mut profile).is_err(), "{default}");
        }
        let mut profile = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"name": "unshare", "action": "SCMP_ACT_ALLOW"}]
        });
        assert!(tighten(&mut profile).is_err());
    }

    #[test]
    fn the_profile_podman_ships_here_is_tightened_when_there_is_one() {
        let Some(text) = super::PROFILES
            .iter()
            .find_map(|path| std::fs::read_to_string(path).ok())
        else {
            return; // No Podman on this host: the engine matrix installs it.
        };
        let mut profile: Value = serde_json::from_str(&text).expect("JSON");
        tighten(&mut profile).expect("Podman's own profile is accepted");
        assert!(
            !rules_for(&profile, "keyctl")
                .iter()
                .any(|rule| rule["action"] == "SCMP_ACT_ALLOW")
        );
    }
}
