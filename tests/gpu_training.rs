//! The model and the trainer on a GPU: Hugging Face parity with the parameters on the
//! device, the same loss curve on CPU and GPU over 50 pretraining steps, a buffer pool
//! that stops growing once training is warm, and KV-cached (batched) generation on the
//! device picking the CPU path's tokens, with log-probs equal to the training model's. Tiny shapes: CI runs these on lavapipe.

mod gpu;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gpu::gpu_or_skip;
use llamaforge_engine::{gpu_memory, Device, Tensor};
use llamaforge_model::checkpoint::load_hf_dir;
use llamaforge_model::checkpoint::rope_layout::hf_to_interleaved;
use llamaforge_model::checkpoint::safetensors_io::read_f32_tensors;
use llamaforge_model::generate::{
    generate, generate_batch_on_device, generate_on_device, GenerateOptions, InferenceModel, Sampling,
};
use llamaforge_model::loss::{lm_head_token_log_probs, next_token_loss, next_token_targets, IGNORE_INDEX};
use llamaforge_model::{preset, Llama};
use llamaforge_training::optim::{clip_scale, global_grad_norm, AdamW, AdamWConfig};
use llamaforge_training::pretrain::{pretrain, PretrainConfig, RunOptions};

/// The tests share GPU 0 and the pool test reads its counters: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn hf_input_ids() -> Vec<Vec<u32>> {
    let bytes = std::fs::read(fixtures().join("hf_tiny_llama_io.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = st.tensor("input_ids").unwrap();
    let (b, t) = (view.shape()[0], view.shape()[1]);
    let ids: Vec<u32> = view.data().chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u32).collect();
    (0..b).map(|r| ids[r * t..(r + 1) * t].to_vec()).collect()
}

#[test]
fn hf_parity_with_the_model_on_the_gpu() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(gpu) = gpu_or_skip("hf_parity_with_the_model_on_the_gpu") else { return };
    let checkpoint = load_hf_dir(&fixtures().join("hf_tiny_llama")).unwrap();
    let config = checkpoint.config.clone();
    let model = checkpoint.into_model().unwrap();
    model.to_device(gpu).unwrap();
    assert_eq!(model.device(), gpu);
    let reference = read_f32_tensors(&fixtures().join("hf_tiny_llama_io.safetensors")).unwrap();

    let ids = hf_input_ids();
    let (b, t) = (ids.len(), ids[0].len());
    let logits = model.forward(&Tensor::from_vec(ids.concat(), &[b, t]));
    let loss = next_token_loss(&logits, &next_token_targets(&ids, None));
    loss.backward();
    assert_eq!(logits.value().device(), gpu, "the forward ran on the GPU");

    let expected = reference["logits"].to_vec_f64();
    let logits_err = logits.value().to_vec_f64().iter().zip(&expected).map(|(a, e)| (a - e).abs()).fold(0.0, f64::max);
    assert!(logits_err <= 1e-4, "logits max abs error {logits_err:e}");
    let loss_err = (loss.value().to_scalar() - reference["loss"].to_scalar()).abs();
    assert!(loss_err <= 1e-5, "loss error {loss_err:e}");
    eprintln!("gpu: logits max abs error {logits_err:.2e}, loss error {loss_err:.2e}");

    // as in model/tests/hf_parity.rs: norm-relative ≤ 1e-4 and element-wise relative with a
    // floor of 1e-2·max|b| (near-zero entries are decided by f32 rounding)
    for param in model.parameters() {
        let name = param.name().unwrap().to_string();
        let mut expected = reference[&format!("grad.{name}")].clone();
        if name.ends_with("q_proj.weight") {
            expected = hf_to_interleaved(&expected, config.n_heads);
        } else if name.ends_with("k_proj.weight") {
            expected = hf_to_interleaved(&expected, config.n_kv_heads);
        }
        let got = param.grad().unwrap_or_else(|| panic!("{name}: no gradient"));
        assert_eq!(got.device(), gpu, "{name}: gradient computed on the GPU");
        let (got, expected) = (got.to_vec_f64(), expected.to_vec_f64());
        let floor = 1e-2 * expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs() / e.abs().max(floor)).fold(0.0, f64::max);
        let diff = got.iter().zip(&expected).map(|(a, e)| (a - e).powi(2)).sum::<f64>().sqrt();
        let norm = expected.iter().map(|e| e * e).sum::<f64>().sqrt();
        eprintln!("{name}: element-wise {worst:.2e}, norm-relative {:.2e}", diff / norm);
        assert!(diff / norm <= 1e-4, "{name}: gradient norm-relative error {:e}", diff / norm);
        assert!(worst <= 1e-4, "{name}: gradient element-wise relative error {worst:e}");
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tiny_run(dir: &Path, corpus: &Path, device: &str) -> PretrainConfig {
    PretrainConfig {
        preset: "tiny".into(),
        data: corpus.to_path_buf(),
        out: dir.join(format!("run_{device}")),
        vocab_size: 320,
        seq_len: 32,
        batch_size: 8,
        steps: 50,
        peak_lr: 1e-2,
        warmup_steps: 5,
        val_every: 1000,
        val_windows: 8,
        checkpoint_every: 1000,
        sample_tokens: 0,
        device: device.into(),
        ..PretrainConfig::default()
    }
}

