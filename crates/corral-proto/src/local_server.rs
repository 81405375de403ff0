//! How a client on the same machine finds the server: its default address,
//! the names of the files in its data directory (the CLI reads the address
//! and the token there), and the shape of the file that says where it listens.

use serde::{Deserialize, Serialize};

/// Where the user API listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7316";

/// The user API token (mode 0600).
pub const API_TOKEN_FILE: &str = "api-token";
/// The token `/mcp` takes besides the user API's (mode 0600): an MCP
/// client given it reaches the tools, held to the server's MCP policy,
/// and no other route.
pub const MCP_TOKEN_FILE: &str = "mcp-token";
/// Where the running server listens: a [`ServerInfo`] as JSON.
pub const SERVER_FILE: &str = "server.json";
/// The master key sealing stored secrets (mode 0600), unless
/// `CORRAL_MASTER_KEY` is set.
pub const MASTER_KEY_FILE: &str = "master.key";
/// The id of this orchestrator instance (its containers' `corral.instance` label).
pub const INSTANCE_FILE: &str = "instance-id";
/// The lock one live server holds on its data directory.
pub const LOCK_FILE: &str = "server.lock";
/// The `SQLite` database.
pub const DATABASE_FILE: &str = "corral.db";

/// The contents of [`SERVER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The user API's base URL, `http://ADDR`.
    pub url: String,
    /// The server's process id.
    pub pid: u32,
}
