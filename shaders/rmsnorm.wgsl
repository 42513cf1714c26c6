// RMSNorm over the last dim: x [rows, C] contiguous, weight [C] →
// out = x / sqrt(mean(x²) + eps) * weight, one workgroup per row.

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

var<workgroup> partial: array<f32, 256>;

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
