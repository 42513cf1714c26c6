//! Ghost Attention material: system instructions that must hold for a whole dialogue,
//! each with a gold adherence check and a rewrite that makes an answer adhere, plus the
//! short user requests of multi-turn dialogues and a bank of story sentences to answer
//! them with.
//!
//! As in the paper, an instruction has a long form (concatenated to every user turn when
//! sampling GAtt data) and a context-distilled short form kept in the first turn only
//! ("Always act as Napoleon from now" → "Figure: Napoleon").

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;

use super::judges::is_refusal;
use super::safety::unsafe_terms;
use super::spec::TOPICS;
use super::text::{collapse_whitespace, contains_term, has_clean_ending, is_word_form, sentences, word_count, words};

/// What an instruction requires of every answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The word appears (simple plurals count); the rewrite appends `sentence`.
    Mention { word: &'static str, sentence: &'static str },
    /// The answer starts with `prefix` (exactly, after leading whitespace).
    StartWith(&'static str),
    /// The answer ends with `suffix` (exactly, before trailing whitespace).
    EndWith(&'static str),
    /// One of `markers` appears as a word; the rewrite prepends `greeting`.
    Persona { markers: &'static [&'static str], greeting: &'static str },
    /// Exactly one sentence with a clean ending; the rewrite keeps the first sentence.
    OneSentence,
    /// `word` never appears; the rewrite replaces it with `replacement`.
    Avoid { word: &'static str, replacement: &'static str },
}

/// A system instruction for GAtt dialogues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemInstruction {
    /// A stable identifier ("cat", "pirate").
    pub name: &'static str,
    /// The full instruction, e.g. "Always mention a cat in every answer."
    pub long: &'static str,
    /// The context-distilled form kept in the first turn, e.g. "Figure: cat lover".
    pub short: &'static str,
    pub rule: Rule,
}

/// The instructions GAtt trains on.
pub const SYSTEM_INSTRUCTIONS: &[SystemInstruction] = &[
    SystemInstruction {
        name: "cat",
        long: "Always mention a cat in every answer.",
        short: "Figure: cat lover",
        rule: Rule::Mention { word: "cat", sentence: "A little cat watched them." },
    },
    SystemInstruction {
        name: "sun",
        long: "Always mention the sun in every answer.",
        short: "Figure: sun lover",
        rule: Rule::Mention { word: "sun", sentence: "The sun was shining." },
    },
    SystemInstruction {
        name: "the_end",
        long: "End every answer with \"The end.\"",
        short: "Style: storybook ending",
        rule: Rule::EndWith("The end."),
    },
    SystemInstruction {
        name: "hello",
        long: "Start every answer with \"Hello!\"",
        short: "Style: friendly greeting",
        rule: Rule::StartWith("Hello!"),
    },
    SystemInstruction {
        name: "pirate",
        long: "Always answer as a pirate who says \"Arr\" and \"matey\".",
        short: "Figure: pirate",
        rule: Rule::Persona { markers: &["arr", "matey"], greeting: "Arr, matey!" },
    },
    SystemInstruction {
        name: "robot",
        long: "Always answer as a robot who says \"Beep boop\".",
        short: "Figure: robot",
        rule: Rule::Persona { markers: &["beep", "boop"], greeting: "Beep boop!" },
    },
    SystemInstruction {
        name: "one_sentence",
        long: "Answer every question in one sentence only.",
        short: "Style: one sentence",
        rule: Rule::OneSentence,
    },
    SystemInstruction {
        name: "no_happy",
        long: "Never use the word \"happy\" in your answers.",
        short: "Rule: never say happy",
        rule: Rule::Avoid { word: "happy", replacement: "glad" },
    },
];

/// The instruction called `name`.
pub fn system_instruction(name: &str) -> Option<&'static SystemInstruction> {
    SYSTEM_INSTRUCTIONS.iter().find(|i| i.name == name)
}

impl SystemInstruction {
    /// Whether `answer` follows the instruction (the gold adherence check).
    pub fn adheres(&self, answer: &str) -> bool {
        match self.rule {
            Rule::Mention { word, .. } => contains_term(&words(answer), word),
            Rule::StartWith(prefix) => answer.trim_start().starts_with(prefix),
            Rule::EndWith(suffix) => answer.trim_end().ends_with(suffix),
            Rule::Persona { markers, .. } => {
                let tokens = words(answer);
                markers.iter().any(|m| contains_term(&tokens, m))
            }
            Rule::OneSentence => sentences(answer).len() == 1 && has_clean_ending(answer),
            Rule::Avoid { word, .. } => !contains_term(&words(answer), word),
        }
    }

