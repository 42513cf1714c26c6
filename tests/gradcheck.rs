//! The gradient-check table: every op of the engine's `Op` enum has one row. Differentiable
//! ops compare `backward()` with central finite differences in f64 (max relative error
//! ≤ 1e-6) on seeded shapes with broadcasting, non-contiguous inputs and odd sizes (1, 3,
//! 17); non-differentiable ops (`one_hot`, `adamw`, the fused backward kernels) are checked
//! against an oracle.
//! `table_covers_every_op` fails when a variant is added without a row.

mod common;

use common::{ids, randn, uniform};
use llamaforge_autograd::gradcheck::GradCheck;
use llamaforge_autograd::Var;
use llamaforge_engine::{AdamWParams, DType, Op, Tensor, UnaryOp};
use strum::IntoEnumIterator;

const TOL: f64 = 1e-6;

/// Runs one finite-difference check and fails with the worst element if it is off.
#[track_caller]
fn check(what: &str, inputs: &[Tensor], diff: &[bool], f: impl Fn(&[Var]) -> Var) {
    let report = GradCheck::default().run(inputs, diff, &f);
    assert!(
        report.max_rel_err <= TOL,
        "{what}: max relative error {:.3e} > {TOL:e} at input {} element {} (analytic {}, numeric {})",
        report.max_rel_err,
        report.worst.0,
        report.worst.1,
        report.worst.2,
        report.worst.3
    );
}

fn check1(what: &str, x: Tensor, f: impl Fn(&Var) -> Var) {
    check(what, &[x], &[true], |v| f(&v[0]));
}

fn check2(what: &str, a: Tensor, b: Tensor, f: impl Fn(&Var, &Var) -> Var) {
    check(what, &[a, b], &[true, true], |v| f(&v[0], &v[1]));
}

/// Unary op on a vector of 1, of 3, and a transposed [17, 3] view; `lo..hi` is the domain.
fn unary_cases(op: UnaryOp, lo: f64, hi: f64) {
    let name = op.op().name();
    check1(&format!("{name} [1]"), uniform(&[1], lo, hi, 1), |x| x.unary(op));
    check1(&format!("{name} [3]"), uniform(&[3], lo, hi, 2), |x| x.unary(op));
    check1(&format!("{name} transposed [3,17]ᵀ"), uniform(&[3, 17], lo, hi, 3), |x| x.transpose(0, 1).unary(op));
}

/// Binary op with broadcasting both ways, equal shapes and a transposed operand.
fn binary_cases(name: &str, lo: f64, hi: f64, f: fn(&Var, &Var) -> Var) {
    check2(&format!("{name} [3,1]·[1,4]"), uniform(&[3, 1], lo, hi, 1), uniform(&[1, 4], lo, hi, 2), f);
    check2(&format!("{name} [17]·[2,17]"), uniform(&[17], lo, hi, 3), uniform(&[2, 17], lo, hi, 4), f);
    check2(&format!("{name} [1]·[1]"), uniform(&[1], lo, hi, 5), uniform(&[1], lo, hi, 6), f);
    check2(&format!("{name} [3,5]ᵀ·[5,3]"), uniform(&[3, 5], lo, hi, 7), uniform(&[5, 3], lo, hi, 8), |a, b| {
        f(&a.transpose(0, 1), b)
    });
}

