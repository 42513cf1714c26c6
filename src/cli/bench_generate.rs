//! `llamaforge bench generate` (in progress: returns an error until implemented).

/// Arguments of `llamaforge bench generate`.
#[derive(clap::Args)]
pub struct BenchGenerateArgs {}

pub fn run(_args: BenchGenerateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge bench generate` is not implemented yet")
}
