//! A request's path: a constant route whose `{}`s are filled with ids and
//! names, each checked to be one segment of a path and nothing more.

use crate::failure::ClientError;
use crate::sanitize::visible_line;

/// Longest id or name put into a path.
const MAX_SEGMENT: usize = 128;

/// What goes into one `{}` of a route, checked by [`segment`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    /// A job's or a sandbox's id.
    Id(&'a str),
    /// A secret's name.
    SecretName(&'a str),
}

impl<'a> Part<'a> {
    fn checked(self) -> Result<&'a str, ClientError> {
        match self {
            Self::Id(id) => segment(id, "id"),
            Self::SecretName(name) => segment(name, "secret name"),
        }
    }
}

/// `route` with its `{}`s filled by `parts`, in order, each checked:
/// an error when one is refused, or when their count is not the route's.
pub(crate) fn path(route: &'static str, parts: &[Part<'_>]) -> Result<String, ClientError> {
    let mut pieces = route.split("{}");
    let mut path = pieces.next().unwrap_or_default().to_owned();
    let mut parts = parts.iter();
    for piece in pieces {
        let part = parts.next().ok_or_else(|| miscounted(route))?;
        path.push_str(part.checked()?);
        path.push_str(piece);
    }
    if parts.next().is_some() {
        return Err(miscounted(route));
    }
    Ok(path)
}

fn miscounted(route: &str) -> ClientError {
    ClientError::Id(format!(
        "route `{route}` was given another number of parts than it has `{{}}`"
    ))
}

/// `id` (a job or sandbox id, or a secret name: `what`) as one segment
/// of a request's path: refused unless it is letters, digits, `_`, `-`
/// and `.` alone, and not only dots. Spliced in as it came, `..`, `/`, `?`,
/// `#` or `%2e` would make the request name another route than the one
/// its caller checked (an MCP tool call's id comes from the client's
/// model, which a job's output can steer).
fn segment<'a>(id: &'a str, what: &str) -> Result<&'a str, ClientError> {
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
    use super::{Part, path, segment};

    #[test]
    fn a_route_is_filled_in_order_and_only_with_checked_parts() {
        let filled = path("/v1/sandboxes/{}/stop", &[Part::Id("s-1")]);
        assert_eq!(filled.ok().as_deref(), Some("/v1/sandboxes/s-1/stop"));
        let filled = path("/v1/{}/{}", &[Part::Id("a"), Part::SecretName("b")]);
        assert_eq!(filled.ok().as_deref(), Some("/v1/a/b"), "in order");
        assert_eq!(
            path("/v1/secrets/{}", &[Part::SecretName("GH_TOKEN")])
                .ok()
                .as_deref(),
            Some("/v1/secrets/GH_TOKEN")
        );
        assert_eq!(path("/v1/jobs", &[]).ok().as_deref(), Some("/v1/jobs"));
        let refused = path("/v1/secrets/{}", &[Part::SecretName("../jobs")])
            .expect_err("a dotted name")
            .to_string();
        assert!(
            refused.starts_with("invalid secret name `../jobs`"),
            "{refused}"
        );
        let refused = path("/v1/jobs/{}/events", &[Part::Id("j-1/../../secrets")])
            .expect_err("a slashed id")
            .to_string();
        assert!(refused.starts_with("invalid id `"), "{refused}");
        for (route, parts) in [
            ("/v1/jobs/{}", &[][..]),
            ("/v1/jobs", &[Part::Id("j-1")][..]),
            ("/v1/jobs/{}/{}", &[Part::Id("j-1")][..]),
        ] {
            assert!(path(route, parts).is_err(), "{route} with {parts:?}");
        }
    }

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
