//! Worker mode: corral's agent loop. The model is called through the
//! job socket (the orchestrator holds the key and picks the model); its
//! tool calls run here, in the container. Each step becomes events:
//! `message` (assistant text), `tool_call`, `tool_result`; the final answer
//! becomes the job's `result`. An interactive job then waits for follow-up
//! prompts and continues the same conversation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use corral_proto::event::{MessageData, MessageRole, ToolCallData, ToolResultData};
use corral_proto::llm::{ChatMessage, ChatRequest, Role};
use corral_proto::worker::{
    Completion, CompletionStatus, Credential, PROMPT_POLL_SECS, PROMPTS_PATH, WorkerJob,
};
use corral_proto::{NewEvent, Prompt};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::failure::{EXIT_WORKER_FAILED, complain, report_failure};
use crate::model;
use crate::tools::{self, Tools};

/// The reason a job ends with when its model never stops calling tools.
pub const ITERATION_LIMIT: &str = "iteration limit";
/// Where the agent works when the job has no project.
const SCRATCH: &str = "/tmp";

/// Runs the agent; returns the worker's exit code.
pub async fn run(client: &Client, job: &WorkerJob, credentials: &[Credential]) -> u8 {
    let Some(prompt) = &job.prompt else {
        report_failure(client, "worker job has no prompt").await;
        return EXIT_WORKER_FAILED;
    };
    let workdir = PathBuf::from(job.workdir.as_deref().unwrap_or(SCRATCH));
    let tools = Tools::new(client, workdir.clone(), credentials);
    let stream = job.llm.as_ref().is_none_or(|llm| llm.stream);
    let mut conversation = vec![
        ChatMessage::text(Role::System, system_prompt(&workdir)),
        ChatMessage::text(Role::User, prompt.clone()),
    ];
    let mut seen_prompts = 0;
    let mut ending = false;
    let answer = loop {
        let answer = match answer_prompt(
            client,
            &tools,
            &mut conversation,
            job.limits.max_iterations,
            stream,
        )
        .await
        {
            Ok(answer) => answer,
            Err(reason) => {
                finish(client, CompletionStatus::Failed, &reason).await;
                return 1;
            }
        };
        if !job.interactive || ending {
            break answer;
        }
        let idle = Duration::from_secs(job.limits.idle_timeout_secs);
        match next_prompts(client, &mut seen_prompts, idle).await {
            Next::Prompts { prompts, end } => {
                ending = end;
                conversation.extend(
                    prompts
                        .into_iter()
                        .map(|prompt| ChatMessage::text(Role::User, prompt.text)),
                );
            }
            Next::End => break answer,
        }
    };
    finish(client, CompletionStatus::Succeeded, &answer).await;
    0
}

fn system_prompt(workdir: &std::path::Path) -> String {
    format!(
        "You are corral's coding agent, working inside a locked-down sandbox container \
         with no network access. Your working directory is {}; /workspace holds the user's \
         project when one was given, and /tmp is scratch space. Use the tools to look at and \
         change files and to run commands, and check your work. When the task is done, answer \
         with a short summary of what you did and call no tool.",
        workdir.display()
    )
}

