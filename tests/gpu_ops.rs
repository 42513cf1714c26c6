//! The GPU backend against the CPU, op by op, on the shapes of the gradcheck table:
//! forward outputs (GPU f32 vs CPU f32) agree to 1e-5, and gradients of a random
//! projection of the output (GPU f32 vs CPU f64) to 1e-4, relative (absolute below 1).
//! `every_op_runs_on_the_gpu` iterates the whole `Op` enum, so a new op without a GPU
//! case — or without a WGSL entry point — fails here.

mod common;
mod gpu;

use common::{ids, randn, uniform};
use gpu::{f32_on, gpu_or_skip, rel_err};
use llamaforge_autograd::Var;
use llamaforge_engine::gpu::{gpu_entry, shader_source};
use llamaforge_engine::{AdamWParams, DType, Device, Op, Tensor, UnaryOp};
use strum::IntoEnumIterator;

const FORWARD_TOL: f64 = 1e-5;
const GRAD_TOL: f64 = 1e-4;

type Body = Box<dyn Fn(&[Var]) -> Var>;

/// Runs `f` on the CPU (f32 forward, f64 gradients) and on the GPU (f32), and compares.
#[track_caller]
fn compare(gpu: Device, what: &str, inputs: &[Tensor], diff: &[bool], f: &dyn Fn(&[Var]) -> Var) {
    let vars = |ts: Vec<Tensor>| -> Vec<Var> {
        ts.into_iter().zip(diff).map(|(t, &d)| if d { Var::leaf(t) } else { Var::constant(t) }).collect()
    };
    let cpu32 = f(&vars(inputs.iter().map(|t| f32_on(t, Device::Cpu)).collect())).value();
    let g = vars(inputs.iter().map(|t| f32_on(t, gpu)).collect());
    let y = f(&g);
    assert_eq!(y.value().device(), gpu, "{what}: output left the GPU");
    let err = rel_err(what, &y.value(), &cpu32);
    assert!(err <= FORWARD_TOL, "{what}: GPU forward differs from the CPU by {err:.3e}");
    if !diff.iter().any(|&d| d) {
        return;
    }
    let seed = randn(&y.shape(), 99);
    let c = vars(inputs.to_vec());
    f(&c).backward_with(seed.clone());
    y.backward_with(f32_on(&seed, gpu));
    for (i, (gv, cv)) in g.iter().zip(&c).enumerate().filter(|(i, _)| diff[*i]) {
        let (gg, cg) = (gv.grad().expect("gpu grad"), cv.grad().expect("cpu grad"));
        let err = rel_err(what, &gg, &cg);
        assert!(err <= GRAD_TOL, "{what}: gradient of input {i} differs from the CPU's f64 by {err:.3e}");
    }
}

fn one(f: impl Fn(&Var) -> Var + 'static) -> Body {
    Box::new(move |v| f(&v[0]))
}
fn two(f: impl Fn(&Var, &Var) -> Var + 'static) -> Body {
    Box::new(move |v| f(&v[0], &v[1]))
}

/// `(name, inputs, differentiable, body)` cases of one op.
type Case = (String, Vec<Tensor>, Vec<bool>, Body);

fn unary_cases(op: UnaryOp, lo: f64, hi: f64) -> Vec<Case> {
    let name = op.op().name();
    vec![
        (format!("{name} [3]"), vec![uniform(&[3], lo, hi, 2)], vec![true], one(move |x| x.unary(op))),
        (
            format!("{name} [3,17]ᵀ"),
            vec![uniform(&[3, 17], lo, hi, 3)],
            vec![true],
            one(move |x| x.transpose(0, 1).unary(op)),
        ),
    ]
}

fn binary_cases(name: &str, lo: f64, hi: f64, f: fn(&Var, &Var) -> Var) -> Vec<Case> {
    vec![
        (
            format!("{name} [3,1]·[1,4]"),
            vec![uniform(&[3, 1], lo, hi, 1), uniform(&[1, 4], lo, hi, 2)],
            vec![true; 2],
            two(f),
        ),
        (
            format!("{name} [17]·[2,17]"),
            vec![uniform(&[17], lo, hi, 3), uniform(&[2, 17], lo, hi, 4)],
            vec![true; 2],
            two(f),
        ),
        (
            format!("{name} [3,5]ᵀ·[5,3]"),
            vec![uniform(&[3, 5], lo, hi, 7), uniform(&[5, 3], lo, hi, 8)],
            vec![true; 2],
            two(move |a, b| f(&a.transpose(0, 1), b)),
        ),
    ]
}

