//! File order numbers: each desk's start apart from the desk's before.

/// Where a desk's file order numbers start: at random. A re-adopted
/// sandbox's worker may still send, after the restart, the answer to an
/// order of the desk before (a failed fetch of a restore's upload the
/// killed server was serving); counted from the same start, that answer
/// would be taken for this desk's order of the same number. Half the
/// range, so counting up never wraps. Without randomness, the clock in
/// nanoseconds: the desk before would have had to hand out a million
/// orders a millisecond of the restart to reach this one's.
pub(super) fn first_number() -> u64 {
    let random = crate::token::random_bytes(8)
        .ok()
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(u64::from_le_bytes);
    let start = random.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            })
    });
    start >> 1
}
