// Softmax and log-softmax over the last dim of a contiguous [rows, tk] input, one
// workgroup per row. With a causal mask (tq > 0) row r is query r % tq and sees keys
// j <= r % tq + (tk - tq); hidden entries are exactly 0.

struct Params {
    rows: u32,
    tk: u32,
    // 0: no mask; else the query count of the causal mask
    tq: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn tree(lid: u32, v: f32, is_max: bool) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            let other = partial[lid + stride];
            partial[lid] = select(partial[lid] + other, max(partial[lid], other), is_max);
        }
        workgroupBarrier();
    }
    let r = partial[0];
    workgroupBarrier();
    return r;
}

fn visible(row: u32) -> u32 {
    if (p.tq == 0u) {
        return p.tk;
    }
    return min(row % p.tq + 1u + p.tk - p.tq, p.tk);
}

// Max and log of the sum of exp(x - max) over the visible part of `row`.
fn row_stats(row: u32, lid: u32, n: u32) -> vec2<f32> {
    let base = row * p.tk;
    var m = NEG_INF;
    for (var j = lid; j < n; j = j + WG) {
        m = max(m, x[base + j]);
    }
    m = tree(lid, m, true);
    var s = 0.0;
    for (var j = lid; j < n; j = j + WG) {
        s = s + exp(x[base + j] - m);
    }
    s = tree(lid, s, false);
    return vec2<f32>(m, s);
}

@compute @workgroup_size(256)
fn op_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.rows) {
        return;
    }
    let n = visible(row);
    let stats = row_stats(row, lid, n);
    let inv = 1.0 / stats.y;
    let base = row * p.tk;
    for (var j = lid; j < p.tk; j = j + WG) {
        out[base + j] = select(0.0, exp(x[base + j] - stats.x) * inv, j < n);
    }
}

@compute @workgroup_size(256)
fn op_log_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.rows) {
        return;
    }
    let stats = row_stats(row, lid, p.tk);
    let lse = stats.x + log(stats.y);
    let base = row * p.tk;
    for (var j = lid; j < p.tk; j = j + WG) {
        out[base + j] = x[base + j] - lse;
    }
}
