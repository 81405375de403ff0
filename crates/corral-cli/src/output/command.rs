//! A job's command as one line for people, quoted the way a shell reads it.

use corral_proto::CommandSpec;

/// A command as one line for people.
pub fn describe_command(command: &CommandSpec) -> String {
    match command {
        CommandSpec::Shell(line) => line.clone(),
        CommandSpec::Argv(argv) => argv
            .iter()
            .map(|arg| {
                if arg.is_empty()
                    || arg
                        .chars()
                        .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
                {
                    format!("'{}'", arg.replace('\'', r"'\''"))
                } else {
                    arg.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}
