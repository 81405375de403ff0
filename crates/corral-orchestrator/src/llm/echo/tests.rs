//! A provider that quotes the key it was sent, in every place an answer
//! has: a header (in base64), a whole body (JSON-escaped), a stream (cut
//! across two pieces) and an error message. The job must see none of it.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use bytes::Bytes;
use corral_proto::EventKind;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::llm::{ModelProxy, ProviderKind};
use crate::store::{EventRecords as _, SqliteStore};

const KEY: &str = "sk-echo-4f1c9a7e2b3d8c60a1b2c3d4";
/// What of the key is its own: past the prefix every key of its kind has.
const OWN: &str = "4f1c9a7e2b3d8c60a1b2c3d4";
/// Requests the upstream got at the place it redirects to.
static ELSEWHERE: AtomicUsize = AtomicUsize::new(0);

/// The key the upstream was sent, from whichever header carried it.
fn sent_key(headers: &HeaderMap) -> String {
    let value = headers
        .get("x-api-key")
        .or_else(|| headers.get("authorization"))
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    value.trim_start_matches("Bearer ").to_owned()
}

/// `text` JSON-escaped past what an encoder needs: every `-` as `\u002d`.
fn escaped(text: &str) -> String {
    text.replace('-', "\\u002d")
}

/// An upstream answering `/v1/chat/completions` and `/v1/messages` with
/// the key it was sent: an error when the prompt says `fail`, a stream
/// when asked, a whole answer otherwise; every answer with the key in a
/// header too.
async fn echoing_upstream() -> (String, tokio::task::JoinHandle<()>) {
    fn answer(anthropic: bool, headers: &HeaderMap, body: &[u8]) -> Response {
        let key = sent_key(headers);
        let request: Value = serde_json::from_slice(body).unwrap_or_default();
        let prompt = request.to_string();
        let seen = base64::engine::general_purpose::STANDARD.encode(format!("key={key}"));
        if headers
            .get("accept-encoding")
            .is_none_or(|coding| coding != "identity")
        {
            return (StatusCode::IM_A_TEAPOT, "identity was not asked for").into_response();
        }
        let mut response = if prompt.contains("redirect") {
            let elsewhere = format!(
                "http://{}/elsewhere",
                headers["host"].to_str().unwrap_or("")
            );
            (StatusCode::TEMPORARY_REDIRECT, [("location", elsewhere)]).into_response()
        } else if prompt.contains("gzip") {
            let mut response = format!("compressed {key}").into_response();
            let codings = response.headers_mut();
            // `identity`, then the coding that counts, in a second header.
            if prompt.contains("layered") {
                codings.append("content-encoding", "identity".parse().expect("value"));
            }
            codings.append("content-encoding", "gzip".parse().expect("value"));
            response
        } else if prompt.contains("long") {
            // The key across the cut of an upstream's message (16 Ki chars):
            // 16 bytes of its own part before the cut.
            let message = format!("{}{key}", "x".repeat((16 << 10) - 24));
            let body = json!({"error": {"message": message}}).to_string();
            (StatusCode::BAD_REQUEST, body).into_response()
        } else if prompt.contains("fail") {
            let body = format!(
                r#"{{"error": {{"message": "invalid key {}"}}}}"#,
                escaped(&key)
            );
            (StatusCode::UNAUTHORIZED, body).into_response()
        } else if request["stream"] == json!(true) {
            streamed(anthropic, &key)
        } else {
            whole(anthropic, &key)
        };
        response
            .headers_mut()
            .insert("x-debug-seen", seen.parse().expect("header"));
        response
    }
    let app = Router::new()
        .route(
            "/elsewhere",
            post(|| async {
                ELSEWHERE.fetch_add(1, Ordering::SeqCst);
                "followed"
            }),
        )
        .route(
            "/v1/chat/completions",
            post(|headers: HeaderMap, body: Bytes| async move { answer(false, &headers, &body) }),
        )
        .route(
            "/v1/messages",
            post(|headers: HeaderMap, body: Bytes| async move { answer(true, &headers, &body) }),
        );
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    #[expect(
        clippy::disallowed_methods,
        reason = "the test's upstream, aborted at the test's end"
    )]
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