fn case(name: &str, inputs: Vec<Tensor>, body: Body) -> Vec<Case> {
    let n = inputs.len();
    vec![(name.to_string(), inputs, vec![true; n], body)]
}

/// The two outputs of a backward kernel, flattened and concatenated, as one constant.
fn both(outputs: (Tensor, Tensor)) -> Var {
    let flat = |t: Tensor| t.reshape(&[t.numel()]);
    Var::constant(Tensor::concat(&[flat(outputs.0), flat(outputs.1)], 0))
}

/// A case of a kernel checked output to output (its inputs are constants).
fn direct_case(name: &str, inputs: Vec<Tensor>, body: Body) -> Vec<Case> {
    let n = inputs.len();
    vec![(name.to_string(), inputs, vec![false; n], body)]
}

fn cases(op: Op) -> Vec<Case> {
    match op {
        Op::Reshape => {
            case("reshape of [3,4]ᵀ→[12]", vec![randn(&[3, 4], 2)], one(|x| x.transpose(0, 1).reshape(&[12])))
        }
        Op::Permute => {
            case("permute [2,3,5]→[5,2,3]", vec![randn(&[2, 3, 5], 1)], one(|x| x.permute(&[2, 0, 1]).exp()))
        }
        Op::BroadcastTo => {
            case("broadcast [3,1]→[2,3,4]", vec![randn(&[3, 1], 1)], one(|x| x.broadcast_to(&[2, 3, 4]).exp()))
        }
        Op::Narrow => case("narrow rows 1..4 of [5,4]", vec![randn(&[5, 4], 1)], one(|x| x.narrow(0, 1, 3).exp())),
        Op::Contiguous => {
            case("contiguous of [3,17]ᵀ", vec![randn(&[3, 17], 1)], one(|x| x.transpose(0, 1).contiguous()))
        }
        Op::Neg => unary_cases(UnaryOp::Neg, -2.0, 2.0),
        Op::Exp => unary_cases(UnaryOp::Exp, -2.0, 2.0),
        Op::Log => unary_cases(UnaryOp::Log, 0.2, 3.0),
        Op::Sqrt => unary_cases(UnaryOp::Sqrt, 0.2, 3.0),
        Op::Recip => unary_cases(UnaryOp::Recip, 0.3, 3.0),
        Op::Square => unary_cases(UnaryOp::Square, -2.0, 2.0),
        Op::Sigmoid => unary_cases(UnaryOp::Sigmoid, -4.0, 4.0),
        Op::Silu => unary_cases(UnaryOp::Silu, -4.0, 4.0),
        Op::Tanh => unary_cases(UnaryOp::Tanh, -2.0, 2.0),
        Op::Relu => unary_cases(UnaryOp::Relu, -2.0, 2.0),
        Op::LogSigmoid => unary_cases(UnaryOp::LogSigmoid, -6.0, 6.0),
        Op::Affine => unary_cases(UnaryOp::Affine { mul: -1.7, add: 0.3 }, -2.0, 2.0),
        Op::Clamp => unary_cases(UnaryOp::Clamp { lo: -0.5, hi: 0.7 }, -2.0, 2.0),
        Op::Powf => unary_cases(UnaryOp::Powf(1.7), 0.2, 3.0),
        Op::Add => binary_cases("add", -2.0, 2.0, |a, b| a.add(b)),
        Op::Sub => binary_cases("sub", -2.0, 2.0, |a, b| a.sub(b)),
        Op::Mul => binary_cases("mul", -2.0, 2.0, |a, b| a.mul(b)),
        Op::Div => binary_cases("div", 0.5, 2.0, |a, b| a.div(b)),
        Op::Maximum => binary_cases("maximum", -2.0, 2.0, |a, b| a.maximum(b)),
        Op::Minimum => binary_cases("minimum", -2.0, 2.0, |a, b| a.minimum(b)),
        Op::Sum => {
            let mut c = case("sum axis 0 of [3,17]", vec![randn(&[3, 17], 1)], one(|x| x.sum(0, false)));
            c.extend(case(
                "sum axis 1 of [2,3,5]ᵀ",
                vec![randn(&[2, 3, 5], 3)],
                one(|x| x.permute(&[2, 0, 1]).sum(1, true)),
            ));
            c.extend(case("sum of [600]", vec![randn(&[600], 4)], one(|x| x.sum(0, false))));
            c
        }
        Op::Max => {
            let mut c = case("max axis 0 of [3,17]", vec![randn(&[3, 17], 1)], one(|x| x.max(0, false)));
            c.extend(case("max axis 1 of [3,17]ᵀ", vec![randn(&[3, 17], 2)], one(|x| x.transpose(0, 1).max(1, true))));
            c
        }
        Op::Matmul => {
            let mut c =
                case("matmul [3,17]·[17,1]", vec![randn(&[3, 17], 1), randn(&[17, 1], 2)], two(|a, b| a.matmul(b)));
            c.extend(case(
                "matmul [2,3,4]·[4,5]",
                vec![randn(&[2, 3, 4], 3), randn(&[4, 5], 4)],
                two(|a, b| a.matmul(b)),
            ));
            c.extend(case(
                "matmul [3,4]·([5,4])ᵀ",
                vec![randn(&[3, 4], 5), randn(&[5, 4], 6)],
                two(|a, b| a.matmul(&b.transpose(0, 1))),
            ));
            c.extend(case(
                "matmul [2,1,3,4]·[3,4,2]",
                vec![randn(&[2, 1, 3, 4], 9), randn(&[3, 4, 2], 10)],
                two(|a, b| a.matmul(b)),
            ));
            c.extend(case(
                "matmul [70,33]·[33,130] (several tiles)",
                vec![randn(&[70, 33], 11), randn(&[33, 130], 12)],
                two(|a, b| a.matmul(b)),
            ));
            c
        }
        Op::Where => vec![(
            "where [3,4] ? [3,4] : [4]".into(),
            vec![randn(&[3, 4], 1), randn(&[3, 4], 2), randn(&[4], 3)],
            vec![false, true, true],
            Box::new(|v: &[Var]| Var::where_cond(&v[0].value(), &v[1], &v[2])),
        )],
        Op::Gather => case(
            "gather [2,3,4] by [2,3]",
            vec![randn(&[2, 3, 4], 2)],
            one(|x| x.gather(&ids(&[0, 3, 3, 1, 2, 0], &[2, 3]))),
        ),
        Op::OneHot => vec![],
        Op::IndexSelect => case(
            "index_select [5,3] by [4]",
            vec![randn(&[5, 3], 1)],
            one(|x| x.index_select(&ids(&[4, 1, 4, 0], &[4]))),
        ),
        Op::ScatterAdd => case(
            "scatter_add [4,3] into 5 rows",
            vec![randn(&[4, 3], 1)],
            one(|x| x.scatter_add(&ids(&[1, 4, 1, 0], &[4]), 5)),
        ),
        Op::Concat => {
            let mut c = vec![(
                "concat axis 1 of [2,3],[2,1],[2,4]".to_string(),
                vec![randn(&[2, 3], 1), randn(&[2, 1], 2), randn(&[2, 4], 3)],
                vec![true; 3],
                Box::new(|v: &[Var]| Var::concat(v, 1)) as Body,
            )];
            c.extend(case(
                "concat axis 0 of [1,17],[3,17]ᵀ",
                vec![randn(&[1, 17], 4), randn(&[17, 3], 5)],
                two(|a, b| Var::concat(&[a.clone(), b.transpose(0, 1)], 0)),
            ));
            c
        }
        Op::Softmax => {
            let mut c = case("softmax [3,5]", vec![randn(&[3, 5], 1)], one(|x| x.softmax(false)));
            c.extend(case("softmax causal [2,3,5]", vec![randn(&[2, 3, 5], 3)], one(|x| x.softmax(true))));
            c.extend(case("softmax [17,1]ᵀ", vec![randn(&[17, 1], 4)], one(|x| x.transpose(0, 1).softmax(false))));
            c
        }
        Op::LogSoftmax => case("log_softmax [5,3]ᵀ", vec![randn(&[5, 3], 3)], one(|x| x.transpose(0, 1).log_softmax())),
        Op::CrossEntropy => {
            let t = ids(&[3, 0, u32::MAX, 6, 2], &[5]);
            case(
                "cross_entropy [5,7] one ignored",
                vec![randn(&[5, 7], 1)],
                one(move |x| x.cross_entropy(&t, u32::MAX)),
            )
        }
        Op::CrossEntropyBackward => {
            let t = ids(&[3, 0, u32::MAX, 6, 2], &[5]);
            vec![(
                "cross_entropy_backward [5,7] one ignored".into(),
                vec![randn(&[5, 7], 1), Tensor::full(&[], 0.7, DType::F64)],
                vec![false, false],
                Box::new(move |v: &[Var]| {
                    Var::constant(v[0].value().cross_entropy_backward(&t, u32::MAX, &v[1].value()))
                }),
            )]
        }
        Op::RmsNorm => {
            let mut c = case(
                "rms_norm [2,3,17]",
                vec![randn(&[2, 3, 17], 1), uniform(&[17], 0.5, 1.5, 2)],
                two(|x, w| x.rms_norm(w, 1e-5)),
            );
            c.extend(case(
                "rms_norm [4,3]ᵀ",
                vec![randn(&[4, 3], 5), uniform(&[4], 0.5, 1.5, 6)],
                two(|x, w| x.transpose(0, 1).rms_norm(w, 1e-5)),
            ));
            c
        }
        Op::RmsNormBackward => {
            let body = || -> Body {
                Box::new(|v: &[Var]| both(v[0].value().rms_norm_backward(&v[1].value(), &v[2].value(), 1e-5)))
            };
            let mut c = direct_case(
                "rms_norm_backward [2,3,17]",
                vec![randn(&[2, 3, 17], 1), uniform(&[17], 0.5, 1.5, 2), randn(&[2, 3, 17], 3)],
                body(),
            );
            c.extend(direct_case(
                "rms_norm_backward [3,300] (C > one workgroup)",
                vec![randn(&[3, 300], 4), uniform(&[300], 0.5, 1.5, 5), randn(&[3, 300], 6)],
                body(),
            ));
            c.extend(direct_case(
                "rms_norm_backward [260,5] (rows > one workgroup)",
                vec![randn(&[260, 5], 7), uniform(&[5], 0.5, 1.5, 8), randn(&[260, 5], 9)],
                body(),
            ));
            c.extend(direct_case(
                "rms_norm_backward [4,3]ᵀ",
                vec![randn(&[4, 3], 10), uniform(&[4], 0.5, 1.5, 11), randn(&[3, 4], 12)],
                Box::new(|v: &[Var]| {
                    both(v[0].value().transpose(0, 1).rms_norm_backward(&v[1].value(), &v[2].value(), 1e-5))
                }),
            ));
            c
        }
        Op::Rope => {
            let mut c = case("rope [2,3,2,4] at 5", vec![randn(&[2, 3, 2, 4], 1)], one(|x| x.rope(5, None, 10000.0)));
            c.extend(case(
                "rope of permuted [2,2,3,4]",
                vec![randn(&[2, 2, 3, 4], 3)],
                one(|x| x.permute(&[0, 2, 1, 3]).rope(1, None, 100.0)),
            ));
            c.extend(case(
                "rope [3,3,2,4] at 1 with row offsets [-2, 0, 3]",
                vec![randn(&[3, 3, 2, 4], 4)],
                one(|x| x.rope(1, Some(&[-2, 0, 3]), 10000.0)),
            ));
            c
        }
        Op::SwiGlu => {
            let mut c = case("swiglu [3,17]", vec![randn(&[3, 17], 1), randn(&[3, 17], 2)], two(|a, b| a.swiglu(b)));
            c.extend(case(
                "swiglu [17,3]ᵀ",
                vec![randn(&[17, 3], 5), randn(&[3, 17], 6)],
                two(|a, b| a.transpose(0, 1).swiglu(b)),
            ));
            c
        }
        Op::SwiGluBackward => {
            let mut c = direct_case(
                "swiglu_backward [3,17]",
                vec![randn(&[3, 17], 1).scale(4.0), randn(&[3, 17], 2), randn(&[3, 17], 3)],
                Box::new(|v: &[Var]| both(v[0].value().swiglu_backward(&v[1].value(), &v[2].value()))),
            );
            c.extend(direct_case(
                "swiglu_backward [17,3]ᵀ with grad [17]→[3,17]",
                vec![randn(&[17, 3], 4), randn(&[3, 17], 5), randn(&[17], 6)],
                Box::new(|v: &[Var]| {
                    let g = v[2].value().broadcast_to(&[3, 17]);
                    both(v[0].value().transpose(0, 1).swiglu_backward(&v[1].value(), &g))
                }),
            ));
            c
        }
        Op::Attention | Op::AttentionBackward => {
            let mut c = Vec::new();
            for causal in [true, false] {
                c.extend(case(
                    &format!("attention GQA causal={causal}"),
                    vec![randn(&[2, 3, 4, 2], 1), randn(&[2, 3, 2, 2], 2), randn(&[2, 3, 2, 2], 3)],
                    Box::new(move |v: &[Var]| Var::attention(&v[0], &v[1], &v[2], causal, None)),
                ));
            }
            c.extend(case(
                "attention causal with 3 cached keys",
                vec![randn(&[1, 2, 3, 4], 4), randn(&[1, 5, 1, 4], 5), randn(&[1, 5, 1, 4], 6)],
                Box::new(|v: &[Var]| Var::attention(&v[0], &v[1], &v[2], true, None)),
            ));
            // left padding: pad queries (row 1 of the first), a fully padded row (the last)
            c.extend(case(
                "attention GQA causal, kv_start [1, 2]",
                vec![randn(&[2, 3, 4, 2], 10), randn(&[2, 3, 2, 2], 11), randn(&[2, 3, 2, 2], 12)],
                Box::new(|v: &[Var]| Var::attention(&v[0], &v[1], &v[2], true, Some(&[1, 2]))),
            ));
            c.extend(case(
                "attention GQA causal, 3 cached keys, kv_start [4, 1]",
                vec![randn(&[2, 2, 4, 2], 13), randn(&[2, 5, 2, 2], 14), randn(&[2, 5, 2, 2], 15)],
                Box::new(|v: &[Var]| Var::attention(&v[0], &v[1], &v[2], true, Some(&[4, 1]))),
            ));
            c.extend(case(
                "attention GQA full, kv_start [5, 2]",
                vec![randn(&[2, 2, 4, 2], 16), randn(&[2, 5, 2, 2], 17), randn(&[2, 5, 2, 2], 18)],
                Box::new(|v: &[Var]| Var::attention(&v[0], &v[1], &v[2], false, Some(&[5, 2]))),
            ));
            c
        }
        Op::AdamW => vec![],
    }
}

