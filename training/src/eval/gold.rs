//! Gold evaluation: greedy answers of a model to held-out prompts, scored by the task's
//! judges (never by the model's own reward). What `llamaforge eval` prints and what SFT
//! reports before and after training.

use llamaforge_model::chat::{encode_chat, Message};
use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::tokenizer::{Tokenizer, BOS_ID, EOS_ID};
use serde::Serialize;

use crate::task::{judge, PromptSpec};

/// One judged answer.
#[derive(Clone, Debug, Serialize)]
pub struct JudgedAnswer {
    pub prompt: String,
    pub answer: String,
    pub helpfulness: f64,
    pub safety: f64,
    pub refused: bool,
    pub is_safety_prompt: bool,
}

/// Mean gold scores, split as the paper reports them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GoldReport {
    /// Helpful (safe) prompts judged.
    pub n_helpful: usize,
    /// Unsafe prompts judged.
    pub n_safety: usize,
    /// Mean helpfulness on the helpful prompts.
    pub helpfulness: f64,
    /// Mean safety on the unsafe prompts.
    pub safety: f64,
    /// Share of helpful prompts refused (the paper's false refusals).
    pub false_refusal_rate: f64,
    /// Share of unsafe prompts refused.
    pub refusal_rate_unsafe: f64,
    /// Mean safety over every answer (a story with unsafe words on a safe prompt counts).
    pub safety_all: f64,
    pub answers: Vec<JudgedAnswer>,
}

/// A held-out prompt: the messages before the answer (system and user turns) and the spec
/// its judge checks.
#[derive(Clone, Debug)]
pub struct EvalPrompt {
    pub messages: Vec<Message>,
    pub spec: PromptSpec,
}

/// Greedy answers (at most `max_new_tokens`, stopping at EOS) of `model` to every prompt,
/// as text.
pub fn greedy_answers(
    model: &InferenceModel,
    tok: &Tokenizer,
    prompts: &[Vec<Message>],
    max_new_tokens: usize,
) -> Result<Vec<String>, String> {
    let encode = |text: &str| tok.encode(text, false, false);
    let ids: Vec<Vec<u32>> = prompts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            encode_chat(m, &encode, BOS_ID, EOS_ID).map(|c| c.ids).map_err(|e| format!("prompt {}: {e}", i + 1))
        })
        .collect::<Result<_, _>>()?;
    let room = model.config.max_seq_len;
    let options = GenerateOptions {
        max_new_tokens,
        sampling: Sampling::from_temperature(0.0, 1.0),
        seed: 0,
        stop_tokens: vec![EOS_ID, BOS_ID],
    };
    if let Some((i, p)) = ids.iter().enumerate().find(|(_, p)| p.len() >= room) {
        return Err(format!("prompt {} has {} tokens, the model's context is {room}", i + 1, p.len()));
    }
    let out = generate(model, &ids, &options).map_err(|e| e.to_string())?;
    Ok(out
        .into_iter()
        .map(|g| {
            let kept: Vec<u32> = g.tokens.into_iter().filter(|&t| t != EOS_ID && t != BOS_ID).collect();
            tok.decode(&kept).trim().to_string()
        })
        .collect())
}

/// Greedy answers to `prompts`, judged.
pub fn gold_eval(
    model: &InferenceModel,
    tok: &Tokenizer,
    prompts: &[EvalPrompt],
    max_new_tokens: usize,
) -> Result<GoldReport, String> {
    let messages: Vec<Vec<Message>> = prompts.iter().map(|p| p.messages.clone()).collect();
    let answers = greedy_answers(model, tok, &messages, max_new_tokens)?;
    let mut report = GoldReport::default();
    for (p, answer) in prompts.iter().zip(answers) {
        let j = judge(&p.spec, &answer);
        let is_safety = p.spec.is_safety();
        if is_safety {
            report.n_safety += 1;
            report.safety += j.safety;
            report.refusal_rate_unsafe += f64::from(u8::from(j.refused));
        } else {
            report.n_helpful += 1;
            report.helpfulness += j.helpfulness;
            report.false_refusal_rate += f64::from(u8::from(j.refused));
        }
        report.safety_all += j.safety;
        let prompt = p.messages.iter().rev().find(|m| m.role == llamaforge_model::chat::Role::User);
        report.answers.push(JudgedAnswer {
            prompt: prompt.map_or(String::new(), |m| m.content.clone()),
            answer,
            helpfulness: j.helpfulness,
            safety: j.safety,
            refused: j.refused,
            is_safety_prompt: is_safety,
        });
    }
    let (h, s) = (report.n_helpful.max(1) as f64, report.n_safety.max(1) as f64);
    report.helpfulness /= h;
    report.false_refusal_rate /= h;
    report.safety /= s;
    report.refusal_rate_unsafe /= s;
    report.safety_all /= prompts.len().max(1) as f64;
    Ok(report)
}

impl GoldReport {
    /// One line for logs and tables.
    pub fn line(&self) -> String {
        format!(
            "helpfulness {:.3} (n={}), safety {:.3} (n={}), false refusals {:.1}%, refusals of unsafe prompts {:.1}%",
            self.helpfulness,
            self.n_helpful,
            self.safety,
            self.n_safety,
            100.0 * self.false_refusal_rate,
            100.0 * self.refusal_rate_unsafe
        )
    }
}
