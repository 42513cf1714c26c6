//! Left padding: a batch of rows of unequal lengths, each padded on the left to T, gives
//! every real token exactly what its row gets alone, unpadded — logits forward, parameter
//! gradients backward — on the `tiny` preset (GQA: 4 query heads over 2 kv heads). The two
//! known pitfalls are both exercised: pad keys must be masked, and each row's positions
//! must start at 0 on its first real token. The GPU check runs the same logits comparison
//! on the device (skipped without an adapter unless `LLAMAFORGE_REQUIRE_GPU=1`).

use llamaforge_autograd::Var;
use llamaforge_engine::{DType, Device, Tensor};
use llamaforge_model::loss::token_log_probs;
use llamaforge_model::{preset, Llama};

/// Three rows of lengths 7, 4 and 1 (ids from a fixed pattern below the tiny vocab of 64).
fn rows() -> Vec<Vec<u32>> {
    vec![vec![1, 17, 42, 5, 63, 8, 30], vec![1, 9, 33, 2], vec![1]]
}

/// The rows left-padded to the longest: `(ids [B, T] u32, left_pad)`. Pad ids differ per
/// row (0, 63, 7) so nothing can depend on a particular pad id.
fn padded_batch(rows: &[Vec<u32>]) -> (Tensor, Vec<usize>) {
    let t = rows.iter().map(Vec::len).max().expect("rows");
    let pad_ids = [0, 63, 7];
    let mut ids = Vec::with_capacity(rows.len() * t);
    let mut left_pad = Vec::with_capacity(rows.len());
    for (row, pad_id) in rows.iter().zip(pad_ids.iter().cycle()) {
        let pad = t - row.len();
        ids.extend(std::iter::repeat_n(*pad_id, pad).chain(row.iter().copied()));
        left_pad.push(pad);
    }
    (Tensor::from_vec(ids, &[rows.len(), t]), left_pad)
}

fn tiny_model() -> Llama {
    let config = preset("tiny").expect("tiny preset");
    assert!(config.n_kv_heads < config.n_heads, "the tiny preset exercises GQA");
    Llama::new_random(&config, 7).expect("tiny model")
}

/// Largest |padded − alone| over the real tokens of every row, each row run alone through
/// `forward` (its logits `[1, len, V]`) and compared with `padded` `[B, T, V]` at `pad..T`.
fn worst_real_token_diff(model: &Llama, padded: &Tensor, rows: &[Vec<u32>], left_pad: &[usize]) -> f32 {
    let v = model.config.vocab_size;
    let t = padded.shape()[1];
    let padded = padded.to_device(Device::Cpu).expect("logits to host").to_vec::<f32>();
    let mut worst = 0.0f32;
    for (b, (row, &pad)) in rows.iter().zip(left_pad).enumerate() {
        let alone = model.forward(&Tensor::from_vec(row.clone(), &[1, row.len()])).value();
        let alone = alone.to_device(Device::Cpu).expect("logits to host").to_vec::<f32>();
        let real = &padded[(b * t + pad) * v..(b + 1) * t * v];
        assert_eq!(real.len(), alone.len());
        let diff = real.iter().zip(&alone).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff.is_finite(), "row {b}: non-finite logits");
        worst = worst.max(diff);
    }
    worst
}