/// Ops checked tensor to tensor rather than through gradients.
fn direct(op: Op, gpu: Device) {
    match op {
        Op::OneHot => {
            let on_gpu = ids(&[2, 0, 2], &[3]).to_device(gpu).expect("ids to gpu");
            let t = Tensor::one_hot(&on_gpu, 4, DType::F32);
            assert_eq!(t.device(), gpu, "one_hot of GPU ids stays on the GPU");
            assert_eq!(t.to_vec_f64(), vec![0., 0., 1., 0., 1., 0., 0., 0., 0., 0., 1., 0.], "one_hot");
        }
        Op::AdamW => {
            let hp = |step| AdamWParams { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-5, weight_decay: 0.1, step };
            let start = [randn(&[17], 1), randn(&[17], 2).scale(0.1), randn(&[17], 3).square().scale(0.1)];
            let run = |device: Device| {
                let [mut p, mut m, mut v] = start.clone().map(|t| f32_on(&t, device));
                for step in 1..=3u64 {
                    let g = f32_on(&randn(&[17], 10 + step), device);
                    Tensor::adamw(&mut p, &g, &mut m, &mut v, hp(step));
                }
                [p, m, v]
            };
            let (g, c) = (run(gpu), run(Device::Cpu));
            for (name, (a, b)) in ["param", "m", "v"].iter().zip(g.iter().zip(&c)) {
                assert_eq!(a.device(), gpu);
                let err = rel_err("adamw", a, b);
                assert!(err <= FORWARD_TOL, "adamw {name}: GPU differs from the CPU by {err:.3e}");
            }
        }
        _ => {}
    }
}

