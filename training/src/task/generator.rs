//! The instruction task: seeded (prompt, gold answer) examples built from TinyStories,
//! split into train and held-out prompts.
//!
//! Helpful answers are corpus stories that satisfy the spec, cut at a sentence end to at
//! most `max_answer_words` words; safety answers are templated refusals with a safe
//! alternative. The held-out split is by prompt: topic and unsafe prompts are split by
//! (content, phrasing) pair and word prompts by unordered word triple, so no held-out
//! prompt text occurs in train and every held-out word triple is an unseen combination.

use std::collections::HashSet;

use llamaforge_model::chat::{Message, Role};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use super::judges::{is_refusal, repetition_score, MIN_STORY_WORDS};
use super::safety::{gold_refusal, unsafe_terms, CATEGORIES};
use super::spec::{render_prompt, story_words, PromptSpec, TOPICS, TOPIC_TEMPLATES};
use super::text::{collapse_whitespace, truncate_at_sentence, word_forms, words};

/// Knobs of [`build_instruct_task`].
#[derive(Clone, Debug, PartialEq)]
pub struct TaskOptions {
    pub seed: u64,
    /// Train + held-out examples.
    pub examples: usize,
    /// Share of `examples` held out for evaluation.
    pub heldout_fraction: f64,
    /// Share of unsafe prompts in both splits (the rest is split evenly between topic and
    /// word prompts).
    pub safety_fraction: f64,
    /// Gold stories are cut at the last sentence end within this many words.
    pub max_answer_words: usize,
}

impl Default for TaskOptions {
    /// 3,200 examples: 3,040 train and 160 held-out (64 topic, 64 words, 32 unsafe).
    fn default() -> Self {
        TaskOptions { seed: 1234, examples: 3200, heldout_fraction: 0.05, safety_fraction: 0.2, max_answer_words: 90 }
    }
}

/// One single-turn example: `[user prompt, assistant gold answer]` and what it asks.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub messages: Vec<Message>,
    pub spec: PromptSpec,
}

impl Example {
    pub fn new(prompt: impl Into<String>, answer: impl Into<String>, spec: PromptSpec) -> Example {
        Example { messages: vec![Message::user(prompt), Message::assistant(answer)], spec }
    }

    /// The first user message.
    pub fn prompt(&self) -> &str {
        self.messages.iter().find(|m| m.role == Role::User).map_or("", |m| &m.content)
    }

    /// The last assistant message (the gold answer).
    pub fn answer(&self) -> &str {
        self.messages.iter().rev().find(|m| m.role == Role::Assistant).map_or("", |m| &m.content)
    }
}

/// The generated task.
#[derive(Clone, Debug, PartialEq)]
pub struct InstructTask {
    pub train: Vec<Example>,
    pub heldout: Vec<Example>,
}

/// Corpus stories usable as gold answers: whitespace collapsed, cut at the last sentence
/// end within `max_words` words, at least [`MIN_STORY_WORDS`] long, and — so that gold
/// answers pass every judge part — free of unsafe lexicon, of degenerate repetition and of
/// refusal openings. Order follows `stories`.
pub fn gold_answers(stories: &[String], max_words: usize) -> Vec<String> {
    stories
        .iter()
        .filter_map(|story| {
            let story = collapse_whitespace(story);
            let cut = truncate_at_sentence(&story, max_words)?.to_string();
            let usable = cut.split_whitespace().count() >= MIN_STORY_WORDS
                && unsafe_terms(&cut).is_empty()
                && repetition_score(&cut) == 1.0
                && !is_refusal(&cut);
            usable.then_some(cut)
        })
        .collect()
}

/// How many examples of each kind a split gets.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Quota {
    safety: usize,
    topic: usize,
    words: usize,
}

fn quota(n: usize, safety_fraction: f64, has_topic: bool, has_words: bool) -> Quota {
    if !has_topic && !has_words {
        return Quota { safety: n, ..Quota::default() };
    }
    let safety = ((n as f64) * safety_fraction.clamp(0.0, 1.0)).round() as usize;
    let helpful = n - safety.min(n);
    let topic = match (has_topic, has_words) {
        (true, true) => helpful.div_ceil(2),
        (true, false) => helpful,
        _ => 0,
    };
    Quota { safety: safety.min(n), topic, words: helpful - topic }
}

/// Candidate answers indexed by what they can answer.
struct Pool {
    answers: Vec<String>,
    /// Per entry of [`TOPICS`], the answers that mention it.
    by_topic: Vec<Vec<usize>>,
    /// (answer, the story words it contains) for answers containing at least three.
    with_words: Vec<(usize, Vec<&'static str>)>,
}

impl Pool {
    fn new(answers: Vec<String>) -> Pool {
        // word → the forms that count as it, looked up in a set per answer (scanning every
        // answer for every word was most of the build time)
        let vocabulary: Vec<(&str, Vec<String>)> = story_words().into_iter().map(|w| (w, word_forms(w))).collect();
        let mut by_topic = vec![Vec::new(); TOPICS.len()];
        let mut with_words = Vec::new();
        for (i, answer) in answers.iter().enumerate() {
            let tokens = words(answer);
            let tokens: HashSet<&str> = tokens.iter().map(String::as_str).collect();
            let has = |forms: &[String]| forms.iter().any(|f| tokens.contains(f.as_str()));
            // story_words() starts with the topics, in order
            for (t, topic) in by_topic.iter_mut().enumerate() {
                if has(&vocabulary[t].1) {
                    topic.push(i);
                }
            }
            let present: Vec<&str> = vocabulary.iter().filter(|(_, forms)| has(forms)).map(|(w, _)| *w).collect();
            if present.len() >= 3 {
                with_words.push((i, present));
            }
        }
        Pool { answers, by_topic, with_words }
    }

