//! What makes two job containers the same container, and the template job
//! a pool container is created for.

use corral_proto::{IsolationLevel, Job, Limits};

/// Everything that makes two job containers the same container, apart from
/// the job they serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub(in crate::jobs) image: String,
    pub(in crate::jobs) memory_bytes: u64,
    cpu_shares: i64,
    pids: i64,
    tmpfs_bytes: u64,
    isolation: IsolationLevel,
}

impl Profile {
    /// Whether a container of this profile can become one of `wanted`:
    /// all but the limits Docker can change on a running container agree.
    pub(in crate::jobs) fn fits(&self, wanted: &Self) -> bool {
        self.image == wanted.image
            && self.tmpfs_bytes == wanted.tmpfs_bytes
            && self.isolation == wanted.isolation
    }

    /// The profile of `job`'s container; `None` when it mounts a project
    /// (a copied one is unpacked through the socket, so it may be pooled).
    pub(in crate::jobs) fn of(job: &Job) -> Option<Self> {
        if job.bound_project().is_some() {
            return None;
        }
        Some(Self::new(&job.image, &job.limits, job.isolation_level))
    }

    pub(in crate::jobs) fn new(image: &str, limits: &Limits, isolation: IsolationLevel) -> Self {
        Self {
            image: image.to_owned(),
            memory_bytes: limits.memory_bytes,
            cpu_shares: limits.cpu_shares,
            pids: limits.pids,
            tmpfs_bytes: limits.tmpfs_bytes,
            isolation,
        }
    }
}

/// The job a pool container is created for: what its profile fixes, and
/// nothing a real job would add (no project, grants, model or egress).
pub(in crate::jobs) fn template(name: &str, profile: &Profile, defaults: &Limits) -> Job {
    let limits = Limits {
        memory_bytes: profile.memory_bytes,
        cpu_shares: profile.cpu_shares,
        pids: profile.pids,
        tmpfs_bytes: profile.tmpfs_bytes,
        ..*defaults
    };
    Job {
        isolation_level: profile.isolation,
        ..Job::queued(
            name.to_owned(),
            corral_proto::JobMode::Exec,
            profile.image.clone(),
            limits,
        )
    }
}

/// Whether two jobs' containers would have the same profile; for tests.
#[cfg(test)]
pub(in crate::jobs) fn same_profile(a: &Job, b: &Job) -> bool {
    Profile::of(a).is_some() && Profile::of(a) == Profile::of(b)
}
