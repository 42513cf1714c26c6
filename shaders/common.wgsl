// Prepended to every shader (see engine/src/gpu/entry.rs).

// How a strided operand maps onto its buffer: up to 8 dims, element strides (0 marks a
// broadcast dim), a starting offset and the element count. 80 bytes, 16-byte aligned.
struct Layout {
    shape: array<vec4<u32>, 2>,
    strides: array<vec4<u32>, 2>,
    rank: u32,
    offset: u32,
    numel: u32,
    _pad: u32,
}

// Threads per workgroup of the 1-D kernels (`WG` in engine/src/gpu/kernels/mod.rs).
const WG: u32 = 256u;

// Buffer index of the row-major element `linear` of a strided operand.
fn strided_offset(l: Layout, linear: u32) -> u32 {
    var shape = l.shape;
    var strides = l.strides;
    var rem = linear;
    var off = l.offset;
    for (var i = i32(l.rank) - 1; i >= 0; i = i - 1) {
        let d = shape[u32(i) / 4u][u32(i) % 4u];
        off = off + (rem % d) * strides[u32(i) / 4u][u32(i) % 4u];
        rem = rem / d;
    }
    return off;
}

// Flat thread index of a 1-D launch folded into 2-D (`grid_1d` on the host).
fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * WG + gid.x;
}

// Flat workgroup index of a one-workgroup-per-row launch (`grid_rows` on the host).
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

// ln(1 + x) accurate for small x.
fn log1p_(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) {
        return x;
    }
    return log(u) * x / (u - 1.0);
}

const NEG_INF: f32 = -3.4028235e38;
