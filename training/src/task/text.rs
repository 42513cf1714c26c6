//! Plain-text helpers shared by the generator, the judges and the GAtt checks: words,
//! word matching with simple plurals, sentence boundaries and cuts.
//!
//! Everything here works on lowercase ASCII-letter/digit words so that "Dog's", "dogs" and
//! "DOG" all count as the word "dog", and punctuation never splits or joins words.

/// The lowercase words of `text`: maximal runs of ASCII letters/digits ("dog's" → "dog",
/// "s"). Non-ASCII characters separate words.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_ascii_lowercase()).collect()
}

/// Whitespace-separated words, the unit of every length rule ("at most 90 words").
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Whether `token` (lowercase) is `word` or one of its simple plurals: +s, +es,
/// y → ies, f → ves. Irregular plurals (mice) do not count.
pub fn is_word_form(token: &str, word: &str) -> bool {
    if token == word {
        return true;
    }
    let Some(suffix) = token.strip_prefix(word) else {
        return plural_by_replacement(token, word);
    };
    suffix == "s" || suffix == "es" || plural_by_replacement(token, word)
}

fn plural_by_replacement(token: &str, word: &str) -> bool {
    let swap = |last: char, plural: &str| {
        word.strip_suffix(last).is_some_and(|stem| token.strip_prefix(stem).is_some_and(|rest| rest == plural))
    };
    swap('y', "ies") || swap('f', "ves")
}

/// The forms [`is_word_form`] accepts for `word`: itself and its simple plurals.
pub fn word_forms(word: &str) -> Vec<String> {
    let mut forms = vec![word.to_string(), format!("{word}s"), format!("{word}es")];
    if let Some(stem) = word.strip_suffix('y') {
        forms.push(format!("{stem}ies"));
    }
    if let Some(stem) = word.strip_suffix('f') {
        forms.push(format!("{stem}ves"));
    }
    forms
}

/// Whether `tokens` (from [`words`]) contain `term`, a word or a phrase ("start a fire"),
/// as consecutive words; each word of the term may appear in a plural form.
pub fn contains_term(tokens: &[String], term: &str) -> bool {
    let parts = words(term);
    if parts.is_empty() || parts.len() > tokens.len() {
        return false;
    }
    tokens.windows(parts.len()).any(|window| window.iter().zip(&parts).all(|(t, p)| is_word_form(t, p)))
}

/// Byte offsets just past each sentence end of `text`: a `.`, `!` or `?` (a run of them
/// counts once, so "Wait..." ends once), optionally followed by closing quotes, then
/// whitespace or the end of the text. A `.` inside "3.5" is no end.
pub fn sentence_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut ends = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'.' | b'!' | b'?') {
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j], b'.' | b'!' | b'?') {
                j += 1;
            }
            while j < bytes.len() && bytes[j] == b'"' {
                j += 1;
            }
            if j == bytes.len() || bytes[j].is_ascii_whitespace() {
                ends.push(j);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    ends
}

/// The sentences of `text`, trimmed; trailing text without an end is the last item.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in sentence_ends(text) {
        out.push(text[start..end].trim());
        start = end;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Whether `text` ends cleanly: its last character is `.`, `!` or `?`, or a closing `"`
/// right after one of them (a story ending in dialogue).
pub fn has_clean_ending(text: &str) -> bool {
    text.trim_end().trim_end_matches('"').ends_with(['.', '!', '?'])
}

/// The longest prefix of `text` that ends at a sentence end and has at most `max_words`
/// words, or `None` when even the first sentence is longer.
pub fn truncate_at_sentence(text: &str, max_words: usize) -> Option<&str> {
    let mut best = None;
    for end in sentence_ends(text) {
        let prefix = text[..end].trim();
        if word_count(prefix) > max_words {
            break;
        }
        best = Some(prefix);
    }
    best
}

/// `text` with every whitespace run (newlines between paragraphs included) as one space.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn words_split_on_punctuation_and_lowercase() {
        assert_eq!(words("The Dog's ball, 3 cats!"), ["the", "dog", "s", "ball", "3", "cats"]);
    }

    #[test]
    fn plurals_are_simple_forms_only() {
        for (token, word) in [("dogs", "dog"), ("boxes", "box"), ("bunnies", "bunny"), ("leaves", "leaf")] {
            assert!(is_word_form(token, word), "{token} ~ {word}");
        }
        for (token, word) in [("doggy", "dog"), ("do", "dog"), ("cats", "car"), ("mice", "mouse")] {
            assert!(!is_word_form(token, word), "{token} !~ {word}");
        }
    }

    #[test]
    fn word_forms_agree_with_is_word_form() {
        for word in ["dog", "box", "bunny", "leaf", "sky"] {
            for form in word_forms(word) {
                assert!(is_word_form(&form, word), "{form} ~ {word}");
            }
        }
        assert_eq!(word_forms("leaf"), ["leaf", "leafs", "leafes", "leaves"]);
    }

    #[test]
    fn terms_match_whole_words_in_order() {
        assert!(contains_term(&toks("They wanted to start a fire."), "start a fire"));
        assert!(!contains_term(&toks("A fire started."), "start a fire"));
        assert!(contains_term(&toks("Two Cats sat."), "cat"));
        assert!(!contains_term(&toks("The category was new."), "cat"));
    }

    #[test]
    fn sentence_ends_handle_quotes_runs_and_decimals() {
        let text = "Tom said, \"Hi!\" Then 3.5 cats left... Bye?";
        let parts = sentences(text);
        assert_eq!(parts, ["Tom said, \"Hi!\"", "Then 3.5 cats left...", "Bye?"]);
        assert_eq!(sentences("No end here"), ["No end here"]);
    }

    #[test]
    fn truncation_keeps_whole_sentences() {
        let text = "One two three. Four five six! Seven eight nine ten?";
        assert_eq!(truncate_at_sentence(text, 6), Some("One two three. Four five six!"));
        assert_eq!(truncate_at_sentence(text, 100), Some(text));
        assert_eq!(truncate_at_sentence(text, 2), None);
    }

    #[test]
    fn clean_endings() {
        assert!(has_clean_ending("The end."));
        assert!(has_clean_ending("She said, \"Yes!\""));
        assert!(!has_clean_ending("and then the"));
        assert!(!has_clean_ending("\"Hello"));
        assert!(!has_clean_ending(""));
    }
}