fn row(op: Op) -> fn() {
    match op {
        Op::Reshape => || {
            check1("reshape [3,4]→[2,6]", randn(&[3, 4], 1), |x| x.reshape(&[2, 6]));
            check1("reshape of transposed [3,4]ᵀ→[12]", randn(&[3, 4], 2), |x| x.transpose(0, 1).reshape(&[12]));
        },
        Op::Permute => || {
            check1("permute [2,3,5]→[5,2,3]", randn(&[2, 3, 5], 1), |x| x.permute(&[2, 0, 1]).exp());
        },
        Op::BroadcastTo => || {
            check1("broadcast [3,1]→[2,3,4]", randn(&[3, 1], 1), |x| x.broadcast_to(&[2, 3, 4]));
            check1("broadcast [1]→[17]", randn(&[1], 2), |x| x.broadcast_to(&[17]));
        },
        Op::Narrow => || {
            check1("narrow rows 1..4 of [5,4]", randn(&[5, 4], 1), |x| x.narrow(0, 1, 3));
            check1("narrow col 0 of [3,17]", randn(&[3, 17], 2), |x| x.narrow(1, 0, 1));
            check1("narrow tail of [17]", randn(&[17], 3), |x| x.narrow(0, 16, 1));
        },
        Op::Contiguous => || {
            check1("contiguous of [3,17]ᵀ", randn(&[3, 17], 1), |x| x.transpose(0, 1).contiguous());
        },
        Op::Neg => || unary_cases(UnaryOp::Neg, -2.0, 2.0),
        Op::Exp => || unary_cases(UnaryOp::Exp, -2.0, 2.0),
        Op::Log => || unary_cases(UnaryOp::Log, 0.2, 3.0),
        Op::Sqrt => || unary_cases(UnaryOp::Sqrt, 0.2, 3.0),
        Op::Recip => || unary_cases(UnaryOp::Recip, 0.3, 3.0),
        Op::Square => || unary_cases(UnaryOp::Square, -2.0, 2.0),
        Op::Sigmoid => || unary_cases(UnaryOp::Sigmoid, -4.0, 4.0),
        Op::Silu => || unary_cases(UnaryOp::Silu, -4.0, 4.0),
        Op::Tanh => || unary_cases(UnaryOp::Tanh, -2.0, 2.0),
        Op::Relu => || unary_cases(UnaryOp::Relu, -2.0, 2.0),
        Op::LogSigmoid => || unary_cases(UnaryOp::LogSigmoid, -6.0, 6.0),
        Op::Affine => || unary_cases(UnaryOp::Affine { mul: -1.7, add: 0.3 }, -2.0, 2.0),
        Op::Clamp => || unary_cases(UnaryOp::Clamp { lo: -0.5, hi: 0.7 }, -2.0, 2.0),
        Op::Powf => || unary_cases(UnaryOp::Powf(1.7), 0.2, 3.0),
        Op::Add => || binary_cases("add", -2.0, 2.0, |a, b| a.add(b)),
        Op::Sub => || binary_cases("sub", -2.0, 2.0, |a, b| a.sub(b)),
        Op::Mul => || binary_cases("mul", -2.0, 2.0, |a, b| a.mul(b)),
        Op::Div => || binary_cases("div", 0.5, 2.0, |a, b| a.div(b)),
        Op::Maximum => || binary_cases("maximum", -2.0, 2.0, |a, b| a.maximum(b)),
        Op::Minimum => || binary_cases("minimum", -2.0, 2.0, |a, b| a.minimum(b)),
        Op::Sum => || {
            for keep in [false, true] {
                check1("sum axis 0 of [3,17]", randn(&[3, 17], 1), |x| x.sum(0, keep));
                check1("sum axis 1 of [3,17]", randn(&[3, 17], 2), |x| x.sum(1, keep));
                check1("sum axis 1 of [2,3,5]ᵀ", randn(&[2, 3, 5], 3), |x| x.permute(&[2, 0, 1]).sum(1, keep));
                check1("sum of [1]", randn(&[1], 4), |x| x.sum(0, keep));
            }
        },
        Op::Max => || {
            for keep in [false, true] {
                check1("max axis 0 of [3,17]", randn(&[3, 17], 1), |x| x.max(0, keep));
                check1("max axis 1 of [3,17]ᵀ", randn(&[3, 17], 2), |x| x.transpose(0, 1).max(1, keep));
                check1("max of [1]", randn(&[1], 3), |x| x.max(0, keep));
            }
        },
        Op::Matmul => || {
            check2("matmul [3,17]·[17,1]", randn(&[3, 17], 1), randn(&[17, 1], 2), |a, b| a.matmul(b));
            check2("matmul [2,3,4]·[4,5] (shared rhs)", randn(&[2, 3, 4], 3), randn(&[4, 5], 4), |a, b| a.matmul(b));
            check2("matmul [3,4]·([5,4])ᵀ", randn(&[3, 4], 5), randn(&[5, 4], 6), |a, b| {
                a.matmul(&b.transpose(0, 1))
            });
            check2("matmul ([2,4,3])ᵀ·[2,4,2]", randn(&[2, 4, 3], 7), randn(&[2, 4, 2], 8), |a, b| {
                a.transpose(1, 2).matmul(b)
            });
            check2(
                "matmul [2,1,3,4]·[3,4,2] (batch broadcast)",
                randn(&[2, 1, 3, 4], 9),
                randn(&[3, 4, 2], 10),
                |a, b| a.matmul(b),
            );
        },
        Op::Where => || {
            let cond = randn(&[3, 4], 1);
            check2("where [3,4] ? [3,4] : [4]", randn(&[3, 4], 2), randn(&[4], 3), move |a, b| {
                Var::where_cond(&cond, a, b)
            });
        },
        Op::Gather => || {
            check1("gather [3,5] by [3]", randn(&[3, 5], 1), |x| x.gather(&ids(&[4, 0, 2], &[3])));
            check1("gather [2,3,4] by [2,3]", randn(&[2, 3, 4], 2), |x| x.gather(&ids(&[0, 3, 3, 1, 2, 0], &[2, 3])));
        },
        Op::OneHot => || {
            let t = Tensor::one_hot(&ids(&[2, 0, 2], &[3]), 4, DType::F64).to_vec_f64();
            assert_eq!(t, vec![0., 0., 1., 0., 1., 0., 0., 0., 0., 0., 1., 0.], "one_hot oracle");
        },
        Op::IndexSelect => || {
            check1("index_select [5,3] by [4] (repeats)", randn(&[5, 3], 1), |x| {
                x.index_select(&ids(&[4, 1, 4, 0], &[4]))
            });
            check1("index_select [17,1] by [2,3]", randn(&[17, 1], 2), |x| {
                x.index_select(&ids(&[16, 0, 3, 3, 9, 1], &[2, 3]))
            });
        },
        Op::ScatterAdd => || {
            check1("scatter_add [4,3] into 5 rows", randn(&[4, 3], 1), |x| x.scatter_add(&ids(&[1, 4, 1, 0], &[4]), 5));
        },
        Op::Concat => || {
            check(
                "concat axis 1 of [2,3],[2,1],[2,4]",
                &[randn(&[2, 3], 1), randn(&[2, 1], 2), randn(&[2, 4], 3)],
                &[true, true, true],
                |v| Var::concat(v, 1),
            );
            check2("concat axis 0 of [1,17],[3,17]ᵀ", randn(&[1, 17], 4), randn(&[17, 3], 5), |a, b| {
                Var::concat(&[a.clone(), b.transpose(0, 1)], 0)
            });
        },
        Op::Softmax => || {
            check1("softmax [3,5]", randn(&[3, 5], 1), |x| x.softmax(false));
            check1("softmax causal [2,4,4]", randn(&[2, 4, 4], 2), |x| x.softmax(true));
            check1("softmax causal [2,3,5] (cached keys)", randn(&[2, 3, 5], 3), |x| x.softmax(true));
            check1("softmax [17,1]ᵀ", randn(&[17, 1], 4), |x| x.transpose(0, 1).softmax(false));
        },
        Op::LogSoftmax => || {
            check1("log_softmax [3,17]", randn(&[3, 17], 1), |x| x.log_softmax());
            check1("log_softmax [1,1]", randn(&[1, 1], 2), |x| x.log_softmax());
            check1("log_softmax [5,3]ᵀ", randn(&[5, 3], 3), |x| x.transpose(0, 1).log_softmax());
        },
        Op::CrossEntropy => || {
            let targets = ids(&[3, 0, u32::MAX, 6, 2], &[5]);
            check1("cross_entropy [5,7] with one ignored", randn(&[5, 7], 1), move |x| {
                x.cross_entropy(&targets, u32::MAX)
            });
            check1("cross_entropy [1,17]", randn(&[1, 17], 2), |x| x.cross_entropy(&ids(&[16], &[1]), u32::MAX));
            let all_ignored = randn(&[2, 3], 3).cross_entropy(&ids(&[9, 9], &[2]), 9).to_scalar();
            assert_eq!(all_ignored, 0.0, "cross_entropy with every target ignored is 0");
        },
        Op::CrossEntropyBackward => || {
            // the fused kernel against the composite it replaces, (softmax − onehot)·valid/count·g
            let (x, targets) = (randn(&[6, 17], 1), [3u32, 0, 9, 16, 2, 9]);
            let t = ids(&targets, &[6]);
            let fused = x.cross_entropy_backward(&t, 9, &Tensor::scalar(0.7, DType::F64));
            let safe: Vec<u32> = targets.iter().map(|&t| if t == 9 { 0 } else { t }).collect();
            let valid: Vec<f64> = targets.iter().map(|&t| if t == 9 { 0.0 } else { 1.0 }).collect();
            let composite = x
                .softmax(false)
                .sub(&Tensor::one_hot(&ids(&safe, &[6]), 17, DType::F64))
                .mul(&Tensor::from_vec(valid, &[6, 1]))
                .scale(0.7 / 4.0);
            assert!(common::max_abs_diff(&fused, &composite) < 1e-14, "cross_entropy_backward vs composite");
            let none = x.cross_entropy_backward(&ids(&[9; 6], &[6]), 9, &Tensor::scalar(1.0, DType::F64));
            assert!(none.to_vec_f64().iter().all(|&g| g == 0.0), "all ignored → zero gradient");
        },
        Op::RmsNorm => || {
            check2("rms_norm [2,3,17]", randn(&[2, 3, 17], 1), uniform(&[17], 0.5, 1.5, 2), |x, w| x.rms_norm(w, 1e-5));
            check2("rms_norm [1,1]", randn(&[1, 1], 3), uniform(&[1], 0.5, 1.5, 4), |x, w| x.rms_norm(w, 1e-5));
            check2("rms_norm [4,3]ᵀ", randn(&[4, 3], 5), uniform(&[4], 0.5, 1.5, 6), |x, w| {
                x.transpose(0, 1).rms_norm(w, 1e-5)
            });
        },
        Op::RmsNormBackward => rms_norm_backward_oracle,
        Op::Rope => || {
            check1("rope [2,3,2,4] at offset 5", randn(&[2, 3, 2, 4], 1), |x| x.rope(5, None, 10000.0));
            check1("rope [3,3,2,4] at 1 with row offsets [-2, 0, 3]", randn(&[3, 3, 2, 4], 4), |x| {
                x.rope(1, Some(&[-2, 0, 3]), 10000.0)
            });
            check1("rope [1,17,1,2]", randn(&[1, 17, 1, 2], 2), |x| x.rope(0, None, 10000.0));
            check1("rope of permuted [2,2,3,4]→[2,3,2,4]", randn(&[2, 2, 3, 4], 3), |x| {
                x.permute(&[0, 2, 1, 3]).rope(1, None, 100.0)
            });
        },
        Op::SwiGlu => || {
            check2("swiglu [3,17]", randn(&[3, 17], 1), randn(&[3, 17], 2), |a, b| a.swiglu(b));
            check2("swiglu [1]", randn(&[1], 3), randn(&[1], 4), |a, b| a.swiglu(b));
            check2("swiglu [17,3]ᵀ", randn(&[17, 3], 5), randn(&[3, 17], 6), |a, b| a.transpose(0, 1).swiglu(b));
        },
        Op::SwiGluBackward => swiglu_backward_oracle,
        Op::Attention => || {
            for causal in [true, false] {
                let inputs = [randn(&[2, 3, 4, 2], 1), randn(&[2, 3, 2, 2], 2), randn(&[2, 3, 2, 2], 3)];
                check(&format!("attention GQA causal={causal}"), &inputs, &[true; 3], move |v| {
                    Var::attention(&v[0], &v[1], &v[2], causal, None)
                });
            }
            let inputs = [randn(&[1, 2, 3, 4], 4), randn(&[1, 5, 1, 4], 5), randn(&[1, 5, 1, 4], 6)];
            check("attention causal with 3 cached keys", &inputs, &[true; 3], |v| {
                Var::attention(&v[0], &v[1], &v[2], true, None)
            });
            let inputs = [randn(&[1, 3, 4, 2], 7), randn(&[1, 4, 1, 2], 8), randn(&[1, 4, 1, 2], 9)];
            check("attention of permuted (non-contiguous) q", &inputs, &[true; 3], |v| {
                Var::attention(&v[0].permute(&[0, 2, 1, 3]), &v[1], &v[2], true, None)
            });
            // left padding (kv_start): row 1's queries 0 and 1 see no key at all
            let inputs = [randn(&[2, 3, 4, 2], 10), randn(&[2, 3, 2, 2], 11), randn(&[2, 3, 2, 2], 12)];
            check("attention GQA causal, kv_start [1, 2] (pad queries)", &inputs, &[true; 3], |v| {
                Var::attention(&v[0], &v[1], &v[2], true, Some(&[1, 2]))
            });
            // with 3 cached keys: row 0's query 0 sees nothing, query 1 only key 4
            let inputs = [randn(&[2, 2, 4, 2], 13), randn(&[2, 5, 2, 2], 14), randn(&[2, 5, 2, 2], 15)];
            check("attention GQA causal, 3 cached keys, kv_start [4, 1]", &inputs, &[true; 3], |v| {
                Var::attention(&v[0], &v[1], &v[2], true, Some(&[4, 1]))
            });
            // without the causal mask; row 0 is padding throughout
            let inputs = [randn(&[2, 2, 4, 2], 16), randn(&[2, 5, 2, 2], 17), randn(&[2, 5, 2, 2], 18)];
            check("attention GQA full, kv_start [5, 2] (a fully padded row)", &inputs, &[true; 3], |v| {
                Var::attention(&v[0], &v[1], &v[2], false, Some(&[5, 2]))
            });
        },
        Op::AttentionBackward => || {
            attention_backward_oracle();
            attention_padding_oracle();
        },
        Op::AdamW => adamw_oracle,
    }
}

