//! Ghost Attention (the LLaMA-2 paper, §3.3): teaching a model to keep a system
//! instruction for a whole dialogue.
//!
//! 1. **Sample** multi-turn dialogues with the current model while the instruction is
//!    appended to *every* user turn (`"Tell me about a dog. Always mention a cat in every
//!    answer."`), so each answer is produced with the instruction in plain view (when the
//!    dialogue outgrows the context, the oldest exchanges are left out of the sampling
//!    prompt, as `chat` does). A tiny
//!    model does not reliably obey even then, so each sampled answer is cut at its last
//!    sentence end and rewritten by the instruction's gold rule
//!    ([`SystemInstruction::apply`]) — the stand-in for "the model follows an instruction
//!    it can see" (an answer with no complete sentence is replaced by a corpus sentence on
//!    the topic).
//! 2. **Train** on the dialogues with the instruction kept only in the *first* turn, as
//!    the system message, in its short, context-distilled form ("Always act as a pirate
//!    from now on" → "Figure: pirate"), and the loss zeroed on every token of the earlier
//!    turns: from a dialogue of n turns come n examples, the k-th ending at turn k and
//!    learning only that turn's answer, so every turn index is trained.
//!
//! Adherence is measured by turn index with the instruction in the system message only
//! ([`crate::eval::adherence_by_turn`]), before and after.

use llamaforge_model::chat::{encode_chat, Message};
use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::tokenizer::{Tokenizer, BOS_ID, EOS_ID};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::data::MaskedExample;
use crate::task::{dialogue_user_turns, SentenceBank, SystemInstruction, SYSTEM_INSTRUCTIONS};

/// Knobs of the GAtt data.
#[derive(Clone, Debug)]
pub struct GattOptions {
    /// User turns per dialogue (8: the paper's multi-turn failure shows by turn 3–5).
    pub turns: usize,
    /// Training dialogues to sample.
    pub dialogues: usize,
    /// Held-out dialogues for adherence by turn.
    pub eval_dialogues: usize,
    /// Most tokens of a sampled answer (8 turns must fit the context).
    pub answer_tokens: usize,
    /// Sampling temperature of the training dialogues.
    pub temperature: f32,
    pub seed: u64,
}

impl Default for GattOptions {
    fn default() -> Self {
        GattOptions { turns: 8, dialogues: 240, eval_dialogues: 48, answer_tokens: 32, temperature: 0.8, seed: 77 }
    }
}

/// A sampled training dialogue: its instruction, user turns and (adhering) answers.
#[derive(Clone, Debug)]
pub struct GattDialogue {
    pub instruction: &'static SystemInstruction,
    pub users: Vec<String>,
    pub answers: Vec<String>,
}

/// A held-out dialogue: an instruction and the user turns to answer.
#[derive(Clone, Debug)]
pub struct EvalDialogue {
    pub instruction: &'static SystemInstruction,
    pub users: Vec<String>,
}

/// Seeded instructions and user turns; `salt` separates training from held-out ones.
fn dialogue_plans(n: usize, turns: usize, seed: u64, salt: u64) -> Vec<EvalDialogue> {
    let mut rng = StdRng::seed_from_u64(seed ^ salt);
    (0..n)
        .map(|i| EvalDialogue {
            instruction: &SYSTEM_INSTRUCTIONS[i % SYSTEM_INSTRUCTIONS.len()],
            users: dialogue_user_turns(&mut rng, turns),
        })
        .collect()
}

/// The held-out dialogues of `llamaforge eval` and `gatt`.
pub fn gatt_eval_dialogues(options: &GattOptions) -> Vec<EvalDialogue> {
    dialogue_plans(options.eval_dialogues, options.turns, options.seed, 0xe7a1)
}

/// `text` cut after its last sentence end (`.`, `!`, `?`, optionally a closing quote),
/// or `None` when it has none.
pub fn cut_at_sentence_end(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let end = trimmed
        .char_indices()
        .filter(|(_, c)| matches!(c, '.' | '!' | '?'))
        .map(|(i, c)| i + c.len_utf8())
        .next_back()?;
    let rest = &trimmed[end..];
    let end = if rest.starts_with('"') { end + 1 } else { end };
    Some(trimmed[..end].trim().to_string())
}

