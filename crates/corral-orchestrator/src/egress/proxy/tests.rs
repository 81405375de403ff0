//! What a refused connection stores, whatever host the job names.

use std::collections::HashMap;
use std::sync::Arc;

use corral_proto::{EgressPolicy, EventKind};

use super::{EgressNet, EgressProxy};
use crate::egress::allow::Way;
use crate::events::EventLog;
use crate::redact::Redactor;
use crate::store::{EventRecords as _, SqliteStore};

/// A session allowing `*.example.com`, storing in a new store.
async fn session() -> (tempfile::TempDir, Arc<SqliteStore>, EgressProxy) {
    session_knowing(Redactor::default(), EgressNet::default(), &[]).await
}

/// A session allowing `*.example.com` and `extra` whose leak detector is
/// `redactor`, on `net`.
async fn session_knowing(
    redactor: Redactor,
    net: EgressNet,
    extra: &[&str],
) -> (tempfile::TempDir, Arc<SqliteStore>, EgressProxy) {
    let (dir, store) = crate::testing::store_with_job("j-1").await;
    let mut allow = vec!["*.example.com".to_owned()];
    allow.extend(extra.iter().map(|entry| (*entry).to_owned()));
    let policy = EgressPolicy {
        allow,
        inject: Vec::new(),
        allow_ip_literals: false,
        max_connections: 16,
        max_bytes: 1 << 20,
    };
    let proxy = EgressProxy::new(
        "j-1",
        policy,
        &HashMap::new(),
        Arc::new(net),
        EventLog::new(Arc::clone(&store) as _),
        Arc::new(redactor),
    )
    .expect("session");
    (dir, store, proxy)
}

/// A host of 64 KiB (as long as a request line may be) under the allowed
/// suffix, and one with a space: neither is a host name, both are refused
/// before any lookup, and what is stored of each is short.
#[tokio::test]
async fn a_refused_host_of_any_length_is_stored_short() {
    let (_dir, store, proxy) = session().await;
    let long = format!("{}.example.com", "a".repeat(64 << 10));
    for host in [long.as_str(), "two words.example.com"] {
        let refused = proxy
            .admit(host, 8080, Way::Connect)
            .await
            .expect_err("refused");
        assert!(refused.ends_with("is not a host name"), "{refused:.300}");
        assert!(
            refused.len() < 300,
            "{} bytes: {refused:.300}",
            refused.len()
        );
        proxy.deny(host, 8080, &refused).await;
    }
    let (events, _) = store
        .events_within("j-1", 0, 100, 1 << 20)
        .await
        .expect("events");
    let network: Vec<_> = events
        .iter()
        .filter(|event| event.kind == EventKind::Network)
        .collect();
    assert_eq!(network.len(), 2);
    for event in network {
        let stored = event.data.to_string().len();
        assert!(stored < 1024, "{stored} bytes stored: {:.300}", event.data);
    }
}

/// A host whose part the job chose holds a secret is refused before any
/// lookup (it would go to name servers in clear), and what is stored of
/// any host quotes it redacted: not lowercased (a mixed-case secret
/// lowercased passes the leak detector) nor cut through the secret (a
/// host past 253 bytes is cut when quoted). A secret in the part an
/// allow entry names itself is the operator's: that host goes through.
#[tokio::test]
async fn a_host_holding_a_secret_is_refused_and_never_stored_in_part() {
    const SECRET: &str = "Deploy-Key-7Qx2Vw9Rk";
    const ACCOUNT: &str = "120034005600";
    // Pinned to loopback: were they admitted, nothing is looked up.
    let mut net = EgressNet::default();
    let chosen = format!("{SECRET}.example.com").to_ascii_lowercase();
    let named = format!("{ACCOUNT}.registry.test");
    for host in [&chosen, &named] {
        net.pins
            .insert(host.clone(), "127.0.0.1:9".parse().expect("addr"));
    }
    let redactor = Redactor::new([("TOKEN", SECRET), ("ACCOUNT", ACCOUNT)]);
    let (_dir, store, proxy) = session_knowing(redactor, net, &[&named]).await;
    let hosts = [
        (format!("{SECRET}.example.com"), "holds a secret"),
        // The secret across byte 253, where a quoted host is cut.
        (
            format!("{}{SECRET}.example.com", "a".repeat(244)),
            "is not a host name",
        ),
        (
            format!("{SECRET}.elsewhere.test"),
            "not on the job's egress allowlist",
        ),
    ];
    for (host, why) in &hosts {
        let refused = proxy
            .admit(host, 443, Way::Connect)
            .await
            .expect_err("refused");
        assert!(refused.contains(why), "{refused}");
        proxy.deny(host, 443, &refused).await;
    }
    let admitted = proxy.admit(&named, 443, Way::Connect).await;
    assert!(admitted.is_ok(), "{admitted:?}");
    let (events, _) = store
        .events_within("j-1", 0, 100, 1 << 20)
        .await
        .expect("events");
    assert_eq!(events.len(), 3, "{events:?}");
    let stored = serde_json::to_string(&events)
        .expect("events")
        .to_ascii_lowercase();
    let secret = SECRET.to_ascii_lowercase();
    for piece in secret.as_bytes().windows(6) {
        let piece = std::str::from_utf8(piece).expect("ascii");
        assert!(
            !stored.contains(piece),
            "`{piece}` of the secret in {stored}"
        );
    }
    assert!(stored.contains("[redacted:token]"), "{stored}");
}
