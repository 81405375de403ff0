//! Why the configuration could not be built.

use std::path::PathBuf;

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file exists but could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML for corral.
    #[error("{}{}: {message}", path.display(), line.map(|line| format!(":{line}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line at fault, from 1, when the parser points at one.
        line: Option<usize>,
        /// What is wrong with it, after the dotted key when known.
        message: String,
    },
    /// A value is out of its range.
    #[error("invalid setting `{key}`: {message}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// No data directory was given and none can be derived.
    #[error("no data directory: set --data-dir, CORRAL_DATA_DIR, XDG_DATA_HOME or HOME")]
    NoDataDir,
}
