//! Tokenizer tests: llama2.c's known answer and its encode algorithm as the oracle,
//! round trips for any string, both file formats, corrupt files, and training.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llamaforge_model::tokenizer::{
    Piece, PieceKind, Tokenizer, TokenizerError, TokenizerOptions, TrainOptions, BOS_ID, EOS_ID,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

#[path = "tokenizer/llama2c_oracle.rs"]
mod llama2c_oracle;
use llama2c_oracle::{llama2c_encode, llama2c_vocab};

const TOK512: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tok512.bin");
const STORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/tinystories_sample.txt");

fn tok512() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| Tokenizer::load_llama2c(TOK512, Some(512)).expect("tok512.bin loads"))
}

/// The first ~200 KB of TinyStories, cut at a character boundary.
fn stories_prefix() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let text = std::fs::read_to_string(STORIES).expect("data/tinystories_sample.txt");
        let mut end = 200_000.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_string()
    })
}

/// A 1024-piece tokenizer trained on the stories prefix, with two special tokens.
fn trained() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let options = TrainOptions { special_tokens: vec!["[INST]".into(), "<<SYS>>".into()], ..Default::default() };
        Tokenizer::train(stories_prefix().split("<|endoftext|>"), 1024, &options).expect("training succeeds")
    })
}

/// A unique scratch directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("llamaforge-tokenizer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn tok512_known_answer() {
    let ids = tok512().encode("Once upon a time", true, false);
    assert_eq!(ids, [1, 403, 407, 261, 378]);
    assert_eq!(tok512().decode(&ids), "Once upon a time");
    // Without a vocabulary size the file is read to its end: same 512 pieces.
    let read_to_end = Tokenizer::load_llama2c(TOK512, None).unwrap();
    assert_eq!(read_to_end.vocab_size(), 512);
    assert_eq!(read_to_end.encode("Once upon a time", true, true), [1, 403, 407, 261, 378, 2]);
}

#[test]
fn tok512_layout_is_recovered() {
    let tok = tok512();
    let kinds: Vec<PieceKind> = tok.pieces().iter().map(|p| p.kind).collect();
    assert_eq!(&kinds[..3], [PieceKind::Unknown, PieceKind::Control, PieceKind::Control]);
    assert!(kinds[3..259].iter().all(|&k| k == PieceKind::Byte));
    assert!(kinds[259..].iter().all(|&k| k == PieceKind::Normal));
    assert_eq!(tok.piece(1).unwrap().text, "<s>");
    assert_eq!(tok.piece(3 + 0x0A).unwrap().text, "<0x0A>");
    assert_eq!(tok.token_id("\u{2581}Once"), Some(403));
}

#[test]
fn tok512_rewrites_byte_for_byte() {
    let original = std::fs::read(TOK512).unwrap();
    assert_eq!(tok512().to_llama2c_bytes(), original);
}

#[test]
fn matches_llama2c_on_stories() {
    let vocab = llama2c_vocab(&std::fs::read(TOK512).unwrap());
    for story in stories_prefix().split("<|endoftext|>").take(40) {
        assert_eq!(tok512().encode(story, true, true), llama2c_encode(&vocab, story, true, true));
    }
    let vocab = llama2c_vocab(&trained().to_llama2c_bytes());
    for story in stories_prefix().split("<|endoftext|>").take(40) {
        // The trained vocabulary has special tokens, which run.c knows nothing of.
        let story = story.replace("[INST]", "").replace("<<SYS>>", "");
        assert_eq!(trained().encode(&story, false, false), llama2c_encode(&vocab, &story, false, false));
    }
}

/// Characters that exercise every path: spaces, '▁', controls, multi-byte, rare letters.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::sample::select(vec![' ', ' ', ' ', '\n', '\t', '\r', '\u{2581}', '\u{0}', '.', ',', '"']),
        4 => proptest::char::range('a', 'z'),
        1 => proptest::char::range('A', 'Z'),
        1 => proptest::sample::select(vec!['é', 'ñ', '’', '“', '😀', '漢', '\u{301}', '\u{FFFD}', '\u{7F}']),
        1 => any::<char>(),
    ]
}

fn interesting_string() -> impl Strategy<Value = String> {
    prop::collection::vec(interesting_char(), 0..48).prop_map(String::from_iter)
}

