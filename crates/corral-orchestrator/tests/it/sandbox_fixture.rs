//! A running sandbox job's worker side without a container, for the
//! tests that speak for its worker: a store, a desk and an open endpoint.

use std::sync::Arc;

use corral_orchestrator::internals::{Desk, Redactor, WorkerEndpoint};
use corral_proto::JobMode;

pub(crate) const SECRET: &str = "sandbox-held-secret-9d2e";
/// A second secret of the test sandboxes, all digits (a PIN).
pub(crate) const NUMERIC_SECRET: &str = "48151623";

/// A running sandbox job's worker API over a store of its own.
pub(crate) struct Sandbox {
    pub(crate) store: Arc<corral_orchestrator::internals::SqliteStore>,
    pub(crate) job: corral_proto::Job,
    pub(crate) desk: Arc<Desk>,
    pub(crate) endpoint: WorkerEndpoint,
    pub(crate) socket: std::path::PathBuf,
    pub(crate) token: String,
}

pub(crate) async fn sandbox(dir: &std::path::Path, id: &str) -> Sandbox {
    sandbox_after(dir, id, 0).await
}

/// [`sandbox`], re-adopted: execs up to `execs_before` ran before.
pub(crate) async fn sandbox_after(dir: &std::path::Path, id: &str, execs_before: u64) -> Sandbox {
    let store = Arc::new(
        corral_orchestrator::internals::SqliteStore::open(&dir.join("corral.db")).expect("store"),
    );
    let job = corral_proto::Job {
        mode: JobMode::Sandbox,
        ..corral_testkit::running_job(id)
    };
    corral_orchestrator::internals::JobRecords::insert_job(&*store, &job)
        .await
        .expect("insert job");
    let (provisions, desk) = sandbox_provisions(&store, &job, execs_before);
    let socket_dir = dir.join("run").join(&job.id);
    let (endpoint, socket, token) =
        crate::worker_endpoint::running_endpoint(&socket_dir, provisions).await;
    Sandbox {
        store,
        job,
        desk,
        endpoint,
        socket,
        token,
    }
}

/// What a sandbox job's endpoint is opened with, and its desk (execs up
/// to `execs_before` ran before).
pub(crate) fn sandbox_provisions(
    store: &Arc<corral_orchestrator::internals::SqliteStore>,
    job: &corral_proto::Job,
    execs_before: u64,
) -> (corral_orchestrator::internals::JobProvisions, Arc<Desk>) {
    let redactor = Arc::new(Redactor::new([("HELD", SECRET), ("PIN", NUMERIC_SECRET)]));
    let desk = Arc::new(Desk::new(
        4,
        execs_before,
        Arc::clone(&redactor),
        Arc::default(),
    ));
    let provisions = corral_orchestrator::internals::JobProvisions {
        desk: Some(Arc::clone(&desk)),
        redactor: Arc::clone(&redactor),
        ..corral_testkit::provisions(
            store,
            job,
            Redactor::new([("HELD", SECRET), ("PIN", NUMERIC_SECRET)]),
        )
    };
    (provisions, desk)
}

/// A command for the desk to hand out: its exec number.
pub(crate) fn true_exec(desk: &Desk) -> u64 {
    desk.exec(|exec| corral_proto::sandbox::order::ExecOrder {
        exec,
        cmd: corral_proto::CommandSpec::Shell("true".into()),
        cwd: "/workspace".into(),
        env: std::collections::BTreeMap::new(),
        stdin_base64: None,
        timeout_secs: 5,
    })
    .expect("an exec")
}
