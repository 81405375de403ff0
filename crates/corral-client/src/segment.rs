//! An id or a name as one segment of a request's path.

use crate::failure::ClientError;
use crate::sanitize::visible_line;

/// Longest id or name put into a path.
const MAX_SEGMENT: usize = 128;

/// `id` (a job or sandbox id, or a secret name: `what`) as one segment
/// of a request's path: refused unless it is letters, digits, `_`, `-`
/// and `.` alone, and not only dots. Spliced in as it came, `..`, `/`, `?`,
/// `#` or `%2e` would make the request name another route than the one
/// its caller checked (an MCP tool call's id comes from the client's
/// model, which a job's output can steer).
pub(crate) fn segment<'a>(id: &'a str, what: &str) -> Result<&'a str, ClientError> {
    let plain = id
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
    if plain && !id.is_empty() && id.len() <= MAX_SEGMENT && !id.bytes().all(|byte| byte == b'.') {
        return Ok(id);
    }
    Err(ClientError::Id(format!(
        "invalid {what} `{}`: use 1 to {MAX_SEGMENT} letters, digits, `_`, `-` or `.`, not \
         dots alone",
        visible_line(id)
    )))
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn an_id_that_would_change_the_route_is_refused() {
        for id in ["j-3f9a", "GH_TOKEN", "api.key-2", "_x"] {
            assert_eq!(segment(id, "id").ok(), Some(id));
        }
        for id in [
            "",
            ".",
            "..",
            "j-1/../../secrets",
            "j-1?x=",
            "j-1#",
            "%2e%2e",
            "j 1",
            "j-1\\..",
            "j-\u{202e}1",
        ] {
            let error = segment(id, "secret name").expect_err(id).to_string();
            assert!(error.starts_with("invalid secret name `"), "{id}: {error}");
        }
        assert!(segment(&"a".repeat(129), "id").is_err());
    }
}
