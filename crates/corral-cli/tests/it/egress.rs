//! `corral run --allow-host --inject` against `corral serve --egress-resolve
//! --egress-ca`: curl in the job reaches a TLS server on loopback, the
//! proxy adds the stored secret, and neither the job nor the server's log
//! ever holds its value.

use corral_testkit::{TlsUpstream, curl_image};

use crate::harness::{ServeProcess, stderr, stdout};

const SECRET: &str = "ghp_cli-egress-secret-9876543210fedcba";

#[tokio::test]
async fn an_injected_credential_reaches_the_upstream_and_nothing_else() {
    let upstream = TlsUpstream::start(&["api.inject.test"]).await;
    let ca = tempfile::NamedTempFile::new().expect("ca file");
    std::fs::write(ca.path(), &upstream.ca_pem).expect("write ca");
    let pin = format!("api.inject.test={}", upstream.addr);
    let ca_arg = ca.path().to_string_lossy().into_owned();
    let server =
        ServeProcess::start_with(&["--egress-resolve", &pin, "--egress-ca", &ca_arg], &[]).await;
    let set = server
        .corral_with_input(&["secret", "set", "GITHUB_TOKEN"], SECRET)
        .await;
    assert_eq!(set.status.code(), Some(0), "{}", stderr(&set));
    let image = curl_image().await;
    let output = server
        .corral(&[
            "run",
            "--image",
            &image,
            "--allow-host",
            "api.inject.test",
            "--inject",
            "api.inject.test:Authorization=Bearer {GITHUB_TOKEN}",
            "--",
            "sh",
            "-c",
            "curl -sSfv https://api.inject.test/ 2>&1; env",
        ])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(out.contains("authorized: true"), "{out}");
    assert!(
        err.contains("network allowed api.inject.test:443"),
        "the connection is shown: {err}"
    );
    assert_eq!(
        upstream.authorizations.lock().expect("lock").as_slice(),
        [format!("Bearer {SECRET}")]
    );
    for (sink, text) in [("stdout", &out), ("stderr", &err), ("log", &server.log())] {
        assert!(!text.contains(SECRET), "the secret is in the {sink}");
    }

    let bad = server
        .corral(&["run", "--inject", "no-separator", "--", "true"])
        .await;
    assert_ne!(bad.status.code(), Some(0));
    assert!(stderr(&bad).contains("--inject"), "{}", stderr(&bad));
    let refused = server
        .corral(&["run", "--allow-host", "*", "--", "true"])
        .await;
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr(&refused).contains("--allow-host *: a bare `*`"),
        "named as the flag the user typed: {}",
        stderr(&refused)
    );
    // A raw TCP entry names its port; a port is a number in range.
    for bad in ["tcp://db.test", "db.test:99999"] {
        let refused = server
            .corral(&[
                "run",
                "--allow-host",
                "ok.test",
                "--allow-host",
                bad,
                "--",
                "true",
            ])
            .await;
        assert_ne!(refused.status.code(), Some(0), "{bad}");
        assert!(
            stderr(&refused).contains(&format!("--allow-host {bad}: ")),
            "named as the flag the user typed: {bad}: {}",
            stderr(&refused)
        );
    }
    assert_eq!(server.stop().await, 0);
}
