// RMSNorm over the last dim: x [rows, C] contiguous, weight [C] →
// out = x / sqrt(mean(x²) + eps) * weight, one workgroup per row.
// Its gradients given grad [rows, C], with r = 1/sqrt(mean(x²) + eps) per row, without atomics:
//   op_rms_norm_backward:    dx = r·grad·w − x·r³·Σ(grad·w·x)/C, one workgroup per row,
//                            which also saves r for the next pass
//   op_rms_norm_backward_dw: dw [C] = Σ_rows grad·x·r, one workgroup per column

struct Params {
    rows: u32,
    c: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;

var<workgroup> partial: array<f32, 256>;
var<workgroup> partial2: array<vec2<f32>, 256>;

@compute @workgroup_size(256)
fn op_rms_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.c;
    var s = 0.0;
    for (var j = lid; j < p.c; j = j + WG) {
        let v = x[base + j];
        s = s + v * v;
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    let rstd = 1.0 / sqrt(partial[0] / f32(p.c) + p.eps);
    for (var j = lid; j < p.c; j = j + WG) {
        out[base + j] = x[base + j] * rstd * weight[j];
    }
}

@compute @workgroup_size(256)
fn op_rms_norm_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.c;
    // (Σ x², Σ grad·w·x) in one read of the row
    var s = vec2<f32>(0.0, 0.0);
    for (var j = lid; j < p.c; j = j + WG) {
        let v = x[base + j];
        s = s + vec2<f32>(v * v, grad[base + j] * weight[j] * v);
    }
    partial2[lid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial2[lid] = partial2[lid] + partial2[lid + stride];
        }
        workgroupBarrier();
    }
    let inv_c = 1.0 / f32(p.c);
    let r = 1.0 / sqrt(partial2[0].x * inv_c + p.eps);
    let k = r * r * r * partial2[0].y * inv_c;
    for (var j = lid; j < p.c; j = j + WG) {
        dx[base + j] = r * grad[base + j] * weight[j] - k * x[base + j];
    }
    if (lid == 0u) {
        rstd[row] = r;
    }
}

@compute @workgroup_size(256)
fn op_rms_norm_backward_dw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let col = flat_group(wid, nwg);
    if (col >= p.c) {
        return;
    }
    var s = 0.0;
    for (var r = lid; r < p.rows; r = r + WG) {
        let i = r * p.c + col;
        s = s + grad[i] * x[i] * rstd[r];
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        dw[col] = partial[0];
    }
}
