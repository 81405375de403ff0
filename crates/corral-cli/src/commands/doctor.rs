//! `corral doctor`: is everything a job needs in place?

use std::process::ExitCode;

use corral_docker::DockerRuntime;
use corral_docker::host::EngineSocket;
use corral_docker::worker_binary;
use corral_orchestrator::{Config, ConfigOverrides};
use corral_runtime::Runtime;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::client::{api_client, data_dir};
use crate::output;

pub async fn run(global: &GlobalArgs, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut checks: Vec<(bool, String, String)> = Vec::new();
    let mut report = |ok: bool, what: &str, detail: String| {
        checks.push((ok, what.to_owned(), detail));
    };
    let connected = match engine_socket(global, &args) {
        Ok(socket) => DockerRuntime::connect_to(&socket)
            .await
            .map(|runtime| (runtime, socket))
            .map_err(|error| error.to_string()),
        Err(error) => Err(error),
    };
    match connected {
        Ok((runtime, socket)) => {
            match runtime.engine().await {
                Ok(engine) => report(true, "engine", format!("{engine} on {socket}")),
                Err(error) => report(false, "engine", format!("{error} on {socket}")),
            }
            image_and_gvisor(&runtime, &args.image, &mut report).await;
        }
        Err(error) => report(
            false,
            "engine",
            format!(
                "{error} (run scripts/ensure-docker.sh, or name the socket with --docker-host)"
            ),
        ),
    }
    let worker = args
        .worker_bin
        .unwrap_or_else(worker_binary::default_location);
    match worker_binary::verify(&worker) {
        Ok(()) => report(true, "worker", format!("{} (static)", worker.display())),
        Err(error) => report(false, "worker", error.to_string()),
    }
    match data_dir(global) {
        Some(dir) => {
            let probe = dir.join(".doctor-probe");
            let writable = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&probe, b""))
                .is_ok();
            let _ = std::fs::remove_file(&probe);
            report(
                writable,
                "data dir",
                format!(
                    "{}{}",
                    dir.display(),
                    if writable { "" } else { " is not writable" }
                ),
            );
        }
        None => report(false, "data dir", "none: set --data-dir".into()),
    }
    // The last sandbox check (at the server's start, or `corral verify`).
    if let Some(dir) = data_dir(global) {
        let (ok, detail) = last_sandbox_check(&dir);
        report(ok, "sandbox", detail);
    }
    let client = api_client(global)?;
    match client.health().await {
        Ok(_) => report(true, "server", format!("up at {}", client.base())),
        Err(error) => report(false, "server", error.to_string()),
    }
    let healthy = checks.iter().all(|(ok, _, _)| *ok);
    if args.json {
        let checks: Vec<serde_json::Value> = checks
            .iter()
            .map(
                |(ok, what, detail)| serde_json::json!({"check": what, "ok": ok, "detail": detail}),
            )
            .collect();
        output::json(&serde_json::json!({"healthy": healthy, "checks": checks}));
    } else {
        for (ok, what, detail) in &checks {
            output::line(&format!(
                "{} {what}: {detail}",
                if *ok { "ok  " } else { "FAIL" }
            ));
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Whether the image is there and gVisor registered.
async fn image_and_gvisor(
    runtime: &DockerRuntime,
    image: &str,
    report: &mut impl FnMut(bool, &str, String),
) {
    match runtime.image_exists(image).await {
        Ok(true) => report(true, "image", image.to_owned()),
        Ok(false) => report(
            false,
            "image",
            format!("{image} missing: run `corral image build`"),
        ),
        Err(error) => report(false, "image", error.to_string()),
    }
    // gVisor is optional: its absence only limits `--isolation gvisor`.
    if runtime.dialect() == corral_docker::Dialect::Podman {
        report(
            true,
            "gvisor",
            format!(
                "not available (optional): {}",
                corral_docker::host::PODMAN_RUNTIME
            ),
        );
        return;
    }
    match runtime.has_runtime(corral_runtime::GVISOR_RUNTIME).await {
        Ok(true) => report(
            true,
            "gvisor",
            "runsc is registered: --isolation gvisor works".into(),
        ),
        Ok(false) => report(
            true,
            "gvisor",
            "not registered (optional): run scripts/ensure-gvisor.sh for --isolation gvisor".into(),
        ),
        Err(error) => report(false, "gvisor", error.to_string()),
    }
}

/// The engine's socket as `corral serve` would choose it with the same
/// flag, environment and config file.
fn engine_socket(global: &GlobalArgs, args: &DoctorArgs) -> Result<EngineSocket, String> {
    let overrides = ConfigOverrides {
        data_dir: global.data_dir.clone(),
        config_file: args.config.clone(),
        docker_host: args.docker_host.clone(),
        ..ConfigOverrides::default()
    };
    Config::load(overrides)
        .map(|config| config.engine_socket)
        .map_err(|error| error.to_string())
}

/// The last sandbox check kept in the data directory, in words.
fn last_sandbox_check(dir: &std::path::Path) -> (bool, String) {
    match corral_orchestrator::load_verify_report(dir) {
        Some(last) if last.passed => (
            true,
            format!(
                "verified under {} at {} (probe job {})",
                last.isolation.as_str(),
                corral_proto::timestamp::format(last.checked_at),
                last.job_id.as_deref().unwrap_or("none")
            ),
        ),
        Some(last) => (
            false,
            format!(
                "check under {} at {} FAILED: {} (run `corral verify`)",
                last.isolation.as_str(),
                corral_proto::timestamp::format(last.checked_at),
                last.failing()
                    .map(|row| row.promise.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        None => (
            true,
            "not checked yet: `corral serve` checks it at start, or run `corral verify`".into(),
        ),
    }
}
