use std::sync::Arc;

use corral_proto::JobUsage;
use tokio_util::task::TaskTracker;

use super::{ModelProxy, ProxyContext, ProxyError};
use crate::events::EventLog;
use crate::llm::{Provider, ProviderKey, ProviderKind, Upstream};
use crate::redact::Redactor;
use crate::store::SqliteStore;
use crate::testing::LIMITS;

/// A proxy within `LIMITS` (10 calls, 1000 tokens) that has not called anything.
fn proxy(dir: &tempfile::TempDir) -> ModelProxy {
    let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
    let provider = Provider {
        name: "up".into(),
        kind: ProviderKind::Openai,
        base_url: "http://127.0.0.1:9/v1".into(),
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
