//! `corral serve` on the engine the tests run against (`DOCKER_HOST`; the
//! engine matrix runs this on Podman and on Docker with userns-remap): a
//! runtime under which no job could start is refused when the server
//! starts, naming why, not after each job was accepted.

use std::process::Stdio;
use std::time::Duration;

use corral_runtime::IdMap;

use crate::harness::{CORRAL, ServeProcess};

/// How long a refusing server may take to say so and exit.
const REFUSAL_WAIT: Duration = Duration::from_mins(1);

#[tokio::test]
async fn serve_refuses_at_start_a_runtime_no_job_could_run_under() {
    let (engine, _) = corral_testkit::engine().await;
    // Podman's compat API ignores the runtime a container names; runsc on a
    // remapping engine cannot open the job's mounts.
    let refusal = if engine.name == "Podman" {
        Some("ignores the OCI runtime")
    } else if engine.id_map != IdMap::Identity {
        Some("gVisor on an engine that remaps ids")
    } else {
        None
    };
    let Some(words) = refusal else {
        // Plain Docker runs jobs under runsc: the server starts.
        let server = ServeProcess::start_with(&["--oci-runtime", "runsc"], &[]).await;
        assert_eq!(server.stop().await, 0, "containers left behind");
        return;
    };
    let data_dir = tempfile::tempdir().expect("data dir");
    let gvisor_by_default = data_dir.path().join("gvisor.toml");
    std::fs::write(&gvisor_by_default, "isolation = \"gvisor\"\n").expect("config");
    let config = gvisor_by_default.to_string_lossy();
    for flags in [&["--oci-runtime", "runsc"][..], &["--config", &config][..]] {
        let child = tokio::process::Command::new(CORRAL)
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--no-verify"])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start corral serve");
        let output = tokio::time::timeout(REFUSAL_WAIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{engine}: serve {flags:?} still runs"))
            .expect("serve's output");
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{engine}: {text}");
        assert!(text.contains(words), "{engine}: serve {flags:?}: {text}");
        assert!(!text.contains("corral is serving"), "{text}");
    }
}
