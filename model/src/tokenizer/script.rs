//! A coarse Unicode script classification for the trainer.
//!
//! SentencePiece never lets a learned piece mix scripts ("dog." is two pieces: Latin "dog"
//! and Common "."), and that rule shapes the vocabulary as much as the merge counts do:
//! without it the trainer spends slots on "day." and "said," instead of more words. Full
//! Unicode script tables would be a large dependency for one rule, so this file uses
//! ranges for the scripts that matter in practice and, for other letters, the 128-code-point
//! block as a stand-in for the script (letters of one block almost always share a script).

/// The script class of one character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Script {
    /// Punctuation, symbols, digits, whitespace: shared by all scripts.
    Common,
    /// Combining marks: they take the script of the character before them.
    Inherited,
    Latin,
    Greek,
    Cyrillic,
    Arabic,
    /// Chinese, Japanese kana and ideographs together, as SentencePiece merges them.
    Han,
    Hangul,
    /// Any other letter, identified by its 128-code-point block.
    Block(u32),
}

/// The script of `c` for the purpose of the "one script per piece" rule.
pub(crate) fn script_of(c: char) -> Script {
    let cp = c as u32;
    if is_combining_mark(cp) {
        return Script::Inherited;
    }
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() { Script::Latin } else { Script::Common };
    }
    if !c.is_alphabetic() {
        return Script::Common;
    }
    match cp {
        0x00AA | 0x00BA | 0x00C0..=0x024F | 0x0250..=0x02AF | 0x1D00..=0x1DBF => Script::Latin,
        0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xAB30..=0xAB6F => Script::Latin,
        0xFF21..=0xFF3A | 0xFF41..=0xFF5A => Script::Latin,
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF => Script::Arabic,
        0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Script::Arabic,
        0x2E80..=0x2FDF | 0x3005..=0x3007 | 0x3021..=0x3029 | 0x3038..=0x303B => Script::Han,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF => Script::Han,
        0xF900..=0xFAFF | 0xFF66..=0xFF9D | 0x20000..=0x3FFFF => Script::Han,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xAC00..=0xD7FF => Script::Hangul,
        0xFFA0..=0xFFDC => Script::Hangul,
        _ => Script::Block(cp >> 7),
    }
}

/// Combining diacritics and joiners, which Unicode assigns to the "Inherited" script.
fn is_combining_mark(cp: u32) -> bool {
    matches!(
        cp,
        0x0300..=0x036F
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x200C..=0x200D
            | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F
            | 0xFE20..=0xFE2F
    )
}

/// The script a piece made of `left` then `right` would have, or `None` if the two scripts
/// differ. `None` inputs stand for pieces with no script yet (only '▁' or leading marks).
pub(crate) fn merged_script(left: Option<Script>, right: Option<Script>) -> Result<Option<Script>, ()> {
    match (left, right) {
        (Some(a), Some(b)) if a != b => Err(()),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_letters_and_punctuation_differ() {
        assert_eq!(script_of('a'), Script::Latin);
        assert_eq!(script_of('Z'), Script::Latin);
        assert_eq!(script_of('.'), Script::Common);
        assert_eq!(script_of('7'), Script::Common);
        assert_eq!(script_of('\n'), Script::Common);
    }

    #[test]
    fn non_ascii_scripts() {
        assert_eq!(script_of('é'), Script::Latin);
        assert_eq!(script_of('’'), Script::Common);
        assert_eq!(script_of('ж'), Script::Cyrillic);
        assert_eq!(script_of('λ'), Script::Greek);
        assert_eq!(script_of('の'), Script::Han);
        assert_eq!(script_of('漢'), Script::Han);
        assert_eq!(script_of('\u{301}'), Script::Inherited);
        assert_eq!(script_of('😀'), Script::Common);
    }

    #[test]
    fn merge_rule() {
        let latin = Some(Script::Latin);
        assert_eq!(merged_script(None, latin), Ok(latin));
        assert_eq!(merged_script(latin, latin), Ok(latin));
        assert!(merged_script(latin, Some(Script::Common)).is_err());
    }
}
