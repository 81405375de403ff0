//! Starting the job's processes.

/// Makes `command` start by fork and exec rather than `posix_spawn`: the
/// static glibc's `posix_spawn` creates the child with `clone3`, which the
/// seccomp filter gVisor applies (`--oci-seccomp`) refuses with EPERM rather
/// than ENOSYS, so it never falls back. Naming the process's own uid and gid
/// (which needs no privilege) makes std fork instead.
pub(crate) fn forked(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    command
        .uid(rustix::process::getuid().as_raw())
        .gid(rustix::process::getgid().as_raw())
}
