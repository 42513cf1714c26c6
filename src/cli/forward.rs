//! `llamaforge forward` (in progress: returns an error until implemented).

/// Arguments of `llamaforge forward`.
#[derive(clap::Args)]
pub struct ForwardArgs {}

pub fn run(_args: ForwardArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge forward` is not implemented yet")
}
