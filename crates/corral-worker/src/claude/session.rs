//! Claude's session transcript, kept by the orchestrator between
//! containers: sent after every run, so a follow-up to the ended job can
//! resume it; written back into `~/.claude` before a continuation's first run.

use std::path::{Path, PathBuf};

use corral_proto::NewEvent;
use corral_proto::worker::{
    CLAUDE_SESSION_PATH as ROUTE, ClaudeSession, JOB_HOME, MAX_CLAUDE_SESSION_BYTES,
};

use crate::agent::send;
use crate::client::{Client, ClientError};

/// Where Claude keeps its transcripts, one directory per working directory.
fn projects() -> PathBuf {
    Path::new(JOB_HOME).join(".claude").join("projects")
}

/// Sends the transcript of `session_id` to the orchestrator; a failure is a
/// warning (the job goes on, only a later continuation would miss it).
pub async fn save(client: &Client, session_id: &str) {
    let outcome = match find(&projects(), session_id).await {
        Some((dir, transcript)) => client
            .put_json(
                ROUTE,
                &ClaudeSession {
                    session_id: session_id.to_owned(),
                    dir,
                    transcript,
                },
            )
            .await
            .map_err(|error| error.to_string()),
        None => Err(format!("no readable transcript for session {session_id}")),
    };
    if let Err(reason) = outcome {
        warn(client, &format!("cannot keep the Claude session: {reason}")).await;
    }
}

/// Writes back the session this job continues; its id for `--resume`, or
/// `None` when the job continues nothing.
pub async fn restore(client: &Client) -> Result<Option<String>, String> {
    let session: ClaudeSession = match client.get_json(ROUTE).await {
        Ok(session) => session,
        Err(ClientError::Status { status, .. }) if status.as_u16() == 404 => return Ok(None),
        Err(error) => {
            return Err(format!(
                "cannot fetch the Claude session to resume: {error}"
            ));
        }
    };
    let plain = |text: &str| !text.is_empty() && !text.contains(['/', '\\']) && text != "..";
    if !plain(&session.dir) || !plain(&session.session_id) {
        return Err("the Claude session to resume has an unusable name".into());
    }
    let dir = projects().join(&session.dir);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let file = dir.join(format!("{}.jsonl", session.session_id));
    tokio::fs::write(&file, session.transcript.as_bytes())
        .await
        .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
    Ok(Some(session.session_id))
}

/// The directory name and text of `session_id`'s transcript under `projects`.
async fn find(projects: &Path, session_id: &str) -> Option<(String, String)> {
    let file_name = format!("{session_id}.jsonl");
    let mut dirs = tokio::fs::read_dir(projects).await.ok()?;
    while let Ok(Some(entry)) = dirs.next_entry().await {
        let path = entry.path().join(&file_name);
        let Ok(metadata) = tokio::fs::metadata(&path).await else {
            continue;
        };
        if metadata.len() > MAX_CLAUDE_SESSION_BYTES as u64 {
            return None;
        }
        let transcript = tokio::fs::read_to_string(&path).await.ok()?;
        let dir = entry.file_name().to_string_lossy().into_owned();
        return Some((dir, transcript));
    }
    None
}

async fn warn(client: &Client, message: &str) {
    send(client, vec![NewEvent::warning(message)]).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_transcript_is_found_by_its_session_id_in_any_project_dir() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("-workspace");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::create_dir_all(root.path().join("-tmp")).expect("mkdir");
        std::fs::write(dir.join("abc-1.jsonl"), "{\"type\":\"user\"}\n").expect("write");
        let (found_dir, transcript) = find(root.path(), "abc-1").await.expect("found");
        assert_eq!(found_dir, "-workspace");
        assert_eq!(transcript, "{\"type\":\"user\"}\n");
        assert!(find(root.path(), "abc-2").await.is_none());
        assert!(find(&root.path().join("none"), "abc-1").await.is_none());
    }
}
