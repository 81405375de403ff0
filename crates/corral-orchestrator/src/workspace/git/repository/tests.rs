use std::process::Command;

use super::*;

/// A fresh repository made by git itself.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new("git")
        .args(["init", "-q"])
        .arg(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git init");
    assert!(status.success());
    dir
}

fn problem(project: &Path) -> String {
    match UserRepository::find(project) {
        Err(WorkspaceError::Untrusted { problem, .. }) => problem,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("{} was accepted", project.display()),
    }
}

#[test]
fn a_fresh_repository_is_accepted_and_a_plain_directory_is_none() {
    let repo = repository();
    assert!(matches!(UserRepository::find(repo.path()), Ok(Some(_))));
    let plain = tempfile::tempdir().expect("temp dir");
    assert!(matches!(UserRepository::find(plain.path()), Ok(None)));
}

#[test]
fn a_bare_layout_without_git_is_refused_as_bare() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    std::fs::create_dir(dir.path().join("objects")).expect("objects");
    std::fs::create_dir(dir.path().join("refs")).expect("refs");
    let error = UserRepository::find(dir.path()).err().expect("refused");
    assert!(error.to_string().contains("bare"), "{error}");
}

#[test]
fn a_repository_borrowing_from_another_is_refused() {
    for (path, named) in [
        ("commondir", "commondir"),
        ("objects/info/alternates", "alternates"),
        ("objects/info/http-alternates", "http-alternates"),
    ] {
        let repo = repository();
        let file = repo.path().join(".git").join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, "/elsewhere/.git\n").expect("plant");
        assert!(problem(repo.path()).contains(named), "{path}");
    }
}

#[test]
fn links_and_fifos_under_git_are_refused_but_hooks_are_never_looked_at() {
    let repo = repository();
    let git_dir = repo.path().join(".git");
    std::fs::remove_dir_all(git_dir.join("hooks")).expect("remove hooks");
    std::os::unix::fs::symlink("/etc", git_dir.join("hooks")).expect("link hooks");
    assert!(matches!(UserRepository::find(repo.path()), Ok(Some(_))));
    std::fs::create_dir_all(git_dir.join("refs/heads")).expect("mkdir");
    std::os::unix::fs::symlink("/etc", git_dir.join("refs/heads/corral")).expect("link");
    assert!(problem(repo.path()).contains("refs/heads/corral"));
    std::fs::remove_file(git_dir.join("refs/heads/corral")).expect("unlink");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        git_dir.join("FETCH_HEAD"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    assert!(problem(repo.path()).contains("FETCH_HEAD"));
}

#[test]
fn a_bad_key_in_either_config_file_is_named_with_its_file() {
    let repo = repository();
    let git_dir = repo.path().join(".git");
    std::fs::write(git_dir.join("config.worktree"), "[core]\n\tfsmonitor = x\n").expect("write");
    let found = problem(repo.path());
    assert!(
        found.contains(".git/config.worktree") && found.contains("`core.fsmonitor`"),
        "{found}"
    );
    assert!(found.contains("--unset-all core.fsmonitor"), "{found}");
}

#[test]
fn a_key_that_is_not_a_plain_word_is_never_offered_as_a_command() {
    let repo = repository();
    let config = repo.path().join(".git/config");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("[filter \"x'; rm -rf ~; '\u{202e}\"]\n\tclean = x\n");
    std::fs::write(&config, text).expect("write");
    let found = problem(repo.path());
    assert!(!found.contains("--unset-all"), "{found}");
    assert!(
        !found.contains('\u{202e}') && found.contains("\\u{202e}"),
        "{found}"
    );
}

#[test]
fn a_symlinked_config_is_refused() {
    let repo = repository();
    let git_dir = repo.path().join(".git");
    std::fs::rename(git_dir.join("config"), repo.path().join("real-config")).expect("move");
    std::os::unix::fs::symlink(repo.path().join("real-config"), git_dir.join("config"))
        .expect("link");
    assert!(problem(repo.path()).contains("config"));
}
