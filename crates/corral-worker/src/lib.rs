//! The worker inside a job's container. It finds the job's socket at
//! `/run/corral`, reads its bearer token from the file there (which the
//! orchestrator deletes after the first call), fetches its job, runs it, and
//! streams what happens back as events.
//!
//! It must never be trusted: the job's code can replace it. It therefore
//! guards nothing for the host; it only keeps the job's own processes from
//! impersonating it, by making itself non-dumpable before reading the token
//! (so `/proc/<pid>/mem` and `/proc/<pid>/environ` are closed to processes of
//! the same uid) and by never putting the token in an environment.
//!
//! # Layout
//! - `client`: HTTP/1.1 over the job's Unix socket
//! - `exec`: exec mode, a command with its output streamed
//! - `egress`: the relay from `127.0.0.1:3128` to the orchestrator's egress proxy
//! - `agent`: worker mode, the agent loop
//! - `claude`: claude mode, the `claude` CLI behind a relay, its stream mapped to events
//! - `model`: model calls through the orchestrator's proxy
//! - `tools`: the agent's tools, confined to `/workspace` and `/tmp`
//! - `output`: pipe bytes to UTF-8 text, batched into `output` events
//! - `project`: a copy-mode job's project, unpacked into `/workspace`
//! - `sandbox`: sandbox mode, commands and file transfers on request until the sandbox ends
//! - `failure`: how the worker says it failed; `child`: starting the job's processes
//! - `relay`: the model relay on `127.0.0.1` for programs that speak TCP HTTP (claude, a sandbox's)
//! - `probe`: `corral-worker probe`, what `corral verify` sees inside a container

mod agent;
mod child;
mod claude;
mod client;
mod egress;
mod exec;
mod failure;
mod model;
mod output;
mod probe;
mod project;
mod relay;
mod sandbox;
mod tools;

use corral_proto::JobMode;
use corral_proto::worker::{
    Credential, SOCKET_PATH, TOKEN_PATH, WORKER_PROTOCOL, WORKSPACE, WorkerJob,
};

pub use claude::map_line as map_claude_line;
pub use client::{Client, ClientError};
pub use failure::EXIT_WORKER_FAILED;
use failure::{complain, report_failure};

/// The variable that tells the job's processes their job's id. Set by the
/// worker rather than on the container, so a warm-pool container (started
/// before its job was known) looks the same as a cold one.
pub const JOB_ID_ENV: &str = "CORRAL_JOB_ID";

/// Runs the worker; returns the process exit code.
pub fn main() -> u8 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(corral_proto::verify::PROBE_ARG) {
        return probe::run(&args[1..]);
    }
    if let Err(error) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        complain(&format!("cannot make the worker non-dumpable: {error}"));
        return EXIT_WORKER_FAILED;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            complain(&format!("cannot start the async runtime: {error}"));
            return EXIT_WORKER_FAILED;
        }
    };
    runtime.block_on(run())
}

async fn run() -> u8 {
    let token = match std::fs::read_to_string(TOKEN_PATH) {
        Ok(token) => token.trim().to_owned(),
        Err(error) => {
            complain(&format!(
                "cannot read the job token at {TOKEN_PATH}: {error}"
            ));
            return EXIT_WORKER_FAILED;
        }
    };
    let client = Client::new(SOCKET_PATH.into(), token);
    let mut job: WorkerJob = match client.job().await {
        Ok(job) => job,
        Err(error) => {
            complain(&format!("cannot fetch the job: {error}"));
            return EXIT_WORKER_FAILED;
        }
    };
    if let Err(mismatch) = understood(&job) {
        report_failure(&client, &mismatch).await;
        return EXIT_WORKER_FAILED;
    }
    if job.project_copy {
        let workdir = std::path::Path::new(job.workdir.as_deref().unwrap_or(WORKSPACE));
        if let Err(error) = project::fetch(&client, workdir).await {
            report_failure(&client, &format!("cannot copy the project in: {error}")).await;
            return EXIT_WORKER_FAILED;
        }
    }
    // Given with the job; they go to the job's child processes only, never
    // into this process's own environment.
    let mut credentials = std::mem::take(&mut job.credentials);
    // The proxy variables and CA bundle reach the job's processes the way
    // credentials do; the relay lives as long as the job.
    let mut egress_tasks = tokio::task::JoinSet::new();
    credentials.push(Credential {
        env_var: JOB_ID_ENV.to_owned(),
        value: job.id.clone(),
    });
    if let Some(egress) = &job.egress {
        match egress::start(client.relay_handle(), egress, &mut egress_tasks).await {
            Ok(env) => credentials.extend(env),
            Err(error) => {
                report_failure(&client, &format!("cannot open the egress relay: {error}")).await;
                return EXIT_WORKER_FAILED;
            }
        }
    }
    match job.mode {
        JobMode::Exec => exec::run(&client, &job, &credentials).await,
        JobMode::Worker => agent::run(&client, &job, &credentials).await,
        JobMode::Claude => claude::run(&client, &job, &credentials).await,
        JobMode::Sandbox => sandbox::run(&client, &job, &credentials).await,
    }
}

/// Whether this worker speaks the protocol of the orchestrator that sent
/// `job`: else what to tell the user. Run anyway, a worker could miss what
/// the other side sent (an older orchestrator sends no credentials with the
/// job, so its processes would run without them, silently).
fn understood(job: &WorkerJob) -> Result<(), String> {
    match job.protocol {
        WORKER_PROTOCOL => Ok(()),
        0 => Err(format!(
            "this worker speaks protocol {WORKER_PROTOCOL} and the orchestrator an older one (its \
             job's answer has no protocol number): run the worker from the orchestrator's own \
             build (`--worker-bin`)"
        )),
        other => Err(format!(
            "this worker speaks protocol {WORKER_PROTOCOL} and the orchestrator {other}: run \
             the worker from the orchestrator's own build (`--worker-bin`)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job_answer(protocol: Option<u32>) -> WorkerJob {
        let mut answer = serde_json::json!({
            "id": "j-1",
            "mode": "exec",
            "command": ["true"],
            "limits": {"memory_bytes": 1, "cpu_shares": 2, "pids": 8,
                "timeout_secs": 1, "tmpfs_bytes": 1},
            "credentials": [],
        });
        if let Some(protocol) = protocol {
            answer["protocol"] = protocol.into();
        }
        serde_json::from_value(answer).expect("a job answer")
    }

    #[test]
    fn a_job_from_an_orchestrator_of_this_protocol_is_run() {
        assert_eq!(understood(&job_answer(Some(WORKER_PROTOCOL))), Ok(()));
    }

    #[test]
    fn a_job_from_an_older_orchestrator_is_refused_with_the_reason() {
        // An orchestrator from before the number sends none.
        let refused = understood(&job_answer(None)).expect_err("refused");
        assert!(
            refused.contains(&format!("protocol {WORKER_PROTOCOL}")),
            "{refused}"
        );
        assert!(refused.contains("--worker-bin"), "{refused}");
        let refused = understood(&job_answer(Some(1))).expect_err("refused");
        assert!(refused.contains("the orchestrator 1"), "{refused}");
    }

    #[test]
    fn a_job_from_a_newer_orchestrator_is_refused() {
        let refused = understood(&job_answer(Some(WORKER_PROTOCOL + 1))).expect_err("refused");
        assert!(
            refused.contains(&format!("the orchestrator {}", WORKER_PROTOCOL + 1)),
            "{refused}"
        );
    }
}
