// Gradients of the SwiGLU gate out = silu(a) · up, given grad (all one shape), one thread
// per element: with s = σ(a), da = grad·up·s·(1 + a·(1 − s)) and dup = grad·a·s. Operands
// are read through their layouts like elementwise.wgsl's (no copies); da and dup are
// contiguous. Its own file because it reads three strided operands and writes two outputs,
// which elementwise.wgsl's one-output Params and bindings do not describe.

struct Params {
    a: Layout,
    up: Layout,
    grad: Layout,
    numel: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> da: array<f32>;
@group(0) @binding(5) var<storage, read_write> dup: array<f32>;

@compute @workgroup_size(256)
fn op_swiglu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = up[strided_offset(p.up, i)];
    let g = grad[strided_offset(p.grad, i)];
    let s = 1.0 / (1.0 + exp(-x));
    let gs = g * s;
    dup[i] = gs * x;
    da[i] = gs * y * (1.0 + x * (1.0 - s));
}