/// Words and spacing in the style of the training text.
fn story_like_string() -> impl Strategy<Value = String> {
    let word = proptest::sample::select(vec![
        "Once", "upon", "a", "time", "the", "The", "little", "girl", "named", "Lily", "said", "happy", ".", ",", "\"",
        "!", "\n", "", " ", "[INST]", "<<SYS>>", "dog.", "zebra", "123",
    ]);
    let separator = proptest::sample::select(vec![" ", " ", " ", "", "  ", "\n", " \n"]);
    prop::collection::vec((word, separator), 0..24)
        .prop_map(|parts| parts.into_iter().flat_map(|(w, s)| [w, s]).collect::<String>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_any_string(text in interesting_string(), bos: bool, eos: bool) {
        for tok in [tok512(), trained()] {
            let ids = tok.encode(&text, bos, eos);
            prop_assert_eq!(tok.decode(&ids), text.clone());
            prop_assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
        }
    }

    #[test]
    fn round_trip_story_like(text in story_like_string(), bos: bool) {
        for tok in [tok512(), trained()] {
            prop_assert_eq!(tok.decode(&tok.encode(&text, bos, false)), text.clone());
        }
    }

    #[test]
    fn round_trip_fully_arbitrary(text in any::<String>()) {
        prop_assert_eq!(trained().decode(&trained().encode(&text, true, true)), text);
    }

    /// run.c is the reference. Excluded: NUL (C strings end there) and '<' (run.c would
    /// assemble "<0x41>" typed as text into a byte token; we only merge into normal pieces).
    #[test]
    fn encode_matches_llama2c(text in interesting_string().prop_filter("C string", |t| !t.contains(['\0', '<'])),
                              bos: bool, eos: bool) {
        static VOCAB: OnceLock<Vec<(Vec<u8>, f32)>> = OnceLock::new();
        let vocab = VOCAB.get_or_init(|| llama2c_vocab(&std::fs::read(TOK512).unwrap()));
        prop_assert_eq!(tok512().encode(&text, bos, eos), llama2c_encode(vocab, &text, bos, eos));
    }

    #[test]
    fn stream_decode_equals_decode(ids in prop::collection::vec(0u32..512, 0..40)) {
        let tok = tok512();
        let mut stream = tok.decode_stream();
        let mut streamed: String = ids.iter().map(|&id| stream.push(id)).collect();
        streamed.push_str(&stream.finish());
        prop_assert_eq!(streamed, tok.decode(&ids));
    }
}

#[test]
fn round_trip_edge_cases() {
    let cases =
        ["", " ", "  ", "a", " a", "a ", "  leading", "trailing  ", "a  b   c", "\u{2581}", " \u{2581} ", "\n", "\0"];
    for tok in [tok512(), trained()] {
        for text in cases {
            for (bos, eos) in [(false, false), (true, false), (true, true)] {
                assert_eq!(tok.decode(&tok.encode(text, bos, eos)), text, "{text:?}");
            }
        }
    }
    assert_eq!(tok512().encode("", true, true), [BOS_ID, EOS_ID]);
    assert!(tok512().encode("", false, false).is_empty());
}

#[test]
fn decode_rules() {
    let tok = tok512();
    let byte = |b: u8| 3 + u32::from(b);
    // Byte tokens reassemble into UTF-8; an incomplete sequence is the one U+FFFD.
    assert_eq!(tok.decode(&[byte(0xE2), byte(0x96), byte(0x81)]), "\u{2581}");
    assert_eq!(tok.decode(&[byte(0xE2), byte(0x96), 403]), "\u{FFFD} Once");
    assert_eq!(tok.decode(&[byte(0xFF), byte(b'a')]), "\u{FFFD}a");
    // The leading space goes at the start and after <s>, as in run.c; not elsewhere.
    assert_eq!(tok.decode(&[403, 407]), "Once upon");
    assert_eq!(tok.decode(&[BOS_ID, 403, EOS_ID, BOS_ID, 407]), "Onceupon");
    assert_eq!(tok.decode(&[EOS_ID, 403]), " Once");
    assert_eq!(tok.decode_piece(BOS_ID, 403), b"Once");
    assert_eq!(tok.decode_piece(407, 403), b" Once");
    assert_eq!(tok.decode_piece(407, byte(b'\n')), b"\n");
    assert_eq!(tok.decode(&[0]), " \u{2047} ");
}

#[test]
#[should_panic(expected = "token id 512 is outside the vocabulary (size 512)")]
fn decode_rejects_unknown_ids() {
    tok512().decode(&[1, 512]);
}

#[test]
fn special_tokens_are_never_split() {
    let tok = trained();
    let inst = tok.token_id("[INST]").unwrap();
    let sys = tok.token_id("<<SYS>>").unwrap();
    assert_eq!((inst, sys), (259, 260));
    assert_eq!(tok.special_token_ids(), [259, 260]);
    let text = "[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi [INST]";
    let ids = tok.encode(text, true, false);
    assert_eq!(ids[..2], [BOS_ID, inst]);
    assert_eq!(ids.iter().filter(|&&id| id == inst).count(), 2);
    assert_eq!(ids.iter().filter(|&&id| id == sys).count(), 1);
    assert_eq!(tok.decode(&ids), text);

    // Added after loading: appended, or an existing normal piece converted in place.
    let mut tok = tok512().clone();
    let id = tok.add_special_token("<|im_end|>").unwrap();
    assert_eq!(id, 512);
    assert_eq!(tok.add_special_token("<|im_end|>").unwrap(), 512);
    assert_eq!(tok.encode("hi<|im_end|>", false, false).last(), Some(&512));
    let the = tok.token_id("\u{2581}the").unwrap();
    assert_eq!(tok.add_special_token("\u{2581}the").unwrap(), the);
    assert_eq!(tok.piece(the).unwrap().kind, PieceKind::UserDefined);
    assert!(tok.add_special_token("").is_err());
    assert!(matches!(tok.add_special_token("<s>"), Err(TokenizerError::InvalidSpecialToken { .. })));
}

#[test]
fn vocabulary_without_space_piece() {
    let mut pieces: Vec<Piece> = llamaforge_model::tokenizer::vocab::reserved_pieces();
    pieces.extend([("a", -1.0), ("b", -2.0), ("ab", 0.0)].map(|(t, s)| Piece::new(t, s, PieceKind::Normal)));
    for add_dummy_prefix in [true, false] {
        let tok = Tokenizer::from_pieces(pieces.clone(), TokenizerOptions { add_dummy_prefix }).unwrap();
        assert_eq!(tok.encode("ab", false, false), [tok.token_id("ab").unwrap()]);
        for text in ["", " ", " ab ab", "abba", "\u{2581}ab"] {
            assert_eq!(tok.decode(&tok.encode(text, true, false)), text);
        }
    }
    // A whitespace-only piece "▁▁" forces whole-segment merging; results stay llama2.c's.
    let mut pieces = llamaforge_model::tokenizer::vocab::reserved_pieces();
    pieces.extend(
        [("\u{2581}", -1.0), ("a", -1.0), ("\u{2581}\u{2581}", -2.0), ("a\u{2581}", -3.0)]
            .map(|(t, s)| Piece::new(t, s, PieceKind::Normal)),
    );
    let tok = Tokenizer::from_pieces(pieces, TokenizerOptions::default()).unwrap();
    let vocab = llama2c_vocab(&tok.to_llama2c_bytes());
    for text in ["a a", "a  a", "  a a   a", "aa a"] {
        assert_eq!(tok.encode(text, false, false), llama2c_encode(&vocab, text, false, false), "{text:?}");
        assert_eq!(tok.decode(&tok.encode(text, false, false)), text);
    }
}

// ---------------------------------------------------------------------------------------
// Files.

#[test]
fn llama2c_file_round_trip() {
    let dir = TempDir::new("llama2c");
    let path = dir.path("tok.bin");
    trained().save_llama2c(&path).unwrap();
    let loaded = Tokenizer::load_llama2c(&path, Some(trained().vocab_size())).unwrap();
    // tokenizer.bin has no kinds: the special tokens come back as normal pieces...
    let texts = |tok: &Tokenizer| tok.pieces().iter().map(|p| (p.text.clone(), p.score.to_bits())).collect::<Vec<_>>();
    assert_eq!(texts(&loaded), texts(trained()));
    assert_eq!(loaded.piece(259).unwrap().kind, PieceKind::Normal);
    // ...and marking them again restores the original tokenizer's behaviour.
    let mut loaded = loaded;
    assert_eq!(loaded.add_special_token("[INST]").unwrap(), 259);
    assert_eq!(loaded.add_special_token("<<SYS>>").unwrap(), 260);
    assert_eq!(loaded.pieces(), trained().pieces());
    let text = &stories_prefix()[..5000];
    assert_eq!(loaded.encode(text, true, true), trained().encode(text, true, true));
    assert!(std::fs::read_dir(&dir.0).unwrap().count() == 1, "no temporary file is left behind");
}

#[test]
fn json_file_round_trip() {
    let dir = TempDir::new("json");
    let path = dir.path("tok.json");
    trained().save_json(&path).unwrap();
    let loaded = Tokenizer::load_json(&path).unwrap();
    assert_eq!(loaded.pieces(), trained().pieces());
    assert_eq!(loaded.options(), trained().options());
    assert_eq!(loaded.trained_with(), trained().trained_with());
    let bits = |tok: &Tokenizer| tok.pieces().iter().map(|p| p.score.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&loaded), bits(trained()), "scores survive exactly, -0.0 included");
    let text = &stories_prefix()[..5000];
    assert_eq!(loaded.encode(text, true, true), trained().encode(text, true, true));

    // tok512 through JSON and back to tokenizer.bin is still byte-identical.
    let via_json = Tokenizer::from_json_str(&tok512().to_json_string()).unwrap();
    assert_eq!(via_json.to_llama2c_bytes(), std::fs::read(TOK512).unwrap());

    // Saving over an existing file replaces it.
    tok512().save_json(&path).unwrap();
    assert_eq!(Tokenizer::load_json(&path).unwrap().vocab_size(), 512);
}

