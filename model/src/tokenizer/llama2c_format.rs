//! llama2.c's `tokenizer.bin` (written by its tokenizer.py, read by run.c).
//!
//! Little-endian throughout:
//!
//! ```text
//! i32 max_token_length            longest piece, in bytes
//! per piece, in id order:
//!     f32 score
//!     i32 len                     bytes of text
//!     u8  text[len]               UTF-8; ' ' where SentencePiece has '▁';
//!                                 "\n<s>\n" and "\n</s>\n" for ids 1 and 2
//! ```
//!
//! The number of pieces is not stored: run.c takes it from the model. Kinds are not stored
//! either; they are recovered from the layout (ids 0, 1, 2) and from the `<0xHH>` spelling.

use std::path::Path;

use super::error::{memory_path, TokenizerError};
use super::file_io::{read_file, write_atomically};
use super::vocab::{parse_byte_piece, Piece, PieceKind, BOS_ID, EOS_ID, SPACE_SYMBOL, UNK_ID};
use super::{Tokenizer, TokenizerOptions};

impl Tokenizer {
    /// Loads a llama2.c `tokenizer.bin`. With `vocab_size` exactly that many pieces are read
    /// (as run.c does; anything after them is ignored); without it, pieces are read to the
    /// end of the file.
    pub fn load_llama2c(path: impl AsRef<Path>, vocab_size: Option<usize>) -> Result<Self, TokenizerError> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        let pieces = parse(&bytes, vocab_size, path)?;
        Tokenizer::build(pieces, TokenizerOptions::default(), None, path)
    }

    /// [`Tokenizer::load_llama2c`] from bytes in memory; errors name the file `<memory>`.
    pub fn from_llama2c_bytes(bytes: &[u8], vocab_size: Option<usize>) -> Result<Self, TokenizerError> {
        let path = memory_path();
        let pieces = parse(bytes, vocab_size, &path)?;
        Tokenizer::build(pieces, TokenizerOptions::default(), None, &path)
    }

    /// The `tokenizer.bin` bytes, exactly as llama2.c's tokenizer.py would write them.
    pub fn to_llama2c_bytes(&self) -> Vec<u8> {
        let texts: Vec<String> = (0..self.vocab_size() as u32).map(|id| self.llama2c_text(id)).collect();
        let max_len = texts.iter().map(String::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(4 + texts.iter().map(|t| 8 + t.len()).sum::<usize>());
        out.extend_from_slice(&(max_len as i32).to_le_bytes());
        for (piece, text) in self.pieces().iter().zip(&texts) {
            out.extend_from_slice(&piece.score.to_le_bytes());
            out.extend_from_slice(&(text.len() as i32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out
    }

    /// Writes a llama2.c `tokenizer.bin` (via a temporary file and a rename).
    pub fn save_llama2c(&self, path: impl AsRef<Path>) -> Result<(), TokenizerError> {
        write_atomically(path.as_ref(), &self.to_llama2c_bytes())
    }

    /// The piece as tokenizer.py spells it.
    fn llama2c_text(&self, id: u32) -> String {
        let piece = &self.pieces()[id as usize];
        match piece.kind {
            PieceKind::Control if id == BOS_ID || id == EOS_ID => format!("\n{}\n", piece.text),
            PieceKind::Normal => piece.text.replace(SPACE_SYMBOL, " "),
            _ => piece.text.clone(),
        }
    }
}

/// Reads the pieces, checking every length and offset against the data.
fn parse(bytes: &[u8], vocab_size: Option<usize>, path: &Path) -> Result<Vec<Piece>, TokenizerError> {
    let mut reader = Reader { bytes, offset: 0, path };
    let max_token_length = reader.read_i32("max_token_length")?;
    if max_token_length < 0 {
        return Err(reader.corrupt(0, "max_token_length", format!("negative ({max_token_length})")));
    }
    let mut pieces = Vec::with_capacity(vocab_size.unwrap_or(bytes.len() / 12).min(1 << 20));
    while vocab_size.map_or(reader.offset < bytes.len(), |n| pieces.len() < n) {
        let id = pieces.len();
        let score = reader.read_f32(|| format!("pieces[{id}].score"))?;
        let len_offset = reader.offset;
        let len = reader.read_i32(&format!("pieces[{id}].len"))?;
        if len <= 0 || len > max_token_length {
            let reason = format!("length {len} is not in 1..=max_token_length ({max_token_length})");
            return Err(reader.corrupt(len_offset, &format!("pieces[{id}].len"), reason));
        }
        let text_offset = reader.offset;
        let field = || format!("pieces[{id}].text");
        let text = reader.take(len as usize, field())?;
        let text = std::str::from_utf8(text)
            .map_err(|e| reader.corrupt(text_offset, &field(), format!("invalid UTF-8: {e}")))?;
        if !score.is_finite() {
            return Err(reader.corrupt(
                len_offset - 4,
                &format!("pieces[{id}].score"),
                format!("{score} is not finite"),
            ));
        }
        pieces.push(piece_from_llama2c(id as u32, text, score));
    }
    Ok(pieces)
}

/// Undoes tokenizer.py's spelling and recovers the kind from the layout.
fn piece_from_llama2c(id: u32, text: &str, score: f32) -> Piece {
    match id {
        UNK_ID => Piece::new(text, score, PieceKind::Unknown),
        BOS_ID | EOS_ID => {
            let trimmed = text.trim_matches('\n');
            Piece::new(if trimmed.is_empty() { text } else { trimmed }, score, PieceKind::Control)
        }
        _ if parse_byte_piece(text).is_some() => Piece::new(text, score, PieceKind::Byte),
        _ => Piece::new(text.replace(' ', "\u{2581}"), score, PieceKind::Normal),
    }
}

/// A cursor over the file that turns every short read into a `Truncated` error.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: String) -> Result<&'a [u8], TokenizerError> {
        let available = self.bytes.len() - self.offset;
        if n > available {
            return Err(TokenizerError::Truncated {
                path: self.path.to_path_buf(),
                offset: self.offset as u64,
                field,
                needed: n as u64,
                available: available as u64,
            });
        }
        let taken = &self.bytes[self.offset..self.offset + n];
        self.offset += n;
        Ok(taken)
    }

    fn read_i32(&mut self, field: &str) -> Result<i32, TokenizerError> {
        let raw = self.take(4, field.to_string())?;
        Ok(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]))
    }

    fn read_f32(&mut self, field: impl FnOnce() -> String) -> Result<f32, TokenizerError> {
        let raw = self.take(4, field())?;
        Ok(f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]))
    }

    fn corrupt(&self, offset: usize, field: &str, reason: String) -> TokenizerError {
        TokenizerError::Corrupt {
            path: self.path.to_path_buf(),
            offset: offset as u64,
            field: field.to_string(),
            reason,
        }
    }
}
