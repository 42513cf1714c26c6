//! The LLaMA-2 tokenizer: SentencePiece-style BPE with byte fallback.
//!
//! - [`vocab`]: pieces, scores, kinds and the id layout (`<unk>`, `<s>`, `</s>`, 256 bytes, …).
//! - [`Tokenizer::encode`] (encode.rs): llama2.c's greedy highest-score merge, made fast.
//! - [`Tokenizer::decode`] (decode.rs): bytes back to UTF-8, streaming included.
//! - [`Tokenizer::train`] (train.rs, bpe_trainer.rs): SentencePiece's BPE trainer.
//! - llama2c_format.rs: llama2.c's `tokenizer.bin`; json_format.rs: our own JSON file.
//!
//! ```
//! use llamaforge_model::tokenizer::{Tokenizer, TrainOptions};
//! let text = "the cat sat on the mat. the cat ate.";
//! let tokenizer = Tokenizer::train([text], 300, &TrainOptions::default()).unwrap();
//! let ids = tokenizer.encode("the cat", true, false);
//! assert_eq!(ids[0], 1); // <s>
//! assert_eq!(tokenizer.decode(&ids), "the cat");
//! ```

mod bpe_trainer;
mod decode;
mod encode;
mod error;
mod file_io;
mod json_format;
mod llama2c_format;
mod script;
mod split;
mod train;
pub mod vocab;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use decode::DecodeStream;
pub use error::TokenizerError;
pub use train::TrainOptions;
pub use vocab::{Piece, PieceKind, BOS_ID, BYTE_BASE_ID, EOS_ID, SPACE_SYMBOL, UNK_ID};

use error::memory_path;
use split::SpecialMatcher;
use vocab::Vocab;

/// How text is prepared before BPE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenizerOptions {
    /// Put a '▁' in front of the text, so the first word is spelled like every other word
    /// ("▁Once" rather than "Once"). LLaMA's tokenizer does; decode removes it again.
    pub add_dummy_prefix: bool,
}

impl Default for TokenizerOptions {
    fn default() -> Self {
        TokenizerOptions { add_dummy_prefix: true }
    }
}

/// A BPE tokenizer with byte fallback and user-defined special tokens.
#[derive(Clone)]
pub struct Tokenizer {
    vocab: Vocab,
    options: TokenizerOptions,
    /// Matches the user-defined pieces in input text.
    specials: SpecialMatcher,
    /// The options this tokenizer was trained with, kept for the JSON file.
    trained_with: Option<TrainOptions>,
}

impl std::fmt::Debug for Tokenizer {
    /// A summary: the full vocabulary would be thousands of lines.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let specials: Vec<&str> =
            self.vocab.special_ids.iter().map(|&id| self.vocab.pieces[id as usize].text.as_str()).collect();
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("special_tokens", &specials)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    /// Builds a tokenizer from a full piece list (see [`vocab`] for the required layout).
    pub fn from_pieces(pieces: Vec<Piece>, options: TokenizerOptions) -> Result<Self, TokenizerError> {
        Self::build(pieces, options, None, &memory_path())
    }

    /// Validates the pieces (errors name `path`) and derives every lookup table.
    fn build(
        pieces: Vec<Piece>,
        options: TokenizerOptions,
        trained_with: Option<TrainOptions>,
        path: &Path,
    ) -> Result<Self, TokenizerError> {
        let vocab = Vocab::new(pieces, path)?;
        let specials =
            SpecialMatcher::new(vocab.special_ids.iter().map(|&id| (vocab.pieces[id as usize].text.as_str(), id)));
        Ok(Tokenizer { vocab, options, specials, trained_with })
    }

    /// Number of pieces; every id the tokenizer produces is below it.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// All pieces, indexed by id.
    pub fn pieces(&self) -> &[Piece] {
        &self.vocab.pieces
    }

    /// The piece with id `id`, if there is one.
    pub fn piece(&self, id: u32) -> Option<&Piece> {
        self.vocab.pieces.get(id as usize)
    }

    /// The id of a normal or user-defined piece, spelled as in [`Piece::text`] ("▁the").
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.vocab.normal_id(text).or_else(|| {
            let specials = &self.vocab.special_ids;
            specials.iter().copied().find(|&id| self.vocab.pieces[id as usize].text == text)
        })
    }

    /// The ids of the user-defined special tokens.
    pub fn special_token_ids(&self) -> &[u32] {
        &self.vocab.special_ids
    }

    pub fn options(&self) -> &TokenizerOptions {
        &self.options
    }

    /// The options [`Tokenizer::train`] was called with, if this tokenizer was trained here.
    pub fn trained_with(&self) -> Option<&TrainOptions> {
        self.trained_with.as_ref()
    }

    /// Makes `text` a special token, matched verbatim in input and never split, and
    /// returns its id. An existing normal piece with the same text is turned into the
    /// special token (keeping its id, as after loading a llama2.c file, which does not store
    /// kinds); otherwise the token is appended to the vocabulary with score 0.
    pub fn add_special_token(&mut self, text: &str) -> Result<u32, TokenizerError> {
        let invalid = |reason: &str| TokenizerError::InvalidSpecialToken { token: text.into(), reason: reason.into() };
        if text.is_empty() {
            return Err(invalid("empty"));
        }
        let existing = self.vocab.pieces.iter().position(|p| p.text == text);
        let mut pieces = self.vocab.pieces.clone();
        let id = match existing.map(|id| (id, pieces[id].kind)) {
            Some((id, PieceKind::UserDefined)) => return Ok(id as u32),
            Some((id, PieceKind::Normal)) => {
                pieces[id].kind = PieceKind::UserDefined;
                id
            }
            Some((_, kind)) => return Err(invalid(&format!("clashes with the {kind:?} piece of that name"))),
            None => {
                pieces.push(Piece::new(text, 0.0, PieceKind::UserDefined));
                pieces.len() - 1
            }
        };
        *self = Self::build(pieces, self.options.clone(), self.trained_with.clone(), &memory_path())?;
        Ok(id as u32)
    }
}
