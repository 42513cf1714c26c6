//! Token ids → text, whole sequences or one token at a time while generating.
//!
//! Byte tokens are gathered and reassembled into UTF-8; only byte sequences that are not
//! valid UTF-8 after reassembly become U+FFFD. The dummy-prefix space is dropped from the
//! first token of a sequence and from any token right after `<s>` — run.c drops it after
//! `<s>`, SentencePiece at the start — so `decode(encode(s, bos, eos)) == s` either way.

use super::vocab::{PieceKind, BOS_ID};
use super::Tokenizer;

impl Tokenizer {
    /// Decodes a whole sequence. Control tokens decode to nothing, `<unk>` to " ⁇ ".
    ///
    /// # Panics
    /// If an id is not below [`Tokenizer::vocab_size`].
    #[track_caller]
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        let mut prev = BOS_ID;
        for &id in ids {
            bytes.extend_from_slice(self.decode_piece(prev, id));
            prev = id;
        }
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        }
    }

    /// The raw bytes token `id` stands for when it follows `prev` — run.c's `decode`.
    /// A byte token yields one byte, which may be part of a multi-byte character: feed
    /// the bytes to a [`DecodeStream`] (or collect them) rather than printing each alone.
    ///
    /// # Panics
    /// If `id` is not below [`Tokenizer::vocab_size`].
    #[track_caller]
    pub fn decode_piece(&self, prev: u32, id: u32) -> &[u8] {
        self.vocab.check_id(id);
        let surface = &self.vocab.surfaces[id as usize];
        let is_normal = self.vocab.pieces[id as usize].kind == PieceKind::Normal;
        if prev == BOS_ID && is_normal && self.options.add_dummy_prefix && surface.first() == Some(&b' ') {
            &surface[1..]
        } else {
            surface
        }
    }

    /// A decoder for generation: push tokens as they come, print what it returns.
    pub fn decode_stream(&self) -> DecodeStream<'_> {
        DecodeStream { tokenizer: self, prev: BOS_ID, pending: Vec::new() }
    }
}

/// Incremental decoding. The concatenation of everything [`DecodeStream::push`] and
/// [`DecodeStream::finish`] return equals [`Tokenizer::decode`] of the same ids; a
/// character split over several byte tokens is held back until it is complete.
#[derive(Debug)]
pub struct DecodeStream<'t> {
    tokenizer: &'t Tokenizer,
    prev: u32,
    /// Bytes of an incomplete UTF-8 character at the end of the output so far.
    pending: Vec<u8>,
}

impl DecodeStream<'_> {
    /// Adds one token and returns the text that is now complete.
    ///
    /// # Panics
    /// If `id` is not below [`Tokenizer::vocab_size`].
    #[track_caller]
    pub fn push(&mut self, id: u32) -> String {
        self.pending.extend_from_slice(self.tokenizer.decode_piece(self.prev, id));
        self.prev = id;
        let mut text = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(err) => {
                    let (valid, after) = rest.split_at(err.valid_up_to());
                    // The first `valid_up_to` bytes are valid UTF-8 by definition.
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match err.error_len() {
                        // The tail may still be completed by the next byte token.
                        None => {
                            rest = after;
                            break;
                        }
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        text
    }

    /// Flushes an incomplete trailing character (as U+FFFD) at the end of the stream.
    pub fn finish(self) -> String {
        String::from_utf8_lossy(&self.pending).into_owned()
    }
}
