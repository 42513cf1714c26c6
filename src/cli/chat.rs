//! `llamaforge chat` (in progress: returns an error until implemented).

/// Arguments of `llamaforge chat`.
#[derive(clap::Args)]
pub struct ChatArgs {}

pub fn run(_args: ChatArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge chat` is not implemented yet")
}