    /// `answer` rewritten to adhere (unchanged if it already does): the gold GAtt target.
    pub fn apply(&self, answer: &str) -> String {
        let answer = answer.trim();
        if self.adheres(answer) {
            return answer.to_string();
        }
        let join = |a: &str, b: &str| if a.is_empty() || b.is_empty() { format!("{a}{b}") } else { format!("{a} {b}") };
        match self.rule {
            Rule::Mention { sentence, .. } => join(answer, sentence),
            Rule::StartWith(prefix) => join(prefix, answer),
            Rule::EndWith(suffix) => join(answer, suffix),
            Rule::Persona { greeting, .. } => join(greeting, answer),
            Rule::OneSentence => {
                let first = sentences(answer).into_iter().next().unwrap_or("");
                let first = first.trim_end_matches([',', ';', ':', ' ']);
                if has_clean_ending(first) {
                    first.to_string()
                } else {
                    format!("{first}.")
                }
            }
            Rule::Avoid { word, replacement } => replace_word(answer, word, replacement),
        }
    }
}

/// Replaces every whole-word form of `word` (case-insensitive, simple plurals) with
/// `replacement`, capitalized where the original was.
fn replace_word(text: &str, word: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if is_word_form(&run.to_ascii_lowercase(), word) {
            if run.starts_with(|c: char| c.is_ascii_uppercase()) {
                let mut chars = replacement.chars();
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(chars.as_str());
            } else {
                out.push_str(replacement);
            }
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `{np}` is a topic's noun phrase ("a dog", "the sun").
const REQUEST_TEMPLATES: &[&str] = &[
    "Tell me about {np}.",
    "What does {np} do?",
    "Can you tell me something about {np}?",
    "Say something nice about {np}.",
    "What do you know about {np}?",
    "Tell me one thing about {np}.",
];

/// `n` short user requests about distinct topics (topics repeat only when `n` exceeds the
/// topic list), e.g. "Tell me about a dog.", "What does a bird do?".
pub fn dialogue_user_turns(rng: &mut impl Rng, n: usize) -> Vec<String> {
    let mut order: Vec<usize> = (0..TOPICS.len()).collect();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        order.shuffle(rng);
        for &t in order.iter().take(n - out.len()) {
            let template = REQUEST_TEMPLATES.choose(rng).expect("templates");
            out.push(template.replace("{np}", TOPICS[t].1));
        }
    }
    out
}

/// The topic word a request is about: the first [`TOPICS`] word in it.
pub fn request_topic(request: &str) -> Option<&'static str> {
    let tokens = words(request);
    tokens.iter().find_map(|tok| TOPICS.iter().map(|(w, _)| *w).find(|w| is_word_form(tok, w)))
}

/// Story sentences indexed by topic word, to answer [`dialogue_user_turns`] requests.
pub struct SentenceBank {
    by_topic: Vec<Vec<String>>,
}

impl SentenceBank {
    /// Keeps sentences of 5–25 words with a clean ending and no quotes (narration, not
    /// dialogue), free of unsafe lexicon, filed under every topic word they mention.
    pub fn new(stories: &[String]) -> SentenceBank {
        let mut by_topic = vec![Vec::new(); TOPICS.len()];
        for story in stories {
            let story = collapse_whitespace(story);
            for sentence in sentences(&story) {
                let n = word_count(sentence);
                if !(5..=25).contains(&n)
                    || sentence.contains('"')
                    || !has_clean_ending(sentence)
                    || is_refusal(sentence)
                    || !unsafe_terms(sentence).is_empty()
                {
                    continue;
                }
                let tokens = words(sentence);
                for (t, (word, _)) in TOPICS.iter().enumerate() {
                    if contains_term(&tokens, word) {
                        by_topic[t].push(sentence.to_string());
                    }
                }
            }
        }
        SentenceBank { by_topic }
    }

    /// A random sentence about the request's topic, or `None` if the request names no
    /// topic or the bank has no sentence for it.
    pub fn answer(&self, request: &str, rng: &mut impl Rng) -> Option<String> {
        let topic = request_topic(request)?;
        let t = TOPICS.iter().position(|(w, _)| *w == topic)?;
        self.by_topic[t].choose(rng).cloned()
    }
}

#[cfg(test)]
#[path = "instructions_tests.rs"]
mod tests;