#[test]
fn left_padded_rows_give_each_real_token_its_unpadded_logits() {
    let model = tiny_model();
    let rows = rows();
    let (ids, left_pad) = padded_batch(&rows);
    assert_eq!(left_pad, [0, 3, 6]);
    let logits = model.forward_padded(&ids, &left_pad).value(); // [B, T, V]
    assert_eq!(logits.shape(), [3, 7, model.config.vocab_size]);
    let all = logits.to_vec::<f32>();
    assert!(all.iter().all(|x| x.is_finite()), "pad positions must stay finite too");
    let worst = worst_real_token_diff(&model, &logits, &rows, &left_pad);
    eprintln!("padded vs unpadded logits: max abs diff {worst:e}");
    assert!(worst <= 1e-5, "real tokens of padded rows differ from the unpadded rows by {worst:e}");
    // RoPE is relative: shifting all of a row's positions alike moves q·k only by rounding
    // (1.5e-8 here), so the tolerance above cannot see a wrong position offset. With the
    // right one, a real token goes through the same arithmetic as in its unpadded row (the
    // same rotation angles, the same keys in the same order, row-local GEMM sums), so the
    // CPU logits agree bit for bit, and that pins the positions.
    assert_eq!(worst, 0.0, "padded rows must compute the unpadded rows' logits exactly (positions from 0)");

    // the check can fail: the plain forward masks nothing and counts positions from the pad
    let unmasked = model.forward(&ids).value();
    let worst = worst_real_token_diff(&model, &unmasked, &rows, &left_pad);
    eprintln!("plain forward of the padded batch vs unpadded logits: max abs diff {worst:e}");
    assert!(worst > 1e-3, "without the padding mask the padded rows should differ (by {worst:e})");
}

/// −Σ log p(next token) over the real tokens of `ids` `[B, T]` whose first `left_pad[b]`
/// positions are padding (the pad → first-real-token prediction is not counted either).
fn real_token_nll(logits: &Var, ids: &Tensor, left_pad: &[usize]) -> Var {
    let (b, t) = (ids.shape()[0], ids.shape()[1]);
    let logp = token_log_probs(logits, ids); // [B, T−1], entry s predicts ids[s+1]
    let mask: Vec<f32> =
        left_pad.iter().flat_map(|&pad| (0..t - 1).map(move |s| f32::from(u8::from(s >= pad)))).collect();
    let mask = Var::constant(Tensor::from_vec(mask, &[b, t - 1]).to_device(logits.value().device()).expect("mask"));
    logp.mul(&mask).reshape(&[b * (t - 1)]).sum(0, false).scale(-1.0)
}

#[test]
fn padded_loss_gradients_equal_the_sum_of_unpadded_row_gradients() {
    let model = tiny_model();
    let rows = rows();
    let (ids, left_pad) = padded_batch(&rows);

    model.zero_grad();
    let padded_loss = real_token_nll(&model.forward_padded(&ids, &left_pad), &ids, &left_pad);
    padded_loss.backward();
    let padded_grads: Vec<Option<Tensor>> = model.parameters().iter().map(Var::take_grad).collect();

    model.zero_grad();
    let mut total: Option<Var> = None;
    for row in &rows {
        let ids = Tensor::from_vec(row.clone(), &[1, row.len()]);
        let loss = real_token_nll(&model.forward(&ids), &ids, &[0]);
        total = Some(match total {
            Some(sum) => sum.add(&loss),
            None => loss,
        });
    }
    let total = total.expect("rows");
    let (a, b) = (padded_loss.value().to_vec::<f32>()[0], total.value().to_vec::<f32>()[0]);
    assert!((a - b).abs() <= 1e-5 * b.abs(), "padded loss {a} vs sum of row losses {b}");
    total.backward();

    for (p, padded) in model.parameters().iter().zip(padded_grads) {
        let name = p.name().expect("named");
        let want = p.take_grad().unwrap_or_else(|| panic!("{name}: no gradient from the unpadded rows"));
        let got = padded.unwrap_or_else(|| panic!("{name}: no gradient from the padded batch"));
        let (got, want) = (got.to_dtype(DType::F64).to_vec_f64(), want.to_dtype(DType::F64).to_vec_f64());
        // relative to the parameter's largest gradient entry: entries near 0 are sums of
        // cancelling f32 terms and carry the same absolute rounding as the large ones
        let scale = want.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        assert!(scale > 0.0, "{name}: zero gradient");
        let err = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max) / scale;
        eprintln!("{name}: relative gradient difference {err:.2e}");
        assert!(err <= 1e-5, "{name}: padded gradient differs from the unpadded rows' by {err:e} (relative)");
    }
}

