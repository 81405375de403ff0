//! `corral image build [--mode default|debian|claude]`: images built offline
//! through the Docker API.

use std::process::ExitCode;

use anyhow::Context;
use corral_docker::DockerRuntime;
use corral_docker::image::{build_claude, build_debian, default_recipe};

use crate::cli::ImageBuildArgs;
use crate::output;

pub async fn build(args: &ImageBuildArgs) -> anyhow::Result<ExitCode> {
    let runtime = DockerRuntime::connect()
        .await
        .context("cannot reach Docker")?;
    let docker = runtime.client();
    let mut spinner = output::Spinner::start("building");
    let mut progress = |line: &str| {
        if output::colour() {
            spinner.say(line);
        } else {
            output::note(line);
        }
    };
    let build = match args.mode.as_str() {
        "debian" => build_debian(docker, &mut progress).await?,
        "claude" => build_claude(docker, &mut progress).await?,
        _ => {
            default_recipe(&args.busybox)?
                .build(docker, &mut progress)
                .await?
        }
    };
    spinner.stop();
    if build.built {
        output::note(&format!("built {}", build.tag));
    } else {
        output::note(&format!("{} is current; nothing to build", build.tag));
    }
    output::line(&build.tag);
    Ok(ExitCode::SUCCESS)
}
