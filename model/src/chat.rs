//! The LLaMA-2-chat template, as token ids with a mask of the assistant's tokens:
//!
//! ```text
//! <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {answer} </s><s>[INST] {user} [/INST]
//! ```
//!
//! As in Meta's reference code, each (user, answer) turn is its own `<s> … </s>` span, the
//! system prompt is folded into the first user message, and a dialog ending with a user
//! turn ends at `[/INST]` — the prompt for generating the next answer. `<s>`/`</s>` are the
//! BOS/EOS *ids*, never text. The prompt part and the answer of a turn are encoded
//! separately so the assistant mask has an exact boundary (SFT learns only the answers).

use crate::error::{ModelError, Result};

const B_INST: &str = "[INST]";
const E_INST: &str = "[/INST]";
const B_SYS: &str = "<<SYS>>\n";
const E_SYS: &str = "\n<</SYS>>\n\n";

/// Who said something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message { role: Role::System, content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: Role::User, content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message { role: Role::Assistant, content: content.into() }
    }
}

/// A dialog as token ids and, per id, whether it is the assistant's (answer text + EOS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTokens {
    pub ids: Vec<u32>,
    pub assistant_mask: Vec<bool>,
}

/// One `[INST]` turn: the user text (system prompt folded in) and the answer, if any.
struct Turn<'a> {
    user: String,
    answer: Option<&'a str>,
}

/// Checks the dialog's shape — `[system] user (assistant user)* [assistant]` — and pairs
/// it into turns.
fn turns(messages: &[Message]) -> Result<Vec<Turn<'_>>> {
    let (system, rest) = match messages.first() {
        Some(m) if m.role == Role::System => (Some(m.content.trim()), &messages[1..]),
        _ => (None, messages),
    };
    if rest.is_empty() {
        return Err(ModelError::config("messages", "a dialog needs at least one user message"));
    }
    let mut out = Vec::new();
    for (i, pair) in rest.chunks(2).enumerate() {
        let user = &pair[0];
        if user.role != Role::User {
            return Err(ModelError::config("messages", format!("message {} must be a user message", 2 * i)));
        }
        let answer = match pair.get(1) {
            Some(m) if m.role == Role::Assistant => Some(m.content.trim()),
            Some(_) => {
                return Err(ModelError::config(
                    "messages",
                    format!("message {} must be an assistant message", 2 * i + 1),
                ))
            }
            None => None,
        };
        let user = match (i, system) {
            (0, Some(sys)) => format!("{B_SYS}{sys}{E_SYS}{}", user.content.trim()),
            _ => user.content.trim().to_string(),
        };
        out.push(Turn { user, answer });
    }
    Ok(out)
}

/// The dialog as text, with `<s>`/`</s>` standing for BOS/EOS (for display and docs).
pub fn render_chat(messages: &[Message]) -> Result<String> {
    let mut out = String::new();
    for turn in turns(messages)? {
        out.push_str(&format!("<s>{B_INST} {} {E_INST}", turn.user));
        if let Some(answer) = turn.answer {
            out.push_str(&format!(" {answer} </s>"));
        }
    }
    Ok(out)
}

/// Encodes a dialog with `encode` (text → ids, no BOS/EOS, SentencePiece-style dummy
/// prefix space) into ids and the assistant mask.
pub fn encode_chat(messages: &[Message], encode: &dyn Fn(&str) -> Vec<u32>, bos: u32, eos: u32) -> Result<ChatTokens> {
    let mut tokens = ChatTokens { ids: Vec::new(), assistant_mask: Vec::new() };
    let mut push = |ids: &[u32], assistant: bool| {
        tokens.ids.extend_from_slice(ids);
        tokens.assistant_mask.extend(std::iter::repeat_n(assistant, ids.len()));
    };
    for turn in turns(messages)? {
        push(&[bos], false);
        push(&encode(&format!("{B_INST} {} {E_INST}", turn.user)), false);
        if let Some(answer) = turn.answer {
            // the encoder's dummy prefix supplies the space after [/INST]
            push(&encode(&format!("{answer} ")), true);
            push(&[eos], true);
        }
    }
    Ok(tokens)
}
