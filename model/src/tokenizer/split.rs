//! Cutting input text before BPE: special tokens out first, then words.
//!
//! Both the encoder and the trainer go through here, so the pieces the trainer learns are
//! exactly the ones the encoder can form.

/// A stretch of input: plain text for BPE, or a special token matched verbatim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Text(&'a str),
    Special(u32),
}

/// Finds user-defined special tokens in text, leftmost first and longest first at one
/// position, so `<<SYS>>` wins over a hypothetical `<<`.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpecialMatcher {
    /// (token text, id), longest text first.
    tokens: Vec<(Box<str>, u32)>,
    /// Which bytes can start a special token: lets plain text skip the token loop.
    first_bytes: Box<[bool]>,
}

impl SpecialMatcher {
    pub fn new<'a>(tokens: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let mut tokens: Vec<(Box<str>, u32)> =
            tokens.into_iter().filter(|(text, _)| !text.is_empty()).map(|(t, id)| (t.into(), id)).collect();
        tokens.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let mut first_bytes = vec![false; 256].into_boxed_slice();
        for (text, _) in &tokens {
            first_bytes[text.as_bytes()[0] as usize] = true;
        }
        SpecialMatcher { tokens, first_bytes }
    }

    /// Calls `emit` for each segment of `text` in order; text segments are never empty.
    pub fn split<'a>(&self, text: &'a str, mut emit: impl FnMut(Segment<'a>)) {
        if self.tokens.is_empty() {
            if !text.is_empty() {
                emit(Segment::Text(text));
            }
            return;
        }
        let bytes = text.as_bytes();
        let mut text_start = 0;
        let mut pos = 0;
        while pos < bytes.len() {
            // A token starts with a non-continuation byte, so a match is always at a char
            // boundary and the slices below are valid.
            let found = self.first_bytes[bytes[pos] as usize]
                .then(|| self.tokens.iter().find(|(token, _)| bytes[pos..].starts_with(token.as_bytes())))
                .flatten();
            match found {
                Some((token, id)) => {
                    if text_start < pos {
                        emit(Segment::Text(&text[text_start..pos]));
                    }
                    emit(Segment::Special(*id));
                    pos += token.len();
                    text_start = pos;
                }
                None => pos += 1,
            }
        }
        if text_start < bytes.len() {
            emit(Segment::Text(&text[text_start..]));
        }
    }
}

/// Splits `text` before every space, as SentencePiece's trainer does: each word is one
/// space (the future '▁') followed by non-space characters, or a lone space.
pub(crate) fn words_at_every_space(text: &str) -> impl Iterator<Item = &str> {
    split_before(text, |_| true)
}

/// Splits `text` before each space that follows a non-space, keeping runs of spaces with
/// the word after them. The encoder uses this: it is safe whenever no piece has '▁' after
/// a non-'▁' character, including vocabularies with whitespace-only pieces like "▁▁".
pub(crate) fn words_at_space_runs(text: &str) -> impl Iterator<Item = &str> {
    split_before(text, |previous| previous != b' ')
}

/// Yields the pieces of `text` cut before each space (except at the start of a piece) for
/// which `cut(byte before the space)` holds.
fn split_before(text: &str, cut: impl Fn(u8) -> bool) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() {
            let at = pos;
            pos += 1;
            if bytes[at] == b' ' && at > start && cut(bytes[at - 1]) {
                let word = &text[start..at];
                start = at;
                return Some(word);
            }
        }
        (start < bytes.len()).then(|| {
            let word = &text[start..];
            start = bytes.len();
            word
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(matcher: &SpecialMatcher, text: &str) -> Vec<Segment<'static>> {
        let mut out = Vec::new();
        matcher.split(text, |s| {
            out.push(match s {
                Segment::Text(t) => Segment::Text(Box::leak(t.to_string().into_boxed_str())),
                Segment::Special(id) => Segment::Special(id),
            })
        });
        out
    }

    #[test]
    fn specials_are_cut_out_longest_first() {
        let matcher = SpecialMatcher::new([("[INST]", 7), ("<<", 8), ("<<SYS>>", 9)]);
        let got = collect(&matcher, "[INST] <<SYS>>hi<<[INST]");
        use Segment::*;
        assert_eq!(got, vec![Special(7), Text(" "), Special(9), Text("hi"), Special(8), Special(7)]);
        assert!(collect(&matcher, "").is_empty());
    }

    #[test]
    fn word_splits() {
        let every: Vec<_> = words_at_every_space("a  b c ").collect();
        assert_eq!(every, ["a", " ", " b", " c", " "]);
        let runs: Vec<_> = words_at_space_runs("  a  b c ").collect();
        assert_eq!(runs, ["  a", "  b", " c", " "]);
        assert_eq!(words_at_space_runs("").count(), 0);
    }
}
