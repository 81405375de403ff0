//! The job's `warning` events from its model proxy: a refused request, a
//! model rewritten to the job's. Their text quotes what the job sent, so
//! it passes the job's redactor and has its control characters made
//! visible; and a job in a loop cannot flood the store or the log: the
//! first [`MAX_WARNINGS`] are stored (and logged, without the job's text)
//! one by one, the rest counted and reported once when the job ends.

use std::sync::atomic::Ordering;

use corral_proto::NewEvent;
use tracing::{error, warn};

use super::ModelProxy;
use crate::redact::Findings;

/// Warnings stored one by one per job.
pub const MAX_WARNINGS: u64 = 20;
/// Most characters of a job's text quoted in a warning.
const MAX_QUOTED_CHARS: usize = 300;

impl ModelProxy {
    /// Stores a `warning` event saying `message` (job text included), unless
    /// the job already had its share: then it is only counted.
    pub async fn warn(&self, message: &str) {
        let number = self.warnings.fetch_add(1, Ordering::SeqCst);
        if number >= MAX_WARNINGS {
            return;
        }
        warn!(job_id = %self.job_id, "model proxy warning stored");
        let mut text = self.shown(message);
        if number + 1 == MAX_WARNINGS {
            text.push_str(
                " (later refusals and rewrites of this job's model requests are counted and \
                 reported when the job ends)",
            );
        }
        self.store_warning(text).await;
    }

    /// At the job's end: how many warnings were counted but not stored.
    pub(super) async fn report_unshown_warnings(&self) {
        let unshown = self
            .warnings
            .load(Ordering::SeqCst)
            .saturating_sub(MAX_WARNINGS);
        if unshown > 0 {
            self.store_warning(format!(
                "{unshown} more refusals or rewrites of this job's model requests were not \
                 reported one by one"
            ))
            .await;
        }
    }

    pub(super) async fn store_warning(&self, text: String) {
        let event = NewEvent::warning(text);
        if let Err(error) = self.events.append(&self.job_id, vec![event]).await {
            error!(job_id = %self.job_id, error = %error, "cannot store warning event");
        }
    }

    /// `message` redacted, its control characters made visible, shortened.
    fn shown(&self, message: &str) -> String {
        let mut findings = Findings::default();
        let clean = self
            .redactor
            .redact_text(message, &mut findings)
            .unwrap_or_else(|| message.to_owned());
        let mut visible = String::with_capacity(clean.len());
        for char in clean.chars() {
            // Controls, and the invisible marks that reorder or hide text.
            if char.is_control()
                || matches!(char, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            {
                visible.extend(char.escape_default());
            } else {
                visible.push(char);
            }
        }
        crate::text::cut_chars(&visible, MAX_QUOTED_CHARS).into_owned()
    }
}
