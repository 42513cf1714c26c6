//! `llamaforge bench` (in progress: returns an error until implemented).

/// Arguments of `llamaforge bench`.
#[derive(clap::Args)]
pub struct BenchArgs {}

pub fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge bench` is not implemented yet")
}
