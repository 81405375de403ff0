//! A job's grants, checked before the job is stored: valid, non-dangerous,
//! distinct environment names. Whether each secret exists is checked by the
//! job manager, which can reach the store.

use corral_proto::{Grant, GrantSpec};

/// Variables a grant may never set: they steer the shell, the loader or
/// corral itself.
const FORBIDDEN: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "PWD",
    "OLDPWD",
    "IFS",
    "ENV",
    "BASH_ENV",
    "CDPATH",
    "HOSTNAME",
    "TMPDIR",
    "TERM",
    "PS4",
    "PROMPT_COMMAND",
    "NODE_OPTIONS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PERL5OPT",
    "RUBYOPT",
    "JAVA_TOOL_OPTIONS",
    "GIT_SSH_COMMAND",
];
/// Prefixes a grant may never use.
const FORBIDDEN_PREFIXES: &[&str] = &["LD_", "DYLD_", "CORRAL_", "BASH_FUNC_"];

/// Why a grant was refused: the field and the message.
pub type GrantError = (String, String);

/// Resolves and checks every grant.
pub fn check(specs: &[GrantSpec]) -> Result<Vec<Grant>, GrantError> {
    let mut grants: Vec<Grant> = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let field = |part: &str| format!("grants[{index}].{part}");
        super::validate_name(&spec.secret).map_err(|error| (field("secret"), error.to_string()))?;
        let env = spec.env.clone().unwrap_or_else(|| spec.secret.clone());
        check_env_name(&env).map_err(|message| (field("env"), message))?;
        if grants.iter().any(|grant| grant.env == env) {
            return Err((field("env"), format!("`{env}` is granted twice")));
        }
        grants.push(Grant {
            secret: spec.secret.clone(),
            env,
        });
    }
    Ok(grants)
}

fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("`{name}` is not a valid environment variable name"));
    }
    let upper = name.to_ascii_uppercase();
    if FORBIDDEN.contains(&upper.as_str())
        || FORBIDDEN_PREFIXES
            .iter()
            .any(|prefix| upper.starts_with(prefix))
    {
        return Err(format!("`{name}` may not be set by a grant"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(secret: &str, env: Option<&str>) -> GrantSpec {
        GrantSpec {
            secret: secret.into(),
            env: env.map(str::to_owned),
        }
    }

    #[test]
    fn the_env_name_defaults_to_the_secret_name() {
        let grants =
            check(&[grant("GITHUB_TOKEN", None), grant("NPM", Some("NPM_TOKEN"))]).expect("valid");
        assert_eq!(grants[0].env, "GITHUB_TOKEN");
        assert_eq!(grants[1].env, "NPM_TOKEN");
    }

    #[test]
    fn dangerous_invalid_and_duplicate_names_are_refused_by_field() {
        let field = |specs: &[GrantSpec]| check(specs).expect_err("refused").0;
        assert_eq!(field(&[grant("A_TOKEN", Some("PATH"))]), "grants[0].env");
        assert_eq!(
            field(&[grant("A_TOKEN", Some("LD_PRELOAD"))]),
            "grants[0].env"
        );
        assert_eq!(
            field(&[grant("A_TOKEN", Some("corral_x"))]),
            "grants[0].env"
        );
        assert_eq!(field(&[grant("A_TOKEN", Some("1BAD"))]), "grants[0].env");
        assert_eq!(field(&[grant("bad name", None)]), "grants[0].secret");
        assert_eq!(
            field(&[grant("A_TOKEN", None), grant("B_TOKEN", Some("A_TOKEN"))]),
            "grants[1].env"
        );
    }
}
