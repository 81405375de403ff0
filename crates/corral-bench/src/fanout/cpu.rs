//! Where the CPU went during the run: this process's threads, by name
//! (`/proc/self/task/*/schedstat`: nanoseconds on a CPU), split between
//! the subscribers' runtime ([`SUBSCRIBER_THREAD`]) and everything else
//! (the server: its runtime and blocking pool), and the whole machine's
//! busy time (`/proc/stat`: the jobs' shells and workers, Docker, and
//! whatever else runs on the machine), and of that the jobs' containers'
//! (Docker's cgroup, where a container's CPU stays counted once it is
//! removed).

use std::collections::HashMap;
use std::time::Duration;

/// Name of the subscribers' threads (at most 15 bytes: `comm` is cut there).
pub const SUBSCRIBER_THREAD: &str = "fanout-reader";
/// Clock ticks per second of `/proc/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_S: u64 = 100;

/// CPU times at one moment.
pub struct Snapshot {
    /// Per thread id: whether it is a subscriber's, nanoseconds on a CPU.
    threads: HashMap<u64, (bool, u64)>,
    /// The machine's busy ticks, all CPUs.
    machine: u64,
    /// Nanoseconds on a CPU of every container Docker ran, when its
    /// cgroup could be read.
    containers: Option<u64>,
}

/// CPU used between two snapshots.
pub struct CpuSplit {
    /// The server's threads (every thread of this process but the subscribers').
    pub server: Duration,
    /// The subscribers' threads.
    pub subscribers: Duration,
    /// Every CPU of the machine, busy: the above, the jobs, and anything else.
    pub machine: Duration,
    /// The jobs' containers (their shells and workers), when Docker's
    /// cgroup could be read.
    pub containers: Option<Duration>,
}

/// The CPU times now; `None` where `/proc` cannot be read.
pub fn snapshot() -> Option<Snapshot> {
    let mut threads = HashMap::new();
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let Some(id) = entry.file_name().to_str().and_then(|id| id.parse().ok()) else {
            continue;
        };
        let path = entry.path();
        let (Ok(name), Ok(schedstat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("schedstat")),
        ) else {
            continue; // the thread ended meanwhile
        };
        let Some(on_cpu) = schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
        else {
            continue;
        };
        threads.insert(id, (name.trim() == SUBSCRIBER_THREAD, on_cpu));
    }
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    let machine = ticks.iter().take(8).sum::<u64>() - ticks.get(3)? - ticks.get(4)?;
    Some(Snapshot {
        threads,
        machine,
        containers: containers_cpu(),
    })
}

/// CPU used by every container under Docker's cgroup (the `cgroupfs`
/// driver): cgroup v1's `cpuacct`, else v2's `cpu.stat`, in nanoseconds.
/// Each counts a container's use in its parent too, and keeps it there
/// once the container's own cgroup is gone.
fn containers_cpu() -> Option<u64> {
    if let Ok(usage) = std::fs::read_to_string("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage") {
        return usage.trim().parse().ok();
    }
    let stat = std::fs::read_to_string("/sys/fs/cgroup/docker/cpu.stat").ok()?;
    let micros: u64 = stat
        .lines()
        .find_map(|line| line.strip_prefix("usage_usec "))?
        .trim()
        .parse()
        .ok()?;
    Some(micros * 1000)
}

impl Snapshot {
    /// What was used from `self` until `later` (a thread born meanwhile
    /// counts from zero; one that ended meanwhile is lost, so the runs
    /// keep their threads: the blocking pool's live 10 s idle).
    pub fn until(&self, later: &Snapshot) -> CpuSplit {
        let (mut server, mut subscribers) = (0, 0);
        for (id, (subscriber, on_cpu)) in &later.threads {
            let before = self.threads.get(id).map_or(0, |(_, on_cpu)| *on_cpu);
            let used = on_cpu.saturating_sub(before);
            if *subscriber {
                subscribers += used;
            } else {
                server += used;
            }
        }
        let machine_ticks = later.machine.saturating_sub(self.machine);
        CpuSplit {
            server: Duration::from_nanos(server),
            subscribers: Duration::from_nanos(subscribers),
            machine: Duration::from_millis(machine_ticks * 1000 / TICKS_PER_S),
            containers: self
                .containers
                .zip(later.containers)
                .map(|(before, after)| Duration::from_nanos(after.saturating_sub(before))),
        }
    }
}
