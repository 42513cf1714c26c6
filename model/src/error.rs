//! Errors of the model crate: invalid configs and unreadable, corrupt or mismatched
//! checkpoint files. Every variant names what it is about (the file, the field, the tensor).

use std::path::PathBuf;

/// What can go wrong building a model or reading/writing a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A config value is out of range or inconsistent with another.
    #[error("invalid config: `{field}`: {message}")]
    Config { field: &'static str, message: String },
    /// The OS refused a read or a write.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The file is readable but not what it claims to be (truncated, corrupt, wrong shape).
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// A weight is missing or has the wrong shape for the config.
    #[error("tensor `{name}`: {message}")]
    Weight { name: String, message: String },
}

impl ModelError {
    pub(crate) fn config(field: &'static str, message: impl Into<String>) -> Self {
        ModelError::Config { field, message: message.into() }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ModelError::Format { path: path.into(), message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io { path: path.into(), source }
    }

    pub(crate) fn weight(name: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError::Weight { name: name.into(), message: message.into() }
    }
}

/// Result with a [`ModelError`].
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