/// A streamed answer saying the key, cut in its middle across two pieces
/// (the scrubber must hold it back).
fn streamed(anthropic: bool, key: &str) -> Response {
    let text = format!("you sent {key}");
    let frames = if anthropic {
        anthropic_stream(&text)
    } else {
        openai_stream(&text)
    };
    let cut = frames.find(key).expect("the key") + key.len() / 2;
    let pieces = [frames[..cut].to_owned(), frames[cut..].to_owned()]
        .map(|piece| Ok::<_, Infallible>(Bytes::from(piece)));
    let mut response = Body::from_stream(futures_util::stream::iter(pieces)).into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// A whole answer saying the key, JSON-escaped past need.
fn whole(anthropic: bool, key: &str) -> Response {
    let text = format!("you sent {}", escaped(key));
    let body = if anthropic {
        format!(
            r#"{{"id":"m","type":"message","role":"assistant","model":"m","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","usage":{{"input_tokens":1,"output_tokens":1}}}}"#
        )
    } else {
        format!(
            r#"{{"id":"c","object":"chat.completion","model":"m","choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}}}"#
        )
    };
    let mut response = body.into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

fn openai_stream(text: &str) -> String {
    let delta = json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}}]});
    let usage = json!({"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}});
    format!("data: {delta}\n\ndata: {usage}\n\ndata: [DONE]\n\n")
}

fn anthropic_stream(text: &str) -> String {
    let events = [
        json!({"type": "message_start", "message": {"id": "m", "type": "message",
            "role": "assistant", "model": "m", "content": [],
            "usage": {"input_tokens": 1, "output_tokens": 0}}}),
        json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 1}}),
        json!({"type": "message_stop"}),
    ];
    let mut frames = String::new();
    for event in &events {
        let kind = event["type"].as_str().unwrap_or("");
        let _ = write!(frames, "event: {kind}\ndata: {event}\n\n");
    }
    frames
}

fn proxy(store: Arc<SqliteStore>, kind: ProviderKind, base_url: &str) -> Arc<ModelProxy> {
    let base_url = match kind {
        ProviderKind::Openai => format!("{base_url}/v1"),
        ProviderKind::Anthropic => base_url.to_owned(),
    };
    Arc::new(crate::testing::model_proxy(
        store,
        kind,
        base_url,
        Some(KEY),
    ))
}

/// Everything the job gets of one answer: status, headers and body (or
/// the error the worker is answered with), as text.
async fn seen(answer: Result<Response, crate::llm::ProxyError>) -> String {
    let response = answer.unwrap_or_else(IntoResponse::into_response);
    let mut seen = format!("{:?}\n", response.headers());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the answer");
    seen.push_str(&String::from_utf8_lossy(&body));
    seen
}

/// Every form of the key a job could decode from what it saw.
fn holds_key(seen: &str) -> bool {
    let decoded_headers = seen.split(['"', ' ', ',']).any(|word| {
        base64::engine::general_purpose::STANDARD
            .decode(word)
            .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(KEY))
    });
    let run = OWN
        .as_bytes()
        .windows(crate::egress::scrub::FRAGMENT)
        .any(|run| seen.contains(std::str::from_utf8(run).unwrap_or_default()));
    run || seen.contains(&escaped(KEY)) || decoded_headers
}

