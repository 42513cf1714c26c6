//! The vocabulary: pieces with scores and kinds, and the lookup tables derived from them.
//!
//! Layout (the llama2.c / SentencePiece-llama convention, which run.c hard-codes):
//!
//! | ids | pieces |
//! | --- | --- |
//! | 0 | `<unk>` |
//! | 1, 2 | `<s>` (BOS), `</s>` (EOS) |
//! | 3..=258 | byte fallback `<0x00>`..`<0xFF>`: byte `b` is id `b + 3` |
//! | 259.. | user-defined special tokens, then merged pieces, then single characters |
//!
//! Normal pieces spell a space as '▁' (U+2581) the way SentencePiece does; a literal '▁' in
//! the input is never matched against them (it is encoded as three byte tokens), which is
//! what keeps `decode(encode(s)) == s` for every string.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::TokenizerError;

/// Id of `<unk>`: what a byte-less vocabulary falls back to.
pub const UNK_ID: u32 = 0;
/// Id of `<s>`, the beginning-of-sequence token.
pub const BOS_ID: u32 = 1;
/// Id of `</s>`, the end-of-sequence token.
pub const EOS_ID: u32 = 2;
/// Id of the byte-fallback piece `<0x00>`; byte `b` is `BYTE_BASE_ID + b`.
pub const BYTE_BASE_ID: u32 = 3;
/// The character SentencePiece writes for a space inside pieces.
pub const SPACE_SYMBOL: char = '\u{2581}';
/// [`SPACE_SYMBOL`] as a string.
pub(crate) const SPACE_STR: &str = "\u{2581}";

/// What role a piece plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PieceKind {
    /// Text learned by BPE (or a single character); the only kind BPE merges into.
    Normal,
    /// `<unk>`: never produced by the encoder, decoded as " ⁇ " like SentencePiece.
    Unknown,
    /// `<s>`, `</s>`: produced only on request, decoded as nothing.
    Control,
    /// `<0xHH>`: one raw byte of a character that has no piece of its own.
    Byte,
    /// A special token such as `[INST]`: matched verbatim in the input, never split.
    UserDefined,
}

/// One vocabulary entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    /// The piece as SentencePiece writes it ('▁' for a space; `<0x0A>` for a byte).
    pub text: String,
    /// Merge priority: the encoder prefers the merge whose result has the highest score.
    pub score: f32,
    pub kind: PieceKind,
}

impl Piece {
    pub fn new(text: impl Into<String>, score: f32, kind: PieceKind) -> Self {
        Piece { text: text.into(), score, kind }
    }
}

/// The text of the byte-fallback piece for `byte`, e.g. `<0x0A>`.
pub fn byte_piece_text(byte: u8) -> String {
    format!("<0x{byte:02X}>")
}