/// Largest `|a − b| / max(|b|, 1)`, and whether `a` is bit for bit `again` (a second run).
#[track_caller]
fn oracle_err(a: &Tensor, b: &Tensor, again: &Tensor) -> f64 {
    let bits = |t: &Tensor| t.to_vec_f64().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(a), bits(again), "a second run gives other bits");
    common::max_rel_diff(a, b, 1.0)
}

/// The fused RMSNorm backward kernel against the composite it replaces (f64): a
/// transposed x, a broadcast (stride-0) gradient such as a sum's backward produces, odd
/// sizes, and [130, 300] — on the parallel path, with dw summed from several tasks.
fn rms_norm_backward_oracle() {
    let eps = 1e-5;
    let composite = |x: &Tensor, w: &Tensor, g: &Tensor| {
        let last = x.rank() - 1;
        let r = x.square().mean(last, true).affine(1.0, eps).sqrt().recip();
        let xhat = x.mul(&r);
        let gw = g.mul(w);
        let dx = r.mul(&gw.sub(&xhat.mul(&gw.mul(&xhat).mean(last, true))));
        (dx, g.mul(&xhat).sum_to(w.shape()))
    };
    let cases = [
        ("[2,3,17]", randn(&[2, 3, 17], 1), uniform(&[17], 0.5, 1.5, 2), randn(&[2, 3, 17], 3)),
        ("[1,1]", randn(&[1, 1], 4), uniform(&[1], 0.5, 1.5, 5), randn(&[1, 1], 6)),
        ("[4,3]ᵀ", randn(&[4, 3], 7).transpose(0, 1), uniform(&[4], 0.5, 1.5, 8), randn(&[3, 4], 9)),
        ("[5,7] with grad [7]→[5,7]", randn(&[5, 7], 10), randn(&[7], 11), randn(&[7], 12).broadcast_to(&[5, 7])),
        ("[130,300]", randn(&[130, 300], 13), uniform(&[300], 0.5, 1.5, 14), randn(&[130, 300], 15)),
    ];
    for (name, x, w, g) in cases {
        let (dx, dw) = x.rms_norm_backward(&w, &g, eps);
        let (again_dx, again_dw) = x.rms_norm_backward(&w, &g, eps);
        let (want_dx, want_dw) = composite(&x, &w, &g);
        let err = oracle_err(&dx, &want_dx, &again_dx);
        assert!(err < 1e-12, "rms_norm_backward {name}: dx vs composite {err:e}");
        let err = oracle_err(&dw, &want_dw, &again_dw);
        assert!(err < 1e-12, "rms_norm_backward {name}: dweight vs composite {err:e}");
    }
}

