//! Tokenized corpora cached as binary ids, so a corpus is tokenized once per tokenizer.
//!
//! File layout (little-endian): magic `LFTOK1\0\0`, u64 key (a hash of the source bytes
//! and the tokenizer), u64 count, then `count` u32 ids. Written to a temp file and renamed.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::DataError;

const MAGIC: &[u8; 8] = b"LFTOK1\0\0";

/// Concatenates the documents' ids; `encode` must put BOS at each document start.
pub fn tokenize_documents(docs: &[String], encode: &(dyn Fn(&str) -> Vec<u32> + Sync)) -> Vec<u32> {
    use rayon::prelude::*;
    let parts: Vec<Vec<u32>> = docs.par_iter().map(|d| encode(d)).collect();
    parts.concat()
}

/// A token stream cache bound to a key.
pub struct TokenCache {
    pub path: PathBuf,
    pub key: u64,
}

impl TokenCache {
    /// A cache at `path` valid for `source` tokenized by the tokenizer whose serialized
    /// form is `tokenizer_bytes`.
    pub fn new(path: impl Into<PathBuf>, source: &[u8], tokenizer_bytes: &[u8]) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        source.hash(&mut h);
        tokenizer_bytes.hash(&mut h);
        TokenCache { path: path.into(), key: h.finish() }
    }

    /// The cached ids, or `None` if the file is missing or was made for other inputs.
    pub fn load(&self) -> Result<Option<Vec<u32>>, DataError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(DataError::Io { path: self.path.clone(), source }),
        };
        let bad = |message: &str| DataError::BadCache { path: self.path.clone(), message: message.to_string() };
        if bytes.len() < 24 || &bytes[..8] != MAGIC {
            return Err(bad("bad header"));
        }
        let key = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        if key != self.key {
            return Ok(None);
        }
        let count = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")) as usize;
        if bytes.len() != 24 + 4 * count {
            return Err(bad(&format!("header says {count} ids, file holds {} bytes of ids", bytes.len() - 24)));
        }
        Ok(Some(bytes[24..].chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
    }

    /// Writes `ids` atomically (temp file + rename).
    pub fn store(&self, ids: &[u32]) -> Result<(), DataError> {
        let mut bytes = Vec::with_capacity(24 + 4 * ids.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.key.to_le_bytes());
        bytes.extend_from_slice(&(ids.len() as u64).to_le_bytes());
        for id in ids {
            bytes.extend_from_slice(&id.to_le_bytes());
        }
        write_atomic(&self.path, &bytes)
    }
}

/// Writes `bytes` to `path` via a temp file in the same directory and a rename, so a
/// crash never leaves a half-written file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
