// Gradients of fused attention (see attention.wgsl for the shapes), without atomics:
//   op_attention_backward_delta: delta [B, H, Tq] = rowsum(dout · out)
//   op_attention_backward:       dq, one thread per query row:
//                                dq_i = scale · Σ_j p_ij (dout_i·v_j − delta_i) k_j
//   op_attention_backward_dkv:   dk, dv, one thread per (batch, kv head, key j), summing
//                                over the query heads of its group and the queries that see j:
//                                dv_j = Σ p_ij dout_i,  dk_j = scale · Σ p_ij (dout_i·v_j − delta_i) q_i
// with p_ij = exp(scale · q_i·k_j − lse_i) recomputed from the saved lse. With `padded`,
// keys j < kv_start[b] are masked: their dk, dv are 0, and the pad queries that see no
// key get dq = 0 (every query that sees an unmasked key is itself a real one).

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
@group(0) @binding(4) var<storage, read> out: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> delta: array<f32>;
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;
@group(0) @binding(9) var<storage, read_write> dk: array<f32>;
@group(0) @binding(10) var<storage, read_write> dv: array<f32>;
@group(0) @binding(11) var<storage, read> kv_start: array<u32>;

const MAX_D: u32 = 256u;

fn n_visible(i: u32) -> u32 {
    if (p.causal != 0u) {
        return min(i + 1u + p.tk - p.tq, p.tk);
    }
    return p.tk;
}

// First key batch row bi may see.
fn first_key(bi: u32) -> u32 {
    if (p.padded != 0u) {
        return kv_start[bi];
    }
    return 0u;
}

fn dot_rows(x_at: u32, y_at: u32, which: u32) -> f32 {
    var s = 0.0;
    for (var c = 0u; c < p.d; c = c + 1u) {
        // which: 0 = q·k, 1 = dout·v
        if (which == 0u) {
            s = s + q[x_at + c] * k[y_at + c];
        } else {
            s = s + dout[x_at + c] * v[y_at + c];
        }
    }
    return s;
}

@compute @workgroup_size(64)
fn op_attention_backward_delta(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = gid.y * nwg.x * 64u + gid.x;
    if (row >= p.b * p.h * p.tq) {
        return;
    }
    let i = row % p.tq;
    let hi = (row / p.tq) % p.h;
    let bi = row / (p.tq * p.h);
    let at = ((bi * p.tq + i) * p.h + hi) * p.d;
    var s = 0.0;
    for (var c = 0u; c < p.d; c = c + 1u) {
        s = s + dout[at + c] * out[at + c];
    }
    delta[row] = s;
}

@compute @workgroup_size(64)
fn op_attention_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = gid.y * nwg.x * 64u + gid.x;
    if (row >= p.b * p.h * p.tq) {
        return;
    }
    let i = row % p.tq;
    let hi = (row / p.tq) % p.h;
    let bi = row / (p.tq * p.h);
    let kvh = hi / (p.h / p.kv);
    let q_at = ((bi * p.tq + i) * p.h + hi) * p.d;
    let l = lse[row];
    let di = delta[row];
    var acc: array<f32, MAX_D>;
    for (var j = first_key(bi); j < n_visible(i); j = j + 1u) {
        let kv_at = ((bi * p.tk + j) * p.kv + kvh) * p.d;
        let pij = exp(dot_rows(q_at, kv_at, 0u) * p.scale - l);
        let ds = pij * (dot_rows(q_at, kv_at, 1u) - di);
        for (var c = 0u; c < p.d; c = c + 1u) {
            acc[c] = acc[c] + ds * k[kv_at + c];
        }
    }
    for (var c = 0u; c < p.d; c = c + 1u) {
        dq[q_at + c] = acc[c] * p.scale;
    }
}

@compute @workgroup_size(64)
fn op_attention_backward_dkv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // key rows: key = (bi * KV + kvh) * Tk + j
    let key = gid.y * nwg.x * 64u + gid.x;
    if (key >= p.b * p.kv * p.tk) {
        return;
    }
    let j = key % p.tk;
    let kvh = (key / p.tk) % p.kv;
    let bi = key / (p.tk * p.kv);
    let kv_at = ((bi * p.tk + j) * p.kv + kvh) * p.d;
    let group = p.h / p.kv;
    if (j < first_key(bi)) {
        for (var c = 0u; c < p.d; c = c + 1u) {
            dk[kv_at + c] = 0.0;
            dv[kv_at + c] = 0.0;
        }
        return;
    }
    // first query that sees key j
    var i0 = 0u;
    if (p.causal != 0u && j + p.tq > p.tk) {
        i0 = j + p.tq - p.tk;
    }
    var acc_k: array<f32, MAX_D>;
    var acc_v: array<f32, MAX_D>;
    for (var g = 0u; g < group; g = g + 1u) {
        let hi = kvh * group + g;
        for (var i = i0; i < p.tq; i = i + 1u) {
            let row = (bi * p.h + hi) * p.tq + i;
            let q_at = ((bi * p.tq + i) * p.h + hi) * p.d;
            let pij = exp(dot_rows(q_at, kv_at, 0u) * p.scale - lse[row]);
            let ds = pij * (dot_rows(q_at, kv_at, 1u) - delta[row]);
            for (var c = 0u; c < p.d; c = c + 1u) {
                acc_v[c] = acc_v[c] + pij * dout[q_at + c];
                acc_k[c] = acc_k[c] + ds * q[q_at + c];
            }
        }
    }
    for (var c = 0u; c < p.d; c = c + 1u) {
        dk[kv_at + c] = acc_k[c] * p.scale;
        dv[kv_at + c] = acc_v[c];
    }
}