#[test]
fn tiny_pretraining_gives_the_same_loss_curve_on_cpu_and_gpu() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if gpu_or_skip("tiny_pretraining_gives_the_same_loss_curve_on_cpu_and_gpu").is_none() {
        return;
    }
    let dir = scratch("gpu_pretrain_curve");
    let text = std::fs::read_to_string("data/tinystories_sample.txt").unwrap();
    let docs: Vec<&str> = text.split("<|endoftext|>\n").take(120).collect();
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, docs.join("<|endoftext|>\n")).unwrap();
    let quiet = RunOptions { resume: false, max_steps_this_run: None, progress: false };
    let cpu = pretrain(&tiny_run(&dir, &corpus, "cpu"), &quiet, &|_| {}).unwrap();
    let lines = Mutex::new(Vec::new());
    let gpu =
        pretrain(&tiny_run(&dir, &corpus, "gpu"), &quiet, &|l| lines.lock().unwrap().push(l.to_string())).unwrap();
    assert!(lines.lock().unwrap().iter().any(|l| l.starts_with("device: gpu:0")), "the run says it trains on the GPU");
    assert_eq!((cpu.losses.len(), gpu.losses.len()), (50, 50));
    let worst = cpu.losses.iter().zip(&gpu.losses).map(|(c, g)| (c - g).abs()).fold(0.0, f64::max);
    eprintln!(
        "cpu {:.4} → {:.4}, gpu {:.4} → {:.4}, max |Δloss| {worst:.2e}",
        cpu.losses[0], cpu.losses[49], gpu.losses[0], gpu.losses[49]
    );
    assert!(worst <= 1e-3, "loss curves differ by {worst:e}");
    assert!(gpu.losses[49] < gpu.losses[0] - 1.0, "the GPU run learns");
    // the GPU run's checkpoint was read back to the host and loads like any other
    let saved = load_hf_dir(&dir.join("run_gpu/checkpoint")).unwrap();
    assert!(saved.weights.values().all(|t| t.device() == Device::Cpu));
}

#[test]
fn training_on_the_gpu_does_not_grow_the_buffer_pool() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(gpu) = gpu_or_skip("training_on_the_gpu_does_not_grow_the_buffer_pool") else { return };
    let mut config = preset("tiny").unwrap();
    config.vocab_size = 64;
    let model = Llama::new_random(&config, 3).unwrap();
    model.to_device(gpu).unwrap();
    let mut opt = AdamW::new(model.parameters(), AdamWConfig::default());
    assert!(opt.state().m.iter().all(|m| m.device() == gpu), "AdamW moments live on the GPU");
    let (b, t, v) = (2, 16, config.vocab_size);
    let mut after_warmup = None;
    let mut last_loss = f64::NAN;
    for step in 0..100u32 {
        let ids: Vec<u32> = (0..b * (t + 1)).map(|i| (i as u32 * 31 + step * 7) % v as u32).collect();
        let inputs: Vec<u32> = ids.chunks(t + 1).flat_map(|r| r[..t].to_vec()).collect();
        let targets: Vec<u32> = ids.chunks(t + 1).flat_map(|r| r[1..].to_vec()).collect();
        let logits = model.forward(&Tensor::from_vec(inputs, &[b, t]));
        let loss = logits.reshape(&[b * t, v]).cross_entropy(&Tensor::from_vec(targets, &[b * t]), IGNORE_INDEX);
        last_loss = loss.value().to_scalar();
        loss.backward();
        let norm = global_grad_norm(opt.params());
        opt.step(1e-3, clip_scale(norm, 1.0));
        if step == 4 {
            after_warmup = gpu_memory(gpu);
        }
    }
    assert!(last_loss.is_finite());
    let (warm, end) = (after_warmup.unwrap(), gpu_memory(gpu).unwrap());
    eprintln!("pool after 5 steps: {warm:?}; after 100: {end:?}");
    assert!(end.allocated_bytes <= warm.allocated_bytes, "pool grew from {warm:?} to {end:?}");
    assert!(end.buffers <= warm.buffers, "buffer count grew from {warm:?} to {end:?}");
}