    /// A random word triple (in random order) and an answer that contains all three.
    fn words_example(&self, rng: &mut StdRng) -> ([String; 3], usize) {
        let (answer, present) = self.with_words.choose(rng).expect("caller checked with_words");
        let mut picked: Vec<&str> = present.choose_multiple(rng, 3).copied().collect();
        picked.shuffle(rng);
        ([picked[0].to_string(), picked[1].to_string(), picked[2].to_string()], *answer)
    }
}

fn triple_key(words: &[String; 3]) -> [String; 3] {
    let mut key = words.clone();
    key.sort();
    key
}

/// Takes `want` items of a shuffled `keys` for held-out (never more than half, so train
/// keeps every kind) and returns (held-out keys, train keys).
fn split_keys<T>(mut keys: Vec<T>, want: usize, rng: &mut StdRng) -> (Vec<T>, Vec<T>) {
    keys.shuffle(rng);
    let train = keys.split_off(want.min(keys.len() / 2));
    (keys, train)
}

/// Builds the task from `stories` (documents of data/tinystories_sample.txt), seeded and
/// deterministic. Held-out prompts are distinct from each other and from every train
/// prompt. A corpus without usable stories yields unsafe examples only.
pub fn build_instruct_task(stories: &[String], options: &TaskOptions) -> InstructTask {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let pool = Pool::new(gold_answers(stories, options.max_answer_words));
    let has_topic = pool.by_topic.iter().any(|a| !a.is_empty());
    let has_words = !pool.with_words.is_empty();
    let n_heldout = ((options.examples as f64) * options.heldout_fraction.clamp(0.0, 1.0)).round() as usize;
    let held_quota = quota(n_heldout, options.safety_fraction, has_topic, has_words);
    let train_quota = quota(options.examples - n_heldout, options.safety_fraction, has_topic, has_words);

    // keys: (category, template, subject) and (topic, template)
    let unsafe_keys: Vec<(usize, usize, usize)> = CATEGORIES
        .iter()
        .enumerate()
        .flat_map(|(c, info)| {
            (0..info.templates.len()).flat_map(move |t| (0..info.subjects.len()).map(move |s| (c, t, s)))
        })
        .collect();
    let (held_unsafe, train_unsafe) = split_keys(unsafe_keys, held_quota.safety, &mut rng);
    let topic_keys: Vec<(usize, usize)> = (0..TOPICS.len())
        .filter(|&t| !pool.by_topic[t].is_empty())
        .flat_map(|t| (0..TOPIC_TEMPLATES.len()).map(move |p| (t, p)))
        .collect();
    let (held_topic, train_topic) = split_keys(topic_keys, held_quota.topic, &mut rng);

    let unsafe_example = |(c, t, s): (usize, usize, usize), rng: &mut StdRng| {
        let info = &CATEGORIES[c];
        let subject = info.subjects[s].0;
        let spec = PromptSpec::Unsafe { category: info.category, subject: subject.to_string() };
        Example::new(render_prompt(&spec, t), gold_refusal(info.category, subject, rng), spec)
    };
    let topic_example = |(t, p): (usize, usize), rng: &mut StdRng| {
        let spec = PromptSpec::Topic { word: TOPICS[t].0.to_string() };
        let answer = *pool.by_topic[t].choose(rng).expect("topic keys have answers");
        Example::new(render_prompt(&spec, p), pool.answers[answer].clone(), spec)
    };
    let words_example = |words: [String; 3], answer: usize, rng: &mut StdRng| {
        let spec = PromptSpec::Words { words };
        let template = rng.random_range(0..spec.n_templates());
        Example::new(render_prompt(&spec, template), pool.answers[answer].clone(), spec)
    };

    let mut heldout = Vec::with_capacity(n_heldout);
    heldout.extend(held_unsafe.iter().map(|&k| unsafe_example(k, &mut rng)));
    heldout.extend(held_topic.iter().map(|&k| topic_example(k, &mut rng)));
    let mut held_triples = HashSet::new();
    // bounded: a small corpus may not have enough distinct triples
    for _ in 0..if has_words { held_quota.words * 50 } else { 0 } {
        if held_triples.len() == held_quota.words {
            break;
        }
        let (words, answer) = pool.words_example(&mut rng);
        if held_triples.insert(triple_key(&words)) {
            heldout.push(words_example(words, answer, &mut rng));
        }
    }

    let mut train = Vec::with_capacity(options.examples - n_heldout);
    for _ in 0..train_quota.safety {
        train.push(unsafe_example(*train_unsafe.choose(&mut rng).expect("train keeps unsafe keys"), &mut rng));
    }
    for _ in 0..if train_topic.is_empty() { 0 } else { train_quota.topic } {
        train.push(topic_example(*train_topic.choose(&mut rng).expect("non-empty"), &mut rng));
    }
    let mut made = 0;
    for _ in 0..if has_words { train_quota.words * 50 } else { 0 } {
        if made == train_quota.words {
            break;
        }
        let (words, answer) = pool.words_example(&mut rng);
        if !held_triples.contains(&triple_key(&words)) {
            train.push(words_example(words, answer, &mut rng));
            made += 1;
        }
    }
    train.shuffle(&mut rng);
    heldout.shuffle(&mut rng);
    InstructTask { train, heldout }
}

#[cfg(test)]
#[path = "generator_tests.rs"]
mod tests;
