// Reductions over one axis: the contiguous input is viewed as [outer, n, inner] and each
// workgroup reduces the n elements of one output (o, i) with a shared-memory tree.

struct Params {
    outer: u32,
    n: u32,
    inner: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

// Reduces the row of output `row` (uniform per workgroup); `is_max` picks max over sum.
fn reduce_row(row: u32, lid: u32, is_max: bool) -> f32 {
    let o = row / p.inner;
    let i = row % p.inner;
    let base = o * p.n * p.inner + i;
    var acc = select(0.0, NEG_INF, is_max);
    for (var k = lid; k < p.n; k = k + WG) {
        let v = x[base + k * p.inner];
        acc = select(acc + v, max(acc, v), is_max);
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            let other = partial[lid + stride];
            partial[lid] = select(partial[lid] + other, max(partial[lid], other), is_max);
        }
        workgroupBarrier();
    }
    return partial[0];
}

@compute @workgroup_size(256)
fn op_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.outer * p.inner) {
        return;
    }
    let total = reduce_row(row, lid, false);
    if (lid == 0u) {
        out[row] = total;
    }
}

@compute @workgroup_size(256)
fn op_max(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.outer * p.inner) {
        return;
    }
    let total = reduce_row(row, lid, true);
    if (lid == 0u) {
        out[row] = total;
    }
}
