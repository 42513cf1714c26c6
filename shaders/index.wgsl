// Selection and indexing with u32 ids: gather, one_hot, index_select (embedding lookup)
// and scatter_add (its backward). Ids were range-checked on the host.

struct Params {
    // gather: last dim V; one_hot: classes; index_select / scatter_add: row width C
    width: u32,
    // number of ids (index_select, gather, one_hot) or output rows (scatter_add)
    count: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
// scatter_add: ids sorted by target row hold source rows; row r's are row_start[r]..row_start[r+1]
@group(0) @binding(4) var<storage, read> row_start: array<u32>;

// out[i] = src[i, ids[i]] for src [count, V]
@compute @workgroup_size(256)
fn op_gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.count) {
        return;
    }
    out[i] = src[i * p.width + ids[i]];
}

// out [count, classes] = 1 at (i, ids[i]), else 0
@compute @workgroup_size(256)
fn op_one_hot(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.count * p.width) {
        return;
    }
    out[i] = select(0.0, 1.0, ids[i / p.width] == i % p.width);
}

// out [count, C] = rows ids[..] of src [R, C]
@compute @workgroup_size(256)
fn op_index_select(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.count * p.width) {
        return;
    }
    out[i] = src[ids[i / p.width] * p.width + i % p.width];
}

// out [count, C]: row r is the sum of the source rows aimed at r, in source order (no
// atomics: the host groups the source rows by target, so the sum is deterministic).
@compute @workgroup_size(256)
fn op_scatter_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.count * p.width) {
        return;
    }
    let r = i / p.width;
    let c = i % p.width;
    var s = 0.0;
    for (var k = row_start[r]; k < row_start[r + 1u]; k = k + 1u) {
        s = s + src[ids[k] * p.width + c];
    }
    out[i] = s;
}
