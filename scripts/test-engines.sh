#!/usr/bin/env bash
# The engine matrix: the tests that prove the container profile, `corral
# verify`, a job's life, a bound project's ownership and the hostile suite,
# run again on each other engine with DOCKER_HOST pointing at it:
# - rootful Podman (its Docker-compatible API, from scripts/ensure-podman.sh);
# - Docker with `--userns-remap=default` (a second daemon beside the main
#   one, from scripts/ensure-docker-userns.sh): root inside is host uid
#   100000, corral's job user host uid 110001.
# Run by scripts/test.sh after the Docker suite; expects the test binaries
# built and CORRAL_WORKER_BIN set, as there.
#
# Left out, and why (docs/architecture/sandbox.md, "Engines"):
# - tests that ask for gVisor or another OCI runtime (`under_crun…`,
#   `verify_passes_under_gvisor`, the gVisor hostile suite): Podman's compat
#   API ignores the runtime a container names, and gVisor under userns-remap
#   cannot open the job's mounts, so corral refuses both (`engines.rs`
#   checks the refusals);
# - everything that drives Docker itself beside corral (benchmarks' floors,
#   the reaper's Docker-side checks, the browser, Claude Code image builds).
# Rootless Podman (`ensure-podman.sh --user corral-rootless`) and rootless
# Docker (`ensure-docker-rootless.sh --user corral-rootless`) run one test
# each: on a cgroup v1 host neither sets a memory, pids or CPU limit
# (Podman's compat API claims them anyway; Docker's `info` says so, with the
# cgroup driver `none`), and corral must refuse to connect, naming why
# (`libpod::limits_refusal`, `remap::limits_refusal`); on cgroup v2 with the
# controllers delegated each must connect and say it is rootless.
set -euo pipefail
cd "$(dirname "$0")/.."

# The test executables the main suite built (no second build with other
# features), run from their package's directory as cargo test would.
orchestrator_it="$(bash scripts/test-binary.sh corral-orchestrator it)"
cli_it="$(bash scripts/test-binary.sh corral-cli it)"
threads="${CORRAL_TEST_THREADS:-4}"

common=(
    engines::
    sandbox::a_running_container_carries_the_whole_profile
    sandbox::only_tmp_home_and_the_workspace_are_writable
    sandbox::a_job_runs_in_an_image_with_nothing_of_corral
    verify::verify_passes_under_runc
    verify::verify_fails_naming_the_row_when_a_setting_is_removed
    verify::a_jobs_first_running_event_carries_its_containers_profile
    verify::jobs_wait_for_the_check_at_start_and_are_refused_while_it_fails
    lifecycle::output_arrives_in_order_and_the_exit_code_is_the_commands
    lifecycle::argv_runs_without_a_shell_and_succeeds
    lifecycle::a_job_past_its_timeout_is_timed_out_and_removed
    lifecycle::a_cancelled_job_is_cancelled_and_removed
    lifecycle::a_missing_image_fails_with_a_reason
    hostile::no_attempt_from_inside_a_job_succeeds
    hostile::no_attempt_from_inside_a_sandbox_succeeds
    sandboxes::a_long_output_is_cut_in_the_middle_and_a_granted_secret_is_redacted
    faults::a_worker_killed_by_its_job_fails_the_job_with_the_exit_code
    hostile_pids::
    pool::
    pool_socket::
)
oom=(
    lifecycle::a_memory_hog_fails_out_of_memory_and_is_removed
    lifecycle::a_child_killed_by_oom_is_a_warning_when_the_job_goes_on
)

status=0
# matrix NAME SOCKET [TEST FILTER…]: the common tests and those given on
# the engine at SOCKET, then a check that none left a container behind.
matrix() {
    local name="$1" socket="$2"
    shift 2
    echo "test-engines.sh: the engine matrix on $name ($socket) ($(date -u +%T))" >&2
    export DOCKER_HOST="unix://$socket"
    (cd crates/corral-orchestrator && "$orchestrator_it" --test-threads="$threads" \
        "${common[@]}" "$@") || status=$?
    # A job re-adopted after a `kill -9` of the server, and one that cannot
    # be; a runtime no job could start under refused when serve starts.
    (cd crates/corral-cli && "$cli_it" --test-threads="$threads" \
        engines::serve_refuses_at_start_a_runtime_no_job_could_run_under \
        run::a_running_job_is_re_adopted_after_the_server_is_killed \
        run::a_crashed_server_ends_a_job_it_cannot_re_adopt_with_a_reason) \
        || status=$?
    local leftover
    leftover="$(docker -H "unix://$socket" ps -aq --filter label=corral.job 2>/dev/null || true)"
    if [ -n "$leftover" ]; then
        echo "test-engines.sh: containers with a corral.job label were left behind on $name:" >&2
        docker -H "unix://$socket" ps -a --filter label=corral.job >&2
        docker -H "unix://$socket" rm -f $leftover >/dev/null 2>&1 || true
        status=1
    fi
    unset DOCKER_HOST
}

# Both OOM tests run on Podman too: it never reports OOMKilled on cgroup v1,
# so corral reads the kill from the kernel log (corral-docker `kmsg`).
matrix "rootful Podman" "$(bash scripts/ensure-podman.sh)" "${oom[@]}"
matrix "Docker with userns-remap" "$(bash scripts/ensure-docker-userns.sh)" "${oom[@]}"

rootless() {
    local name="$1" socket="$2"
    echo "test-engines.sh: $name ($socket) ($(date -u +%T))" >&2
    (cd crates/corral-orchestrator && DOCKER_HOST="unix://$socket" CORRAL_EXPECT_ROOTLESS=1 \
        "$orchestrator_it" engines::a_rootless_engine_is_named_and_refused) || status=$?
}
rootless "rootless Podman" "$(bash scripts/ensure-podman.sh --user corral-rootless)"
rootless "rootless Docker" "$(bash scripts/ensure-docker-rootless.sh --user corral-rootless)"
exit "$status"
