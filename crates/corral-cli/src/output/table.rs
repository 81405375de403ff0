//! `corral jobs` as a table: one line per job, its last column (the command,
//! or the prompt in quotes) cut with `…` to the width of the terminal.

use corral_proto::Job;
use time::OffsetDateTime;

use super::timing::{human_time, job_duration};
use super::visible_line;

/// The header and one line per job, each at most `width` characters wide
/// (the last column is cut; the others keep their width). Every value is
/// made visible before it is measured and cut.
pub fn jobs_table(jobs: &[Job], width: usize, now: OffsetDateTime) -> Vec<String> {
    let row = |id: &str, state: &str, mode: &str, exit: &str, created: &str, took: &str| {
        format!("{id:<18} {state:<10} {mode:<6} {exit:<4} {created:<23} {took:<9} ")
    };
    let header = row("ID", "STATE", "MODE", "EXIT", "CREATED", "DURATION");
    let mut lines = vec![format!("{header}COMMAND/PROMPT")];
    for job in jobs {
        let exit = job
            .exit_code
            .map_or_else(|| "-".into(), |code| code.to_string());
        let took = job_duration(job, now).unwrap_or_else(|| "-".into());
        let start = row(
            &visible_line(&job.id),
            if job.waiting_since.is_some() {
                "waiting"
            } else {
                job.state.as_str()
            },
            job.mode.as_str(),
            &exit,
            &human_time(job.created_at),
            &took,
        );
        let room = width.saturating_sub(start.chars().count());
        lines.push(format!("{start}{}", cut(&what(job), room)));
    }
    lines
}

/// The command of an exec job; the prompt, quoted, of an agent job.
fn what(job: &Job) -> String {
    match (&job.command, &job.prompt) {
        (Some(command), _) => visible_line(&super::describe_command(command)).into_owned(),
        (None, Some(prompt)) => format!("\"{}\"", visible_line(prompt)),
        (None, None) => "-".to_owned(),
    }
}

/// `text` in at most `room` characters, its end replaced by `…` when cut
/// (and at least the `…`, so a cut is never silent).
fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let kept: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use corral_proto::{CommandSpec, Job, JobMode, JobState};
    use time::macros::datetime;

    use super::jobs_table;

    fn job(mode: JobMode) -> Job {
        Job {
            state: JobState::Succeeded,
            exit_code: Some(0),
            created_at: datetime!(2026-12-01 17:47:10.123 UTC),
            started_at: Some(datetime!(2026-12-01 17:47:11 UTC)),
            finished_at: Some(datetime!(2026-12-01 17:47:56 UTC)),
            ..super::super::fixtures::job(mode)
        }
    }

    #[test]
    fn the_table_shows_mode_duration_and_a_prompt_where_exec_shows_a_command() {
        let exec = Job {
            command: Some(CommandSpec::Argv(vec!["make".into(), "test".into()])),
            ..job(JobMode::Exec)
        };
        let worker = Job {
            prompt: Some("fix the build\n\x1b[2Jnow".into()),
            ..job(JobMode::Worker)
        };
        let lines = jobs_table(&[exec, worker], 200, datetime!(2030-01-01 0:00 UTC));
        assert!(
            lines[0].contains("MODE") && lines[0].contains("DURATION"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("j-0123456789abcdef succeeded  exec "),
            "{lines:?}"
        );
        assert!(lines[1].contains(" 2026-12-01 17:47:10 UTC "), "{lines:?}");
        assert!(lines[1].contains(" 45s "), "{lines:?}");
        assert!(lines[1].ends_with(" make test"), "{lines:?}");
        assert!(lines[2].contains(" worker "), "{lines:?}");
        assert!(
            lines[2].ends_with(" \"fix the build^J^[[2Jnow\""),
            "{lines:?}"
        );
    }

    #[test]
    fn a_long_command_is_cut_with_an_ellipsis_to_the_width() {
        let long = Job {
            command: Some(CommandSpec::Shell("x".repeat(300))),
            ..job(JobMode::Exec)
        };
        for width in [100, 120] {
            let lines = jobs_table(
                std::slice::from_ref(&long),
                width,
                datetime!(2030-01-01 0:00 UTC),
            );
            assert_eq!(lines[1].chars().count(), width, "{lines:?}");
            assert!(lines[1].ends_with("x…"), "{lines:?}");
        }
        let short = Job {
            command: Some(CommandSpec::Shell("true".into())),
            ..job(JobMode::Exec)
        };
        let lines = jobs_table(&[short], 100, datetime!(2030-01-01 0:00 UTC));
        assert!(lines[1].ends_with(" true"), "not cut: {lines:?}");
    }
}
