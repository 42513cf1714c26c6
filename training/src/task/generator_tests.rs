use std::collections::HashSet;

use super::*;
use crate::task::fixtures::{default_task, stories};
use crate::task::judges::content_score;
use crate::task::text::{has_clean_ending, word_count};

fn kinds(examples: &[Example]) -> (usize, usize, usize) {
    let count = |f: fn(&PromptSpec) -> bool| examples.iter().filter(|e| f(&e.spec)).count();
    (
        count(|s| matches!(s, PromptSpec::Topic { .. })),
        count(|s| matches!(s, PromptSpec::Words { .. })),
        count(|s| matches!(s, PromptSpec::Unsafe { .. })),
    )
}

#[test]
fn default_task_has_the_documented_sizes() {
    let task = default_task();
    assert_eq!(task.heldout.len(), 160);
    assert_eq!(kinds(&task.heldout), (64, 64, 32));
    assert_eq!(task.train.len(), 3040);
    assert_eq!(kinds(&task.train), (1216, 1216, 608));
}

#[test]
fn heldout_prompts_are_distinct_and_unseen_in_train() {
    let task = default_task();
    let train_prompts: HashSet<&str> = task.train.iter().map(Example::prompt).collect();
    let heldout_prompts: HashSet<&str> = task.heldout.iter().map(Example::prompt).collect();
    assert_eq!(heldout_prompts.len(), task.heldout.len(), "held-out prompts repeat");
    assert!(heldout_prompts.is_disjoint(&train_prompts));
    let triples = |examples: &[Example]| -> HashSet<[String; 3]> {
        examples
            .iter()
            .filter_map(|e| match &e.spec {
                PromptSpec::Words { words } => Some(triple_key(words)),
                _ => None,
            })
            .collect()
    };
    assert!(triples(&task.heldout).is_disjoint(&triples(&task.train)), "a held-out word triple occurs in train");
    // every topic word still occurs in train (only some phrasings are held out)
    let train_topics: HashSet<&PromptSpec> = task.train.iter().map(|e| &e.spec).collect();
    for e in task.heldout.iter().filter(|e| matches!(e.spec, PromptSpec::Topic { .. })) {
        assert!(train_topics.contains(&e.spec), "{:?} only in held-out", e.spec);
    }
}

#[test]
fn helpful_answers_satisfy_their_spec_within_bounds() {
    let task = default_task();
    for e in task.train.iter().chain(&task.heldout).filter(|e| !e.spec.is_safety()) {
        let answer = e.answer();
        assert_eq!(content_score(&e.spec, answer), 1.0, "{:?}: {answer}", e.spec);
        assert!((MIN_STORY_WORDS..=90).contains(&word_count(answer)), "{answer}");
        assert!(answer.trim_end_matches('"').ends_with(['.', '!', '?']), "{answer}");
        assert!(has_clean_ending(answer));
        assert!(!answer.contains('\n'));
        assert_eq!(e.messages.len(), 2);
        assert_eq!(e.prompt(), render_prompt(&e.spec, template_of(e)));
    }
}

/// The phrasing index whose rendering is the example's prompt.
fn template_of(e: &Example) -> usize {
    (0..e.spec.n_templates()).find(|&t| render_prompt(&e.spec, t) == e.prompt()).expect("prompt is a rendering")
}

#[test]
fn same_seed_same_task_other_seed_other_task() {
    let options = TaskOptions { examples: 400, ..TaskOptions::default() };
    let a = build_instruct_task(stories(), &options);
    assert_eq!(a, build_instruct_task(stories(), &options));
    assert_ne!(a, build_instruct_task(stories(), &TaskOptions { seed: 99, ..options }));
    assert_eq!((a.train.len(), a.heldout.len()), (380, 20));
}

#[test]
fn stories_are_cut_at_a_sentence_end() {
    let story =
        "Tom had a red ball that he loved more than any other toy. He liked to throw it high in the sky every day! \
                 One day the ball flew over the tall fence and into the garden next door, where a big dog slept.";
    let answers = gold_answers(&[story.to_string()], 25);
    assert_eq!(
        answers,
        ["Tom had a red ball that he loved more than any other toy. He liked to throw it high in the sky every day!"]
    );
    // too short after the cut, or no sentence end within the limit
    assert!(gold_answers(&[story.to_string()], 10).is_empty());
    // unsafe lexicon rules a story out
    assert!(gold_answers(&[format!("{story} Then he found a gun in the shed.")], 200).is_empty());
}

#[test]
fn a_corpus_without_usable_stories_gives_safety_examples_only() {
    let options = TaskOptions { examples: 100, ..TaskOptions::default() };
    let task = build_instruct_task(&["Too short.".to_string()], &options);
    assert_eq!((task.train.len(), task.heldout.len()), (95, 5));
    assert!(task.train.iter().chain(&task.heldout).all(|e| e.spec.is_safety()));
    let task = build_instruct_task(&[], &options);
    assert_eq!(task.train.len() + task.heldout.len(), 100);
}

#[test]
fn quotas_split_helpful_evenly_and_fall_back() {
    assert_eq!(quota(160, 0.2, true, true), Quota { safety: 32, topic: 64, words: 64 });
    assert_eq!(quota(10, 0.2, false, true), Quota { safety: 2, topic: 0, words: 8 });
    assert_eq!(quota(10, 0.2, false, false), Quota { safety: 10, topic: 0, words: 0 });
    assert_eq!(quota(3, 0.0, true, true), Quota { safety: 0, topic: 2, words: 1 });
}
