//! `llamaforge plot RUN_DIR`: writes the loss and learning-rate curves of a run as SVG.

use std::path::PathBuf;

use llamaforge_training::plot::plot_run;

/// Arguments of `llamaforge plot`.
#[derive(clap::Args)]
pub struct PlotArgs {
    /// A run directory holding metrics.jsonl.
    run_dir: PathBuf,
}

pub fn run(args: PlotArgs) -> anyhow::Result<()> {
    let written = plot_run(&args.run_dir).map_err(anyhow::Error::msg)?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