#[test]
fn the_chunked_lm_head_loss_matches_on_the_gpu() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(gpu) = gpu_or_skip("the_chunked_lm_head_loss_matches_on_the_gpu") else { return };
    let (n, c, v) = (23, 8, 13);
    let targets: Vec<u32> = (0..n as u32).map(|i| if i % 5 == 2 { IGNORE_INDEX } else { (i * 3) % v as u32 }).collect();
    let targets = Tensor::from_vec(targets, &[n]);
    let h = Tensor::randn(&[n, c], 1.0, llamaforge_engine::DType::F32, 1);
    let w = Tensor::randn(&[v, c], 1.0, llamaforge_engine::DType::F32, 2);
    let run = |device: Device, max_logits: usize| {
        let hv = llamaforge_autograd::Var::leaf(h.to_device(device).unwrap());
        let wv = llamaforge_autograd::Var::leaf(w.to_device(device).unwrap());
        let loss = llamaforge_model::loss::lm_head_loss(&hv, &wv, &targets, max_logits);
        loss.backward();
        (loss.value().to_scalar(), hv.grad().unwrap().to_vec_f64(), wv.grad().unwrap().to_vec_f64())
    };
    let cpu = run(Device::Cpu, usize::MAX);
    let chunked = run(gpu, 4 * v); // 4 rows per chunk: 6 chunks, the last one short
    assert!((cpu.0 - chunked.0).abs() <= 1e-5, "loss {} vs {}", chunked.0, cpu.0);
    for (a, b) in chunked.1.iter().zip(&cpu.1).chain(chunked.2.iter().zip(&cpu.2)) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "gradient {a} vs {b}");
    }
}

#[test]
fn kv_cached_generation_on_the_gpu_matches_the_cpu() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(gpu) = gpu_or_skip("kv_cached_generation_on_the_gpu_matches_the_cpu") else { return };
    let model = Llama::new_random(&preset("tiny").unwrap(), 7).unwrap();
    let fast = InferenceModel::from_llama(&model);
    model.to_device(gpu).unwrap();
    let options = GenerateOptions { max_new_tokens: 24, sampling: Sampling::Greedy, seed: 0, stop_tokens: vec![] };
    for prompt in [vec![1u32], vec![1, 5, 9, 33, 2]] {
        let want = generate(&fast, std::slice::from_ref(&prompt), &options).unwrap().remove(0);
        let got = generate_on_device(&model, &prompt, &options).unwrap();
        assert_eq!(got, (want.tokens, want.finish), "prompt {prompt:?}");
    }
}

/// Batched sampling on the GPU returns the CPU fast path's tokens and log-probs, and the
/// training model on the GPU (`Llama::token_log_probs`, its LM head in chunks of 3 rows
/// here) gives the same log-probs on those tokens: PPO's first ratio is 1 on a GPU too.
#[test]
fn batched_gpu_sampling_log_probs_match_the_cpu_and_the_training_model() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(gpu) = gpu_or_skip("batched_gpu_sampling_log_probs_match_the_cpu_and_the_training_model") else {
        return;
    };
    let model = Llama::new_random(&preset("tiny").unwrap(), 7).unwrap();
    let fast = InferenceModel::from_llama(&model);
    model.to_device(gpu).unwrap();
    let sampling = Sampling::Temperature { temperature: 1.0, top_p: 1.0 };
    let options = GenerateOptions { max_new_tokens: 12, sampling, seed: 5, stop_tokens: vec![] };
    let prompts = vec![vec![1u32, 5, 9], vec![1], vec![1, 33, 2]];
    let want = generate(&fast, &prompts, &options).unwrap();
    let got = generate_batch_on_device(&model, &prompts, &options).unwrap();
    let v = model.config.vocab_size;
    for (i, ((got, want), prompt)) in got.iter().zip(&want).zip(&prompts).enumerate() {
        assert_eq!((&got.tokens, got.finish), (&want.tokens, want.finish), "prompt {i}");
        let ids: Vec<u32> = prompt.iter().chain(&got.tokens).copied().collect();
        let n = ids.len() - 1;
        let hidden = model.hidden_states(&Tensor::from_vec(ids[..n].to_vec(), &[1, n])).reshape(&[n, model.config.dim]);
        let targets = Tensor::from_vec(ids[1..].to_vec(), &[n]);
        let trained = lm_head_token_log_probs(&hidden, model.output_weight(), &targets, 3 * v);
        assert_eq!(trained.value().device(), gpu, "the log-probs ran on the GPU");
        let trained = trained.value().to_vec::<f32>();
        for (j, ((a, b), c)) in got.log_probs.iter().zip(&want.log_probs).zip(&trained[prompt.len() - 1..]).enumerate()
        {
            assert!((a - b).abs() <= 1e-4, "prompt {i}, token {j}: GPU sampled {a} vs CPU {b}");
            assert!((a - c).abs() <= 1e-4, "prompt {i}, token {j}: GPU sampled {a} vs training {c}");
        }
    }
}