/// `Device::Gpu(0)` when an adapter opens; else skip with a reason, or fail under
/// `LLAMAFORGE_REQUIRE_GPU=1` (the convention of tests/gpu/mod.rs in the root crate).
fn gpu_or_skip(test: &str) -> Option<Device> {
    match Tensor::zeros(&[1], DType::F32).to_device(Device::Gpu(0)) {
        Ok(_) => Some(Device::Gpu(0)),
        Err(e) if std::env::var("LLAMAFORGE_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("{test}: LLAMAFORGE_REQUIRE_GPU=1 but no GPU: {e}")
        }
        Err(e) => {
            eprintln!("skipping {test}: no GPU ({e})");
            None
        }
    }
}

#[test]
fn left_padded_logits_on_the_gpu() {
    let Some(gpu) = gpu_or_skip("left_padded_logits_on_the_gpu") else { return };
    let cpu_model = tiny_model();
    let gpu_model = tiny_model();
    gpu_model.to_device(gpu).expect("model to gpu");
    let rows = rows();
    let (ids, left_pad) = padded_batch(&rows);
    let logits = gpu_model.forward_padded(&ids, &left_pad).value();
    assert_eq!(logits.device(), gpu, "logits left the GPU");
    // each real token against its row run alone, unpadded, on the GPU and on the CPU
    let worst = worst_real_token_diff(&gpu_model, &logits, &rows, &left_pad);
    eprintln!("GPU padded vs GPU unpadded logits: max abs diff {worst:e}");
    assert!(worst <= 1e-5, "GPU: real tokens of padded rows differ from the unpadded rows by {worst:e}");
    let worst = worst_real_token_diff(&cpu_model, &logits, &rows, &left_pad);
    eprintln!("GPU padded vs CPU unpadded logits: max abs diff {worst:e}");
    assert!(worst <= 1e-4, "GPU padded logits differ from the CPU's unpadded rows by {worst:e}");
}

#[test]
fn a_row_of_padding_only_stays_finite_and_leaves_the_others_alone() {
    let model = tiny_model();
    let rows = rows();
    let (ids, left_pad) = padded_batch(&rows);
    let mut all_pad = left_pad.clone();
    all_pad[2] = 7; // row 2's one real token becomes padding too
    let logits = model.forward_padded(&ids, &all_pad).value();
    assert!(logits.to_vec::<f32>().iter().all(|x| x.is_finite()), "a row of pads only must stay finite");
    let worst = worst_real_token_diff(&model, &logits.narrow(0, 0, 2), &rows[..2], &all_pad[..2]);
    assert_eq!(worst, 0.0, "the other rows are untouched");
}

#[test]
#[should_panic(expected = "hidden_states_padded: left_pad has 2 entries for 3 rows")]
fn left_pad_must_cover_every_row() {
    let (ids, _) = padded_batch(&rows());
    tiny_model().hidden_states_padded(&ids, &[0, 3]);
}

#[test]
#[should_panic(expected = "hidden_states_padded: left_pad[2] = 8 exceeds the 7 positions")]
fn left_pad_cannot_exceed_the_row() {
    let (ids, _) = padded_batch(&rows());
    tiny_model().forward_padded(&ids, &[0, 3, 8]);
}

#[test]
fn left_padded_rows_give_each_real_token_its_unpadded_log_prob() {
    let model = tiny_model();
    let rows = rows();
    let (ids, left_pad) = padded_batch(&rows);
    let t = ids.shape()[1];
    let padded = token_log_probs(&model.forward_padded(&ids, &left_pad), &ids).value().to_vec::<f32>(); // [B, T−1]
    for (b, (row, &pad)) in rows.iter().zip(&left_pad).enumerate() {
        if row.len() < 2 {
            continue;
        }
        let alone = model.token_log_probs(&Tensor::from_vec(row.clone(), &[1, row.len()])).value().to_vec::<f32>();
        // padded entry s predicts ids[s+1]; the row's first real prediction is at s = pad
        let real = &padded[b * (t - 1) + pad..(b + 1) * (t - 1)];
        let diff = real.iter().zip(&alone).map(|(a, e)| (a - e).abs()).fold(0.0f32, f32::max);
        assert_eq!(real.len(), alone.len());
        assert!(diff <= 1e-5, "row {b}: per-token log-probs differ by {diff:e}");
    }
}
