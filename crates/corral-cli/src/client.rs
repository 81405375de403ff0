//! The CLI's way to a server: a [`corral_client::ApiClient`] found from
//! the global flags (`--server`, `--token`, `--data-dir` and their
//! environment variables).

use std::path::PathBuf;

use corral_client::ApiClient;

use crate::cli::GlobalArgs;

/// The client the global flags name.
pub fn api_client(global: &GlobalArgs) -> anyhow::Result<ApiClient> {
    ApiClient::locate(
        global.server.as_deref(),
        global.token.as_deref(),
        data_dir(global).as_deref(),
    )
    .map_err(anyhow::Error::from)
}

/// The data directory: `--data-dir`, else the default.
pub fn data_dir(global: &GlobalArgs) -> Option<PathBuf> {
    global
        .data_dir
        .clone()
        .or_else(corral_orchestrator::default_data_dir)
}
