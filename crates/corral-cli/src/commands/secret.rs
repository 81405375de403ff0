//! `corral secret set|list|rm`. A value is read from stdin or a hidden
//! prompt, never from the command line, where other users could see it.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{GlobalArgs, SecretCommand};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, command: SecretCommand) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    match command {
        SecretCommand::Set { name } => {
            let value = read_value(&name)?;
            client.put_secret(&name, &value).await?;
            output::note(&format!("stored secret {name}"));
        }
        SecretCommand::List { json } => {
            let secrets = client.secrets().await?;
            if json {
                output::json(&secrets);
            } else {
                output::line(&format!("{:<32} {:<23} LAST USED", "NAME", "CREATED"));
                for secret in &secrets {
                    // Made visible before padding, so the columns line up.
                    let field = |key: &str| {
                        output::visible_line(secret[key].as_str().unwrap_or("-")).into_owned()
                    };
                    let time = |key: &str| output::human_time_text(&field(key));
                    output::line(&format!(
                        "{:<32} {:<23} {}",
                        field("name"),
                        time("created_at"),
                        time("last_used_at")
                    ));
                }
            }
        }
        SecretCommand::Rm { name } => {
            client.delete_secret(&name).await?;
            output::note(&format!("removed secret {name}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The value: a hidden prompt on a terminal, else all of stdin (one
/// trailing newline dropped, as `echo` adds one).
fn read_value(name: &str) -> anyhow::Result<String> {
    let mut value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("value for {name}: "))
            .context("cannot read the value")?
    } else {
        let mut value = String::new();
        std::io::stdin()
            .read_to_string(&mut value)
            .context("cannot read the value from stdin")?;
        value
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        anyhow::bail!("no value given on stdin");
    }
    Ok(value)
}
