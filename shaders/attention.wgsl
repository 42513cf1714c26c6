// Fused causal grouped-query attention, forward: q [B, Tq, H, D], k and v [B, Tk, KV, D]
// (contiguous; query head h reads kv head h / (H / KV)) → out [B, Tq, H, D] and the row
// log-sum-exp lse [B, H, Tq]. One thread per query row walks the visible keys with an
// online softmax (running max, rescaled sum and accumulator), so the scores are never
// stored. With `causal`, query i sees keys j <= i + (Tk - Tq). With `padded`, batch row b
// sees only keys j >= kv_start[b] (left padding); a query that then sees no key outputs 0
// with lse = FLT_MAX, so exp(s - lse) is 0 wherever the backward recomputes it.

struct Params {
    b: u32,
    tq: u32,
    tk: u32,
    h: u32,
    kv: u32,
    d: u32,
    causal: u32,
    scale: f32,
    padded: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read> kv_start: array<u32>;

// Largest head dim a thread's accumulator holds.
const MAX_D: u32 = 256u;

@compute @workgroup_size(64)
fn op_attention(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // rows in lse order: row = (bi * H + hi) * Tq + i
    let row = gid.y * nwg.x * 64u + gid.x;
    if (row >= p.b * p.h * p.tq) {
        return;
    }
    let i = row % p.tq;
    let hi = (row / p.tq) % p.h;
    let bi = row / (p.tq * p.h);
    let kvh = hi / (p.h / p.kv);
    let q_at = ((bi * p.tq + i) * p.h + hi) * p.d;
    var n = p.tk;
    if (p.causal != 0u) {
        n = min(i + 1u + p.tk - p.tq, p.tk);
    }
    var lo = 0u;
    if (p.padded != 0u) {
        lo = kv_start[bi];
    }
    if (lo >= n) {
        for (var c = 0u; c < p.d; c = c + 1u) {
            out[q_at + c] = 0.0;
        }
        lse[row] = -NEG_INF;
        return;
    }
    var acc: array<f32, MAX_D>;
    var m = NEG_INF;
    var l = 0.0;
    for (var j = lo; j < n; j = j + 1u) {
        let kv_at = ((bi * p.tk + j) * p.kv + kvh) * p.d;
        var s = 0.0;
        for (var c = 0u; c < p.d; c = c + 1u) {
            s = s + q[q_at + c] * k[kv_at + c];
        }
        s = s * p.scale;
        let m_new = max(m, s);
        let correction = exp(m - m_new);
        let w = exp(s - m_new);
        l = l * correction + w;
        for (var c = 0u; c < p.d; c = c + 1u) {
            acc[c] = acc[c] * correction + w * v[kv_at + c];
        }
        m = m_new;
    }
    let inv = 1.0 / l;
    for (var c = 0u; c < p.d; c = c + 1u) {
        out[q_at + c] = acc[c] * inv;
    }
    lse[row] = m + log(l);
}
