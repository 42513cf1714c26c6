// Rotary embedding of x [B, T, H, D] (contiguous, interleaved pairs): pair j of position
// t turns by the angle whose cos/sin the host tabulated in f64 ([T, D/2] each, already
// negated for the inverse), one thread per pair. With `shifted`, batch row b reads the
// table from row_shift[b] on (per-row positions: left padding).

struct Params {
    pairs: u32,
    t_len: u32,
    h: u32,
    half: u32,
    shifted: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cos_t: array<f32>;
@group(0) @binding(3) var<storage, read> sin_t: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> row_shift: array<u32>;

@compute @workgroup_size(256)
fn op_rope(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.pairs) {
        return;
    }
    let j = i % p.half;
    let bt = i / (p.h * p.half);
    var t = bt % p.t_len;
    if (p.shifted != 0u) {
        t = t + row_shift[bt / p.t_len];
    }
    let at = 2u * i;
    let c = cos_t[t * p.half + j];
    let s = sin_t[t * p.half + j];
    let a = x[at];
    let b = x[at + 1u];
    out[at] = a * c - b * s;
    out[at + 1u] = a * s + b * c;
}
