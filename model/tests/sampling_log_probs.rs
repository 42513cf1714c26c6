//! PPO's first importance ratio is exactly 1 only if the log-probs that sampling returns
//! equal the training model's on the same tokens: `generate` (at temperature 1) and
//! `score` on the fast CPU path against `Llama::token_log_probs` of prompt + continuation,
//! on the `tiny` preset and on llama2.c's trained stories260K.

use std::path::PathBuf;

use llamaforge_engine::Tensor;
use llamaforge_model::checkpoint::load_llama2c;
use llamaforge_model::generate::{generate, score, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::tokenizer::Tokenizer;
use llamaforge_model::{preset, Llama};

/// Checks every sampled token's log-prob against the training model's, for `prompts` of
/// different lengths; returns how many tokens were compared.
fn check_sampled_log_probs(model: &Llama, prompts: &[Vec<u32>], stop_tokens: Vec<u32>) -> usize {
    let fast = InferenceModel::from_llama(model);
    // temperature 1 and no top-p: the distribution sampled from is the model's own
    let sampling = Sampling::Temperature { temperature: 1.0, top_p: 1.0 };
    let options = GenerateOptions { max_new_tokens: 24, sampling, seed: 3, stop_tokens };
    let generations = generate(&fast, prompts, &options).unwrap();
    let continuations: Vec<Vec<u32>> = generations.iter().map(|g| g.tokens.clone()).collect();
    let scores = score(&fast, prompts, &continuations).unwrap();
    let mut compared = 0;
    for ((prompt, generation), scored) in prompts.iter().zip(&generations).zip(&scores) {
        let ids: Vec<u32> = prompt.iter().chain(&generation.tokens).copied().collect();
        let trained = model.token_log_probs(&Tensor::from_vec(ids.clone(), &[1, ids.len()])).value().to_vec::<f32>();
        // entry t predicts ids[t + 1]: the sampled tokens are entries P-1 ..
        let trained = &trained[prompt.len() - 1..];
        assert_eq!(trained.len(), generation.log_probs.len());
        assert_eq!(scored.len(), generation.log_probs.len());
        for (j, ((&sampled, &scored), &trained)) in generation.log_probs.iter().zip(scored).zip(trained).enumerate() {
            let what = format!("prompt of {} tokens, generated token {j}", prompt.len());
            assert!((sampled - trained).abs() <= 1e-4, "{what}: sampled log-prob {sampled} vs training {trained}");
            assert!((scored - trained).abs() <= 1e-4, "{what}: scored log-prob {scored} vs training {trained}");
        }
        compared += trained.len();
    }
    compared
}

#[test]
fn sampled_and_scored_log_probs_equal_the_training_model_on_tiny() {
    let model = Llama::new_random(&preset("tiny").unwrap(), 9).unwrap();
    let prompts = vec![vec![1], vec![1, 4, 5], vec![1, 9, 9, 9, 9, 12, 40], vec![1, 2, 3]];
    assert_eq!(check_sampled_log_probs(&model, &prompts, vec![]), 4 * 24);
}

#[test]
fn sampled_and_scored_log_probs_equal_the_training_model_on_stories260k() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let model = load_llama2c(&data.join("stories260K.bin")).unwrap().into_model().unwrap();
    let tokenizer = Tokenizer::load_llama2c(data.join("tok512.bin"), Some(512)).unwrap();
    let prompts: Vec<Vec<u32>> = ["", "Once upon a time", "Tom and his dog went to the park. The sun was"]
        .iter()
        .map(|text| tokenizer.encode(text, true, false))
        .collect();
    assert_eq!(prompts[1], [1, 403, 407, 261, 378]);
    assert!(prompts[2].len() > 8);
    // stories end by sampling BOS (llama2.c); a short story still compares its tokens
    let compared = check_sampled_log_probs(&model, &prompts, vec![1]);
    assert!(compared >= 24, "only {compared} tokens were sampled");
}
