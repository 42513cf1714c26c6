//! `llamaforge tokenizer` (in progress: returns an error until implemented).

/// Arguments of `llamaforge tokenizer`.
#[derive(clap::Args)]
pub struct TokenizerArgs {}

pub fn run(_args: TokenizerArgs) -> anyhow::Result<()> {
    anyhow::bail!("`llamaforge tokenizer` is not implemented yet")
}
