//! Data errors: each names the file and, where it applies, the line or field.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not valid UTF-8 at line {line} (byte {byte})")]
    NotUtf8 { path: PathBuf, line: usize, byte: usize },
    #[error("{path}: contains no documents (the file is empty or only separators/blank lines)")]
    Empty { path: PathBuf },
    #[error("{path}:{line}: not a JSON object: {message}")]
    BadJson { path: PathBuf, line: usize, message: String },
    #[error("{path}:{line}: missing string field \"{field}\"")]
    MissingField { path: PathBuf, line: usize, field: String },
    #[error("{path}: token cache is corrupt: {message}")]
    BadCache { path: PathBuf, message: String },
    #[error("{what}: {tokens} tokens is too few for windows of {needed} tokens")]
    TooShort { what: String, tokens: usize, needed: usize },
}
