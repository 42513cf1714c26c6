//! Which WGSL shader file and entry point implement each op. Entry points are named
//! `op_<op name>` (the prefix keeps names like `exp`, `max` or `where` from clashing with
//! WGSL built-ins and reserved words); ops with several passes add a suffix to the extra
//! entries (`op_cross_entropy_mean`, `op_rms_norm_backward_dw`, `op_attention_backward_dkv`).

use crate::Op;

/// Prepended to every shader: the `Layout` of strided operands and the flat thread index.
const COMMON: &str = include_str!("../../../shaders/common.wgsl");

/// Every shader file by name, one per op family.
pub const SHADERS: &[(&str, &str)] = &[
    ("copy", include_str!("../../../shaders/copy.wgsl")),
    ("elementwise", include_str!("../../../shaders/elementwise.wgsl")),
    ("reduce", include_str!("../../../shaders/reduce.wgsl")),
    ("matmul", include_str!("../../../shaders/matmul.wgsl")),
    ("index", include_str!("../../../shaders/index.wgsl")),
    ("softmax", include_str!("../../../shaders/softmax.wgsl")),
    ("cross_entropy", include_str!("../../../shaders/cross_entropy.wgsl")),
    ("rmsnorm", include_str!("../../../shaders/rmsnorm.wgsl")),
    ("swiglu_backward", include_str!("../../../shaders/swiglu_backward.wgsl")),
    ("rope", include_str!("../../../shaders/rope.wgsl")),
    ("attention", include_str!("../../../shaders/attention.wgsl")),
    ("attention_backward", include_str!("../../../shaders/attention_backward.wgsl")),
    ("adamw", include_str!("../../../shaders/adamw.wgsl")),
];

/// The full WGSL source of shader `name` (common prelude + file), if it exists.
pub fn shader_source(name: &str) -> Option<String> {
    SHADERS.iter().find(|(n, _)| *n == name).map(|(_, src)| format!("{COMMON}\n{src}"))
}

/// `(shader file, entry point)` of the GPU kernel of `op`. Views have no kernel of their
/// own: when a kernel needs their data contiguous it goes through `op_contiguous`, and
/// most kernels read strided layouts directly.
pub fn gpu_entry(op: Op) -> (&'static str, &'static str) {
    match op {
        Op::Reshape | Op::Permute | Op::BroadcastTo | Op::Narrow | Op::Contiguous => ("copy", "op_contiguous"),
        Op::Concat => ("copy", "op_concat"),
        Op::Neg => ("elementwise", "op_neg"),
        Op::Exp => ("elementwise", "op_exp"),
        Op::Log => ("elementwise", "op_log"),
        Op::Sqrt => ("elementwise", "op_sqrt"),
        Op::Recip => ("elementwise", "op_recip"),
        Op::Square => ("elementwise", "op_square"),
        Op::Sigmoid => ("elementwise", "op_sigmoid"),
        Op::Silu => ("elementwise", "op_silu"),
        Op::Tanh => ("elementwise", "op_tanh"),
        Op::Relu => ("elementwise", "op_relu"),
        Op::LogSigmoid => ("elementwise", "op_log_sigmoid"),
        Op::Affine => ("elementwise", "op_affine"),
        Op::Clamp => ("elementwise", "op_clamp"),
        Op::Powf => ("elementwise", "op_powf"),
        Op::Add => ("elementwise", "op_add"),
        Op::Sub => ("elementwise", "op_sub"),
        Op::Mul => ("elementwise", "op_mul"),
        Op::Div => ("elementwise", "op_div"),
        Op::Maximum => ("elementwise", "op_maximum"),
        Op::Minimum => ("elementwise", "op_minimum"),
        Op::SwiGlu => ("elementwise", "op_swiglu"),
        Op::SwiGluBackward => ("swiglu_backward", "op_swiglu_backward"),
        Op::Where => ("elementwise", "op_where"),
        Op::Sum => ("reduce", "op_sum"),
        Op::Max => ("reduce", "op_max"),
        Op::Matmul => ("matmul", "op_matmul"),
        Op::Gather => ("index", "op_gather"),
        Op::OneHot => ("index", "op_one_hot"),
        Op::IndexSelect => ("index", "op_index_select"),
        Op::ScatterAdd => ("index", "op_scatter_add"),
        Op::Softmax => ("softmax", "op_softmax"),
        Op::LogSoftmax => ("softmax", "op_log_softmax"),
        Op::CrossEntropy => ("cross_entropy", "op_cross_entropy"),
        Op::CrossEntropyBackward => ("cross_entropy", "op_cross_entropy_backward"),
        Op::RmsNorm => ("rmsnorm", "op_rms_norm"),
        Op::RmsNormBackward => ("rmsnorm", "op_rms_norm_backward"),
        Op::Rope => ("rope", "op_rope"),
        Op::Attention => ("attention", "op_attention"),
        Op::AttentionBackward => ("attention_backward", "op_attention_backward"),
        Op::AdamW => ("adamw", "op_adamw"),
    }
}
