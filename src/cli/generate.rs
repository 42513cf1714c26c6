//! `llamaforge generate` (in progress: returns an error until implemented).

/// Arguments of `llamaforge generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {}

pub fn run(_args: GenerateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge generate` is not implemented yet")
}
