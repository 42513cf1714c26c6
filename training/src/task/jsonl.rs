//! Dialogue files: one JSON object per line, in any of three shapes —
//!
//! ```text
//! {"messages": [{"role": "system|user|assistant", "content": "..."}, ...], "spec": {...}}
//! {"prompt": "...", "response": "..."}
//! {"question": "...", "answer": "..."}        (GSM8K, data/sft_sample.jsonl)
//! ```
//!
//! — and the writer of the first shape. Errors name the file, the 1-based line and the
//! field, so a bad line in a 10,000-line file can be found and fixed.

use std::path::{Path, PathBuf};

use llamaforge_model::chat::{Message, Role};
use serde::Serialize;
use serde_json::{Map, Value};

use super::generator::Example;
use super::spec::PromptSpec;
use crate::data::{write_atomic, DataError};

/// A dialogue read from a file, with the spec when the file records one.
#[derive(Clone, Debug, PartialEq)]
pub struct Dialogue {
    pub messages: Vec<Message>,
    pub spec: Option<PromptSpec>,
}

/// What went wrong reading a dialogue file.
#[derive(Debug, thiserror::Error)]
pub enum TaskDataError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: not valid UTF-8 (byte {byte} of the file)")]
    NotUtf8 { path: PathBuf, line: usize, byte: usize },
    #[error("{path}:{line}: not a JSON object: {message}")]
    BadJson { path: PathBuf, line: usize, message: String },
    #[error("{path}:{line}: field \"{field}\": {message}")]
    BadField { path: PathBuf, line: usize, field: String, message: String },
    #[error("{path}: contains no dialogues")]
    Empty { path: PathBuf },
}

/// Reads every non-blank line of `path` as a dialogue (shapes in the module docs).
/// `messages` must be a non-empty array of `{role, content}` objects with role system,
/// user or assistant and string content; `spec`, if present and not null, must be a
/// [`PromptSpec`]. A file with no dialogues is an error.
pub fn load_dialogues(path: &Path) -> Result<Vec<Dialogue>, TaskDataError> {
    let bytes = std::fs::read(path).map_err(|source| TaskDataError::Io { path: path.to_path_buf(), source })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let byte = e.valid_up_to();
        let line = bytes[..byte].iter().filter(|&&b| b == b'\n').count() + 1;
        TaskDataError::NotUtf8 { path: path.to_path_buf(), line, byte }
    })?;
    let mut dialogues = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = Location { path, line: i + 1 };
        let value: Value = serde_json::from_str(line).map_err(|e| at.bad_json(e.to_string()))?;
        let Value::Object(object) = value else {
            return Err(at.bad_json(format!("found {}", kind_of(&value))));
        };
        dialogues.push(parse_dialogue(&object, &at)?);
    }
    if dialogues.is_empty() {
        return Err(TaskDataError::Empty { path: path.to_path_buf() });
    }
    Ok(dialogues)
}

/// Where a line came from, to build errors.
struct Location<'a> {
    path: &'a Path,
    line: usize,
}

impl Location<'_> {
    fn bad_json(&self, message: String) -> TaskDataError {
        TaskDataError::BadJson { path: self.path.to_path_buf(), line: self.line, message }
    }
    fn bad_field(&self, field: impl Into<String>, message: impl Into<String>) -> TaskDataError {
        TaskDataError::BadField {
            path: self.path.to_path_buf(),
            line: self.line,
            field: field.into(),
            message: message.into(),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string_field(object: &Map<String, Value>, field: &str, at: &Location) -> Result<String, TaskDataError> {
    match object.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(at.bad_field(field, format!("expected a string, found {}", kind_of(other)))),
        None => Err(at.bad_field(field, "missing")),
    }
}

fn parse_dialogue(object: &Map<String, Value>, at: &Location) -> Result<Dialogue, TaskDataError> {
    let pair = |user: &str, assistant: &str| -> Result<Vec<Message>, TaskDataError> {
        Ok(vec![
            Message::user(string_field(object, user, at)?),
            Message::assistant(string_field(object, assistant, at)?),
        ])
    };
    let messages = if let Some(messages) = object.get("messages") {
        parse_messages(messages, at)?
    } else if object.contains_key("prompt") {
        pair("prompt", "response")?
    } else if object.contains_key("question") {
        pair("question", "answer")?
    } else {
        return Err(at.bad_field(
            "messages",
            "missing (expected \"messages\", \"prompt\"/\"response\" or \"question\"/\"answer\")",
        ));
    };
    let spec = match object.get("spec") {
        None | Some(Value::Null) => None,
        Some(value) => {
            Some(serde_json::from_value::<PromptSpec>(value.clone()).map_err(|e| at.bad_field("spec", e.to_string()))?)
        }
    };
    Ok(Dialogue { messages, spec })
}

fn parse_messages(value: &Value, at: &Location) -> Result<Vec<Message>, TaskDataError> {
    let Value::Array(items) = value else {
        return Err(at.bad_field("messages", format!("expected an array, found {}", kind_of(value))));
    };
    if items.is_empty() {
        return Err(at.bad_field("messages", "is empty"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(message) = item else {
                return Err(
                    at.bad_field(format!("messages[{i}]"), format!("expected an object, found {}", kind_of(item)))
                );
            };
            let field = |name: &str| -> Result<String, TaskDataError> {
                string_field(message, name, at).map_err(|e| match e {
                    TaskDataError::BadField { path, line, message, .. } => {
                        TaskDataError::BadField { path, line, field: format!("messages[{i}].{name}"), message }
                    }
                    other => other,
                })
            };
            let role = match field("role")?.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => {
                    return Err(at.bad_field(
                        format!("messages[{i}].role"),
                        format!("unknown role {other:?} (expected system, user or assistant)"),
                    ))
                }
            };
            Ok(Message { role, content: field("content")? })
        })
        .collect()
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

#[derive(Serialize)]
struct MessageLine<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct DialogueLine<'a> {
    messages: Vec<MessageLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<&'a PromptSpec>,
}

/// One line (no newline) of the `messages` shape, fields in reading order:
/// `{"messages":[{"role":"user","content":"…"},…],"spec":{"kind":"topic","word":"dog"}}`.
pub fn dialogue_line(messages: &[Message], spec: Option<&PromptSpec>) -> String {
    let messages = messages.iter().map(|m| MessageLine { role: role_name(m.role), content: &m.content }).collect();
    serde_json::to_string(&DialogueLine { messages, spec }).expect("strings and specs always serialize")
}

/// Writes `examples` to `path` in the `messages` shape with their `spec`, one per line,
/// atomically (a temporary file renamed into place, so a crash never leaves half a file).
pub fn write_dialogues(path: &Path, examples: &[Example]) -> std::io::Result<()> {
    let mut out = String::new();
    for example in examples {
        out.push_str(&dialogue_line(&example.messages, Some(&example.spec)));
        out.push('\n');
    }
    write_atomic(path, out.as_bytes()).map_err(|e| match e {
        DataError::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    })
}

#[cfg(test)]
#[path = "jsonl_tests.rs"]
mod tests;
