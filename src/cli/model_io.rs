//! Shared by the model subcommands: loading a checkpoint from any format, and finding and
//! loading its tokenizer (tokenizer.bin inside a native directory or next to a .bin file).

use std::path::{Path, PathBuf};

use anyhow::Context;
use llamaforge_model::checkpoint::{load_model, Checkpoint, TOKENIZER_FILE};

/// llama2.c's trained stories260K model, bundled (the model `sft` fine-tunes by default),
/// and its tokenizer (not named tokenizer.bin, so it is never found beside the model).
pub const BUNDLED_MODEL: &str = "data/stories260K.bin";
pub const BUNDLED_TOKENIZER: &str = "data/tok512.bin";

/// Loads a native/HF directory or a llama2.c .bin file.
pub fn load_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
    let (checkpoint, _) = load_model(path).with_context(|| format!("loading the model from {}", path.display()))?;
    Ok(checkpoint)
}

/// The tokenizer file for a model: `explicit`, else `tokenizer.bin` in the model
/// directory, else `tokenizer.bin` next to the model file.
pub fn find_tokenizer_file(model: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let candidate = if model.is_dir() { model.join(TOKENIZER_FILE) } else { model.with_file_name(TOKENIZER_FILE) };
    candidate.exists().then_some(candidate)
}

/// Text ⇄ ids for the CLI, over the model crate's tokenizer.
pub struct TextTokenizer {
    inner: llamaforge_model::tokenizer::Tokenizer,
}

impl TextTokenizer {
    pub fn bos(&self) -> u32 {
        llamaforge_model::tokenizer::BOS_ID
    }

    pub fn eos(&self) -> u32 {
        llamaforge_model::tokenizer::EOS_ID
    }

    /// Ids of `text` without BOS/EOS.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.inner.encode(text, false, false)
    }

    /// BOS followed by the ids of `text`.
    pub fn encode_with_bos(&self, text: &str) -> Vec<u32> {
        self.inner.encode(text, true, false)
    }

    /// The bytes `token` prints as after `prev` (llama2.c's rules: raw byte tokens, the
    /// leading space of the first piece after BOS dropped).
    pub fn piece(&self, prev: u32, token: u32) -> Vec<u8> {
        self.inner.decode_piece(prev, token).to_vec()
    }
}

/// Finds and loads the tokenizer of `model` (see [`find_tokenizer_file`]).
pub fn load_tokenizer_for(model: &Path, explicit: Option<&Path>) -> anyhow::Result<TextTokenizer> {
    let path = find_tokenizer_file(model, explicit)
        .with_context(|| format!("no tokenizer.bin found for {}; pass --tokenizer PATH", model.display()))?;
    let inner = llamaforge_model::tokenizer::Tokenizer::load_llama2c(&path, None)
        .with_context(|| format!("loading the tokenizer from {}", path.display()))?;
    Ok(TextTokenizer { inner })
}
