//! Ghost Attention's measure: with a system instruction in the first turn only, how often
//! does the model's own answer at turn 1, 2, … 8 still follow it (the instruction's gold
//! check)? The paper's multi-turn failure is this curve falling after a few turns.

use llamaforge_model::chat::{encode_chat, Message};
use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::tokenizer::{Tokenizer, BOS_ID, EOS_ID};
use serde::Serialize;

use crate::stages::gatt::EvalDialogue;

/// Adherence by turn, and the greedy answers it judged.
#[derive(Clone, Debug, Serialize)]
pub struct AdherenceReport {
    /// Share of dialogues whose answer at turn i+1 adheres.
    pub by_turn: Vec<f64>,
    /// Per instruction (by name), the share of its answers over all turns that adhere —
    /// shows whether the model reads the system message or found one style that happens
    /// to satisfy several instructions.
    pub by_instruction: Vec<(String, f64)>,
    /// Per dialogue, the answers of each turn (a dialogue stops early when it fills the
    /// context; later turns then count as not adhering).
    pub answers: Vec<Vec<String>>,
}

/// Answers every dialogue greedily, turn by turn (its own answers fed back; all dialogues
/// of a turn in one batched call), with `instruction.short` as the system message of the
/// first turn only, and checks each answer against the instruction.
pub fn adherence_by_turn(
    model: &InferenceModel,
    tok: &Tokenizer,
    dialogues: &[EvalDialogue],
    answer_tokens: usize,
) -> Result<AdherenceReport, String> {
    let turns = dialogues.iter().map(|d| d.users.len()).max().unwrap_or(0);
    let encode = |text: &str| tok.encode(text, false, false);
    let mut answers: Vec<Vec<String>> = vec![Vec::new(); dialogues.len()];
    let mut adhered = vec![0usize; turns];
    for (turn, adhered_at_turn) in adhered.iter_mut().enumerate() {
        // dialogues still going: those whose prompt leaves room for an answer
        let mut active = Vec::new();
        let mut prompts = Vec::new();
        for (i, d) in dialogues.iter().enumerate() {
            if turn >= d.users.len() || answers[i].len() < turn {
                continue;
            }
            let mut messages = vec![Message::system(d.instruction.short)];
            for (k, user) in d.users[..=turn].iter().enumerate() {
                messages.push(Message::user(user.clone()));
                if k < turn {
                    messages.push(Message::assistant(answers[i][k].clone()));
                }
            }
            let ids = encode_chat(&messages, &encode, BOS_ID, EOS_ID).map_err(|e| e.to_string())?.ids;
            if ids.len() + answer_tokens <= model.config.max_seq_len {
                active.push(i);
                prompts.push(ids);
            }
        }
        if prompts.is_empty() {
            break;
        }
        let options = GenerateOptions {
            max_new_tokens: answer_tokens,
            sampling: Sampling::from_temperature(0.0, 1.0),
            seed: 0,
            stop_tokens: vec![EOS_ID, BOS_ID],
        };
        let out = generate(model, &prompts, &options).map_err(|e| e.to_string())?;
        for (i, g) in active.into_iter().zip(out) {
            let kept: Vec<u32> = g.tokens.into_iter().filter(|&t| t != EOS_ID && t != BOS_ID).collect();
            let answer = tok.decode(&kept).trim().to_string();
            *adhered_at_turn += usize::from(dialogues[i].instruction.adheres(&answer));
            answers[i].push(answer);
        }
    }
    let n = dialogues.len().max(1) as f64;
    let mut names: Vec<&str> = dialogues.iter().map(|d| d.instruction.name).collect();
    names.sort_unstable();
    names.dedup();
    let by_instruction = names
        .into_iter()
        .map(|name| {
            let (mut yes, mut all) = (0usize, 0usize);
            for (d, answers) in dialogues.iter().zip(&answers).filter(|(d, _)| d.instruction.name == name) {
                all += d.users.len();
                yes += answers.iter().filter(|a| d.instruction.adheres(a)).count();
            }
            (name.to_string(), yes as f64 / all.max(1) as f64)
        })
        .collect();
    Ok(AdherenceReport { by_turn: adhered.iter().map(|&a| a as f64 / n).collect(), by_instruction, answers })
}