/// Step 1: samples the training dialogues turn by turn (all dialogues of a turn in one
/// batched call on the KV-cached inference path) with the long instruction appended to
/// every user turn, each answer cut and rewritten to adhere.
pub fn sample_gatt_dialogues(
    model: &InferenceModel,
    tok: &Tokenizer,
    bank: &SentenceBank,
    options: &GattOptions,
) -> Result<Vec<GattDialogue>, String> {
    let plans = dialogue_plans(options.dialogues, options.turns, options.seed, 0x7a11);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut dialogues: Vec<GattDialogue> = plans
        .iter()
        .map(|p| GattDialogue { instruction: p.instruction, users: p.users.clone(), answers: Vec::new() })
        .collect();
    let encode = |text: &str| tok.encode(text, false, false);
    for turn in 0..options.turns {
        let budget = model.config.max_seq_len.saturating_sub(options.answer_tokens + 1);
        let prompts: Vec<Vec<u32>> = dialogues
            .iter()
            .map(|d| {
                // the whole dialogue so far, the instruction in every user turn; when that
                // outgrows the context, the oldest exchanges are dropped (as `chat` does)
                for first in 0..=turn {
                    let mut messages = Vec::new();
                    for k in first..=turn {
                        messages.push(Message::user(format!("{} {}", d.users[k], d.instruction.long)));
                        if k < turn {
                            messages.push(Message::assistant(d.answers[k].clone()));
                        }
                    }
                    let ids = encode_chat(&messages, &encode, BOS_ID, EOS_ID).map_err(|e| e.to_string())?.ids;
                    if ids.len() <= budget || first == turn {
                        return Ok(ids);
                    }
                }
                unreachable!("the last turn alone is returned")
            })
            .collect::<Result<_, String>>()?;
        let room = model.config.max_seq_len.saturating_sub(prompts.iter().map(Vec::len).max().unwrap_or(0));
        if room < 2 {
            return Err(format!(
                "turn {}: one user turn fills the model's {}-token context",
                turn + 1,
                model.config.max_seq_len
            ));
        }
        let gen_options = GenerateOptions {
            max_new_tokens: options.answer_tokens.min(room - 1),
            sampling: Sampling::from_temperature(options.temperature, 1.0),
            seed: options.seed.wrapping_add(1000 * turn as u64),
            stop_tokens: vec![EOS_ID, BOS_ID],
        };
        let sampled = generate(model, &prompts, &gen_options).map_err(|e| e.to_string())?;
        for (d, g) in dialogues.iter_mut().zip(sampled) {
            let kept: Vec<u32> = g.tokens.into_iter().filter(|&t| t != EOS_ID && t != BOS_ID).collect();
            let text = tok.decode(&kept);
            let answer = match cut_at_sentence_end(&text) {
                Some(a) if a.split_whitespace().count() >= 3 => a,
                _ => bank.answer(&d.users[turn], &mut rng).unwrap_or_else(|| "That is a good question.".to_string()),
            };
            d.answers.push(d.instruction.apply(&answer));
        }
    }
    Ok(dialogues)
}

/// The messages of the first `turns` turns of `d` for training: the short instruction as
/// the system message of the first turn only, the user turns without it.
pub fn training_messages(d: &GattDialogue, turns: usize) -> Vec<Message> {
    let mut messages = vec![Message::system(d.instruction.short)];
    for k in 0..turns {
        messages.push(Message::user(d.users[k].clone()));
        messages.push(Message::assistant(d.answers[k].clone()));
    }
    messages
}

/// Step 2: the training examples — per dialogue and turn k, the dialogue up to turn k
/// with only turn k's answer learned (every earlier token's loss is zero). Examples longer
/// than `max_len` tokens are dropped (returned count), never cut.
pub fn gatt_examples(
    dialogues: &[GattDialogue],
    tok: &Tokenizer,
    max_len: usize,
) -> Result<(Vec<MaskedExample>, usize), String> {
    let encode = |text: &str| tok.encode(text, false, false);
    let (mut out, mut dropped) = (Vec::new(), 0);
    for d in dialogues {
        for k in 1..=d.answers.len() {
            let chat = encode_chat(&training_messages(d, k), &encode, BOS_ID, EOS_ID).map_err(|e| e.to_string())?;
            if chat.ids.len() > max_len {
                dropped += 1;
                continue;
            }
            // the last turn's answer starts after the last BOS … [/INST] prefix: learn
            // only the assistant tokens after the final BOS
            let last_bos = chat.ids.iter().rposition(|&t| t == BOS_ID).expect("a turn starts with BOS");
            let learn = chat.assistant_mask.iter().enumerate().map(|(i, &m)| m && i > last_bos).collect();
            out.push(MaskedExample { ids: chat.ids, learn });
        }
    }
    Ok((out, dropped))
}

/// The dialogue of the attention figure, as tokens.
pub struct FigureDialogue {
    pub ids: Vec<u32>,
    /// Positions of the system message's text.
    pub system_span: std::ops::Range<usize>,
    /// Positions where a turn (`<s>`) starts.
    pub turn_starts: Vec<usize>,
}