/// The fused SwiGLU backward kernel against the composite it replaces (f64), with gate
/// values out to ±30 (σ saturates), a transposed gate, a broadcast gradient, and 40,000
/// elements (the parallel path).
fn swiglu_backward_oracle() {
    let composite = |a: &Tensor, up: &Tensor, g: &Tensor| {
        let s = a.sigmoid();
        let dsilu = s.mul(&a.mul(&s.affine(-1.0, 1.0)).affine(1.0, 1.0));
        (g.mul(up).mul(&dsilu), g.mul(&a.silu()))
    };
    let cases = [
        ("[3,17]", uniform(&[3, 17], -30.0, 30.0, 1), randn(&[3, 17], 2), randn(&[3, 17], 3)),
        ("[1]", randn(&[1], 4), randn(&[1], 5), randn(&[1], 6)),
        ("[17,3]ᵀ", randn(&[17, 3], 7).transpose(0, 1), randn(&[3, 17], 8), randn(&[3, 17], 9)),
        ("[4,5] with grad [5]→[4,5]", randn(&[4, 5], 10), randn(&[4, 5], 11), randn(&[5], 12).broadcast_to(&[4, 5])),
        ("[40000]", uniform(&[40_000], -8.0, 8.0, 13), randn(&[40_000], 14), randn(&[40_000], 15)),
    ];
    for (name, a, up, g) in cases {
        let (da, dup) = a.swiglu_backward(&up, &g);
        let (again_da, again_dup) = a.swiglu_backward(&up, &g);
        let (want_da, want_dup) = composite(&a, &up, &g);
        let err = oracle_err(&da, &want_da, &again_da);
        assert!(err < 1e-12, "swiglu_backward {name}: da vs composite {err:e}");
        let err = oracle_err(&dup, &want_dup, &again_dup);
        assert!(err < 1e-12, "swiglu_backward {name}: dup vs composite {err:e}");
    }
}

