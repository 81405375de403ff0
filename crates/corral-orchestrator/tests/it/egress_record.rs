//! What the egress proxy records of a job's plain-HTTP requests, however
//! the job leaves them.

use std::collections::HashMap;
use std::sync::Arc;

use corral_orchestrator::internals::EgressNet;
use corral_testkit::{TestServer, curl_image};
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::egress::network;

/// A request the proxy let through is recorded even when the job closes
/// its side before the answer comes (the exchange was dropped with the
/// connection, and the data it carried out left no event).
#[tokio::test]
async fn a_request_whose_sender_left_before_the_answer_is_recorded() {
    // An upstream that reads requests and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let addr = listener.local_addr().expect("address");
    let mut silent = tokio::task::JoinSet::new();
    silent.spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = [0_u8; 1024];
            let _ = stream.read(&mut buffer).await;
            held.push(stream);
        }
    });
    let image = curl_image().await;
    let server = TestServer::start_with(move |config| {
        config.default_image = image;
        config.egress = Arc::new(EgressNet {
            pins: HashMap::from([("silent.test".to_owned(), addr)]),
            upstream_ca: None,
        });
    })
    .await;
    let script = "curl -s --max-time 2 -X POST --data 'carried out' http://silent.test/; \
                  echo \"curl: $?\"; sleep 1";
    let id = server
        .create(&json!({
            "command": ["sh", "-c", script],
            "egress": {"allow": ["silent.test"]},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert!(
        followed.stdout().contains("curl: 28"),
        "{}",
        followed.stdout()
    );
    let events = network(&followed);
    let recorded: Vec<_> = events
        .iter()
        .filter(|data| data["host"] == "silent.test" && data["allowed"] == true)
        .collect();
    assert_eq!(recorded.len(), 1, "{events:#?}");
    assert_eq!(server.stop().await, 0);
    silent.abort_all();
}