#[tokio::test]
async fn a_provider_quoting_its_key_back_never_hands_it_to_the_job() {
    let (base_url, upstream) = echoing_upstream().await;
    let mut cases = Vec::new();
    for kind in [ProviderKind::Openai, ProviderKind::Anthropic] {
        for (prompt, stream) in [
            ("hi", false),
            ("hi", true),
            ("fail", false),
            ("long", false),
        ] {
            cases.push((Some(kind), prompt, stream));
        }
    }
    for (prompt, stream) in [("hi", false), ("hi", true), ("fail", false)] {
        cases.push((None, prompt, stream));
    }
    for (kind, prompt, stream) in cases {
        let case = format!("{kind:?} (None: claude's passthrough), {prompt}, streamed {stream}");
        let (_dir, store) = crate::testing::store_with_job("j-1").await;
        let proxy = proxy(
            Arc::clone(&store),
            kind.unwrap_or(ProviderKind::Anthropic),
            &base_url,
        );
        let answer = crate::testing::ask_proxy(&proxy, kind.is_some(), prompt, stream).await;
        let seen = seen(answer).await;
        assert!(!holds_key(&seen), "{case}: the job saw the key in {seen}");
        assert!(seen.contains("****"), "{case}: nothing blanked in {seen}");
        proxy.settle(std::time::Duration::from_secs(10)).await;
        let (events, _) = store
            .events_within("j-1", 0, 100, 1 << 20)
            .await
            .expect("events");
        let warned = events.iter().any(|event| {
            event.kind == EventKind::Warning && event.data.to_string().contains("held its key")
        });
        assert!(warned, "{case}: no warning in {events:?}");
        let stored = serde_json::to_string(&events).expect("events");
        assert!(!stored.contains(KEY), "{case}: the key is in an event");
    }
    upstream.abort();
}

/// The key never follows a redirect to where an answer points (reqwest
/// drops `authorization` across hosts, not `x-api-key`), and an answer
/// compressed though `identity` was asked for is refused, not passed on
/// unsearched. And a job that used up the proxy's warnings first still
/// gets the echo's.
#[tokio::test]
async fn the_key_follows_no_redirect_and_no_answer_passes_unsearched() {
    let (base_url, upstream) = echoing_upstream().await;
    for kind in [
        None,
        Some(ProviderKind::Openai),
        Some(ProviderKind::Anthropic),
    ] {
        let (_dir, store) = crate::testing::store_with_job("j-1").await;
        let proxy = proxy(
            Arc::clone(&store),
            kind.unwrap_or(ProviderKind::Anthropic),
            &base_url,
        );
        for prompt in ["redirect", "gzip", "layered gzip"] {
            let answer = crate::testing::ask_proxy(&proxy, kind.is_some(), prompt, false).await;
            let status = match &answer {
                Ok(response) => response.status(),
                Err(error) => error.clone().into_response().status(),
            };
            let seen = seen(answer).await;
            let case = format!("{kind:?}, {prompt}: {status} {seen}");
            assert!(!holds_key(&seen), "{case}");
            if prompt.contains("gzip") {
                assert_eq!(status, StatusCode::BAD_GATEWAY, "{case}");
                assert!(seen.contains("`gzip` encoding"), "{case}");
            } else {
                assert_ne!(status, StatusCode::OK, "{case}");
            }
        }
        for _ in 0..crate::llm::MAX_WARNINGS + 5 {
            proxy.warn("a warning the job provoked").await;
        }
        let _ = seen(crate::testing::ask_proxy(&proxy, kind.is_some(), "fail", false).await).await;
        proxy.settle(std::time::Duration::from_secs(10)).await;
        let (events, _) = store
            .events_within("j-1", 0, 100, 1 << 20)
            .await
            .expect("events");
        let texts: Vec<String> = events.iter().map(|event| event.data.to_string()).collect();
        let capped = texts
            .iter()
            .position(|text| text.contains("are counted and reported when the job ends"))
            .expect("the warnings' cap reached");
        assert!(
            texts[capped..]
                .iter()
                .any(|text| text.contains("held its key")),
            "{kind:?}: {texts:?}"
        );
    }
    assert_eq!(
        ELSEWHERE.load(Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
    upstream.abort();
}
