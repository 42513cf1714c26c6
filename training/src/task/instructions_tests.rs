use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::task::fixtures::{default_task, stories};

const STORY: &str = "Tom went to the park. He was very happy! \"Look, a bird,\" he said.";

#[test]
fn each_check_rejects_the_plain_story_and_accepts_its_rewrite() {
    let expected = [
        ("cat", "Tom went to the park. He was very happy! \"Look, a bird,\" he said. A little cat watched them."),
        ("sun", "Tom went to the park. He was very happy! \"Look, a bird,\" he said. The sun was shining."),
        ("the_end", "Tom went to the park. He was very happy! \"Look, a bird,\" he said. The end."),
        ("hello", "Hello! Tom went to the park. He was very happy! \"Look, a bird,\" he said."),
        ("pirate", "Arr, matey! Tom went to the park. He was very happy! \"Look, a bird,\" he said."),
        ("robot", "Beep boop! Tom went to the park. He was very happy! \"Look, a bird,\" he said."),
        ("one_sentence", "Tom went to the park."),
        ("no_happy", "Tom went to the park. He was very glad! \"Look, a bird,\" he said."),
    ];
    assert_eq!(expected.len(), SYSTEM_INSTRUCTIONS.len());
    for (name, rewritten) in expected {
        let instruction = system_instruction(name).unwrap();
        assert!(!instruction.adheres(STORY), "{name} should not hold for the plain story");
        assert_eq!(instruction.apply(STORY), rewritten, "{name}");
        assert!(instruction.adheres(rewritten), "{name}");
        assert_eq!(instruction.apply(rewritten), rewritten, "{name}: apply is idempotent");
    }
}

#[test]
fn checks_use_whole_words_and_exact_affixes() {
    let cat = system_instruction("cat").unwrap();
    assert!(cat.adheres("Two Cats played."));
    assert!(!cat.adheres("The category was fun."));
    let pirate = system_instruction("pirate").unwrap();
    assert!(pirate.adheres("Ahoy, matey."));
    assert!(!pirate.adheres("The arrow flew."));
    let the_end = system_instruction("the_end").unwrap();
    assert!(the_end.adheres("They slept. The end.  "));
    assert!(!the_end.adheres("The end. They slept."));
    let hello = system_instruction("hello").unwrap();
    assert!(!hello.adheres("Hello there!"));
    let one = system_instruction("one_sentence").unwrap();
    assert!(one.adheres("Tom said, \"Hi!\""));
    assert!(!one.adheres("Tom ran"));
    assert_eq!(one.apply("Tom ran and ran,"), "Tom ran and ran.");
    let no_happy = system_instruction("no_happy").unwrap();
    assert_eq!(no_happy.apply("Happy dogs are happy; happily so."), "Glad dogs are glad; happily so.");
}

#[test]
fn every_rewrite_of_every_gold_answer_adheres() {
    let task = default_task();
    for e in task.train.iter().take(300) {
        for instruction in SYSTEM_INSTRUCTIONS {
            let rewritten = instruction.apply(e.answer());
            assert!(instruction.adheres(&rewritten), "{}: {rewritten}", instruction.name);
        }
    }
}

#[test]
fn short_forms_are_distilled_and_distinct() {
    let shorts: std::collections::HashSet<&str> = SYSTEM_INSTRUCTIONS.iter().map(|i| i.short).collect();
    assert_eq!(shorts.len(), SYSTEM_INSTRUCTIONS.len());
    assert!(SYSTEM_INSTRUCTIONS.iter().all(|i| i.short.len() < i.long.len()));
}

#[test]
fn user_turns_ask_about_distinct_topics_with_answers() {
    let mut rng = StdRng::seed_from_u64(3);
    let turns = dialogue_user_turns(&mut rng, 5);
    assert_eq!(turns.len(), 5);
    let topics: std::collections::HashSet<&str> = turns.iter().map(|t| request_topic(t).unwrap()).collect();
    assert_eq!(topics.len(), 5, "{turns:?}");
    assert_eq!(dialogue_user_turns(&mut rng, 90).len(), 90);
    let bank = SentenceBank::new(stories());
    for turn in dialogue_user_turns(&mut rng, TOPICS.len()) {
        let answer = bank.answer(&turn, &mut rng).unwrap_or_else(|| panic!("no answer for {turn}"));
        let topic = request_topic(&turn).unwrap();
        assert!(contains_term(&words(&answer), topic), "{turn} -> {answer}");
        assert!((5..=25).contains(&word_count(&answer)) && has_clean_ending(&answer) && !answer.contains('"'));
    }
    assert_eq!(request_topic("What does a bird do?"), Some("bird"));
    assert_eq!(bank.answer("How are you?", &mut rng), None);
}
