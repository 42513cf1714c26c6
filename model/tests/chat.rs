//! The LLaMA-2-chat template: text layout, ids and the assistant mask.

use llamaforge_model::chat::{encode_chat, render_chat, Message};

/// A stand-in encoder: one id per byte, plus 1000 for the dummy prefix space.
fn bytes(text: &str) -> Vec<u32> {
    std::iter::once(1000).chain(text.bytes().map(u32::from)).collect()
}

#[test]
fn renders_system_and_many_turns_in_the_llama2_layout() {
    let dialog = [
        Message::system("Be brief."),
        Message::user("Hi"),
        Message::assistant("Hello!"),
        Message::user(" How are you? "),
    ];
    assert_eq!(
        render_chat(&dialog).unwrap(),
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] How are you? [/INST]"
    );
    assert_eq!(render_chat(&[Message::user("x")]).unwrap(), "<s>[INST] x [/INST]");
}

#[test]
fn mask_covers_exactly_the_answers_and_their_eos() {
    let dialog = [Message::user("a"), Message::assistant("b"), Message::user("c"), Message::assistant("d")];
    let t = encode_chat(&dialog, &bytes, 1, 2).unwrap();
    assert_eq!(t.ids.len(), t.assistant_mask.len());
    let assistant: Vec<u32> = t.ids.iter().zip(&t.assistant_mask).filter(|(_, &m)| m).map(|(&i, _)| i).collect();
    // each answer: dummy prefix, the text, the trailing space, EOS
    assert_eq!(assistant, vec![1000, b'b' as u32, b' ' as u32, 2, 1000, b'd' as u32, b' ' as u32, 2]);
    assert_eq!(t.ids.iter().filter(|&&i| i == 1).count(), 2, "one BOS per turn");
    assert!(!t.assistant_mask[0]);
}

#[test]
fn malformed_dialogs_are_errors() {
    assert!(render_chat(&[]).is_err());
    assert!(render_chat(&[Message::system("s")]).is_err());
    assert!(render_chat(&[Message::assistant("a")]).is_err());
    assert!(render_chat(&[Message::user("a"), Message::user("b")]).is_err());
}
