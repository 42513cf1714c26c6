//! How much attention each position pays to a span of earlier tokens (e.g. the system
//! message), per layer — what the LLaMA-2 paper's Figure 10 draws to show Ghost Attention
//! keeping the system message in view across a dialogue. For inspection, not training:
//! one sequence, probabilities recomputed on the host from each layer's rotated queries
//! and keys (the fused attention kernel never materializes them).

use std::ops::Range;

use llamaforge_autograd::no_grad;
use llamaforge_engine::{Device, Tensor};

use crate::layers::linear;
use crate::llama::Llama;

impl Llama {
    /// For one sequence `ids` (length T ≤ max_seq_len), returns `[n_layers][T]`: entry
    /// `[l][t]` is the attention probability mass query t puts on keys in `span`, averaged
    /// over the heads of layer l (0 for queries before the span ends their view of it:
    /// causal attention sees keys ≤ t only).
    pub fn attention_to_span(&self, ids: &[u32], span: Range<usize>) -> Vec<Vec<f32>> {
        let t = ids.len();
        let (h, kv, d) = (self.config.n_heads, self.config.n_kv_heads, self.config.head_dim());
        let group = h / kv;
        let scale = 1.0 / (d as f32).sqrt();
        no_grad(|| {
            let input = Tensor::from_vec(ids.to_vec(), &[1, t]);
            let mut x = self.embed_tokens.index_select(&input); // [1, T, C]
            let mut out = Vec::with_capacity(self.layers.len());
            for block in &self.layers {
                let a = &block.self_attn;
                let normed = block.input_layernorm.forward(&x);
                let host = |v: llamaforge_autograd::Var| -> Vec<f32> {
                    v.value().to_device(Device::Cpu).expect("read back").contiguous().to_vec::<f32>()
                };
                let q = host(linear(&normed, &a.q_proj).reshape(&[1, t, h, d]).rope(0, None, a.rope_theta)); // [T, H, D]
                let k = host(linear(&normed, &a.k_proj).reshape(&[1, t, kv, d]).rope(0, None, a.rope_theta)); // [T, KV, D]
                let mut mass = vec![0.0f32; t];
                let mut scores = vec![0.0f32; t];
                for head in 0..h {
                    let g = head / group;
                    for (i, m) in mass.iter_mut().enumerate() {
                        let qi = &q[(i * h + head) * d..(i * h + head + 1) * d];
                        let mut max = f32::NEG_INFINITY;
                        for (j, s) in scores[..=i].iter_mut().enumerate() {
                            let kj = &k[(j * kv + g) * d..(j * kv + g + 1) * d];
                            *s = qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale;
                            max = max.max(*s);
                        }
                        let total: f32 = scores[..=i]
                            .iter_mut()
                            .map(|s| {
                                *s = (*s - max).exp();
                                *s
                            })
                            .sum();
                        let in_span: f32 = scores[span.start.min(i + 1)..span.end.min(i + 1)].iter().sum();
                        *m += in_span / total / h as f32;
                    }
                }
                out.push(mass);
                x = block.forward(&x, 0);
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{preset, Llama};

    #[test]
    fn masses_are_probabilities_and_the_whole_prefix_gets_everything() {
        let model = Llama::new_random(&preset("tiny").unwrap(), 3).unwrap();
        let ids: Vec<u32> = (0..12).map(|i| (i * 5 % 64) as u32).collect();
        let all = model.attention_to_span(&ids, 0..12);
        for layer in &all {
            for &m in layer {
                assert!((m - 1.0).abs() < 1e-5, "all keys hold all the mass: {m}");
            }
        }
        let part = model.attention_to_span(&ids, 0..3);
        assert_eq!(part.len(), 2);
        for layer in &part {
            assert!((layer[0] - 1.0).abs() < 1e-5 && (layer[2] - 1.0).abs() < 1e-5, "the span is all a query ≤ 2 sees");
            assert!(layer[3..].iter().all(|&m| (0.0..1.0).contains(&m)), "later queries spread their mass: {layer:?}");
        }
    }
}
