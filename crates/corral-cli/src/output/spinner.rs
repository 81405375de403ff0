//! A spinner on stderr while something is awaited, on a terminal only. Its
//! messages (a job id, a build step) are made visible like every other text.

use super::{colour, visible};

/// A spinner on stderr, or nothing when stderr is not a terminal.
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    /// Starts spinning with `message` (nothing when not on a terminal).
    pub fn start(message: &str) -> Self {
        if !colour() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(visible(message).into_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }

    /// Changes the message.
    pub fn say(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(visible(message).into_owned());
        }
    }

    /// Runs `print` with the spinner out of the way.
    pub fn suspend(&self, print: impl FnOnce()) {
        match &self.0 {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Stops and clears it.
    pub fn stop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
