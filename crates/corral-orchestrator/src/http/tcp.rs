//! Socket settings for corral's HTTP servers.

/// Turns Nagle's algorithm off on an accepted connection: an event stream
/// writes small frames, and with it on, each frame after the first waits
/// for the client's delayed acknowledgement (40 ms on Linux).
pub fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(error = %error, "cannot set TCP_NODELAY on a connection");
    }
}
