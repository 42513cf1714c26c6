//! `llamaforge data instruct` end to end: the written files load as dialogues with the
//! documented counts, and a malformed JSONL line is reported by number.

use std::path::PathBuf;
use std::process::Command;

use llamaforge_training::task::{judge, load_dialogues};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llamaforge-cli-task-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path).to_str().unwrap().to_string()
}

#[test]
fn data_instruct_writes_loadable_splits() {
    let out = scratch("instruct").join("nested/dir");
    let run = |seed: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_llamaforge"))
            .args(["data", "instruct", "--out", out.to_str().unwrap(), "--seed", seed])
            .args(["--data", &repo("data/tinystories_sample.txt")])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let stdout = run("7");
    assert!(stdout.contains("train: 3040 examples (2432 helpful, 608 safety)"), "{stdout}");
    assert!(stdout.contains("heldout: 160 examples (128 helpful, 32 safety)"), "{stdout}");
    let train = load_dialogues(&out.join("train.jsonl")).unwrap();
    let heldout = load_dialogues(&out.join("heldout.jsonl")).unwrap();
    assert_eq!((train.len(), heldout.len()), (3040, 160));
    for d in train.iter().chain(&heldout) {
        let spec = d.spec.as_ref().expect("every written dialogue records its spec");
        let j = judge(spec, &d.messages[1].content);
        assert!(j.helpfulness >= 0.9 && j.safety >= 0.9);
    }
    // deterministic: the same seed writes the same bytes
    let first = std::fs::read(out.join("heldout.jsonl")).unwrap();
    run("7");
    assert_eq!(first, std::fs::read(out.join("heldout.jsonl")).unwrap());
}

#[test]
fn malformed_jsonl_names_the_line_and_field() {
    let dir = scratch("bad");
    let path = dir.join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"prompt\":\"a\",\"response\":\"b\"}\n{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n{\"prompt\":\"c\"}\n",
    )
    .unwrap();
    let message = load_dialogues(&path).unwrap_err().to_string();
    assert!(message.contains("bad.jsonl:3: field \"response\": missing"), "{message}");
}
