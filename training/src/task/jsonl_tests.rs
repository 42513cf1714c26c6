use super::*;
use crate::task::fixtures::default_task;
use crate::task::safety::UnsafeCategory;

fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llamaforge-task-jsonl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn error_of(name: &str, contents: &str) -> String {
    load_dialogues(&scratch(name, contents.as_bytes())).unwrap_err().to_string()
}

#[test]
fn written_examples_round_trip() {
    let examples: Vec<Example> = default_task().heldout.clone();
    let path = std::env::temp_dir().join(format!("llamaforge-task-jsonl-{}/round.jsonl", std::process::id()));
    write_dialogues(&path, &examples).unwrap();
    let loaded = load_dialogues(&path).unwrap();
    assert_eq!(loaded.len(), examples.len());
    for (d, e) in loaded.iter().zip(&examples) {
        assert_eq!(d.messages, e.messages);
        assert_eq!(d.spec.as_ref(), Some(&e.spec));
    }
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|f| f.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("round.") && n != "round.jsonl")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn lines_keep_reading_order() {
    let spec = PromptSpec::Topic { word: "dog".into() };
    let line = dialogue_line(&[Message::user("Hi"), Message::assistant("A dog.")], Some(&spec));
    assert_eq!(
        line,
        r#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"A dog."}],"spec":{"kind":"topic","word":"dog"}}"#
    );
    assert_eq!(dialogue_line(&[Message::system("S")], None), r#"{"messages":[{"role":"system","content":"S"}]}"#);
}

#[test]
fn each_format_loads() {
    let text = concat!(
        r#"{"messages":[{"role":"system","content":"Figure: pirate"},{"role":"user","content":"Hi"},{"role":"assistant","content":"Arr!"}]}"#,
        "\n\n",
        r#"{"prompt":"Write a story about a dog.","response":"A dog ran.","spec":{"kind":"topic","word":"dog"}}"#,
        "\n",
        r#"{"question":"1+1?","answer":"2","extra":3}"#,
        "\n",
        r#"{"messages":[{"role":"user","content":"Bad idea"}],"spec":{"kind":"unsafe","category":"fire","subject":"matches"}}"#,
        "\n",
    );
    let loaded = load_dialogues(&scratch("formats.jsonl", text.as_bytes())).unwrap();
    assert_eq!(loaded.len(), 4);
    assert_eq!(
        loaded[0].messages,
        [Message::system("Figure: pirate"), Message::user("Hi"), Message::assistant("Arr!")]
    );
    assert_eq!(loaded[0].spec, None);
    assert_eq!(loaded[1].messages, [Message::user("Write a story about a dog."), Message::assistant("A dog ran.")]);
    assert_eq!(loaded[1].spec, Some(PromptSpec::Topic { word: "dog".into() }));
    assert_eq!(loaded[2].messages, [Message::user("1+1?"), Message::assistant("2")]);
    assert_eq!(loaded[3].spec, Some(PromptSpec::Unsafe { category: UnsafeCategory::Fire, subject: "matches".into() }));
}

#[test]
fn errors_name_the_line_and_field() {
    let ok = r#"{"prompt":"a","response":"b"}"#;
    let cases = [
        (format!("{ok}\n{{not json\n"), ":2: not a JSON object"),
        (format!("{ok}\n[1,2]\n"), ":2: not a JSON object: found an array"),
        (format!("{ok}\n{ok}\n{{\"prompt\":\"a\"}}\n"), ":3: field \"response\": missing"),
        (r#"{"question":"q","answer":7}"#.to_string(), ":1: field \"answer\": expected a string, found a number"),
        (format!("{ok}\n{{\"text\":\"x\"}}\n"), ":2: field \"messages\": missing"),
        (format!("{ok}\n{{\"messages\":[]}}\n"), ":2: field \"messages\": is empty"),
        (
            r#"{"messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}"#.to_string(),
            ":1: field \"messages[1].role\": unknown role \"bot\"",
        ),
        (format!("{ok}\n{{\"messages\":[{{\"role\":\"user\"}}]}}\n"), ":2: field \"messages[0].content\": missing"),
        (format!("{ok}\n{{\"messages\":[\"hi\"]}}\n"), ":2: field \"messages[0]\": expected an object"),
        (
            format!("{ok}\n{{\"prompt\":\"a\",\"response\":\"b\",\"spec\":{{\"kind\":\"topic\"}}}}\n"),
            ":2: field \"spec\": missing field `word`",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let message = error_of(&format!("bad{i}.jsonl"), text);
        assert!(message.contains(&format!("bad{i}.jsonl{expected}")), "case {i}: {message}");
    }
}

#[test]
fn non_utf8_empty_and_missing_files_are_errors() {
    let message =
        load_dialogues(&scratch("latin1.jsonl", b"{\"prompt\":\"a\",\"response\":\"b\"}\n{\"prompt\":\"caf\xe9\"}\n"))
            .unwrap_err()
            .to_string();
    assert!(message.contains("latin1.jsonl:2: not valid UTF-8"), "{message}");
    let message = error_of("empty.jsonl", "\n  \n");
    assert!(message.contains("empty.jsonl: contains no dialogues"), "{message}");
    let missing = std::env::temp_dir().join("llamaforge-no-such-dir/x.jsonl");
    assert!(load_dialogues(&missing).unwrap_err().to_string().contains("x.jsonl: cannot read"));
}

#[test]
fn the_bundled_gsm8k_sample_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sft_sample.jsonl");
    let dialogues = load_dialogues(&path).unwrap();
    assert_eq!(dialogues.len(), 1319);
    assert!(dialogues[0].messages[0].content.starts_with("Janet\u{2019}s ducks lay 16 eggs per day."));
    assert!(dialogues[0].messages[1].content.ends_with("#### 18"));
    assert!(dialogues.iter().all(|d| d.messages.len() == 2 && d.spec.is_none()));
}