/// The fused attention kernels against the same attention composed of matmul, causal
/// softmax and broadcasting (whose gradients the other rows prove): outputs and all three
/// gradients agree to 1e-10 in f64, for 130 queries (more than two blocks of 64).
fn attention_backward_oracle() {
    let (b, t, h, kv, d) = (2, 130, 4, 2, 3);
    let (q, k, v) =
        (Var::leaf(randn(&[b, t, h, d], 1)), Var::leaf(randn(&[b, t, kv, d], 2)), Var::leaf(randn(&[b, t, kv, d], 3)));
    let dout = randn(&[b, t, h, d], 4);
    Var::attention(&q, &k, &v, true, None).backward_with(dout.clone());
    let fused: Vec<Tensor> = [&q, &k, &v].iter().map(|x| x.take_grad().expect("grad")).collect();

    let heads = |x: &Var, n: usize| {
        x.permute(&[0, 2, 1, 3]).unsqueeze(2).broadcast_to(&[b, n, h / n, t, d]).reshape(&[b, h, t, d])
    };
    let qh = q.permute(&[0, 2, 1, 3]); // [B,H,T,D]
    let scores = qh.matmul(&heads(&k, kv).transpose(2, 3)).scale(1.0 / (d as f64).sqrt());
    let composite = scores.softmax(true).matmul(&heads(&v, kv)).permute(&[0, 2, 1, 3]); // [B,T,H,D]
    let expected_out = Var::attention(&q, &k, &v, true, None).value();
    assert!(common::max_abs_diff(&composite.value(), &expected_out) < 1e-10, "attention forward vs composite");
    composite.backward_with(dout);
    for (name, (x, f)) in ["dq", "dk", "dv"].iter().zip([&q, &k, &v].iter().zip(&fused)) {
        let err = common::max_abs_diff(&x.grad().expect("grad"), f);
        assert!(err < 1e-10, "attention_backward {name} vs composite: {err:e}");
    }
}