/// Parses `<0xHH>` (upper- or lower-case hex) back to its byte.
pub(crate) fn parse_byte_piece(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// The pieces of the standard layout that come before any learned piece: `<unk>`, `<s>`,
/// `</s>` and the 256 byte pieces, all with score 0 as SentencePiece writes them.
pub fn reserved_pieces() -> Vec<Piece> {
    let mut pieces = vec![
        Piece::new("<unk>", 0.0, PieceKind::Unknown),
        Piece::new("<s>", 0.0, PieceKind::Control),
        Piece::new("</s>", 0.0, PieceKind::Control),
    ];
    pieces.extend((0..=255u8).map(|b| Piece::new(byte_piece_text(b), 0.0, PieceKind::Byte)));
    pieces
}

/// Pieces plus the tables the encoder and decoder need, all derived from `pieces`.
#[derive(Clone, Debug)]
pub(crate) struct Vocab {
    pub pieces: Vec<Piece>,
    /// What each id decodes to (before the leading-space rule).
    pub surfaces: Vec<Box<[u8]>>,
    /// Normal pieces by text: the targets of BPE merges and of the per-character lookup.
    pub normal_ids: HashMap<Box<str>, u32>,
    /// The id byte `b` falls back to (`<0xHH>` if present, else `<unk>`).
    pub byte_ids: [u32; 256],
    /// The normal piece "▁", if any: needed for spaces and the dummy prefix.
    pub space_id: Option<u32>,
    /// User-defined pieces, in id order.
    pub special_ids: Vec<u32>,
    /// True when no normal piece has '▁' after a non-'▁' character, so no merge can cross
    /// the start of a space-prefixed word and the encoder may split text into words.
    pub word_splittable: bool,
}

impl Vocab {
    /// Validates `pieces` and builds the lookup tables; `path` only labels errors.
    pub fn new(pieces: Vec<Piece>, path: &Path) -> Result<Self, TokenizerError> {
        let invalid =
            |field: String, reason: String| TokenizerError::InvalidVocab { path: path.to_path_buf(), field, reason };
        if pieces.len() < 3 {
            return Err(invalid("pieces".into(), format!("{} pieces; need at least <unk>, <s>, </s>", pieces.len())));
        }
        if u32::try_from(pieces.len()).is_err() {
            return Err(invalid("pieces".into(), "more than u32::MAX pieces".into()));
        }
        let expected = [(UNK_ID, PieceKind::Unknown), (BOS_ID, PieceKind::Control), (EOS_ID, PieceKind::Control)];
        for (id, kind) in expected {
            if pieces[id as usize].kind != kind {
                return Err(invalid(format!("pieces[{id}]"), format!("must be of kind {kind:?}")));
            }
        }

        let mut surfaces = Vec::with_capacity(pieces.len());
        let mut normal_ids = HashMap::with_capacity(pieces.len());
        let mut seen_special: HashMap<&str, u32> = HashMap::new();
        let mut byte_ids = [UNK_ID; 256];
        let mut byte_seen = [false; 256];
        let mut special_ids = Vec::new();
        let mut word_splittable = true;
        for (id, piece) in pieces.iter().enumerate() {
            let id = id as u32;
            let field = || format!("pieces[{id}] ({:?})", piece.text);
            if !piece.score.is_finite() {
                return Err(invalid(field(), format!("score {} is not finite", piece.score)));
            }
            if piece.text.is_empty() {
                return Err(invalid(field(), "empty piece".into()));
            }
            let surface: Box<[u8]> = match piece.kind {
                PieceKind::Normal => {
                    if normal_ids.insert(piece.text.clone().into_boxed_str(), id).is_some() {
                        return Err(invalid(field(), "duplicate piece".into()));
                    }
                    let after_first_non_space = piece.text.trim_start_matches(SPACE_SYMBOL);
                    word_splittable &= !after_first_non_space.contains(SPACE_SYMBOL);
                    piece.text.replace(SPACE_SYMBOL, " ").into_bytes().into()
                }
                PieceKind::Byte => {
                    let byte = parse_byte_piece(&piece.text)
                        .ok_or_else(|| invalid(field(), "byte piece is not of the form <0xHH>".into()))?;
                    if std::mem::replace(&mut byte_seen[byte as usize], true) {
                        return Err(invalid(field(), "duplicate byte piece".into()));
                    }
                    byte_ids[byte as usize] = id;
                    Box::new([byte])
                }
                PieceKind::UserDefined => {
                    if seen_special.insert(&piece.text, id).is_some() {
                        return Err(invalid(field(), "duplicate special token".into()));
                    }
                    special_ids.push(id);
                    piece.text.as_bytes().into()
                }
                PieceKind::Unknown => " \u{2047} ".as_bytes().into(),
                PieceKind::Control => Box::new([]),
            };
            surfaces.push(surface);
        }
        let space_id = normal_ids.get(SPACE_STR).copied();
        Ok(Vocab { pieces, surfaces, normal_ids, byte_ids, space_id, special_ids, word_splittable })
    }

    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// The id of the normal piece spelled `text` ('▁' for spaces).
    pub fn normal_id(&self, text: &str) -> Option<u32> {
        self.normal_ids.get(text).copied()
    }

    /// Panics with the offending id when `id` is outside the vocabulary.
    #[track_caller]
    pub fn check_id(&self, id: u32) {
        assert!(
            (id as usize) < self.pieces.len(),
            "token id {id} is outside the vocabulary (size {})",
            self.pieces.len()
        );
    }
}
