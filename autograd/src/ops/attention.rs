//! Fused attention: the backward rule is the engine's `attention_backward` kernel.

use llamaforge_engine::{Op, Tensor};

use crate::Var;

impl Var {
    /// Causal (or full) grouped-query attention: q `[B,Tq,H,D]`, k and v `[B,Tk,KV,D]` →
    /// `[B,Tq,H,D]`, scaled by `1/sqrt(D)`. `kv_start` (B entries) masks left padding:
    /// batch row `b` attends only to keys `j ≥ kv_start[b]`; queries that see no key output
    /// 0 and pass no gradient (see [`Tensor::attention`]).
    #[track_caller]
    pub fn attention(q: &Var, k: &Var, v: &Var, causal: bool, kv_start: Option<&[u32]>) -> Var {
        let (qv, kv, vv) = (q.value(), k.value(), v.value());
        let scale = 1.0 / (*qv.shape().last().expect("rank 4") as f64).sqrt();
        let (out, lse) = Tensor::attention(&qv, &kv, &vv, causal, kv_start, scale);
        let out_saved = out.clone();
        let kv_start = kv_start.map(<[u32]>::to_vec);
        Var::from_op(Op::Attention, out, &[q, k, v], move |g| {
            let (dq, dk, dv) =
                Tensor::attention_backward(&qv, &kv, &vv, &out_saved, &lse, g, causal, kv_start.as_deref(), scale);
            vec![Some(dq), Some(dk), Some(dv)]
        })
    }
}
