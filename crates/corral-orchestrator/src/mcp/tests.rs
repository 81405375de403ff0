use serde_json::json;

use super::{CreateJob, spec_of};

#[test]
fn create_job_arguments_become_a_job_spec_with_its_egress() {
    let args: CreateJob = serde_json::from_value(json!({
        "command": "curl -sf https://pypi.org/simple/",
        "grants": ["TOKEN=GH_TOKEN"],
        "egress": {"allow": ["pypi.org"], "max_connections": 4},
    }))
    .expect("arguments");
    let spec = spec_of(args);
    assert_eq!(
        spec["egress"],
        json!({"allow": ["pypi.org"], "max_connections": 4})
    );
    assert_eq!(
        spec["grants"],
        json!([{"secret": "TOKEN", "env": "GH_TOKEN"}])
    );
    let checked: corral_proto::JobSpec = serde_json::from_value(spec).expect("a valid job spec");
    assert_eq!(
        checked.egress.map(|egress| egress.allow),
        Some(vec!["pypi.org".to_owned()])
    );
}

#[test]
fn a_command_may_be_a_list_of_arguments_as_the_api_takes_it() {
    let args: CreateJob =
        serde_json::from_value(json!({"command": ["sh", "-c", "echo hi"]})).expect("arguments");
    let spec = spec_of(args);
    let checked: corral_proto::JobSpec = serde_json::from_value(spec).expect("a valid job spec");
    assert_eq!(
        checked.command,
        Some(corral_proto::CommandSpec::Argv(vec![
            "sh".into(),
            "-c".into(),
            "echo hi".into()
        ]))
    );
}
