//! A job's limits checked against [`bounds`](super::bounds), each refusal
//! written the way a user writes the value (`at least 16m`, `at most 7d`),
//! so the CLI can put it after the flag the user typed.

use corral_proto::{ByteSize, DurationSpec, Limits};

use super::bounds;

/// Checks every limit against [`bounds`](super::bounds); the error names
/// the limit (`memory`) and says the bound it missed (`at least 16m`).
///
/// # Errors
/// The first limit out of its bounds, with the bound it missed.
pub fn check_limits(limits: &Limits) -> Result<(), (&'static str, String)> {
    fn within<T: PartialOrd + Copy>(
        key: &'static str,
        value: T,
        (low, high): (T, T),
        show: impl Fn(T) -> String,
    ) -> Result<(), (&'static str, String)> {
        if value < low {
            return Err((key, format!("at least {}", show(low))));
        }
        if value > high {
            return Err((key, format!("at most {}", show(high))));
        }
        Ok(())
    }
    let size = |bytes: u64| ByteSize(bytes).to_string();
    let duration = |secs: u64| DurationSpec(secs).to_string();
    within("memory", limits.memory_bytes, bounds::MEMORY, size)?;
    within(
        "cpu_shares",
        limits.cpu_shares,
        bounds::CPU_SHARES,
        |n: i64| n.to_string(),
    )?;
    within("pids", limits.pids, bounds::PIDS, |n: i64| n.to_string())?;
    within(
        "timeout",
        limits.timeout_secs,
        bounds::TIMEOUT_SECS,
        duration,
    )?;
    within("tmpfs", limits.tmpfs_bytes, bounds::TMPFS, size)?;
    within(
        "max_llm_calls",
        limits.max_llm_calls,
        bounds::MAX_LLM_CALLS,
        |n: u64| n.to_string(),
    )?;
    within(
        "max_tokens",
        limits.max_tokens,
        bounds::MAX_TOKENS,
        |n: u64| n.to_string(),
    )?;
    within(
        "max_iterations",
        limits.max_iterations,
        bounds::MAX_ITERATIONS,
        |n: u32| n.to_string(),
    )?;
    within(
        "idle_timeout",
        limits.idle_timeout_secs,
        bounds::IDLE_TIMEOUT_SECS,
        duration,
    )
}

#[cfg(test)]
mod tests {
    use corral_proto::Limits;

    use super::check_limits;

    fn limits() -> Limits {
        Limits {
            memory_bytes: 1 << 30,
            cpu_shares: 1024,
            pids: 256,
            timeout_secs: 600,
            tmpfs_bytes: 64 << 20,
            max_llm_calls: 10,
            max_tokens: 1000,
            max_iterations: 5,
            idle_timeout_secs: 600,
        }
    }

    #[test]
    fn a_limit_out_of_bounds_is_refused_in_the_units_a_user_writes() {
        assert_eq!(check_limits(&limits()), Ok(()));
        let refusal = |limits: Limits| check_limits(&limits).expect_err("out of bounds");
        assert_eq!(
            refusal(Limits {
                memory_bytes: 8 << 20,
                ..limits()
            }),
            ("memory", "at least 16m".to_owned())
        );
        assert_eq!(
            refusal(Limits {
                memory_bytes: 2 << 40,
                ..limits()
            }),
            ("memory", "at most 1t".to_owned())
        );
        assert_eq!(
            refusal(Limits {
                timeout_secs: 8 * 86_400,
                ..limits()
            }),
            ("timeout", "at most 7d".to_owned())
        );
        assert_eq!(
            refusal(Limits {
                tmpfs_bytes: 1000,
                ..limits()
            }),
            ("tmpfs", "at least 1m".to_owned())
        );
        assert_eq!(
            refusal(Limits {
                pids: 1,
                ..limits()
            }),
            ("pids", "at least 8".to_owned())
        );
    }
}
