//! Who a job's processes are, inside the container and on the host: the
//! [`JobUser`] a job runs as and the engine's [`IdMap`] between the two.
//!
//! A rootful engine without remapping gives containers the host's ids. With
//! Docker's `userns-remap`, container id `n` is host id `first + n`: a job's
//! uid 10001 owns files on the host as uid `first + 10001`, and a host uid
//! outside the range is nobody inside. A rootless engine maps its own
//! user's ids in a way corral cannot read from its API, so corral hands
//! nothing on the host to a job's user there.

use std::fmt;

/// The non-root identity a job's processes run as, with the ids the host
/// sees for it (what files the orchestrator hands to the job are chowned to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobUser {
    /// User id inside the container.
    pub uid: u32,
    /// Group id inside the container.
    pub gid: u32,
    /// The same user on the host; `None` when the engine's mapping is not
    /// known (nothing on the host can be given to it).
    pub host: Option<(u32, u32)>,
}

impl JobUser {
    /// corral's own job user (10001) on an engine without remapping: for a
    /// job with no project, or one whose project root owns.
    pub const CORRAL: Self = Self {
        uid: corral_proto::worker::JOB_UID,
        gid: corral_proto::worker::JOB_GID,
        host: Some((corral_proto::worker::JOB_UID, corral_proto::worker::JOB_GID)),
    };
}

/// How an engine's containers' user and group ids relate to the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMap {
    /// Container ids are host ids (a rootful engine without remapping).
    Identity,
    /// Container id `n` (below `length`) is host uid `first_uid + n` and
    /// host gid `first_gid + n` (Docker's `userns-remap`).
    Shifted {
        /// The host uid container root is.
        first_uid: u32,
        /// The host gid container root's group is.
        first_gid: u32,
        /// How many ids the range holds.
        length: u32,
    },
    /// Remapped in a way the engine's API does not say (a rootless engine).
    Unknown,
}

/// Why no job user can own a project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// What the engine maps, in words, for the error a user reads.
    pub mapping: String,
}

impl IdMap {
    /// The job user whose container ids are `uid`/`gid`.
    #[must_use]
    pub fn user(self, uid: u32, gid: u32) -> JobUser {
        JobUser {
            uid,
            gid,
            host: self.to_host(uid).zip(self.to_host_gid(gid)),
        }
    }

    /// Why gVisor cannot run on an engine that maps ids this way, or `None`.
    /// runsc's gofer opens each bind mount's source from inside the
    /// engine's user namespace, as the engine's root: when ids are remapped
    /// that is a plain host uid, which cannot enter corral's private (0700)
    /// data directory the job's socket comes from, and the container fails
    /// to start with an engine error nobody can read. (runc mounts as the
    /// host's root.)
    #[must_use]
    pub fn gvisor_refusal(self) -> Option<String> {
        match self {
            Self::Identity => None,
            Self::Shifted { first_uid, .. } => Some(format!(
                "gVisor on an engine that remaps ids ({self}) opens the job's mounts as host uid {first_uid}, which cannot enter corral's private data directory: run the job under runc (the remapping is a wall of its own), or gVisor on an engine without userns-remap"
            )),
            Self::Unknown => Some(format!("gVisor is not offered on this engine: {self}")),
        }
    }

    /// corral's own job user (10001) on this engine.
    #[must_use]
    pub fn corral(self) -> JobUser {
        self.user(corral_proto::worker::JOB_UID, corral_proto::worker::JOB_GID)
    }

    /// The user a job on a project owned by host `uid`/`gid` runs as: the
    /// container user the owner is, so what the job writes there is the
    /// owner's; corral's own user when root owns it (on the host or inside).
    /// An owner the engine does not map (or a mapping it does not say) is
    /// refused: a job could not write there as anyone but root.
    pub fn owner(self, uid: u32, gid: u32) -> Result<JobUser, Unmapped> {
        if uid == 0 || gid == 0 {
            return Ok(self.corral());
        }
        match (
            self.to_container(uid, |m| m.0),
            self.to_container(gid, |m| m.1),
        ) {
            (Some(0), _) | (_, Some(0)) => Ok(self.corral()),
            (Some(user), Some(group)) => Ok(self.user(user, group)),
            _ => Err(Unmapped {
                mapping: self.to_string(),
            }),
        }
    }

