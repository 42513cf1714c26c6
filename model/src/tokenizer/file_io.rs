//! Reading tokenizer files, and writing them so that a crash never leaves half a file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::TokenizerError;

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, TokenizerError> {
    fs::read(path).map_err(|source| TokenizerError::Io { path: path.to_path_buf(), action: "read", source })
}

/// Writes `bytes` to a temporary file next to `path`, flushes it to disk, then renames it
/// over `path`: readers see the old file or the new one, never a prefix of the new one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TokenizerError> {
    let temp = temp_path(path);
    let io_error = |action, source| TokenizerError::Io { path: temp.clone(), action, source };
    let written = fs::File::create(&temp)
        .map_err(|e| io_error("create temporary file", e))
        .and_then(|mut file| {
            file.write_all(bytes).map_err(|e| io_error("write temporary file", e))?;
            file.sync_all().map_err(|e| io_error("flush temporary file", e))
        })
        .and_then(|()| {
            fs::rename(&temp, path).map_err(|source| TokenizerError::Io {
                path: path.to_path_buf(),
                action: "rename temporary file onto",
                source,
            })
        });
    if written.is_err() {
        // Best effort: the error being returned matters more than a leftover temp file.
        let _ = fs::remove_file(&temp);
    }
    written
}

/// `dir/.name.<pid>.tmp`: same directory (so the rename stays on one file system), hidden,
/// and distinct per process.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}
