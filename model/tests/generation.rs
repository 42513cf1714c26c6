//! The KV-cached inference path against the autograd forward, and generation / scoring.

use llamaforge_engine::Tensor;
use llamaforge_model::generate::{
    generate, generate_batch_on_device, generate_on_device, score, FinishReason, GenerateOptions, InferenceModel,
    Sampling,
};
use llamaforge_model::layers::KvTensors;
use llamaforge_model::{preset, Llama};

fn tiny_model() -> Llama {
    Llama::new_random(&preset("tiny").unwrap(), 7).unwrap()
}

fn options(sampling: Sampling, max_new_tokens: usize) -> GenerateOptions {
    GenerateOptions { max_new_tokens, sampling, seed: 11, stop_tokens: vec![] }
}

#[test]
fn cached_steps_match_the_full_forward() {
    for tied in [false, true] {
        let mut config = preset("tiny").unwrap();
        config.tied_embeddings = tied;
        let model = Llama::new_random(&config, 3).unwrap();
        let ids: Vec<u32> = vec![1, 5, 9, 33, 2, 63, 17, 8, 8, 40];
        let logits = model.forward(&Tensor::from_vec(ids.clone(), &[1, ids.len()])).value().to_vec::<f32>();
        let fast = InferenceModel::from_llama(&model);
        let mut state = fast.new_state();
        for (t, &id) in ids.iter().enumerate() {
            let step = fast.step(&mut state, id).unwrap();
            let v = config.vocab_size;
            let worst = step.iter().zip(&logits[t * v..(t + 1) * v]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-5, "position {t}: max abs diff {worst}");
        }
    }
}

#[test]
fn generated_log_probs_equal_scores_and_batches_are_independent() {
    let model = InferenceModel::from_llama(&tiny_model());
    let prompts = vec![vec![1, 4, 5], vec![1], vec![1, 9, 9, 9, 9, 12]];
    let opts = options(Sampling::Temperature { temperature: 0.8, top_p: 0.9 }, 12);
    let batch = generate(&model, &prompts, &opts).unwrap();
    assert_eq!(batch, generate(&model, &prompts, &opts).unwrap(), "seeded sampling is reproducible");
    // sequence i uses seed + i whatever the batch around it
    let alone = generate(&model, &prompts[1..2], &GenerateOptions { seed: opts.seed + 1, ..opts.clone() }).unwrap();
    assert_eq!(alone[0], batch[1]);
    let continuations: Vec<Vec<u32>> = batch.iter().map(|g| g.tokens.clone()).collect();
    let scores = score(&model, &prompts, &continuations).unwrap();
    for (g, s) in batch.iter().zip(&scores) {
        assert_eq!(g.tokens.len(), 12);
        assert_eq!(g.finish, FinishReason::Length);
        for (a, b) in g.log_probs.iter().zip(s) {
            assert!((a - b).abs() < 1e-5 && *a <= 0.0);
        }
    }
}

#[test]
fn greedy_equals_a_vanishing_nucleus_and_stops_at_stop_tokens() {
    let model = InferenceModel::from_llama(&tiny_model());
    let prompts = vec![vec![1, 2, 3]];
    let greedy = generate(&model, &prompts, &options(Sampling::Greedy, 10)).unwrap();
    let nucleus =
        generate(&model, &prompts, &options(Sampling::Temperature { temperature: 1.0, top_p: 1e-6 }, 10)).unwrap();
    assert_eq!(greedy[0].tokens, nucleus[0].tokens);
    let stop = greedy[0].tokens[4];
    let first = greedy[0].tokens.iter().position(|&t| t == stop).unwrap();
    let stopped =
        generate(&model, &prompts, &GenerateOptions { stop_tokens: vec![stop], ..options(Sampling::Greedy, 10) })
            .unwrap();
    assert_eq!(stopped[0].tokens, greedy[0].tokens[..=first]);
    assert_eq!(stopped[0].finish, FinishReason::Stop);
}

#[test]
fn generation_stops_at_the_context_and_rejects_bad_prompts() {
    let model = InferenceModel::from_llama(&tiny_model());
    let max = model.config.max_seq_len;
    // max − 3 prompt positions + 3 generated ones fill the cache; the 4th sample comes from
    // the last position's logits and is never fed back
    let out = generate(&model, &[vec![1; max - 3]], &options(Sampling::Greedy, 100)).unwrap();
    assert_eq!((out[0].tokens.len(), out[0].finish), (4, FinishReason::Context));
    assert!(generate(&model, &[vec![]], &options(Sampling::Greedy, 1)).is_err());
    assert!(generate(&model, &[vec![1; max + 1]], &options(Sampling::Greedy, 1)).is_err());
    assert!(generate(&model, &[vec![64]], &options(Sampling::Greedy, 1)).is_err(), "id ≥ vocab");
}

