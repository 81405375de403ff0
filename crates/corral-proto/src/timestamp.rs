//! Timestamps on the wire: RFC 3339 in UTC with `Z` and exactly three
//! fraction digits (`2026-12-01T17:47:10.123Z`), one shape for every field,
//! so clients can compare them as text and the API, the MCP tools and the
//! CLI's JSON agree. Reading accepts any RFC 3339 time (any offset, any
//! fraction or none), so older clients and stored values still parse.
//!
//! Use it as `#[serde(with = "corral_proto::timestamp")]`, or
//! [`option`] for an `Option<OffsetDateTime>`.

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// `2026-12-01T17:47:10.123Z`: the one shape corral writes.
const WIRE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// `at` in the wire shape: UTC, milliseconds, `Z`.
pub fn format(at: OffsetDateTime) -> String {
    // `checked_`: a time at the edge of the range with an offset would
    // leave it in UTC, and a hostile server may send one.
    at.checked_to_offset(UtcOffset::UTC)
        .and_then(|utc| utc.format(WIRE).ok())
        .unwrap_or_else(|| at.unix_timestamp().to_string())
}

/// Any RFC 3339 time.
///
/// # Errors
/// When `text` is not RFC 3339.
pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

/// Writes `at` in the wire shape.
///
/// # Errors
/// Only the serializer's own.
pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*at))
}

/// Reads any RFC 3339 time.
///
/// # Errors
/// When the value is not an RFC 3339 string.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(|error| {
        serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time: {error}"))
    })
}

/// The same for an optional time (`null` when absent).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Writes `at` in the wire shape, or `null`.
    ///
    /// # Errors
    /// Only the serializer's own.
    pub fn serialize<S: Serializer>(
        at: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_str(&super::format(*at)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads any RFC 3339 time, or `null`.
    ///
    /// # Errors
    /// When the value is neither `null` nor an RFC 3339 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| {
                super::parse(&text).map_err(|error| {
                    serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time: {error}"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use time::macros::datetime;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Stamped {
        #[serde(with = "super")]
        at: OffsetDateTime,
        #[serde(with = "super::option")]
        maybe: Option<OffsetDateTime>,
    }

    #[test]
    fn a_time_at_the_edge_of_the_range_is_written_without_a_panic() {
        let edge = super::parse("9999-12-31T23:59:59-01:00").expect("RFC 3339");
        assert_eq!(super::format(edge), edge.unix_timestamp().to_string());
    }

    #[test]
    fn times_are_written_in_utc_with_exactly_three_fraction_digits() {
        let cases = [
            (
                datetime!(2026-12-01 17:47:10 UTC),
                "2026-12-01T17:47:10.000Z",
            ),
            (
                datetime!(2026-12-01 17:47:10.123_456_789 UTC),
                "2026-12-01T17:47:10.123Z",
            ),
            (
                datetime!(2026-12-01 18:47:10.5 +01:00),
                "2026-12-01T17:47:10.500Z",
            ),
        ];
        for (at, written) in cases {
            let json = serde_json::to_value(Stamped {
                at,
                maybe: Some(at),
            })
            .expect("serialize");
            assert_eq!(json["at"], written);
            assert_eq!(json["maybe"], written);
        }
        let json = serde_json::to_value(Stamped {
            at: datetime!(2026-01-01 0:00 UTC),
            maybe: None,
        })
        .expect("serialize");
        assert!(json["maybe"].is_null());
    }

    #[test]
    fn any_rfc3339_time_is_read_as_older_clients_wrote_it() {
        for (text, at) in [
            ("2026-12-01T17:47:10Z", datetime!(2026-12-01 17:47:10 UTC)),
            (
                "2026-12-01T17:47:10.123456789Z",
                datetime!(2026-12-01 17:47:10.123_456_789 UTC),
            ),
            (
                "2026-12-01T19:47:10.1+02:00",
                datetime!(2026-12-01 17:47:10.1 UTC),
            ),
        ] {
            let json = format!(r#"{{"at": "{text}", "maybe": "{text}"}}"#);
            let read: Stamped = serde_json::from_str(&json).expect(text);
            assert_eq!(read.at, at, "{text}");
            assert_eq!(read.maybe, Some(at), "{text}");
        }
        let read: Stamped =
            serde_json::from_str(r#"{"at": "2026-12-01T17:47:10Z", "maybe": null}"#).expect("null");
        assert_eq!(read.maybe, None);
        let error = serde_json::from_str::<Stamped>(r#"{"at": "yesterday", "maybe": null}"#)
            .expect_err("not a time");
        assert!(error.to_string().contains("RFC 3339"), "{error}");
    }

    #[test]
    fn jobs_and_events_write_every_time_in_the_one_shape() {
        let at = datetime!(2026-12-01 17:47:10.1 UTC);
        let job = crate::Job {
            created_at: at,
            started_at: Some(at),
            finished_at: Some(at),
            ..crate::Job::queued(
                "j-0123456789abcdef".into(),
                crate::JobMode::Exec,
                "image".into(),
                crate::Limits {
                    memory_bytes: 1,
                    cpu_shares: 2,
                    pids: 3,
                    timeout_secs: 4,
                    tmpfs_bytes: 5,
                    max_llm_calls: 6,
                    max_tokens: 7,
                    max_iterations: 8,
                    idle_timeout_secs: 9,
                },
            )
        };
        let json = serde_json::to_value(&job).expect("job");
        for field in ["created_at", "started_at", "finished_at"] {
            assert_eq!(json[field], "2026-12-01T17:47:10.100Z", "{field}");
        }
        let event = crate::Event {
            job_id: job.id,
            seq: 1,
            ts: at,
            kind: crate::EventKind::Status,
            data: serde_json::Value::Null,
            redacted: false,
        };
        let json = serde_json::to_value(&event).expect("event");
        assert_eq!(json["ts"], "2026-12-01T17:47:10.100Z");
    }
}
