//! `corral verify`: the sandbox's promises checked on this host by a probe
//! job on the running server; exits non-zero if any row fails.

use std::process::ExitCode;

use corral_proto::verify::{VerifyReport, VerifyRow};

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let isolation = args.isolation.as_deref().map(|level| match level {
        "gvisor" => corral_proto::IsolationLevel::Gvisor,
        _ => corral_proto::IsolationLevel::Runc,
    });
    let report = client.verify(isolation).await?;
    if args.json {
        output::json(&report);
    } else {
        print(&report);
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The rows for people, one promise a line and what was seen under it.
pub fn print(report: &VerifyReport) {
    for VerifyRow {
        promise,
        expected,
        observed,
        ok,
    } in &report.rows
    {
        output::line(&format!("{} {promise}", if *ok { "ok  " } else { "FAIL" }));
        if !ok {
            output::line(&format!("     expected: {expected}"));
        }
        output::line(&format!("     observed: {observed}"));
    }
    let failed = report.failing().count();
    output::line(&format!(
        "{} under {}{} ({}, probe job {})",
        if failed == 0 {
            "sandbox verified".to_owned()
        } else {
            format!("{failed} of {} promises FAILED", report.rows.len())
        },
        report.isolation.as_str(),
        report
            .engine
            .as_deref()
            .map_or_else(String::new, |engine| format!(" on {engine}")),
        corral_proto::timestamp::format(report.checked_at),
        report.job_id.as_deref().unwrap_or("none")
    ));
}
