// Mean cross-entropy of logits [N, V] (contiguous) against u32 targets [N], skipping
// `ignore_index`: `op_cross_entropy` writes each row's loss (0 when ignored), one
// workgroup per row; `op_cross_entropy_mean` sums them in one workgroup and divides by
// the number of counted rows (known on the host, where the targets are checked);
// `op_cross_entropy_backward` writes d loss / d logits = (softmax − onehot) · grad / count.

struct Params {
    rows: u32,
    v: u32,
    ignore_index: u32,
    // forward: 1 / counted rows; backward: grad / counted rows (0 when every row is ignored)
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

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

// Max and sum of exp(x - max) over row `row` of the logits.
fn row_stats(row: u32, lid: u32) -> vec2<f32> {
    let base = row * p.v;
    var m = NEG_INF;
    for (var j = lid; j < p.v; j = j + WG) {
        m = max(m, logits[base + j]);
    }
    m = tree(lid, m, true);
    var s = 0.0;
    for (var j = lid; j < p.v; j = j + WG) {
        s = s + exp(logits[base + j] - m);
    }
    s = tree(lid, s, false);
    return vec2<f32>(m, s);
}

@compute @workgroup_size(256)
fn op_cross_entropy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.rows) {
        return;
    }
    let stats = row_stats(row, lid);
    if (lid == 0u) {
        let t = targets[row];
        let ignored = t == p.ignore_index;
        let picked = logits[row * p.v + select(t, 0u, ignored)];
        losses[row] = select(stats.x + log(stats.y) - picked, 0.0, ignored);
    }
}

@compute @workgroup_size(256)
fn op_cross_entropy_mean(@builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    for (var r = lid; r < p.rows; r = r + WG) {
        s = s + losses[r];
    }
    s = tree(lid, s, false);
    if (lid == 0u) {
        loss[0] = s * p.scale;
    }
}

@compute @workgroup_size(256)
fn op_cross_entropy_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = flat_group(wid, nwg);
    if (row >= p.rows) {
        return;
    }
    let stats = row_stats(row, lid);
    let t = targets[row];
    let ignored = t == p.ignore_index;
    let base = row * p.v;
    let inv = 1.0 / stats.y;
    for (var j = lid; j < p.v; j = j + WG) {
        let d = exp(logits[base + j] - stats.x) * inv * p.scale - select(0.0, p.scale, j == t);
        dlogits[base + j] = select(d, 0.0, ignored);
    }
}
