# Sourced by the engine scripts (ensure-docker.sh, ensure-docker-userns.sh,
# ensure-podman.sh): whether the daemon a script runs is alive, and the wait
# that starts it again when it is not.
#
# A daemon killed without cleanup leaves its pid file behind, and after a
# restart of the machine that pid can belong to anything, or to another
# engine's daemon (a second dockerd, a user's rootless one). So a daemon is
# alive only when the pid this script started, or the pid in its own pid
# file, is a live process with the expected command name: never "some
# dockerd runs".

# The pid of the daemon this script started last (set by the start step),
# and how many times daemon_ensure started one.
daemon_pid=""
daemon_starts=0

# daemon_alive PID_FILE COMMAND...: whether the daemon is alive: the pid
# this script started, or the one in PID_FILE if its command name is one of
# COMMAND; neither a zombie.
daemon_alive() {
    local pid_file="$1" pid comm name
    shift
    # Our own child: no other process can hold its pid while it lives (its
    # name may still be the shell's before it execs the daemon).
    if [ -n "$daemon_pid" ] && live_pid "$daemon_pid"; then
        return 0
    fi
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] && live_pid "$pid" || return 1
    comm="$(ps -o comm= -p "$pid" 2>/dev/null || true)"
    for name in "$@"; do
        [ "$comm" = "$name" ] && return 0
    done
    return 1
}

# live_pid PID: a process that is neither a zombie nor gone.
live_pid() {
    case "$(ps -o stat= -p "$1" 2>/dev/null)" in
        Z* | "") return 1 ;;
        *) return 0 ;;
    esac
}

# daemon_clear PID_FILE SOCKET: drops the pid file and socket a dead daemon
# left behind (only called when no daemon of ours is alive).
daemon_clear() {
    rm -f "$1"
    [ -S "$2" ] && rm -f "$2"
    return 0
}

# daemon_ensure SECONDS ANSWERS ALIVE START WHAT SOCKET LOG: runs ANSWERS
# until it succeeds, running START whenever ALIVE fails (at most three
# times: a daemon still dying after a kill is waited out, then replaced).
# Returns once ANSWERS succeeds (saying "WHAT is up" through the calling
# script's `say` if it started one); else shows the end of LOG and exits 1,
# naming WHAT and SOCKET.
daemon_ensure() {
    local seconds="$1" answers="$2" alive="$3" start="$4" what="$5" socket="$6" log="$7"
    for _ in $(seq 1 $((seconds * 4))); do
        if "$answers"; then
            [ "$daemon_starts" -eq 0 ] || say "$what is up"
            return 0
        fi
        if ! "$alive"; then
            [ "$daemon_starts" -lt 3 ] || break
            "$start"
            daemon_starts=$((daemon_starts + 1))
        fi
        sleep 0.25
    done
    tail -n 20 "$log" >&2 2>/dev/null || true
    say "$what did not answer on $socket within ${seconds}s (see $log)"
    exit 1
}
