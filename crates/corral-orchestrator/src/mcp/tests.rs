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