#[test]
fn file_errors_name_the_file_and_field() {
    let missing = Path::new("/nonexistent/dir/tok.bin");
    let err = Tokenizer::load_llama2c(missing, None).unwrap_err();
    assert!(matches!(err, TokenizerError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/tok.bin"), "{err}");
    assert!(tok512().save_json(missing).is_err());

    let bytes = std::fs::read(TOK512).unwrap();
    // Header 4 bytes, then 13 + 13 + 14 bytes for <unk>, <s>, </s> and 14 per byte piece:
    // pieces[6] (<0x03>) has its text at 94..100.
    let err = Tokenizer::from_llama2c_bytes(&bytes[..95], Some(512)).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, TokenizerError::Truncated { offset: 94, needed: 6, available: 1, .. }), "{message}");
    assert!(message.contains("<memory>") && message.contains("pieces[6].text"), "{message}");

    let dir = TempDir::new("errors");
    let path = dir.path("short.bin");
    std::fs::write(&path, &bytes[..1000]).unwrap();
    let err = Tokenizer::load_llama2c(&path, Some(512)).unwrap_err().to_string();
    assert!(err.contains("short.bin") && err.contains("truncated at byte"), "{err}");

    let mut negative = bytes.clone();
    negative[8..12].copy_from_slice(&(-5i32).to_le_bytes());
    let err = Tokenizer::from_llama2c_bytes(&negative, None).unwrap_err();
    assert!(matches!(err, TokenizerError::Corrupt { offset: 8, .. }), "{err}");

    let json = tok512().to_json_string();
    let err = Tokenizer::from_json_str(&json[..json.len() / 2]).unwrap_err();
    assert!(matches!(err, TokenizerError::Json { .. }) && err.to_string().contains("line"), "{err}");
    let err = Tokenizer::from_json_str(&json.replace("llamaforge-tokenizer", "other")).unwrap_err();
    assert!(err.to_string().contains("format"), "{err}");
}