/// Left padding against the unpadded op: in f64, with 130 queries (three blocks of 64),
/// row `b` of a batch padded with `kv_start[b]` = s gives the outputs and q/k/v gradients
/// of attention over that row's real keys `s..` alone: causal, for its real queries `s..`
/// (the pad queries before s see no key: their outputs and gradients are exactly 0);
/// without the causal mask, for every query (all of them see the real keys). The pad
/// keys' gradients are exactly 0 and lse stays finite. Row 0's first block is padding
/// throughout, row 2 has none.
fn attention_padding_oracle() {
    let (b, t, h, kv, d) = (3, 130, 4, 2, 3);
    let starts = [70u32, 5, 0];
    let inputs = [randn(&[b, t, h, d], 1), randn(&[b, t, kv, d], 2), randn(&[b, t, kv, d], 3)];
    let dout = randn(&[b, t, h, d], 4);
    for causal in [true, false] {
        let qkv: Vec<Var> = inputs.iter().map(|x| Var::leaf(x.clone())).collect();
        let padded = Var::attention(&qkv[0], &qkv[1], &qkv[2], causal, Some(&starts));
        padded.backward_with(dout.clone());
        let (_, lse) = Tensor::attention(&inputs[0], &inputs[1], &inputs[2], causal, Some(&starts), 0.5);
        assert!(lse.to_vec_f64().iter().all(|l| l.is_finite()), "causal={causal}: lse not finite");
        for (row, &start) in starts.iter().enumerate() {
            let s = start as usize;
            // first query that sees a real key
            let q0 = if causal { s } else { 0 };
            let what = |x: &str| format!("attention kv_start causal={causal} row {row} (start {s}): {x}");
            let in_row = |x: &Tensor, from: usize| x.narrow(0, row, 1).narrow(1, from, t - from);
            let pads = |x: &Tensor, len: usize| x.narrow(0, row, 1).narrow(1, 0, len).to_vec_f64();
            let alone: Vec<Var> = [(&inputs[0], q0), (&inputs[1], s), (&inputs[2], s)]
                .iter()
                .map(|(x, f)| Var::leaf(in_row(x, *f)))
                .collect();
            let out = Var::attention(&alone[0], &alone[1], &alone[2], causal, None);
            out.backward_with(in_row(&dout, q0));
            let err = common::max_abs_diff(&in_row(&padded.value(), q0), &out.value());
            assert!(err < 1e-12, "{}", what(&format!("out differs from the unpadded row by {err:e}")));
            assert!(pads(&padded.value(), q0).iter().all(|&x| x == 0.0), "{}", what("pad queries must output 0"));
            for ((name, from), (x, alone)) in [("dq", q0), ("dk", s), ("dv", s)].iter().zip(qkv.iter().zip(&alone)) {
                let grad = x.grad().expect("grad");
                let err = common::max_abs_diff(&in_row(&grad, *from), &alone.grad().expect("grad"));
                assert!(err < 1e-12, "{}", what(&format!("{name} differs from the unpadded row by {err:e}")));
                let zero = pads(&grad, *from).iter().all(|&g| g == 0.0);
                assert!(zero, "{}", what(&format!("{name} of pad positions must be 0")));
            }
        }
    }
}

