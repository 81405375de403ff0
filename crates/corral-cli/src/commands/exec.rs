//! `corral exec ID -- CMD…`: a command in a sandbox, its output streamed
//! as it comes, stdin passed through when piped; exits with its code.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::ops::ControlFlow;
use std::process::ExitCode;

use corral_client::ExecAnswer;
use corral_proto::event::{ExecEndedData, OutputStream};
use corral_proto::sandbox::ExecSpec;
use corral_proto::{CommandSpec, DurationSpec, EventKind};

use crate::cli::{ExecArgs, GlobalArgs};
use crate::client::api_client;
use crate::output::{self, JobOutput};

pub async fn run(global: &GlobalArgs, args: ExecArgs) -> anyhow::Result<ExitCode> {
    let mode = JobOutput::from_raw_flag(args.raw)?;
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--env: `{pair}` is not NAME=VALUE"))?;
        env.insert(name.to_owned(), value.to_owned());
    }
    let timeout = args
        .timeout
        .as_deref()
        .map(|text| {
            text.parse::<DurationSpec>()
                .map_err(|error| anyhow::anyhow!("--timeout: {error}"))
        })
        .transpose()?;
    let stdin = if std::io::stdin().is_terminal() {
        None
    } else {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|error| anyhow::anyhow!("cannot read stdin: {error}"))?;
        (!bytes.is_empty()).then(|| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        })
    };
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    let spec = ExecSpec {
        cmd: CommandSpec::Argv(args.command),
        cwd: args.cwd,
        env,
        stdin: None,
        stdin_base64: stdin,
        timeout,
    };
    let started = match client.exec(&id, &spec, None).await? {
        ExecAnswer::Started(started) => started,
        ExecAnswer::Ended(result) => {
            anyhow::bail!("the server answered exec {} at once", result.exec)
        }
    };
    let mut ended: Option<ExecEndedData> = None;
    client
        .follow_while(&id, started.after, |event| {
            if let Some(piece) = event.output() {
                if piece.exec == Some(started.exec) {
                    match piece.stream {
                        OutputStream::Stdout => output::job_stdout(piece.text, mode),
                        OutputStream::Stderr => output::job_stderr(piece.text, mode),
                    }
                }
                return ControlFlow::Continue(());
            }
            if event.kind == EventKind::ExecEnded
                && let Some(data) = event.payload::<ExecEndedData>()
                && data.exec == started.exec
            {
                ended = Some(data);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })
        .await?;
    let Some(ended) = ended else {
        anyhow::bail!("sandbox {id} ended before exec {} did", started.exec);
    };
    if let Some(reason) = &ended.reason {
        output::note(&output::visible_line(reason));
    }
    let code = ended.exit_code.unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
