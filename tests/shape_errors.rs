//! Shape errors panic at the caller, naming the op and both shapes; nothing broadcasts
//! silently where it should not.

use llamaforge_engine::{DType, Tensor};

fn t(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32)
}

#[test]
#[should_panic(expected = "add: shapes [3, 4] and [5] do not broadcast")]
fn add_rejects_incompatible_shapes() {
    t(&[3, 4]).add(&t(&[5]));
}

#[test]
#[should_panic(expected = "matmul: inner dims differ, [2, 3] · [4, 5]")]
fn matmul_rejects_inner_mismatch() {
    t(&[2, 3]).matmul(&t(&[4, 5]));
}

#[test]
#[should_panic(expected = "matmul: batch dims of [2, 2, 3] and [3, 3, 4] do not broadcast")]
fn matmul_rejects_batch_mismatch() {
    t(&[2, 2, 3]).matmul(&t(&[3, 3, 4]));
}

#[test]
#[should_panic(expected = "reshape: cannot reshape [2, 3] (6 elements) to [4]")]
fn reshape_rejects_wrong_count() {
    t(&[2, 3]).reshape(&[4]);
}

#[test]
#[should_panic(expected = "rms_norm: weight [5] does not match the last dim of [2, 4]")]
fn rms_norm_rejects_weight_mismatch() {
    t(&[2, 4]).rms_norm(&t(&[5]), 1e-5);
}

#[test]
#[should_panic(expected = "rms_norm_backward: grad [2, 5] differs from x [2, 4]")]
fn rms_norm_backward_rejects_grad_mismatch() {
    t(&[2, 4]).rms_norm_backward(&t(&[4]), &t(&[2, 5]), 1e-5);
}

#[test]
#[should_panic(expected = "rms_norm_backward: weight [5] does not match the last dim of [2, 4]")]
fn rms_norm_backward_rejects_weight_mismatch() {
    t(&[2, 4]).rms_norm_backward(&t(&[5]), &t(&[2, 4]), 1e-5);
}

#[test]
#[should_panic(expected = "swiglu_backward: grad [3, 2] differs from a [2, 3]")]
fn swiglu_backward_rejects_grad_mismatch() {
    t(&[2, 3]).swiglu_backward(&t(&[2, 3]), &t(&[3, 2]));
}

#[test]
#[should_panic(expected = "swiglu_backward: up is f64 but a is f32")]
fn swiglu_backward_rejects_mixed_dtypes() {
    t(&[2, 3]).swiglu_backward(&Tensor::zeros(&[2, 3], DType::F64), &t(&[2, 3]));
}

#[test]
#[should_panic(expected = "cross_entropy: target 9 at position 1 is out of range for 4 classes")]
fn cross_entropy_rejects_bad_target() {
    t(&[2, 4]).cross_entropy(&Tensor::from_vec(vec![0u32, 9], &[2]), u32::MAX);
}

#[test]
#[should_panic(expected = "index_select: index 7 at position 0 is out of range for 3 rows")]
fn index_select_rejects_bad_id() {
    t(&[3, 2]).index_select(&Tensor::from_vec(vec![7u32], &[1]));
}

#[test]
#[should_panic(expected = "mul: dtype mismatch, lhs f32 vs rhs f64")]
fn binary_rejects_mixed_dtypes() {
    t(&[2]).mul(&Tensor::zeros(&[2], DType::F64));
}

thread_local! {
    static PANIC_FILE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn the_panic_points_at_the_caller() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let file = info.location().map(|l| l.file().to_string());
        PANIC_FILE.with(|f| *f.borrow_mut() = file);
    }));
    let result = std::panic::catch_unwind(|| t(&[2]).add(&t(&[3])));
    std::panic::set_hook(previous);
    assert!(result.is_err());
    // #[track_caller] on the op: the reported location is this file, not the engine's.
    let file = PANIC_FILE.with(|f| f.borrow().clone()).expect("the hook saw the panic");
    assert!(file.ends_with("shape_errors.rs"), "panic located in {file}");
}

#[test]
#[should_panic(expected = "attention: kv_start has 1 entries for a batch of 2")]
fn attention_rejects_a_short_kv_start() {
    Tensor::attention(&t(&[2, 3, 2, 4]), &t(&[2, 3, 1, 4]), &t(&[2, 3, 1, 4]), true, Some(&[0]), 0.5);
}

#[test]
#[should_panic(expected = "attention_backward: kv_start[1] = 4 exceeds the 3 keys")]
fn attention_backward_rejects_kv_start_past_the_keys() {
    let (q, kv) = (t(&[2, 3, 2, 4]), t(&[2, 3, 1, 4]));
    Tensor::attention_backward(&q, &kv, &kv, &q, &t(&[2, 2, 3]), &q, true, Some(&[0, 4]), 0.5);
}

#[test]
#[should_panic(expected = "rope: 3 row offsets for a batch of 2")]
fn rope_rejects_row_offsets_of_another_batch() {
    t(&[2, 3, 2, 4]).rope(0, Some(&[0, -1, -2]), 10000.0, false);
}
