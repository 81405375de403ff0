//! A job named by the start of its id, as `docker` takes a short container
//! id: `corral show 3f9a` is job `j-3f9a…` when no other id starts so.

use crate::client::{ApiClient, JobList};
use crate::failure::ClientError;
use crate::sanitize::visible_line;

/// Candidates an ambiguous prefix lists at most.
const MAX_CANDIDATES: u32 = 10;
/// Hex digits after `j-` in a whole id.
const ID_DIGITS: usize = 16;

impl ApiClient {
    /// The whole id of the one job whose id starts with `id` (with or
    /// without its `j-`); an error naming the candidates when several do,
    /// or saying none does.
    pub async fn resolve_id(&self, id: &str) -> Result<String, ClientError> {
        let prefix = normalize(id);
        if is_whole(&prefix) {
            return Ok(prefix);
        }
        let list: JobList = self
            .json(
                self.request(reqwest::Method::GET, "/v1/jobs", &[])?
                    .query(&[
                        ("id_prefix", prefix.as_str()),
                        ("limit", &MAX_CANDIDATES.to_string()),
                    ]),
            )
            .await?;
        // Filtered here too, so a server without `id_prefix` (which lists
        // every job) cannot make a prefix match the wrong one.
        let ids: Vec<String> = list
            .jobs
            .into_iter()
            .map(|job| job.id)
            .filter(|candidate| candidate.starts_with(&prefix))
            .collect();
        match ids.as_slice() {
            [] => Err(ClientError::Id(format!(
                "no job id starts with `{}`",
                visible_line(id)
            ))),
            [one] => Ok(one.clone()),
            many => Err(ClientError::Id(format!(
                "`{}` is the start of several job ids ({}{}); type more of it",
                visible_line(id),
                visible_line(&many.join(", ")),
                if many.len() >= MAX_CANDIDATES as usize {
                    ", …"
                } else {
                    ""
                }
            ))),
        }
    }
}

/// `3f9a` as `j-3f9a`: ids are `j-` and hex, and users copy either part.
fn normalize(id: &str) -> String {
    let id = id.trim();
    if !id.starts_with("j-") && !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("j-{}", id.to_ascii_lowercase())
    } else {
        id.to_owned()
    }
}

/// A whole id, or something that is no id prefix at all: sent as it is,
/// so the server's answer (found, or not found) stands.
fn is_whole(id: &str) -> bool {
    match id.strip_prefix("j-") {
        Some(hex) => hex.len() >= ID_DIGITS,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_whole, normalize};

    #[test]
    fn a_short_id_is_read_with_or_without_its_j_dash() {
        assert_eq!(normalize("3F9a"), "j-3f9a");
        assert_eq!(normalize("j-3f9a"), "j-3f9a");
        assert!(!is_whole("j-3f9a"));
        assert!(is_whole("j-0123456789abcdef"));
        assert!(
            is_whole("not-an-id"),
            "sent as is, for the server to refuse"
        );
    }
}