#[test]
fn truncations_and_garbage_never_panic() {
    let bytes = std::fs::read(TOK512).unwrap();
    for end in 0..bytes.len() {
        let truncated = &bytes[..end];
        assert!(Tokenizer::from_llama2c_bytes(truncated, Some(512)).is_err(), "truncated at {end}");
        // Read-to-end succeeds only when the cut falls between pieces. Byte pieces may
        // then be missing, so characters can become <unk>: usable, but not lossless.
        if let Ok(tok) = Tokenizer::from_llama2c_bytes(truncated, None) {
            assert!(tok.vocab_size() < 512);
            let ids = tok.encode("Once upon a time, Lily said \"hi\" 😀", true, false);
            assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
            let _ = tok.decode(&ids);
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for round in 0..2000 {
        let data: Vec<u8> = if round % 2 == 0 {
            let len = rng.random_range(0..200);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let mut corrupted = bytes.clone();
            for _ in 0..rng.random_range(1..8) {
                let at = rng.random_range(0..corrupted.len());
                corrupted[at] = rng.random();
            }
            corrupted
        };
        for vocab_size in [None, Some(512)] {
            if let Ok(tok) = Tokenizer::from_llama2c_bytes(&data, vocab_size) {
                let ids = tok.encode("Once upon a time \u{2581} é", true, true);
                let _ = tok.decode(&ids);
            }
        }
        let json = String::from_utf8_lossy(&data);
        let _ = Tokenizer::from_json_str(&json);
    }
}

// ---------------------------------------------------------------------------------------
// Training.

#[test]
fn trained_vocabulary_layout_and_scores() {
    let tok = trained();
    assert_eq!(tok.vocab_size(), 1024);
    let pieces = tok.pieces();
    assert_eq!(pieces[0].text, "<unk>");
    assert_eq!(pieces[3].text, "<0x00>");
    assert_eq!(pieces[258].text, "<0xFF>");
    assert_eq!(pieces[259].kind, PieceKind::UserDefined);
    // Merges in order (score -rank), then single characters, scores still decreasing.
    let learned = &pieces[261..];
    assert!(learned.iter().all(|p| p.kind == PieceKind::Normal));
    for (rank, piece) in learned.iter().enumerate() {
        assert_eq!(piece.score, -(rank as f32), "{piece:?}");
    }
    let first_char = learned.iter().position(|p| p.text.chars().count() == 1).unwrap();
    assert!(learned[first_char..].iter().all(|p| p.text.chars().count() == 1));
    assert!(tok.token_id("\u{2581}the").is_some() && tok.token_id("\u{2581}Once").is_some());
    // SentencePiece's rules: no piece mixes letters and punctuation or spans a newline.
    assert!(tok.token_id("\u{2581}time,").is_none());
    assert!(learned.iter().all(|p| !p.text.contains('\n') && !p.text.chars().skip(1).any(|c| c == '\u{2581}')));
}

#[test]
fn training_is_deterministic_and_compresses() {
    let text = &stories_prefix()[..60_000];
    let options = TrainOptions::default();
    let first = Tokenizer::train([text], 600, &options).unwrap();
    let second = Tokenizer::train(vec![text.to_string()], 600, &options).unwrap();
    assert_eq!(first.pieces(), second.pieces());
    let ids = first.encode(text, false, false);
    assert!(ids.len() * 2 < text.len(), "{} tokens for {} bytes", ids.len(), text.len());
    assert_eq!(first.decode(&ids), text);
}

#[test]
fn training_on_whole_documents_learns_newline_pieces() {
    let options = TrainOptions { split_lines: false, ..TrainOptions::default() };
    let tok = Tokenizer::train(stories_prefix().split("<|endoftext|>"), 1024, &options).unwrap();
    assert!(tok.token_id("\n").is_some());
    assert!(tok.token_id(".\n").is_some());
    let text = &stories_prefix()[..20_000];
    assert_eq!(tok.decode(&tok.encode(text, true, true)), text);
}

#[test]
fn training_edge_cases() {
    let options = TrainOptions::default();
    // Runs out of pairs: a smaller vocabulary, still valid.
    let tiny = Tokenizer::train(["ab ab"], 1000, &options).unwrap();
    assert!(tiny.vocab_size() < 1000);
    assert_eq!(tiny.decode(&tiny.encode("ab ba", true, false)), "ab ba");
    // No text at all: just the reserved pieces.
    assert_eq!(Tokenizer::train(Vec::<String>::new(), 300, &options).unwrap().vocab_size(), 259);
    // Too small, or nonsense options: an error, not a panic.
    assert!(matches!(Tokenizer::train(["x"], 259, &options), Err(TokenizerError::InvalidTraining(_))));
    let bad = TrainOptions { character_coverage: 0.0, ..TrainOptions::default() };
    assert!(Tokenizer::train(["x"], 300, &bad).is_err());
    let repeated = TrainOptions { special_tokens: vec!["[A]".into(), "[A]".into()], ..TrainOptions::default() };
    assert!(Tokenizer::train(["x"], 300, &repeated).is_err());
    let reserved = TrainOptions { special_tokens: vec!["</s>".into()], ..TrainOptions::default() };
    assert!(Tokenizer::train(["x"], 300, &reserved).is_err());
    // A character below the coverage threshold (1 in 9001 > 1 - 0.9995) is left to bytes.
    let rare = format!("{}z", "ab ".repeat(3000));
    let tok = Tokenizer::train([rare.as_str()], 300, &options).unwrap();
    assert!(tok.token_id("a").is_some() && tok.token_id("z").is_none());
    assert_eq!(tok.encode("z", false, false)[1..], [3 + u32::from(b'z')]);
    // Character coverage is capped by the vocabulary size.
    let many_chars: String = (0x4E00..0x4E64).filter_map(char::from_u32).collect();
    let capped = Tokenizer::train([many_chars.as_str()], 300, &options).unwrap();
    assert!(capped.vocab_size() <= 300);
    assert_eq!(capped.decode(&capped.encode(&many_chars, false, false)), many_chars);
}
