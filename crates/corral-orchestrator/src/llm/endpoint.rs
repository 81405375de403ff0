//! Which Anthropic endpoints claude mode's passthrough forwards: the ones
//! the `claude` CLI needs, matched as method and exact path, nothing else.
//!
//! The real CLI (the pinned `@anthropic-ai/claude-code`, run headless with
//! `-p --output-format stream-json`) sends `POST /v1/messages?beta=true` for
//! every model call, and some versions `POST /v1/messages/count_tokens?beta=true`
//! to size a context. Its other calls (`/api/hello`, OAuth, metrics,
//! feature flags) are nonessential traffic the worker turns off, and the
//! CLI runs without them; they are refused here like any other path.
//!
//! The request target is compared byte for byte, never decoded or
//! normalised: a trailing slash, `//`, a dot segment, a percent-encoded
//! byte or another case is simply not on the list. The forwarded URL is
//! built from the matched endpoint's own constants, never from the
//! request's text.

use axum::http::Method;

/// The only query a forwarded request may carry: the SDK's beta marker.
const BETA_QUERY: &str = "beta=true";

/// An endpoint a claude job may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/messages`: a model call, counted against the job's budget.
    Messages {
        /// Sent with `?beta=true`.
        beta: bool,
    },
    /// `POST /v1/messages/count_tokens`: sizing a context; no tokens are
    /// generated, and the job may make as many as it may make model calls.
    CountTokens {
        /// Sent with `?beta=true`.
        beta: bool,
    },
}

/// A request to an endpoint that is not on the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{method} {target}` is not an endpoint a claude job may reach: only `POST /v1/messages` and \
     `POST /v1/messages/count_tokens` (with `?beta=true` or no query) are forwarded"
)]
pub struct NotAllowed {
    /// The request's method.
    pub method: String,
    /// The request's path and query, as sent.
    pub target: String,
}

impl Endpoint {
    /// The endpoint `method` and `target` (path and query after the
    /// passthrough prefix, as sent) name, if a claude job may reach it.
    pub fn parse(method: &Method, target: &str) -> Result<Self, NotAllowed> {
        let refuse = || NotAllowed {
            method: method.as_str().to_owned(),
            target: target.to_owned(),
        };
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let beta = match query {
            None => false,
            Some(BETA_QUERY) => true,
            Some(_) => return Err(refuse()),
        };
        if *method != Method::POST {
            return Err(refuse());
        }
        match path {
            "/v1/messages" => Ok(Self::Messages { beta }),
            "/v1/messages/count_tokens" => Ok(Self::CountTokens { beta }),
            _ => Err(refuse()),
        }
    }

    /// The path and query to send upstream, from constants.
    pub fn upstream_target(self) -> &'static str {
        match self {
            Self::Messages { beta: false } => "/v1/messages",
            Self::Messages { beta: true } => "/v1/messages?beta=true",
            Self::CountTokens { beta: false } => "/v1/messages/count_tokens",
            Self::CountTokens { beta: true } => "/v1/messages/count_tokens?beta=true",
        }
    }

    /// Whether the call generates tokens (and is recorded as a model call).
    pub fn is_model_call(self) -> bool {
        matches!(self, Self::Messages { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: &Method, target: &str) -> Option<Endpoint> {
        Endpoint::parse(method, target).ok()
    }

    #[test]
    fn the_messages_endpoints_are_allowed_with_or_without_the_beta_query() {
        let post = &Method::POST;
        assert_eq!(
            parse(post, "/v1/messages"),
            Some(Endpoint::Messages { beta: false })
        );
        assert_eq!(
            parse(post, "/v1/messages?beta=true"),
            Some(Endpoint::Messages { beta: true })
        );
        assert_eq!(
            parse(post, "/v1/messages/count_tokens?beta=true"),
            Some(Endpoint::CountTokens { beta: true })
        );
        assert_eq!(
            parse(post, "/v1/messages/count_tokens"),
            Some(Endpoint::CountTokens { beta: false })
        );
    }

    #[test]
    fn other_paths_and_spellings_of_the_allowed_ones_are_refused() {
        for target in [
            "",
            "/",
            "/v1/messages/",
            "/v1/messages/batches",
            "/v1/messages/batches?beta=true",
            "/v1/complete",
            "/v1/models",
            "/v1/files",
            "/api/hello",
            "/api/oauth/profile",
            "/api/claude_code/settings",
            "//v1/messages",
            "/v1//messages",
            "/v1/./messages",
            "/v1/../v1/messages",
            "/v1/messages/.",
            "/v1/messages/..",
            "/v1/messages%2Fbatches",
            "/v1/messages%2fcount_tokens",
            "/v1%2Fmessages",
            "/v1/messages%00",
            "/v1/m%65ssages",
            "/V1/messages",
            "/v1/Messages",
            "/v1/messages;batches",
            "/v1/messages/count_tokens/",
            "v1/messages",
            "/v1/messages#x",
            "/anything/v1/messages",
        ] {
            assert_eq!(parse(&Method::POST, target), None, "{target} was allowed");
        }
    }

    #[test]
    fn a_query_other_than_beta_true_is_refused() {
        for target in [
            "/v1/messages?",
            "/v1/messages?beta=false",
            "/v1/messages?beta=true&x=1",
            "/v1/messages?x=1&beta=true",
            "/v1/messages?beta=TRUE",
            "/v1/messages?beta=true?",
            "/v1/messages?beta%3Dtrue",
            "/v1/messages/count_tokens?limit=1",
        ] {
            assert_eq!(parse(&Method::POST, target), None, "{target} was allowed");
        }
    }

    #[test]
    fn only_post_is_allowed() {
        for method in [
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::HEAD,
            Method::OPTIONS,
            Method::from_bytes(b"post").expect("method"),
            Method::from_bytes(b"PROPFIND").expect("method"),
        ] {
            assert_eq!(
                parse(&method, "/v1/messages?beta=true"),
                None,
                "{method} was allowed"
            );
        }
    }

    #[test]
    fn the_upstream_target_comes_from_the_endpoint_not_the_request() {
        let endpoint = parse(&Method::POST, "/v1/messages?beta=true").expect("allowed");
        assert_eq!(endpoint.upstream_target(), "/v1/messages?beta=true");
        assert!(endpoint.is_model_call());
        let count = parse(&Method::POST, "/v1/messages/count_tokens").expect("allowed");
        assert_eq!(count.upstream_target(), "/v1/messages/count_tokens");
        assert!(!count.is_model_call());
    }

    #[test]
    fn the_refusal_names_what_was_asked() {
        let refused = Endpoint::parse(&Method::GET, "/v1/models").expect_err("refused");
        assert_eq!(refused.method, "GET");
        assert_eq!(refused.target, "/v1/models");
        assert!(refused.to_string().contains("POST /v1/messages"));
    }
}
