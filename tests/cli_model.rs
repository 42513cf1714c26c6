//! The model subcommands end to end: `forward` against the HF parity fixture (logits, loss
//! and HF-ordered gradients), `generate` on stories260K, `convert` round trips, and a
//! scripted `chat` session (commands, context overflow).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use safetensors::SafeTensors;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llamaforge-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn llamaforge(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_llamaforge")).args(args).output().unwrap();
    assert!(out.status.success(), "llamaforge {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn f32s(st: &SafeTensors, name: &str) -> Vec<f32> {
    let v = st.tensor(name).unwrap_or_else(|_| panic!("{name} missing"));
    v.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn forward_dump_matches_hugging_face() {
    let io = std::fs::read(fixtures().join("hf_tiny_llama_io.safetensors")).unwrap();
    let reference = SafeTensors::deserialize(&io).unwrap();
    let ids = reference.tensor("input_ids").unwrap();
    let ids: Vec<i64> = ids.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect();
    let dir = scratch("forward");
    let lines: Vec<String> =
        ids.chunks(8).map(|row| row.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")).collect();
    std::fs::write(dir.join("tokens.txt"), lines.join("\n")).unwrap();
    let dump = dir.join("dump.safetensors");
    let model = fixtures().join("hf_tiny_llama");
    llamaforge(&[
        "forward",
        "--model",
        model.to_str().unwrap(),
        "--tokens",
        dir.join("tokens.txt").to_str().unwrap(),
        "--dump",
        dump.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&dump).unwrap();
    let ours = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(ours.tensor("logits").unwrap().shape(), [2, 8, 64]);
    let max_diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(max_diff(&f32s(&ours, "logits"), &f32s(&reference, "logits")) <= 1e-5);
    assert!(max_diff(&f32s(&ours, "loss"), &f32s(&reference, "loss")) <= 1e-5);
    let mut grads = 0;
    for (name, _) in reference.tensors() {
        if let Some(param) = name.strip_prefix("grad.") {
            let (a, b) = (f32s(&ours, &name), f32s(&reference, &name));
            let norm = b.iter().map(|v| v * v).sum::<f32>().sqrt();
            let diff = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt();
            assert!(diff / norm <= 1e-4, "{param}: norm-relative gradient error {}", diff / norm);
            grads += 1;
        }
    }
    assert_eq!(grads, ours.names().len() - 2, "one grad per parameter");
}

#[test]
fn generate_and_convert_round_trip_stories260k() {
    let model = fixtures().join("stories260K.bin");
    let tok = fixtures().join("tok512.bin");
    let generate = |m: &Path, tokenizer: Option<&Path>| {
        let mut args = vec!["generate", "--model", m.to_str().unwrap(), "--temperature", "0", "--max-tokens", "200"];
        if let Some(t) = tokenizer {
            args.extend(["--tokenizer", t.to_str().unwrap()]);
        }
        llamaforge(&args).stdout
    };
    let mut expected =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/stories260K_greedy200.txt")).unwrap();
    expected.push(b'\n'); // run.c ends with a newline too
    assert_eq!(String::from_utf8_lossy(&generate(&model, Some(&tok))), String::from_utf8_lossy(&expected));
    // llama2.c → native → HF → llama2.c: still the same story
    let dir = scratch("convert");
    let (native, hf, back) = (dir.join("native"), dir.join("hf"), dir.join("back").join("model.bin"));
    std::fs::create_dir_all(back.parent().unwrap()).unwrap();
    let m = model.to_str().unwrap();
    let t = tok.to_str().unwrap();
    llamaforge(&["convert", "--input", m, "--tokenizer", t, "--to", "native", "--output", native.to_str().unwrap()]);
    llamaforge(&["convert", "--input", native.to_str().unwrap(), "--to", "hf", "--output", hf.to_str().unwrap()]);
    llamaforge(&[
        "convert",
        "--input",
        hf.to_str().unwrap(),
        "--tokenizer",
        t,
        "--to",
        "llama2c",
        "--output",
        back.to_str().unwrap(),
    ]);
    assert_eq!(generate(&native, None), expected);
    assert_eq!(generate(&back, None), expected, "tokenizer.bin copied next to the .bin");
}

/// A scripted session on stories260K (512-token context): every user line is answered
/// except the commands, a message that cannot fit, and anything after `/quit`; a dialog
/// that outgrows the context loses its oldest exchanges instead of failing.
#[test]
fn chat_session_handles_commands_and_context_overflow() {
    let model = fixtures().join("stories260K.bin");
    let tok = fixtures().join("tok512.bin");
    let long = "the dog ran to the park and played with a ball ".repeat(12); // ~150 tokens
    let huge = "once upon a time ".repeat(400); // far beyond 512 tokens
    let mut script = vec!["Once upon a time", "/reset"];
    script.extend(std::iter::repeat_n(long.as_str(), 5));
    script.extend([huge.as_str(), "", "/quit", "this is never read"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_llamaforge"))
        .args(["chat", "--model", model.to_str().unwrap(), "--tokenizer", tok.to_str().unwrap()])
        .args(["--temperature", "0", "--max-tokens", "20"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all((script.join("\n") + "\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "chat failed: {stderr}");
    let answers = stdout.lines().filter(|l| l.starts_with("assistant:")).count();
    assert_eq!(answers, 6, "one answer per user message that fits, none after /quit:\n{stdout}\n{stderr}");
    assert!(stderr.contains("chat: new dialog"), "{stderr}");
    assert!(stderr.contains("dropped the oldest exchange"), "{stderr}");
    assert!(stderr.contains("does not fit the model's 512-token context"), "{stderr}");
}