/// Calls the model and runs its tools until it answers without a tool
/// call; the answer's text, or why the job fails.
async fn answer_prompt(
    client: &Client,
    tools: &Tools<'_>,
    conversation: &mut Vec<ChatMessage>,
    max_iterations: u32,
    stream: bool,
) -> Result<String, String> {
    for _ in 0..max_iterations {
        let request = ChatRequest {
            model: None,
            messages: conversation.clone(),
            tools: tools::definitions(),
            tool_choice: None,
            stream,
            max_tokens: None,
            temperature: None,
            extra: Map::new(),
        };
        let answer = model::chat(client, &request)
            .await
            .map_err(|error| error.reason())?;
        let Some(choice) = answer.choices.into_iter().next() else {
            return Err("the model sent an answer without a choice".into());
        };
        let mut message = choice.message;
        message.role = Role::Assistant;
        for (index, call) in message.tool_calls.iter_mut().enumerate() {
            if call.id.is_empty() {
                call.id = format!("call_{}_{index}", conversation.len());
            }
        }
        let text = message.text_content();
        let calls = message.tool_calls.clone();
        conversation.push(message);
        let mut events = Vec::new();
        if !text.is_empty() {
            events.push(NewEvent::of(&MessageData::new(
                MessageRole::Assistant,
                text.clone(),
            )));
        }
        if calls.is_empty() {
            send(client, events).await;
            return Ok(text);
        }
        for call in calls {
            let arguments = serde_json::from_str::<Value>(&call.function.arguments)
                .unwrap_or_else(|_| Value::String(call.function.arguments.clone()));
            events.push(NewEvent::of(&ToolCallData {
                id: Some(call.id.clone()),
                name: Some(call.function.name.clone()),
                arguments,
                extra: BTreeMap::new(),
            }));
            send(client, std::mem::take(&mut events)).await;
            let started = Instant::now();
            let result = tools
                .call(&call.function.name, &call.function.arguments)
                .await;
            send(
                client,
                vec![NewEvent::of(&ToolResultData {
                    id: Some(call.id.clone()),
                    name: Some(call.function.name.clone()),
                    ok: result.ok,
                    output: result.text.clone(),
                    duration_ms: Some(started.elapsed().as_millis() as u64),
                    extra: BTreeMap::new(),
                })],
            )
            .await;
            conversation.push(ChatMessage::tool_result(call.id, result.text));
        }
    }
    Err(ITERATION_LIMIT.to_owned())
}

/// What an interactive job does after a turn.
pub(crate) enum Next {
    /// Answer these prompts; then stop if `end` (the user ended the job
    /// after sending them).
    Prompts {
        /// The prompts, in order.
        prompts: Vec<Prompt>,
        /// The user's end came after them.
        end: bool,
    },
    /// Stop: the user ended the job, it was idle for its `idle_timeout`,
    /// or prompts cannot be read.
    End,
}

/// Waits for follow-up prompts or the user's end, up to `idle`.
pub(crate) async fn next_prompts(client: &Client, seen: &mut u64, idle: Duration) -> Next {
    let deadline = Instant::now() + idle;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Next::End;
        }
        let wait = left.as_secs().clamp(1, PROMPT_POLL_SECS);
        let path = format!("{PROMPTS_PATH}?after={seen}&wait={wait}");
        match client.get_json::<Vec<Prompt>>(&path).await {
            Ok(prompts) if !prompts.is_empty() => {
                *seen = prompts.last().map_or(*seen, |prompt| prompt.seq);
                let end = prompts.iter().any(|prompt| prompt.end);
                let prompts: Vec<Prompt> = prompts
                    .into_iter()
                    .take_while(|prompt| !prompt.end)
                    .collect();
                return if prompts.is_empty() {
                    Next::End
                } else {
                    Next::Prompts { prompts, end }
                };
            }
            Ok(_) => {}
            Err(error) => {
                complain(&format!("cannot fetch prompts: {error}"));
                return Next::End;
            }
        }
    }
}

pub(crate) async fn send(client: &Client, events: Vec<NewEvent>) {
    if events.is_empty() {
        return;
    }
    if let Err(error) = client.send_events(events).await {
        complain(&format!("cannot send events: {error}"));
    }
}

pub(crate) async fn finish(client: &Client, status: CompletionStatus, text: &str) {
    let failed = status == CompletionStatus::Failed;
    if failed {
        send(client, vec![NewEvent::error(text)]).await;
    }
    let completion = Completion {
        status,
        summary: text.to_owned(),
        exit_code: None,
        reason: failed.then(|| text.to_owned()),
    };
    if let Err(error) = client.complete(&completion).await {
        complain(&format!("cannot report completion: {error}"));
    }
}
