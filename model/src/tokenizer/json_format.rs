//! llamaforge's own tokenizer file: JSON, readable and diffable, and unlike tokenizer.bin
//! it keeps piece kinds (special tokens), the encoding options and the training options.
//!
//! ```json
//! { "format": "llamaforge-tokenizer", "version": 1,
//!   "options": { "add_dummy_prefix": true },
//!   "trained_with": { "character_coverage": 0.9995, ... },
//!   "pieces": [ { "text": "<unk>", "score": 0.0, "kind": "unknown" }, ... ] }
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{memory_path, TokenizerError};
use super::file_io::{read_file, write_atomically};
use super::train::TrainOptions;
use super::vocab::Piece;
use super::{Tokenizer, TokenizerOptions};

const FORMAT_NAME: &str = "llamaforge-tokenizer";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenizerFile {
    format: String,
    version: u32,
    options: TokenizerOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trained_with: Option<TrainOptions>,
    pieces: Vec<Piece>,
}

impl Tokenizer {
    /// Loads a tokenizer written by [`Tokenizer::save_json`].
    pub fn load_json(path: impl AsRef<Path>) -> Result<Self, TokenizerError> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        Self::parse_json(&bytes, path)
    }

    /// [`Tokenizer::load_json`] from a string; errors name the file `<memory>`.
    pub fn from_json_str(json: &str) -> Result<Self, TokenizerError> {
        Self::parse_json(json.as_bytes(), &memory_path())
    }

    /// Writes the JSON file (via a temporary file and a rename).
    pub fn save_json(&self, path: impl AsRef<Path>) -> Result<(), TokenizerError> {
        write_atomically(path.as_ref(), self.to_json_string().as_bytes())
    }

    /// The JSON text [`Tokenizer::save_json`] writes.
    pub fn to_json_string(&self) -> String {
        let file = TokenizerFile {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            options: self.options.clone(),
            trained_with: self.trained_with.clone(),
            pieces: self.pieces().to_vec(),
        };
        // Scores are finite (checked on construction), so serialization cannot fail.
        serde_json::to_string_pretty(&file).expect("tokenizer serializes to JSON")
    }

    fn parse_json(bytes: &[u8], path: &Path) -> Result<Self, TokenizerError> {
        let file: TokenizerFile = serde_json::from_slice(bytes)
            .map_err(|source| TokenizerError::Json { path: path.to_path_buf(), source })?;
        let invalid = |field: &str, reason: String| TokenizerError::InvalidVocab {
            path: path.to_path_buf(),
            field: field.into(),
            reason,
        };
        if file.format != FORMAT_NAME {
            return Err(invalid("format", format!("{:?}, expected {FORMAT_NAME:?}", file.format)));
        }
        if file.version != FORMAT_VERSION {
            return Err(invalid("version", format!("{}, this build reads {FORMAT_VERSION}", file.version)));
        }
        Tokenizer::build(file.pieces, file.options, file.trained_with, path)
    }
}