/// The tensor KV-cache path (what `--device gpu` runs), here on the CPU device: stepping
/// through the cache gives the full forward's logits, and generation picks the CPU fast
/// path's tokens with the same finish reasons and the same errors.
#[test]
fn device_decoding_matches_the_forward_and_the_inference_path() {
    let llama = tiny_model(); // GQA: 4 query heads over 2 kv heads
    let ids: Vec<u32> = vec![1, 5, 9, 33, 2, 63, 17, 8];
    let full = llama.forward(&Tensor::from_vec(ids.clone(), &[1, ids.len()])).value().to_vec::<f32>();
    let v = llama.config.vocab_size;
    // a 3-token prefill, then one position at a time
    let mut cache = KvTensors::new(llama.config.n_layers);
    let mut fed = 0;
    for chunk in [&ids[..3], &ids[3..4], &ids[4..5], &ids[5..]] {
        let hidden = llama.hidden_states_cached(&Tensor::from_vec(chunk.to_vec(), &[1, chunk.len()]), &mut cache);
        let logits = llamaforge_model::layers::linear(&hidden, llama.output_weight()).value().to_vec::<f32>();
        let want = &full[fed * v..(fed + chunk.len()) * v];
        let worst = logits.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-5, "positions {fed}..{}: max abs diff {worst}", fed + chunk.len());
        fed += chunk.len();
        assert_eq!(cache.len(), fed);
    }

    let fast = InferenceModel::from_llama(&llama);
    let max = llama.config.max_seq_len;
    for (prompt, max_new) in [(vec![1u32, 5, 9], 20), (vec![1; max - 3], 100)] {
        let want =
            generate(&fast, std::slice::from_ref(&prompt), &options(Sampling::Greedy, max_new)).unwrap().remove(0);
        let got = generate_on_device(&llama, &prompt, &options(Sampling::Greedy, max_new)).unwrap();
        assert_eq!(got, (want.tokens, want.finish), "prompt of {} tokens", prompt.len());
    }
    for bad in [vec![], vec![1; max + 1], vec![1, 64]] {
        assert!(generate_on_device(&llama, &bad, &options(Sampling::Greedy, 1)).is_err(), "{} tokens", bad.len());
    }
}

/// Batched decoding on the tensor path (CPU device here): prompts of unequal lengths, two
/// of one length (one group decoded in lock step), a row that stops while the rest of its
/// group goes on, and one that fills the context: the fast path's tokens, finish reasons
/// and log-probs, sequence i seeded with seed + i.
#[test]
fn batched_device_decoding_matches_the_inference_path_with_log_probs() {
    let llama = tiny_model();
    let fast = InferenceModel::from_llama(&llama);
    let max = llama.config.max_seq_len;
    let prompts = vec![vec![1u32, 4, 5], vec![1], vec![1, 9, 9, 9, 9, 12], vec![1, 7, 2], vec![1; max - 5]];
    for sampling in [Sampling::Greedy, Sampling::Temperature { temperature: 1.0, top_p: 1.0 }] {
        let free = options(sampling, 16);
        // stop at a token row 0 samples early on, so row 0 stops inside its group
        let stop = generate(&fast, &prompts[..1], &free).unwrap()[0].tokens[2];
        let opts = GenerateOptions { stop_tokens: vec![stop], ..free };
        let want = generate(&fast, &prompts, &opts).unwrap();
        let got = generate_batch_on_device(&llama, &prompts, &opts).unwrap();
        assert_eq!(want[0].finish, FinishReason::Stop);
        assert_eq!(want[4].finish, FinishReason::Context);
        assert!(want.iter().any(|g| g.finish == FinishReason::Length), "some row runs to max_new_tokens");
        assert_eq!(got.len(), want.len());
        for (i, (got, want)) in got.iter().zip(&want).enumerate() {
            assert_eq!((&got.tokens, got.finish), (&want.tokens, want.finish), "{sampling:?}, prompt {i}");
            for (a, b) in got.log_probs.iter().zip(&want.log_probs) {
                assert!((a - b).abs() <= 1e-4, "{sampling:?}, prompt {i}: log-prob {a} vs {b}");
            }
        }
        // the single-prompt wrapper is the batch of one
        let one = generate_on_device(&llama, &prompts[2], &GenerateOptions { seed: opts.seed + 2, ..opts.clone() });
        assert_eq!(one.unwrap(), (want[2].tokens.clone(), want[2].finish));
    }
    assert!(generate_batch_on_device(&llama, &[vec![1], vec![]], &options(Sampling::Greedy, 1)).is_err());
    assert!(generate_batch_on_device(&llama, &[vec![1, 64]], &options(Sampling::Greedy, 1)).is_err());
    assert_eq!(generate_batch_on_device(&llama, &[], &options(Sampling::Greedy, 1)).unwrap(), vec![]);
}
