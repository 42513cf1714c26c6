//! `llamaforge convert` (in progress: returns an error until implemented).

/// Arguments of `llamaforge convert`.
#[derive(clap::Args)]
pub struct ConvertArgs {}

pub fn run(_args: ConvertArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge convert` is not implemented yet")
}
