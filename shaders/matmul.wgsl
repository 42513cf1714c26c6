// Batched GEMM: out [batch, M, N] = a [batch, M, K] · b [batch, K, N].
//
// Tiled: a workgroup of 16×16 threads computes a 64×64 tile of out, each thread a 4×4
// block held in registers; K is walked 16 at a time through two shared-memory tiles.
// Operands are read through (row stride, column stride), so transposed views cost
// nothing, and the batch offsets come from per-operand batch layouts (stride 0 for a
// broadcast batch dim, e.g. a 2-D weight shared by every batch).

struct Params {
    // batch dims of `a` (shape = batch shape, strides = a's batch strides, offset = a's)
    a_batch: Layout,
    b_batch: Layout,
    m: u32,
    n: u32,
    k: u32,
    a_rs: u32,
    a_cs: u32,
    b_rs: u32,
    b_cs: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const TILE: u32 = 64u;
const TK: u32 = 16u;

// tile_a[kk * TILE + row], tile_b[kk * TILE + col]
var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<f32, 1024>;

@compute @workgroup_size(16, 16, 1)
fn op_matmul(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    let batch = wid.z;
    let a_base = strided_offset(p.a_batch, batch);
    let b_base = strided_offset(p.b_batch, batch);
    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < p.k; k0 = k0 + TK) {
        // 1024 elements per tile, 4 per thread
        for (var e = 0u; e < 4u; e = e + 1u) {
            let idx = li + e * 256u;
            let am = idx / TK;
            let ak = idx % TK;
            var av = 0.0;
            if (row0 + am < p.m && k0 + ak < p.k) {
                av = a[a_base + (row0 + am) * p.a_rs + (k0 + ak) * p.a_cs];
            }
            tile_a[ak * TILE + am] = av;
            let bk = idx / TILE;
            let bn = idx % TILE;
            var bv = 0.0;
            if (k0 + bk < p.k && col0 + bn < p.n) {
                bv = b[b_base + (k0 + bk) * p.b_rs + (col0 + bn) * p.b_cs];
            }
            tile_b[bk * TILE + bn] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk = kk + 1u) {
            let ar = kk * TILE + lid.y * 4u;
            let br = kk * TILE + lid.x * 4u;
            let bvec = vec4<f32>(tile_b[br], tile_b[br + 1u], tile_b[br + 2u], tile_b[br + 3u]);
            acc[0] = acc[0] + tile_a[ar] * bvec;
            acc[1] = acc[1] + tile_a[ar + 1u] * bvec;
            acc[2] = acc[2] + tile_a[ar + 2u] * bvec;
            acc[3] = acc[3] + tile_a[ar + 3u] * bvec;
        }
        workgroupBarrier();
    }
    let out_base = batch * p.m * p.n;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let r = row0 + lid.y * 4u + i;
        if (r >= p.m) {
            continue;
        }
        for (var j = 0u; j < 4u; j = j + 1u) {
            let c = col0 + lid.x * 4u + j;
            if (c < p.n) {
                out[out_base + r * p.n + c] = acc[i][j];
            }
        }
    }
}
