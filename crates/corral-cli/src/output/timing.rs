//! Times and durations for people, one shape each for every command: a
//! time as `2026-12-01 17:47:10 UTC`, a duration as a user writes it
//! (`45s`, `1m05s`, `10m`, `1h30m`). JSON keeps the wire's RFC 3339.

use corral_proto::{DurationSpec, Job};
use time::OffsetDateTime;
use time::macros::format_description;

/// `2026-12-01 17:47:10 UTC`: seconds are enough for people, and UTC says
/// the same to everyone reading a shared terminal or a pasted log.
pub fn human_time(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| utc.format(format).ok())
        .unwrap_or_else(|| corral_proto::timestamp::format(at))
}

/// A time the wire wrote as RFC 3339 text, for people; the text as it came
/// when it is not a time.
pub fn human_time_text(text: &str) -> String {
    corral_proto::timestamp::parse(text).map_or_else(|_| text.to_owned(), human_time)
}

/// Whole seconds as a user writes them: `45s`, `1m05s`, `10m`, `1h30m`.
pub fn human_duration(secs: u64) -> String {
    DurationSpec(secs).to_string()
}

/// How long a job ran: start to end, or to `now` while it runs; `None`
/// before it started.
pub fn job_duration(job: &Job, now: OffsetDateTime) -> Option<String> {
    let started = job.started_at?;
    let end = job.finished_at.unwrap_or(now);
    let took = end - started;
    // Under a second, milliseconds: a job that ran 40 ms did not take
    // "0.0s" (a scripted demo job does).
    if took < time::Duration::seconds(1) {
        return Some(format!("{}ms", took.whole_milliseconds().max(0)));
    }
    // Under ten seconds, tenths: a job that ran 1.9 s did not take "1s".
    if took < time::Duration::seconds(10) {
        let tenths = u64::try_from(took.whole_milliseconds() / 100).unwrap_or(0);
        return Some(format!("{}.{}s", tenths / 10, tenths % 10));
    }
    let secs = u64::try_from(took.whole_seconds()).unwrap_or(0);
    Some(human_duration(secs))
}

#[cfg(test)]
mod tests {
    use corral_proto::{Job, JobMode};
    use time::macros::datetime;

    use super::*;

    fn job() -> Job {
        super::super::fixtures::job(JobMode::Exec)
    }

    #[test]
    fn times_read_as_one_utc_shape_whatever_their_offset() {
        assert_eq!(
            human_time(datetime!(2026-12-01 17:47:10.999 UTC)),
            "2026-12-01 17:47:10 UTC"
        );
        assert_eq!(
            human_time(datetime!(2026-12-01 19:47:10 +02:00)),
            "2026-12-01 17:47:10 UTC"
        );
        assert_eq!(
            human_time_text("2026-12-01T17:47:10.123Z"),
            "2026-12-01 17:47:10 UTC"
        );
        assert_eq!(human_time_text("-"), "-");
    }

    #[test]
    fn a_jobs_duration_runs_from_start_to_end_or_now() {
        let now = datetime!(2026-12-01 18:00:00 UTC);
        assert_eq!(job_duration(&job(), now), None, "not started");
        let running = Job {
            started_at: Some(datetime!(2026-12-01 17:58:55 UTC)),
            ..job()
        };
        assert_eq!(job_duration(&running, now).as_deref(), Some("1m05s"));
        let ended = Job {
            finished_at: Some(datetime!(2026-12-01 19:28:55.7 UTC)),
            ..running
        };
        assert_eq!(job_duration(&ended, now).as_deref(), Some("1h30m"));
        let quick = Job {
            finished_at: Some(datetime!(2026-12-01 17:58:55.94 UTC)),
            ..ended
        };
        assert_eq!(job_duration(&quick, now).as_deref(), Some("940ms"));
        let instant = Job {
            finished_at: Some(datetime!(2026-12-01 17:58:55.04 UTC)),
            ..quick.clone()
        };
        assert_eq!(job_duration(&instant, now).as_deref(), Some("40ms"));
        let seconds = Job {
            finished_at: Some(datetime!(2026-12-01 17:58:56.97 UTC)),
            ..quick
        };
        assert_eq!(job_duration(&seconds, now).as_deref(), Some("1.9s"));
    }
}
