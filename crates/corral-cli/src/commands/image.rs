//! `corral image build`: the default image, built through the Docker API.

use std::process::ExitCode;

use anyhow::Context;
use corral_orchestrator::image::default_recipe;
use corral_orchestrator::runtime::DockerRuntime;

use crate::cli::ImageBuildArgs;
use crate::output;

pub async fn build(args: &ImageBuildArgs) -> anyhow::Result<ExitCode> {
    let recipe = default_recipe(&args.busybox)?;
    let runtime = DockerRuntime::connect()
        .await
        .context("cannot reach Docker")?;
    let mut progress = |line: &str| output::note(line);
    let build = recipe.build(runtime.client(), &mut progress).await?;
    if build.built {
        output::note(&format!("built {}", build.tag));
    } else {
        output::note(&format!("{} is current; nothing to build", build.tag));
    }
    output::line(&build.tag);
    Ok(ExitCode::SUCCESS)
}