/// AdamW against the textbook formula in f64, element by element, over three steps.
fn adamw_oracle() {
    let hp = |step| AdamWParams { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-5, weight_decay: 0.1, step };
    let (mut p, mut m, mut v) = (randn(&[17], 1), Tensor::zeros(&[17], DType::F64), Tensor::zeros(&[17], DType::F64));
    let (mut pe, mut me, mut ve) = (p.to_vec_f64(), vec![0.0; 17], vec![0.0; 17]);
    for step in 1..=3u64 {
        let g = randn(&[17], 10 + step);
        Tensor::adamw(&mut p, &g, &mut m, &mut v, hp(step));
        let h = hp(step);
        for (i, &gi) in g.to_vec_f64().iter().enumerate() {
            pe[i] *= 1.0 - h.lr * h.weight_decay;
            me[i] = h.beta1 * me[i] + (1.0 - h.beta1) * gi;
            ve[i] = h.beta2 * ve[i] + (1.0 - h.beta2) * gi * gi;
            let mhat = me[i] / (1.0 - h.beta1.powi(step as i32));
            let vhat = ve[i] / (1.0 - h.beta2.powi(step as i32));
            pe[i] -= h.lr * mhat / (vhat.sqrt() + h.eps);
        }
    }
    for (a, e) in p.to_vec_f64().iter().zip(&pe) {
        assert!((a - e).abs() <= 1e-12 * e.abs().max(1.0), "adamw oracle: {a} vs {e}");
    }
}