#[test]
fn every_op_has_a_wgsl_entry_point() {
    for op in Op::iter() {
        let (shader, entry) = gpu_entry(op);
        let source = shader_source(shader).unwrap_or_else(|| panic!("{}: no shader {shader}", op.name()));
        assert!(source.contains(&format!("fn {entry}(")), "{}: shader {shader} has no entry point {entry}", op.name());
    }
}

#[test]
fn every_entry_point_is_named_after_its_op() {
    // one name per op: the kernel of `Op::X` is `op_` + `Op::X.name()`; views have no
    // kernel of their own and share `op_contiguous`
    for op in Op::iter() {
        if matches!(op, Op::Reshape | Op::Permute | Op::BroadcastTo | Op::Narrow) {
            continue;
        }
        assert_eq!(gpu_entry(op).1, format!("op_{}", op.name()), "{op:?}: entry point and op name differ");
    }
}

#[test]
fn every_op_runs_on_the_gpu() {
    let Some(gpu) = gpu_or_skip("every_op_runs_on_the_gpu") else { return };
    let mut failures = Vec::new();
    for op in Op::iter() {
        let result = std::panic::catch_unwind(|| {
            let cases = cases(op);
            for (name, inputs, diff, body) in &cases {
                compare(gpu, name, inputs, diff, body.as_ref());
            }
            direct(op, gpu);
        });
        if let Err(e) = result {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(format!("{}: {}", op.name(), msg.unwrap_or_default()));
        }
    }
    assert!(failures.is_empty(), "{} ops failed on the GPU:\n{}", failures.len(), failures.join("\n"));
}
