//! What the unit tests of several modules share.

/// Job limits for unit tests: the built-in defaults, with small model
/// budgets.
pub const LIMITS: corral_proto::Limits = corral_proto::Limits {
    memory_bytes: 512 << 20,
    cpu_shares: 1024,
    pids: 256,
    timeout_secs: 600,
    tmpfs_bytes: 256 << 20,
    max_llm_calls: 10,
    max_tokens: 1000,
    max_iterations: 5,
    idle_timeout_secs: 60,
};

/// A minimal running job (the testkit depends on this crate).
pub fn running_job(id: &str) -> corral_proto::Job {
    serde_json::from_value(serde_json::json!({
        "id": id, "mode": "exec", "state": "running", "image": "i",
        "command": "true", "prompt": null, "project": null, "isolation": null,
        "grants": [], "limits": {"memory_bytes": 1, "cpu_shares": 2, "pids": 8,
            "timeout_secs": 1, "tmpfs_bytes": 1},
        "container_id": null, "exit_code": null, "reason": null,
        "created_at": "2026-01-01T00:00:00Z", "started_at": null, "finished_at": null,
    }))
    .expect("job")
}

/// A new store in a temporary directory (kept while the directory is),
/// holding [`running_job`] `id`.
pub async fn store_with_job(
    id: &str,
) -> (tempfile::TempDir, std::sync::Arc<crate::store::SqliteStore>) {
    use crate::store::JobRecords as _;
    let dir = tempfile::tempdir().expect("dir");
    let store = std::sync::Arc::new(
        crate::store::SqliteStore::open(&dir.path().join("corral.db")).expect("store"),
    );
    store.insert_job(&running_job(id)).await.expect("job");
    (dir, store)
}

/// Job `j-1`'s model proxy within [`LIMITS`] to a `kind` provider at
/// `base_url` (model `m`, named `up`), with `key` if any, storing in
/// `store`.
pub fn model_proxy(
    store: std::sync::Arc<crate::store::SqliteStore>,
    kind: crate::llm::ProviderKind,
    base_url: String,
    key: Option<&str>,
) -> crate::llm::ModelProxy {
    use crate::llm::{ModelProxy, Provider, ProviderKey, ProxyContext, Upstream};
    let provider = Provider {
        name: "up".into(),
        kind,
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
        key.map(|key| crate::secrets::SecretValue::new(key.into())),
        "m".into(),
        ProxyContext {
            upstream: Upstream::new(30, 0).expect("client"),
            events: crate::events::EventLog::new(store),
            tasks: tokio_util::task::TaskTracker::new(),
        },
        &LIMITS,
        std::sync::Arc::new(crate::redact::Redactor::default()),
    )
    .expect("proxy")
}

/// One call through `proxy` saying `prompt`: worker mode's `chat`, or
/// claude's passthrough (placeholder key `ph`).
pub async fn ask_proxy(
    proxy: &std::sync::Arc<crate::llm::ModelProxy>,
    chat: bool,
    prompt: &str,
    stream: bool,
) -> Result<axum::response::Response, crate::llm::ProxyError> {
    if chat {
        let request: corral_proto::llm::ChatRequest = serde_json::from_value(serde_json::json!({
            "messages": [{"role": "user", "content": prompt}],
            "stream": stream,
        }))
        .expect("request");
        return proxy.chat(request).await;
    }
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "m", "max_tokens": 100, "stream": stream,
        "messages": [{"role": "user", "content": prompt}],
    }))
    .expect("body");
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-api-key", "ph".parse().expect("header"));
    let weight = body.len();
    Ok(proxy
        .passthrough(
            axum::http::Method::POST,
            "/v1/messages",
            &headers,
            body.into(),
            Ok(weight),
            "ph",
        )
        .await)
}