#[test]
fn table_covers_every_op() {
    // `row` is an exhaustive match, so a variant without a row does not compile; every row
    // runs here and all failures are reported together.
    let mut failures = Vec::new();
    let mut ran = 0;
    for op in Op::iter() {
        if let Err(e) = std::panic::catch_unwind(row(op)) {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(format!("{}: {}", op.name(), msg.unwrap_or_default()));
        }
        ran += 1;
    }
    assert_eq!(ran, <Op as strum::EnumCount>::COUNT);
    assert!(failures.is_empty(), "{} of {ran} gradcheck rows failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn composite_attention_block() {
    let (b, t, c, h, kv) = (2, 3, 8, 4, 2);
    let d = c / h;
    let inputs = [
        randn(&[b, t, c], 1),
        randn(&[h * d, c], 2),
        randn(&[kv * d, c], 3),
        randn(&[kv * d, c], 4),
        randn(&[c, h * d], 5),
    ];
    check("attention block (GQA, RoPE, causal)", &inputs.map(|t| t.scale(0.5)), &[true; 5], |v| {
        common::blocks::attention(&v[0], &v[1], &v[2], &v[3], &v[4], h, kv, 10000.0)
    });
}

#[test]
fn composite_swiglu_mlp() {
    let (b, t, c, f) = (2, 3, 6, 5);
    let inputs =
        [randn(&[b, t, c], 1), uniform(&[c], 0.5, 1.5, 2), randn(&[f, c], 3), randn(&[c, f], 4), randn(&[f, c], 5)];
    check("rmsnorm + swiglu mlp block", &inputs, &[true; 5], |v| {
        common::blocks::mlp(&v[0], &v[1], &v[2], &v[3], &v[4], 1e-5)
    });
}
