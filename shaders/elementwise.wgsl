// Elementwise kernels: unary ops with scalar parameters, binary ops with numpy
// broadcasting, the SwiGLU gate and `where`. Operands are read through their layouts
// (strided, transposed or broadcast views need no copy); the output is contiguous.

struct Params {
    a: Layout,
    b: Layout,
    cond: Layout,
    // scalar parameters: affine (mul, add), clamp (lo, hi), powf (p)
    f0: f32,
    f1: f32,
    numel: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> cond: array<f32>;

fn sigmoid_(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

// tanh without the inf/inf of exp(2x) for large |x|.
fn tanh_(x: f32) -> f32 {
    let e = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - e) / (1.0 + e);
}

@compute @workgroup_size(256)
fn op_neg(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = -x;
}

@compute @workgroup_size(256)
fn op_exp(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = exp(x);
}

@compute @workgroup_size(256)
fn op_log(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = log(x);
}

@compute @workgroup_size(256)
fn op_sqrt(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = sqrt(x);
}

@compute @workgroup_size(256)
fn op_recip(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = 1.0 / x;
}

@compute @workgroup_size(256)
fn op_square(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = x * x;
}

@compute @workgroup_size(256)
fn op_sigmoid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = sigmoid_(x);
}

@compute @workgroup_size(256)
fn op_silu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = x * sigmoid_(x);
}

@compute @workgroup_size(256)
fn op_tanh(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = tanh_(x);
}

@compute @workgroup_size(256)
fn op_relu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = max(x, 0.0);
}

@compute @workgroup_size(256)
fn op_log_sigmoid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = min(x, 0.0) - log1p_(exp(-abs(x)));
}

@compute @workgroup_size(256)
fn op_affine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = x * p.f0 + p.f1;
}

@compute @workgroup_size(256)
fn op_clamp(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = min(max(x, p.f0), p.f1);
}

@compute @workgroup_size(256)
fn op_powf(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    out[i] = pow(x, p.f0);
}

@compute @workgroup_size(256)
fn op_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = x + y;
}

@compute @workgroup_size(256)
fn op_sub(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = x - y;
}

@compute @workgroup_size(256)
fn op_mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = x * y;
}

@compute @workgroup_size(256)
fn op_div(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = x / y;
}

@compute @workgroup_size(256)
fn op_maximum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = max(x, y);
}

@compute @workgroup_size(256)
fn op_minimum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = min(x, y);
}

@compute @workgroup_size(256)
fn op_swiglu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = x * sigmoid_(x) * y;
}

// out = cond > 0 ? a : b
@compute @workgroup_size(256)
fn op_where(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.numel) {
        return;
    }
    let x = a[strided_offset(p.a, i)];
    let y = b[strided_offset(p.b, i)];
    out[i] = select(y, x, cond[strided_offset(p.cond, i)] > 0.0);
}
