//! End-to-end pretraining: a seeded tiny run learns, an interrupted and resumed run
//! reproduces the uninterrupted loss sequence bit for bit, and bad data or configs give
//! clear errors.

use std::path::{Path, PathBuf};

use llamaforge_training::pretrain::{pretrain, read_metrics, PretrainConfig, RunOptions};

/// A fresh directory under the target dir for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The first `n` stories of the bundled sample, as a corpus file in `dir`.
fn small_corpus(dir: &Path, n: usize) -> PathBuf {
    let text = std::fs::read_to_string("data/tinystories_sample.txt").unwrap();
    let docs: Vec<&str> = text.split("<|endoftext|>\n").take(n).collect();
    let path = dir.join("corpus.txt");
    std::fs::write(&path, docs.join("<|endoftext|>\n")).unwrap();
    path
}

fn tiny_config(dir: &Path, steps: u64) -> PretrainConfig {
    PretrainConfig {
        preset: "tiny".into(),
        data: small_corpus(dir, 120),
        out: dir.join("run"),
        vocab_size: 320,
        seq_len: 32,
        batch_size: 8,
        steps,
        peak_lr: 1e-2,
        warmup_steps: 5,
        val_every: 10,
        val_windows: 8,
        checkpoint_every: 100,
        sample_tokens: 0,
        ..PretrainConfig::default()
    }
}

fn quiet() -> RunOptions {
    RunOptions { resume: false, max_steps_this_run: None, progress: false }
}

#[test]
fn a_seeded_tiny_run_learns() {
    let dir = scratch("pretrain_learns");
    let config = tiny_config(&dir, 60);
    let summary = pretrain(&config, &quiet(), &|_| {}).unwrap();
    let first = summary.losses[0];
    let last5 = summary.losses[55..].iter().sum::<f64>() / 5.0;
    // ln(320) = 5.77 at the start; the tiny model reaches well under 4.5 in 60 steps
    assert!(first > 5.4, "starts near uniform: {first}");
    assert!(last5 < first - 1.2, "loss fell by less than 1.2 nats: {first} → {last5}");
    let val = summary.val_loss.expect("validated");
    assert!(val < first - 1.0, "validation loss {val} did not fall with the training loss");
    // metrics, config and checkpoint are in the run directory
    let records = read_metrics(&config.out.join("metrics.jsonl")).unwrap();
    assert_eq!(records.iter().filter(|r| r.loss.is_some()).count(), 60);
    assert_eq!(records.iter().filter(|r| r.val_loss.is_some()).count(), 6);
    assert!(config.out.join("run_config.json").exists());
    assert!(config.out.join("checkpoint/model.safetensors").exists());
    assert!(config.out.join("checkpoint/optimizer.safetensors").exists());
}

#[test]
fn resume_reproduces_the_uninterrupted_run_exactly() {
    let dir = scratch("pretrain_resume");
    let mut config = tiny_config(&dir, 16);
    config.checkpoint_every = 4;
    config.out = dir.join("straight");
    let straight = pretrain(&config, &quiet(), &|_| {}).unwrap();

    config.out = dir.join("interrupted");
    let first = pretrain(&config, &RunOptions { max_steps_this_run: Some(7), ..quiet() }, &|_| {}).unwrap();
    assert_eq!(first.steps_done, 7);
    let second = pretrain(&config, &RunOptions { resume: true, ..quiet() }, &|_| {}).unwrap();
    assert_eq!(second.steps_done, 16);
    let resumed: Vec<f64> = first.losses.iter().chain(&second.losses).copied().collect();
    assert_eq!(resumed.len(), straight.losses.len());
    for (i, (a, b)) in straight.losses.iter().zip(&resumed).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "step {}: {a} vs {b}", i + 1);
    }
    // the resumed run's metrics file reads as one run of 16 steps
    let records = read_metrics(&config.out.join("metrics.jsonl")).unwrap();
    let steps: Vec<u64> = records.iter().filter(|r| r.loss.is_some()).map(|r| r.step).collect();
    assert_eq!(steps, (1..=16).collect::<Vec<_>>());
}

#[test]
fn bad_data_gives_clear_errors() {
    let dir = scratch("pretrain_bad_data");
    let mut config = tiny_config(&dir, 2);
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.txt", b"", "contains no documents"),
        ("separators.txt", b"<|endoftext|>\n\n<|endoftext|>\n", "contains no documents"),
        ("latin1.txt", b"caf\xe9 au lait\n", "not valid UTF-8 at line 1"),
        (
            "docs.jsonl",
            b"{\"text\": \"fine\"}\n{\"body\": \"no text field\"}\n",
            "docs.jsonl:2: missing string field \"text\"",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        config.data = path;
        let err = pretrain(&config, &quiet(), &|_| {}).unwrap_err();
        assert!(err.contains(expected) && err.contains(name), "{name}: unexpected error: {err}");
    }
    config.data = dir.join("missing.txt");
    let err = pretrain(&config, &quiet(), &|_| {}).unwrap_err();
    assert!(err.contains("missing.txt") && err.contains("cannot read"), "{err}");
    config.data = small_corpus(&dir, 20);
    config.batch_size = 0;
    let err = pretrain(&config, &quiet(), &|_| {}).unwrap_err();
    assert!(err.contains("batch_size"), "{err}");
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_good_checkpoint() {
    let dir = scratch("pretrain_nan");
    let mut config = tiny_config(&dir, 40);
    config.peak_lr = 1e4;
    config.warmup_steps = 1;
    config.grad_clip = 0.0;
    config.checkpoint_every = 1;
    let summary = pretrain(&config, &quiet(), &|_| {}).unwrap();
    let reason = summary.stopped_early.expect("a learning rate of 1e4 diverges");
    assert!(reason.contains("loss became") && reason.contains("last good checkpoint"), "{reason}");
    let state = std::fs::read_to_string(config.out.join("checkpoint/trainer_state.json")).unwrap();
    assert!(
        state.contains(&format!("\"step\": {}", summary.steps_done)),
        "checkpoint holds the last finite step: {state}"
    );
}
