use std::fmt::Write as _;

use super::*;

fn keys_refused(config: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("config");
    std::fs::write(&file, config).expect("write config");
    read(&file)
        .expect("read config")
        .into_iter()
        .filter(|setting| !is_inert(&setting.key, setting.value.as_deref()))
        .map(|setting| setting.key)
        .collect()
}

#[test]
fn what_git_init_and_clone_write_is_inert() {
    let config = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\
        \tlogallrefupdates = true\n\tignorecase = true\n\tprecomposeunicode = true\n\
        [remote \"origin\"]\n\turl = https://example.com/r.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\
        [branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n\
        [extensions]\n\tobjectFormat = sha256\n";
    assert_eq!(keys_refused(config), Vec::<String>::new());
}

#[test]
fn settings_that_run_commands_or_read_files_are_refused() {
    let config = "[protocol \"ext\"]\n\tallow = always\n\
        [url \"ext::sh -c touch% /tmp/x% #\"]\n\tinsteadOf = /\n\
        [filter \"evil\"]\n\tclean = touch /tmp/x\n\tprocess = x\n\
        [core]\n\tfsmonitor = x\n\tsshCommand = x\n\talternateRefsCommand = x\n\tgitProxy = x\n\
        \tworktree = /elsewhere\n\tattributesFile = /x\n\thooksPath = /x\n\taskPass = x\n\
        [diff \"d\"]\n\ttextconv = x\n[merge \"m\"]\n\tdriver = x\n[credential]\n\thelper = x\n\
        [remote \"origin\"]\n\tuploadpack = x\n\treceivepack = x\n\tpromisor = true\n\
        [uploadpack]\n\tpackObjectsHook = x\n[gpg]\n\tprogram = x\n[gc]\n\trecentObjectsHook = x\n\
        [submodule \"s\"]\n\tupdate = !x\n";
    let refused = keys_refused(config);
    for key in [
        "protocol.ext.allow",
        "url.ext::sh -c touch% /tmp/x% #.insteadof",
        "filter.evil.clean",
        "filter.evil.process",
        "core.fsmonitor",
        "core.sshcommand",
        "core.alternaterefscommand",
        "core.gitproxy",
        "core.worktree",
        "core.attributesfile",
        "core.hookspath",
        "core.askpass",
        "diff.d.textconv",
        "merge.m.driver",
        "credential.helper",
        "remote.origin.uploadpack",
        "remote.origin.receivepack",
        "remote.origin.promisor",
        "uploadpack.packobjectshook",
        "gpg.program",
        "gc.recentobjectshook",
        "submodule.s.update",
    ] {
        assert!(
            refused.iter().any(|found| found == key),
            "{key}: {refused:?}"
        );
    }
}

#[test]
fn includes_are_refused_as_keys_and_never_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let included = dir.path().join("included");
    std::fs::write(&included, "[filter \"evil\"]\n\tclean = x\n").expect("write");
    let config = format!(
        "[include]\n\tpath = {0}\n[includeIf \"gitdir:/\"]\n\tpath = {0}\n",
        included.display()
    );
    assert_eq!(
        keys_refused(&config),
        ["include.path", "includeif.gitdir:/.path"],
        "the included file's filter is not listed: it was not read"
    );
}

#[test]
fn an_extension_is_inert_only_for_a_storage_format() {
    assert!(is_inert("extensions.objectformat", Some("sha256")));
    assert!(is_inert("extensions.refstorage", Some("reftable")));
    assert!(!is_inert("extensions.objectformat", Some("md5")));
    assert!(!is_inert("extensions.worktreeconfig", Some("true")));
    assert!(!is_inert("extensions.partialclone", Some("origin")));
    assert!(!is_inert("extensions.objectformat", None));
}

#[test]
fn a_named_setting_needs_its_subsection_and_a_plain_one_has_none() {
    assert!(
        is_inert("remote.a.b.url", Some("x")),
        "a subsection with dots"
    );
    assert!(!is_inert("remote.url", Some("x")));
    assert!(!is_inert("core.x.bare", Some("true")));
    assert!(!is_inert("remote.origin.uploadpack", Some("x")));
    assert!(
        is_inert("CORE.BARE", Some("false")),
        "section and name ignore case"
    );
}

#[test]
fn the_listing_keeps_bare_keys_and_values_with_newlines_apart() {
    let listing = b"core.bare\0a.b.c\nline one\nline two\0remote.o.url\nx\0";
    assert_eq!(
        parse_listing(listing),
        [
            Setting {
                key: "core.bare".into(),
                value: None
            },
            Setting {
                key: "a.b.c".into(),
                value: Some("line one\nline two".into())
            },
            Setting {
                key: "remote.o.url".into(),
                value: Some("x".into())
            },
        ]
    );
}

#[test]
fn a_config_that_is_a_link_a_fifo_or_broken_is_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("target");
    std::fs::write(&target, "[core]\n\tbare = false\n").expect("write");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    assert!(read(&link).is_err(), "a link is not followed");
    let fifo = dir.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    assert!(read(&fifo).is_err(), "a FIFO is refused without blocking");
    let broken = dir.path().join("broken");
    std::fs::write(&broken, "[core\n").expect("write");
    assert!(read(&broken).is_err());
    let big = dir.path().join("big");
    std::fs::write(&big, "# padding\n".repeat(200_000)).expect("write");
    assert!(read(&big).is_err(), "over the cap");
}

#[test]
fn a_large_config_is_read_without_blocking_on_pipes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("config");
    let mut config = String::new();
    for index in 0..8000 {
        let _ = writeln!(config, "[branch \"b{index}\"]\n\tremote = origin");
    }
    std::fs::write(&file, &config).expect("write");
    assert_eq!(read(&file).expect("read").len(), 8000);
}
