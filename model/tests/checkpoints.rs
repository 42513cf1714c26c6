//! Checkpoint round trips (HF, native, llama2.c) and bad-input handling: truncated, corrupt
//! and mismatched files must be clear errors, never panics.

use std::path::{Path, PathBuf};

use llamaforge_model::checkpoint::safetensors_io::read_f32_tensors;
use llamaforge_model::checkpoint::{
    load_hf_dir, load_model, parse_hf_config, parse_llama2c, save_hf_dir, save_llama2c, save_native, Checkpoint,
    CheckpointFormat,
};
use llamaforge_model::{preset, Llama, ModelError, Weights};
use rand::{Rng, SeedableRng};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llamaforge-ckpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assert_same_weights(a: &Weights, b: &Weights) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, t) in a {
        assert_eq!(t.to_vec::<f32>(), b[name].to_vec::<f32>(), "{name}");
    }
}

#[test]
fn hf_save_writes_back_the_exact_hf_tensors() {
    let src = fixtures().join("hf_tiny_llama");
    let checkpoint = load_hf_dir(&src).unwrap();
    let dir = scratch("hf");
    save_hf_dir(&dir, &checkpoint, 1, 2).unwrap();
    // q/k rows go back to rotate-half order, so the file equals the original tensor by tensor
    let original = read_f32_tensors(&src.join("model.safetensors")).unwrap();
    assert_same_weights(&original, &read_f32_tensors(&dir.join("model.safetensors")).unwrap());
    let reloaded = load_hf_dir(&dir).unwrap();
    assert_eq!(reloaded.config, checkpoint.config);
    assert_same_weights(&reloaded.weights, &checkpoint.weights);
}

#[test]
fn llama2c_round_trips_tied_and_untied_and_converts_to_native() {
    let stories = std::fs::read(fixtures().join("stories260K.bin")).unwrap();
    let tied = parse_llama2c(Path::new("stories260K.bin"), &stories).unwrap();
    assert_eq!(tied.config, preset("260K").unwrap());
    let untied = Checkpoint::from_model(&Llama::new_random(&preset("tiny").unwrap(), 5).unwrap());
    let dir = scratch("l2c");
    for (name, checkpoint) in [("tied.bin", &tied), ("untied.bin", &untied)] {
        let path = dir.join(name);
        save_llama2c(&path, checkpoint).unwrap();
        let (back, format) = load_model(&path).unwrap();
        assert_eq!(format, CheckpointFormat::Llama2c);
        assert_eq!(back.config, checkpoint.config);
        assert_same_weights(&back.weights, &checkpoint.weights);
    }
    // the header stores a negative vocab size for a separate classifier
    let header = std::fs::read(dir.join("untied.bin")).unwrap();
    assert_eq!(i32::from_le_bytes(header[20..24].try_into().unwrap()), -64);
    // llama2.c → native directory → back
    let native = dir.join("native");
    save_native(&native, &tied, &std::fs::read(fixtures().join("tok512.bin")).unwrap(), 1, 2).unwrap();
    let (back, format) = load_model(&native).unwrap();
    assert_eq!(format, CheckpointFormat::HfDir);
    assert_same_weights(&back.weights, &tied.weights);
    assert!(native.join("tokenizer.bin").exists());
}

#[test]
fn truncated_and_random_llama2c_files_are_errors() {
    let bytes = std::fs::read(fixtures().join("stories260K.bin")).unwrap();
    let path = Path::new("stories260K.bin");
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut cuts: Vec<usize> = (0..64).collect();
    cuts.extend((0..64).map(|_| rng.random_range(0..bytes.len())));
    for cut in cuts {
        let err = parse_llama2c(path, &bytes[..cut]).unwrap_err();
        assert!(err.to_string().contains("stories260K.bin"), "{err}");
    }
    for _ in 0..200 {
        let len = rng.random_range(0..256);
        let noise: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        assert!(parse_llama2c(path, &noise).is_err());
    }
    // corrupt header fields: each one alone
    for (field, value) in [(0, 63), (3, 7), (4, 3), (6, -1), (0, i32::MAX), (2, 0)] {
        let mut corrupt = bytes.clone();
        corrupt[4 * field..4 * field + 4].copy_from_slice(&value.to_le_bytes());
        let err = parse_llama2c(path, &corrupt).unwrap_err();
        assert!(matches!(err, ModelError::Format { .. }), "field {field}: {err}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(parse_llama2c(path, &trailing).unwrap_err().to_string().contains("trailing"));
}

#[test]
fn corrupt_safetensors_and_configs_are_errors() {
    let src = fixtures().join("hf_tiny_llama");
    let model = std::fs::read(src.join("model.safetensors")).unwrap();
    let config = std::fs::read_to_string(src.join("config.json")).unwrap();
    let dir = scratch("corrupt");
    std::fs::write(dir.join("config.json"), &config).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    for i in 0..40 {
        let bytes: Vec<u8> = match i % 2 {
            0 => model[..rng.random_range(0..model.len())].to_vec(),
            _ => {
                let mut b = model.clone();
                for _ in 0..8 {
                    let at = rng.random_range(0..200.min(b.len()));
                    b[at] = rng.random();
                }
                b
            }
        };
        std::fs::write(dir.join("model.safetensors"), &bytes).unwrap();
        if let Err(err) = load_hf_dir(&dir) {
            assert!(!err.to_string().is_empty());
        }
    }
    // a config that disagrees with the weights names the tensor
    let three_layers = config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    std::fs::write(dir.join("config.json"), three_layers).unwrap();
    std::fs::write(dir.join("model.safetensors"), &model).unwrap();
    let err = load_hf_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("model.layers.2") && err.contains("model.safetensors"), "{err}");
    // configs: bad JSON, missing field, inconsistent heads
    let p = Path::new("config.json");
    assert!(parse_hf_config(p, "{").unwrap_err().to_string().contains("config.json"));
    let missing = config.replace("\"hidden_size\": 32,", "");
    assert!(parse_hf_config(p, &missing).unwrap_err().to_string().contains("hidden_size"));
    let bad_kv = config.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
    assert!(parse_hf_config(p, &bad_kv).unwrap_err().to_string().contains("n_kv_heads"));
    for cut in 0..config.len() {
        let _ = parse_hf_config(p, &config[..cut]);
    }
    assert!(load_model(&dir.join("nope")).unwrap_err().to_string().contains("nope"));
}

#[test]
fn config_validation_names_the_field() {
    let good = preset("tiny").unwrap();
    let cases = [
        (llamaforge_model::Config { n_heads: 5, ..good.clone() }, "dim"),
        (llamaforge_model::Config { n_kv_heads: 3, ..good.clone() }, "n_kv_heads"),
        (llamaforge_model::Config { vocab_size: 0, ..good.clone() }, "vocab_size"),
        (llamaforge_model::Config { norm_eps: -1.0, ..good.clone() }, "norm_eps"),
    ];
    for (config, field) in cases {
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
    for name in llamaforge_model::PRESETS {
        preset(name).unwrap();
    }
    assert_eq!(preset("7B").unwrap().hidden_dim, 11008);
    assert_eq!(preset("13B").unwrap().hidden_dim, 13824);
    assert_eq!(preset("70B").unwrap().hidden_dim, 28672);
    assert!(preset("3B").is_err());
}
