use std::sync::Arc;
use std::time::Duration;

use corral_proto::JobUsage;

use super::{ModelProxy, ProxyError};
use crate::llm::ProviderKind;
use crate::llm::scripted::{Script, ScriptedServer};
use crate::store::EventRecords as _;
use crate::store::SqliteStore;
use corral_proto::EventKind;
use futures_util::StreamExt as _;

/// A proxy within `LIMITS` (10 calls, 1000 tokens) that has not called anything.
fn proxy(dir: &tempfile::TempDir) -> ModelProxy {
    let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
    proxy_to(store, ProviderKind::Openai, "http://127.0.0.1:9/v1".into())
}

/// Job `j-1`'s proxy to a `kind` provider at `base_url`, storing in `store`.
fn proxy_to(store: Arc<SqliteStore>, kind: ProviderKind, base_url: String) -> ModelProxy {
    crate::testing::model_proxy(store, kind, base_url, None)
}

fn usage(llm_calls: u64, tokens: u64) -> JobUsage {
    JobUsage {
        llm_calls,
        input_tokens: tokens / 2,
        output_tokens: tokens - tokens / 2,
        cost_usd: 0.0,
    }
}

#[test]
fn a_re_adopted_job_s_budget_counts_on_from_what_it_used() {
    let dir = tempfile::tempdir().expect("dir");
    // Nine of ten calls used before the restart: one is left, then none.
    let resumed = proxy(&dir).resuming(&usage(9, 100));
    assert!(resumed.charge().is_ok(), "the tenth call");
    let refused = resumed.charge();
    assert!(
        matches!(&refused, Err(ProxyError::BudgetExceeded(reason)) if reason.contains("all 10 model calls")),
        "{refused:?}"
    );
    // Every token used: refused whatever calls are left.
    let spent = proxy(&dir).resuming(&usage(1, 1000));
    assert!(matches!(spent.charge(), Err(ProxyError::BudgetExceeded(_))));
    assert_eq!(spent.remaining_tokens(), 0);
    // A new job starts at zero: ten calls.
    let fresh = proxy(&dir).resuming(&JobUsage::default());
    for call in 0..10 {
        assert!(fresh.charge().is_ok(), "call {call}");
    }
    assert!(fresh.charge().is_err());
}

/// How a test calls the proxy.
#[derive(Debug, Clone, Copy)]
enum Call {
    /// Worker mode's chat call to a provider of this kind.
    Chat(ProviderKind),
    /// Claude mode's passthrough of `/v1/messages`.
    Passthrough,
}

impl Call {
    /// Job `j-1`'s proxy to `upstream` for this call: an OpenAI provider
    /// for an OpenAI chat, an Anthropic one otherwise.
    fn proxy_to(self, store: Arc<SqliteStore>, upstream: &ScriptedServer) -> ModelProxy {
        match self {
            Self::Chat(ProviderKind::Openai) => {
                proxy_to(store, ProviderKind::Openai, upstream.openai_base_url())
            }
            Self::Chat(ProviderKind::Anthropic) | Self::Passthrough => proxy_to(
                store,
                ProviderKind::Anthropic,
                upstream.anthropic_base_url(),
            ),
        }
    }
}

/// One call through `proxy`, whole or `stream`ed; its answer.
async fn call(proxy: &Arc<ModelProxy>, how: Call, stream: bool) -> axum::response::Response {
    let chat = matches!(how, Call::Chat(_));
    crate::testing::ask_proxy(proxy, chat, "hi", stream)
        .await
        .expect("answered")
}

/// The worker's events wait for `usage_stored`: once it returns, nothing
/// is held and the call's usage is in the store, for every way a call is
/// answered: worker mode's chat (OpenAI as is, Anthropic translated) and
/// claude mode's passthrough, each whole and streamed. A stream is read
/// only up to its last message (`[DONE]`, `message_stop`), as a reader may
/// act on it before the stream closes; here the upstream closes 300 ms
/// later. (On this one-thread runtime, the proxy's own tasks run only when
/// the test waits: without the hold, nothing is stored yet.)
#[tokio::test]
async fn a_call_s_usage_is_stored_before_the_worker_s_next_events_go_on() {
    let upstream = ScriptedServer::start(
        Script::parse(r#"{"turns": [{"text": "hello"}], "end_delay_ms": 300}"#).expect("script"),
    )
    .await
    .expect("upstream");
    let calls = [
        Call::Chat(ProviderKind::Openai),
        Call::Chat(ProviderKind::Anthropic),
        Call::Passthrough,
    ];
    for (how, stream) in calls
        .into_iter()
        .flat_map(|how| [(how, false), (how, true)])
    {
        let (_dir, store) = crate::testing::store_with_job("j-1").await;
        let proxy = Arc::new(how.proxy_to(Arc::clone(&store), &upstream));
        let answer = call(&proxy, how, stream).await;
        assert!(answer.status().is_success(), "{how:?}: {}", answer.status());
        let last: &[u8] = match how {
            Call::Passthrough => b"message_stop",
            Call::Chat(_) => b"[DONE]",
        };
        let mut body = answer.into_body().into_data_stream();
        let mut read = Vec::new();
        while let Some(piece) = body.next().await {
            read.extend_from_slice(&piece.expect("a piece"));
            if stream && read.windows(last.len()).any(|at| at == last) {
                break;
            }
        }
        assert!(!read.is_empty());
        proxy.usage_stored().await;
        let case = format!("{how:?}, streamed: {stream}");
        assert!(
            proxy.order.stored(Duration::ZERO).await,
            "{case}: still held"
        );
        let (events, _) = store
            .events_within("j-1", 0, 100, 1 << 20)
            .await
            .expect("events");
        let usages = events
            .iter()
            .filter(|event| event.kind == EventKind::LlmUsage)
            .count();
        assert_eq!(usages, 1, "{case}: {events:?}");
    }
}

/// The relays stop at a stream's last message, but still read the rest of
/// its body (for a while): a body read to its end leaves the connection to
/// the next call. Here the upstream closes each stream 300 ms after its
/// `[DONE]` (or `message_stop`), and two streamed calls share one
/// connection, in worker mode's relay and claude mode's passthrough alike.
#[tokio::test]
async fn a_stream_s_connection_serves_the_next_call() {
    for how in [Call::Chat(ProviderKind::Openai), Call::Passthrough] {
        let upstream = ScriptedServer::start(
            Script::parse(r#"{"turns": [{"text": "hello"}], "end_delay_ms": 300}"#)
                .expect("script"),
        )
        .await
        .expect("upstream");
        let (_dir, store) = crate::testing::store_with_job("j-1").await;
        let proxy = Arc::new(how.proxy_to(store, &upstream));
        for _ in 0..2 {
            let answer = call(&proxy, how, true).await;
            let read = axum::body::to_bytes(answer.into_body(), 1 << 20)
                .await
                .expect("the answer");
            assert!(!read.is_empty());
            // The relay's task ends once the body is drained.
            proxy.pending.close();
            proxy.pending.wait().await;
            proxy.pending.reopen();
        }
        assert_eq!(upstream.connections(), 1, "{how:?}");
    }
}
