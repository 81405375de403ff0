//! The host's subordinate id ranges (`/etc/subuid`, `/etc/subgid`), read
//! as shadow's `newuidmap` reads them, and whether a remapping engine's
//! range is its own alone: whoever else holds ids in it could become the
//! host ids of its containers, root inside among them.

use corral_runtime::IdMap;

/// The host's subordinate id files, as text (empty when unreadable).
#[derive(Debug, Default, Clone)]
pub struct SubIds {
    /// `/etc/subuid`.
    pub uids: String,
    /// `/etc/subgid`.
    pub gids: String,
}

impl SubIds {
    /// This host's files.
    pub fn read() -> Self {
        Self {
            uids: std::fs::read_to_string("/etc/subuid").unwrap_or_default(),
            gids: std::fs::read_to_string("/etc/subgid").unwrap_or_default(),
        }
    }
}

/// One line of a subordinate id file: `user:first:count`, or a line
/// corral cannot read (then nothing about the file is taken as known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line<'a> {
    Range(&'a str, u64, u64),
    Unreadable(&'a str),
}

/// Every line but empty ones, read as shadow's `newuidmap` reads them:
/// blanks before a number, and numbers in decimal, `0x` hex or `0` octal.
fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.trim_end().split(':');
            let user = fields.next().unwrap_or_default();
            let first = fields.next().and_then(number);
            let count = fields.next().and_then(number);
            match (first, count, fields.next()) {
                (Some(first), Some(count), None) => Line::Range(user, first, count),
                _ => Line::Unreadable(line),
            }
        })
}

/// A number as C's `strtoul(text, _, 0)` reads a whole field; `None` for
/// anything else (a sign, trailing text), which corral does not guess at.
fn number(text: &str) -> Option<u64> {
    let text = text.trim_start();
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() > 1
            && let Some(octal) = text.strip_prefix('0')
        {
            (octal, 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// The count of the range starting at `first` in `text`.
pub(crate) fn range_length(text: &str, first: u32) -> Option<u32> {
    lines(text).find_map(|line| match line {
        Line::Range(_, start, count) if start == u64::from(first) => {
            Some(u32::try_from(count).unwrap_or(u32::MAX))
        }
        _ => None,
    })
}

/// Why no job may run under this remapping, or `None`: corral's job user
/// is not inside the range (no container could start as it), or another
/// user's subordinate range overlaps the engine's, so that user could
/// become the host uids of the engine's containers, root inside among
/// them, and reach what they own.
pub fn range_refusal(map: IdMap, subids: &SubIds) -> Option<String> {
    let IdMap::Shifted {
        first_uid,
        first_gid,
        length,
    } = map
    else {
        return None;
    };
    let job = corral_proto::worker::JOB_UID.max(corral_proto::worker::JOB_GID);
    if length <= job {
        return Some(format!(
            "this engine remaps ids into a range of {length}, which does not hold corral's job user {job}; corral runs no job: give the remapping user at least 65536 subordinate ids"
        ));
    }
    [
        ("uids", "/etc/subuid", &subids.uids, first_uid),
        ("gids", "/etc/subgid", &subids.gids, first_gid),
    ]
    .into_iter()
    .find_map(|(kind, file, text, first)| overlap(kind, file, text, u64::from(first)))
}

/// Why the engine's range of `kind` starting at `first` in `file` (its
/// `text`) is not its own alone, or `None`: every line must be read, one
/// user's line must start there, and no other user's may reach into it.
fn overlap(kind: &str, file: &str, text: &str, first: u64) -> Option<String> {
    let mut owners: Vec<&str> = Vec::new();
    let mut end = first;
    for line in lines(text) {
        match line {
            Line::Unreadable(line) => {
                return Some(format!(
                    "{file} has a line corral cannot read ({line:?}), so it cannot tell who else holds this engine's {kind}; corral runs no job until it reads as user:first:count"
                ));
            }
            Line::Range(user, start, count) if start == first && count > 0 => {
                owners.push(user);
                end = end.max(start.saturating_add(count));
            }
            Line::Range(..) => {}
        }
    }
    owners.dedup();
    if owners.is_empty() {
        return Some(format!(
            "no line of {file} starts at this engine's first host id {first}, so corral cannot tell who else holds its {kind}; corral runs no job"
        ));
    }
    let mut holders: Vec<String> = lines(text)
        .filter_map(|line| match line {
            Line::Range(user, start, count)
                if start < end && first < start.saturating_add(count) =>
            {
                Some(user.to_owned())
            }
            _ => None,
        })
        .collect();
    holders.sort();
    holders.dedup();
    (holders.len() > 1).then(|| {
        format!(
            "users {} hold subordinate {kind} in this engine's range {first}-{} ({file}): each could become the host ids of its containers (root inside among them); corral runs no job until only the remapping user holds them",
            holders.join(", "),
            end - 1
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_without_the_job_user_or_overlapping_another_users_is_refused() {
        let map = IdMap::Shifted {
            first_uid: 231_072,
            first_gid: 231_072,
            length: 65_536,
        };
        let apart = SubIds {
            uids: "alice:100000:65536\ndockremap:231072:65536\nbob:296608:65536\n".into(),
            gids: "alice:100000:65536\ndockremap:231072:65536\n".into(),
        };
        assert_eq!(range_refusal(map, &apart), None);
        assert_eq!(range_refusal(IdMap::Identity, &apart), None);
        // Ending one id into the engine's range is enough.
        let uid_overlap = SubIds {
            uids: "mallory:165537:65536\ndockremap:231072:65536\n".into(),
            gids: apart.gids.clone(),
        };
        let refused = range_refusal(map, &uid_overlap).expect("overlap");
        assert!(
            refused.contains("users dockremap, mallory hold subordinate uids")
                && refused.contains("231072-296607"),
            "{refused}"
        );
        let gid_overlap = SubIds {
            uids: apart.uids.clone(),
            gids: "dockremap:231072:65536\nmallory:296607:10\n".into(),
        };
        let refused = range_refusal(map, &gid_overlap).expect("overlap");
        assert!(
            refused.contains("mallory hold subordinate gids"),
            "{refused}"
        );
        // The very same range under another name, and the spellings
        // newuidmap reads (hex, octal, blanks) or an endless count.
        for sneaky in [
            "mallory:231072:65536",
            "mallory:0x386A0:65536",
            "mallory: 231072:65536",
            "mallory:0703240:65536",
            "mallory:1:18446744073709551615",
        ] {
            let subids = SubIds {
                uids: format!("dockremap:231072:65536\n{sneaky}\n"),
                gids: apart.gids.clone(),
            };
            let refused = range_refusal(map, &subids).expect(sneaky);
            assert!(refused.contains("mallory"), "{sneaky}: {refused}");
        }
        // What corral cannot read, or a file without the engine's range,
        // is not taken as "no one else".
        for unknown in [
            "dockremap:231072:65536\nmallory:-1:65536\n",
            "alice:1:5\n",
            "",
        ] {
            let subids = SubIds {
                uids: unknown.into(),
                gids: apart.gids.clone(),
            };
            assert!(range_refusal(map, &subids).is_some(), "{unknown:?}");
        }
        let short = IdMap::Shifted {
            first_uid: 231_072,
            first_gid: 231_072,
            length: 10_001,
        };
        let refused = range_refusal(short, &apart).expect("no job user");
        assert!(
            refused.contains("range of 10001") && refused.contains("10001"),
            "{refused}"
        );
    }
}
