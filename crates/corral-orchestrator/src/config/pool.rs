//! `[pool]`: the warm pool's size and images.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// Pool containers per image: each is a started container kept in reserve.
pub const MAX_POOL_SIZE: usize = 64;

/// Longest a warm start's refill and rename wait for the job's worker to
/// first report: a worker that stays silent (or is not corral's) holds
/// them no longer.
pub const FIRST_REPORT_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct FilePool {
    size: Option<usize>,
    images: Option<Vec<String>>,
}

/// The warm pool: `size` started containers per image, waiting for jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Containers kept ready per image; 0 turns the pool off.
    pub size: usize,
    /// The images pooled (with the default limits and isolation).
    pub images: Vec<String>,
    /// How long a warm start puts off the refill and the rename while its
    /// worker is silent: [`FIRST_REPORT_WAIT`]. Not in the file; tests
    /// lengthen it to see the order without racing the clock.
    pub first_report_wait: Duration,
}

/// The pool settings: the flag beats the file; the server's default image
/// is pooled unless the file names the images.
pub(super) fn settings(
    file: FilePool,
    size: Option<usize>,
    default_image: &str,
) -> Result<PoolSettings, ConfigError> {
    let pool = PoolSettings {
        size: size.or(file.size).unwrap_or(0),
        images: file
            .images
            .unwrap_or_else(|| vec![default_image.to_owned()]),
        first_report_wait: FIRST_REPORT_WAIT,
    };
    if pool.size > MAX_POOL_SIZE {
        return Err(ConfigError::Invalid {
            key: "pool.size",
            message: format!("{} is above {MAX_POOL_SIZE}", pool.size),
        });
    }
    if let Some(image) = pool.images.iter().find(|image| image.trim().is_empty()) {
        return Err(ConfigError::Invalid {
            key: "pool.images",
            message: format!("`{image}` is not an image name"),
        });
    }
    Ok(pool)
}
