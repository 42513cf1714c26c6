//! The chunked LM-head loss equals the whole-logits loss, value and gradients.

use llamaforge_autograd::Var;
use llamaforge_engine::{DType, Tensor};
use llamaforge_model::layers::linear;
use llamaforge_model::loss::{lm_head_loss, IGNORE_INDEX};

#[test]
fn chunked_equals_whole_in_value_and_gradients() {
    let (n, c, v) = (37, 6, 11);
    let targets: Vec<u32> = (0..n as u32).map(|i| if i % 7 == 3 { IGNORE_INDEX } else { (i * 5) % v as u32 }).collect();
    let targets = Tensor::from_vec(targets, &[n]);
    let run = |max_logits: usize| {
        let h = Var::leaf(Tensor::randn(&[n, c], 1.0, DType::F64, 1));
        let w = Var::leaf(Tensor::randn(&[v, c], 1.0, DType::F64, 2));
        let loss = lm_head_loss(&h, &w, &targets, max_logits);
        loss.backward();
        (loss.value().to_scalar(), h.grad().unwrap().to_vec_f64(), w.grad().unwrap().to_vec_f64())
    };
    let whole = {
        let h = Var::leaf(Tensor::randn(&[n, c], 1.0, DType::F64, 1));
        let w = Var::leaf(Tensor::randn(&[v, c], 1.0, DType::F64, 2));
        let loss = linear(&h, &w).cross_entropy(&targets, IGNORE_INDEX);
        loss.backward();
        (loss.value().to_scalar(), h.grad().unwrap().to_vec_f64(), w.grad().unwrap().to_vec_f64())
    };
    // 5 rows per chunk (8 chunks, the last one short), and one row per chunk
    for max_logits in [5 * v, v] {
        let chunked = run(max_logits);
        assert!((chunked.0 - whole.0).abs() < 1e-12, "loss {} vs {}", chunked.0, whole.0);
        for (a, b) in chunked.1.iter().zip(&whole.1).chain(chunked.2.iter().zip(&whole.2)) {
            assert!((a - b).abs() < 1e-12, "gradient {a} vs {b}");
        }
    }
}
