use std::sync::Arc;

use corral_proto::JobUsage;
use tokio_util::task::TaskTracker;

use super::{ModelProxy, ProxyContext, ProxyError};
use crate::events::EventLog;
use crate::llm::scripted::{Script, ScriptedServer};
use crate::llm::{Provider, ProviderKey, ProviderKind, Upstream};
use crate::redact::Redactor;
use crate::store::SqliteStore;
use crate::store::{EventRecords as _, JobRecords as _};
use crate::testing::LIMITS;
use corral_proto::EventKind;
use corral_proto::llm::ChatRequest;
use futures_util::StreamExt as _;
use serde_json::json;

/// A proxy within `LIMITS` (10 calls, 1000 tokens) that has not called anything.
fn proxy(dir: &tempfile::TempDir) -> ModelProxy {
    let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
    proxy_to(store, "http://127.0.0.1:9/v1".into())
}

/// Job `j-1`'s proxy to the OpenAI-compatible `base_url`, storing in `store`.
fn proxy_to(store: Arc<SqliteStore>, base_url: String) -> ModelProxy {
    let provider = Provider {
        name: "up".into(),
        kind: ProviderKind::Openai,
        base_url,
        key: ProviderKey::None,
        model: Some("m".into()),
        input_price: None,
        output_price: None,
        max_tokens: 1024,
        oauth: false,
    };
    ModelProxy::new(
        "j-1".into(),
        provider,
        None,
        "m".into(),
        ProxyContext {
            upstream: Upstream::new(30, 0).expect("client"),
            events: EventLog::new(store),
            tasks: TaskTracker::new(),
        },
        &LIMITS,
        Arc::new(Redactor::default()),
    )
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

/// The worker's events wait for `usage_stored`: once it returns, the usage
/// of a call whose answer was read to its end is in the store, whole or
/// streamed (read up to its `[DONE]`, which comes 300 ms before the
/// stream closes). (On this one-thread runtime, the proxy's own tasks run only
/// when the test waits: without the hold, nothing is stored yet.)
#[tokio::test]
async fn a_call_s_usage_is_stored_before_the_worker_s_next_events_go_on() {
    let upstream = ScriptedServer::start(
        Script::parse(r#"{"turns": [{"text": "hello"}], "end_delay_ms": 300}"#).expect("script"),
    )
    .await
    .expect("upstream");
    for stream in [false, true] {
        let dir = tempfile::tempdir().expect("dir");
        let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
        store
            .insert_job(&crate::testing::running_job("j-1"))
            .await
            .expect("job");
        let proxy = Arc::new(proxy_to(Arc::clone(&store), upstream.openai_base_url()));
        let request: ChatRequest = serde_json::from_value(json!({
            "messages": [{"role": "user", "content": "hi"}],
            "stream": stream,
        }))
        .expect("request");
        let answer = proxy.chat(request).await.expect("answered");
        // Read as a worker may: a stream up to its `[DONE]`, which can
        // come before the stream closes; a whole answer to its end.
        let mut body = answer.into_body().into_data_stream();
        let mut read = Vec::new();
        while let Some(piece) = body.next().await {
            read.extend_from_slice(&piece.expect("a piece"));
            if stream && read.windows(6).any(|at| at == b"[DONE]") {
                break;
            }
        }
        assert!(!read.is_empty());
        proxy.usage_stored().await;
        let (events, _) = store
            .events_within("j-1", 0, 100, 1 << 20)
            .await
            .expect("events");
        let usages = events
            .iter()
            .filter(|event| event.kind == EventKind::LlmUsage)
            .count();
        assert_eq!(usages, 1, "streamed: {stream}: {events:?}");
    }
}
