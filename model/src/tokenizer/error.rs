//! The one error type of the tokenizer: every failure names the file (or `<memory>` for
//! in-memory data) and, for binary formats, the byte offset and field that was bad.

use std::path::PathBuf;

/// Everything that can go wrong while loading, saving, building or training a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The file could not be read, written or renamed.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        /// What was being attempted ("read", "write temporary file", ...).
        action: &'static str,
        source: std::io::Error,
    },

    /// A binary file ended in the middle of a field.
    #[error(
        "{}: truncated at byte {offset}: field `{field}` needs {needed} bytes, {available} left",
        path.display()
    )]
    Truncated { path: PathBuf, offset: u64, field: String, needed: u64, available: u64 },

    /// A binary file holds a value that cannot be right (negative length, invalid UTF-8...).
    #[error("{}: corrupt field `{field}` at byte {offset}: {reason}", path.display())]
    Corrupt { path: PathBuf, offset: u64, field: String, reason: String },

    /// A JSON tokenizer file does not parse (serde_json names the line and column).
    #[error("{}: invalid JSON: {source}", path.display())]
    Json { path: PathBuf, source: serde_json::Error },

    /// The pieces parse but do not form a usable vocabulary (wrong layout, duplicates...).
    #[error("{}: invalid vocabulary: {field}: {reason}", path.display())]
    InvalidVocab {
        path: PathBuf,
        /// The offending piece or field, e.g. `pieces[7]`.
        field: String,
        reason: String,
    },

    /// A special token cannot be added (empty, or clashes with a control/byte piece).
    #[error("invalid special token {token:?}: {reason}")]
    InvalidSpecialToken { token: String, reason: String },

    /// Training was asked for something impossible (vocabulary too small, bad option).
    #[error("invalid training setup: {0}")]
    InvalidTraining(String),
}

/// The path shown in errors about tokenizers built from bytes rather than read from a file.
pub(crate) fn memory_path() -> PathBuf {
    PathBuf::from("<memory>")
}
