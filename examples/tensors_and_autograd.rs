//! The walk-through's first example (docs/walkthrough/01-tensors-and-autograd.md):
//! tensors and views, an op, a tiny model trained by hand with autograd, and a gradient
//! check. Run: `cargo run --release --example tensors_and_autograd`.

use llamaforge_autograd::gradcheck::GradCheck;
use llamaforge_autograd::{no_grad, Var};
use llamaforge_engine::{DType, Tensor};

fn main() {
    // 1. A tensor is a layout over shared storage; views do not copy.
    let x = Tensor::from_vec((0..6).map(|i| i as f32).collect(), &[2, 3]);
    let xt = x.transpose(0, 1); // [3, 2], strides [1, 3]
    println!("x  shape {:?} strides {:?}", x.shape(), x.layout().strides());
    println!("xᵀ shape {:?} strides {:?} shares storage: {}", xt.shape(), xt.layout().strides(), xt.same_storage(&x));
    println!("xᵀ = {:?}", xt.to_vec::<f32>());
    // matmul reads the transposed operand through its strides: x · xᵀ is [2, 2]
    println!("x·xᵀ = {:?}", x.matmul(&xt).to_vec::<f32>());

    // 2. Autograd: fit y = 3a − 2b + 1 with a linear layer and plain gradient descent.
    let inputs = Tensor::randn(&[64, 2], 1.0, DType::F32, 0);
    let cols = inputs.to_vec::<f32>();
    let target: Vec<f32> = cols.chunks(2).map(|r| 3.0 * r[0] - 2.0 * r[1] + 1.0).collect();
    let target = Var::constant(Tensor::from_vec(target, &[64, 1]));
    let w = Var::parameter("w", Tensor::zeros(&[2, 1], DType::F32));
    let b = Var::parameter("b", Tensor::zeros(&[1], DType::F32));
    let x = Var::constant(inputs);
    for step in 0..200 {
        let pred = x.matmul(&w).add(&b); // [64, 1], b broadcasts
        let loss = pred.sub(&target).square().mean_all();
        loss.backward();
        no_grad(|| {
            for p in [&w, &b] {
                let g = p.take_grad().expect("gradient");
                p.set_value(p.value().sub(&g.scale(0.1)));
            }
        });
        if step % 40 == 0 || step == 199 {
            println!("step {step:3}  loss {:.3e}", loss.value().to_scalar());
        }
    }
    println!("w = {:?}, b = {:?}", w.value().to_vec::<f32>(), b.value().to_vec::<f32>());

    // 3. Every backward rule is checked against finite differences in f64.
    let report = GradCheck::default()
        .run(&[Tensor::randn(&[3, 5], 1.0, DType::F64, 1)], &[true], &|v| v[0].softmax(false).log());
    println!("gradcheck log(softmax(x)): max relative error {:.2e}", report.max_rel_err);
}