    fn to_host(self, uid: u32) -> Option<u32> {
        self.shift(uid, |first| first.0)
    }

    fn to_host_gid(self, gid: u32) -> Option<u32> {
        self.shift(gid, |first| first.1)
    }

    fn shift(self, id: u32, first: impl Fn((u32, u32)) -> u32) -> Option<u32> {
        match self {
            Self::Identity => Some(id),
            Self::Shifted {
                first_uid,
                first_gid,
                length,
            } => (id < length).then(|| first((first_uid, first_gid)).checked_add(id))?,
            Self::Unknown => None,
        }
    }

    fn to_container(self, host: u32, first: impl Fn((u32, u32)) -> u32) -> Option<u32> {
        match self {
            Self::Identity => Some(host),
            Self::Shifted {
                first_uid,
                first_gid,
                length,
            } => host
                .checked_sub(first((first_uid, first_gid)))
                .filter(|inner| *inner < length),
            Self::Unknown => None,
        }
    }
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Identity => write!(f, "containers' ids are the host's"),
            Self::Shifted {
                first_uid,
                first_gid,
                length,
            } => write!(
                f,
                "containers' uids 0-{} are host uids {first_uid}-{} (gids from {first_gid})",
                length.saturating_sub(1),
                u64::from(first_uid) + u64::from(length).saturating_sub(1),
            ),
            Self::Unknown => write!(
                f,
                "the engine remaps ids in a way its API does not say, so no host directory can be handed to a job's user"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REMAP: IdMap = IdMap::Shifted {
        first_uid: 100_000,
        first_gid: 200_000,
        length: 65_536,
    };

    #[test]
    fn without_remapping_a_project_owner_is_the_job_user_and_root_gives_corrals() {
        let user = IdMap::Identity.owner(1000, 1001).expect("mapped");
        assert_eq!(
            (user.uid, user.gid, user.host),
            (1000, 1001, Some((1000, 1001)))
        );
        assert_eq!(IdMap::Identity.owner(0, 1001), Ok(JobUser::CORRAL));
        assert_eq!(IdMap::Identity.corral(), JobUser::CORRAL);
    }

    #[test]
    fn under_remapping_the_owner_is_found_inside_and_handed_files_outside() {
        let user = REMAP.owner(110_001, 210_002).expect("mapped");
        assert_eq!((user.uid, user.gid), (10_001, 10_002));
        assert_eq!(user.host, Some((110_001, 210_002)));
        // corral's own user lands in the range too.
        assert_eq!(REMAP.corral().host, Some((110_001, 210_001)));
        // Container root's host ids own a project: corral's user, never root.
        assert_eq!(REMAP.owner(100_000, 200_000), Ok(REMAP.corral()));
        // Host root owns it: corral's user (whether it may write is checked apart).
        assert_eq!(REMAP.owner(0, 0), Ok(REMAP.corral()));
    }

    #[test]
    fn an_owner_outside_the_range_is_refused_naming_the_range() {
        for (uid, gid) in [
            (1000, 1000),
            (99_999, 200_001),
            (165_536, 200_001),
            (110_001, 1000),
        ] {
            let refused = REMAP.owner(uid, gid).expect_err("unmapped");
            assert!(
                refused.mapping.contains("host uids 100000-165535"),
                "{}",
                refused.mapping
            );
        }
        assert!(IdMap::Unknown.owner(1000, 1000).is_err());
        assert_eq!(IdMap::Unknown.corral().host, None);
        // An id past the range has no host side either.
        assert_eq!(REMAP.user(70_000, 1).host, None);
    }

    #[test]
    fn gvisor_is_refused_wherever_ids_are_remapped_and_named_why() {
        assert_eq!(IdMap::Identity.gvisor_refusal(), None);
        let reason = REMAP.gvisor_refusal().expect("refused under userns-remap");
        assert!(reason.contains("host uid 100000"), "{reason}");
        assert!(IdMap::Unknown.gvisor_refusal().is_some());
    }
}
