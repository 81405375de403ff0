//! Latency histograms (a job's start, a sandbox exec's run): fixed
//! buckets, observed by the job manager, read as a snapshot for the
//! metrics page.

use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the job start latency histogram.
const START_BUCKETS: [f64; 9] = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Upper bounds (seconds) of the exec latency histogram: from a `true`
/// (milliseconds) to a build (minutes).
pub const EXEC_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0, 60.0, 600.0];

/// A fixed-bucket histogram. A std mutex: never held across an `.await`.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    inner: Mutex<HistogramData>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::with_buckets(&START_BUCKETS)
    }
}

#[derive(Debug, Default)]
struct HistogramData {
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    /// A histogram over `bounds` (seconds, increasing).
    pub fn with_buckets(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            inner: Mutex::new(HistogramData {
                counts: vec![0; bounds.len()],
                count: 0,
                sum: 0.0,
            }),
        }
    }

    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        let mut data = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (bound, count) in self.bounds.iter().zip(data.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        data.count += 1;
        data.sum += seconds;
    }

    /// What it holds now.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let data = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        HistogramSnapshot {
            buckets: self
                .bounds
                .iter()
                .copied()
                .zip(data.counts.iter().copied())
                .collect(),
            count: data.count,
            sum: data.sum,
        }
    }
}

/// A histogram's counts at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Each bucket's upper bound (seconds) and the observations at or under it.
    pub buckets: Vec<(f64, u64)>,
    /// All observations.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum: f64,
}