/// A held-out dialogue as tokens with its system span, for the attention figure: the
/// instruction in the system message, answered with `answers`.
pub fn figure_dialogue(tok: &Tokenizer, d: &EvalDialogue, answers: &[String]) -> Result<FigureDialogue, String> {
    let encode = |text: &str| tok.encode(text, false, false);
    let mut messages = vec![Message::system(d.instruction.short)];
    for (u, a) in d.users.iter().zip(answers) {
        messages.push(Message::user(u.clone()));
        messages.push(Message::assistant(a.clone()));
    }
    let chat = encode_chat(&messages, &encode, BOS_ID, EOS_ID).map_err(|e| e.to_string())?;
    // the system text sits between BOS + "[INST] <<SYS>>" and "<</SYS>>": locate it by
    // encoding the prefix up to and after it
    let before = encode("[INST] <<SYS>>\n").len() + 1;
    let sys = encode(&format!("[INST] <<SYS>>\n{}\n<</SYS>>", d.instruction.short)).len() + 1;
    let turn_starts: Vec<usize> = chat.ids.iter().enumerate().filter(|(_, &t)| t == BOS_ID).map(|(i, _)| i).collect();
    Ok(FigureDialogue { ids: chat.ids, system_span: before..sys.max(before + 1), turn_starts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::system_instruction;

    fn tok() -> Tokenizer {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tok512.bin");
        Tokenizer::load_llama2c(path, None).unwrap()
    }

    fn dialogue() -> GattDialogue {
        let pirate = system_instruction("pirate").unwrap();
        GattDialogue {
            instruction: pirate,
            users: vec![
                "Tell me about a dog.".into(),
                "What does a bird do?".into(),
                "Tell me one thing about a cake.".into(),
            ],
            answers: vec![
                "Arr, matey! The dog ran fast.".into(),
                "Arr, matey! The bird sang.".into(),
                "Arr, matey! The cake was sweet.".into(),
            ],
        }
    }

    #[test]
    fn the_instruction_is_kept_short_and_in_the_first_turn_only() {
        let m = training_messages(&dialogue(), 3);
        assert_eq!(m[0], Message::system("Figure: pirate"));
        assert_eq!(m.len(), 7);
        assert!(m[1..].iter().all(|x| !x.content.contains("pirate") && !x.content.contains("Always")));
    }

    #[test]
    fn only_the_last_turns_answer_is_learned() {
        let tok = tok();
        let (examples, dropped) = gatt_examples(&[dialogue()], &tok, 512).unwrap();
        assert_eq!((examples.len(), dropped), (3, 0));
        for (k, ex) in examples.iter().enumerate() {
            let learned: Vec<u32> = ex.ids.iter().zip(&ex.learn).filter(|(_, &l)| l).map(|(&t, _)| t).collect();
            // the learned tokens are exactly turn k's answer and its EOS
            let mut expected = tok.encode(&format!("{} ", dialogue().answers[k]), false, false);
            expected.push(EOS_ID);
            assert_eq!(learned, expected, "example {k}");
            // and they are the tail of the example
            let first = ex.learn.iter().position(|&l| l).unwrap();
            assert!(ex.learn[first..].iter().all(|&l| l), "example {k}: learned tokens are contiguous to the end");
        }
        // an example over the length limit is dropped, not cut
        let (short, dropped) = gatt_examples(&[dialogue()], &tok, 40).unwrap();
        assert!(dropped > 0 && short.iter().all(|e| e.ids.len() <= 40));
    }

    #[test]
    fn answers_are_cut_at_their_last_sentence_end() {
        assert_eq!(cut_at_sentence_end("The dog ran. It was fa").as_deref(), Some("The dog ran."));
        assert_eq!(cut_at_sentence_end("He said \"hi!\" and le").as_deref(), Some("He said \"hi!\""));
        assert_eq!(cut_at_sentence_end("no end here"), None);
    }

    #[test]
    fn held_out_dialogues_differ_from_training_plans() {
        let o = GattOptions::default();
        let eval = gatt_eval_dialogues(&o);
        let train = dialogue_plans(o.dialogues, o.turns, o.seed, 0x7a11);
        assert_eq!(eval.len(), o.eval_dialogues);
        assert!(eval.iter().all(|e| e.users.len() == o.turns));
        let same = eval.iter().filter(|e| train.iter().any(|t| t.users == e.users)).count();
        assert_eq!(same, 0, "a held-out dialogue repeats a training one");
    }
}
