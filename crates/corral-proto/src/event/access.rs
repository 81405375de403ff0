//! Building an event from a payload and reading a payload back out of an
//! event, so no sender or reader names a field in a string.

use serde::Deserialize;
use serde_json::Value;

use super::Payload;
use super::payload::{NoticeData, OutputRef};
use super::{Event, EventKind, NewEvent};
use crate::JobState;

impl NewEvent {
    /// An event carrying `payload`.
    pub fn of<P: Payload>(payload: &P) -> Self {
        Self::new(P::KIND, serde_json::to_value(payload).unwrap_or_default())
    }

    /// An `error` event saying `message`.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(EventKind::Error, notice_value(message))
    }

    /// A `warning` event saying `message`.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(EventKind::Warning, notice_value(message))
    }

    /// Its payload as `P`, if it is of `P`'s kind and reads as one.
    pub fn payload<P: Payload>(&self) -> Option<P> {
        read_as(self.kind, &self.data)
    }

    /// An `output` event's stream and text, borrowed.
    pub fn output(&self) -> Option<OutputRef<'_>> {
        output_ref(self.kind, &self.data)
    }
}

impl Event {
    /// The state a `status` event reports, read without building the rest
    /// of its payload (a follower asks this of every status event).
    pub fn state(&self) -> Option<JobState> {
        #[derive(Deserialize)]
        struct StateOnly {
            #[serde(default)]
            state: Option<JobState>,
        }
        (self.kind == EventKind::Status)
            .then(|| StateOnly::deserialize(&self.data).ok()?.state)
            .flatten()
    }

    /// An `output` event's stream and text, borrowed.
    pub fn output(&self) -> Option<OutputRef<'_>> {
        output_ref(self.kind, &self.data)
    }

    /// Its payload as `P`, if it is of `P`'s kind and reads as one.
    pub fn payload<P: Payload>(&self) -> Option<P> {
        read_as(self.kind, &self.data)
    }
}

fn notice_value(message: impl Into<String>) -> Value {
    serde_json::to_value(NoticeData::new(message)).unwrap_or_default()
}

fn output_ref(kind: EventKind, data: &Value) -> Option<OutputRef<'_>> {
    (kind == EventKind::Output)
        .then(|| OutputRef::deserialize(data).ok())
        .flatten()
}

fn read_as<P: Payload>(kind: EventKind, data: &Value) -> Option<P> {
    (kind == P::KIND)
        .then(|| P::deserialize(data).ok())
        .flatten()
}
