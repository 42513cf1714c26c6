// Data movement: materialize any strided layout (`op_contiguous`), join along an axis
// (`op_concat`), and the f32 <-> u32 conversions of `to_dtype`. Elements are moved as raw
// 32-bit words, so the same kernels serve f32 and u32 tensors.

struct Params {
    src: Layout,
    // concat: the part is viewed as [outer, width] and lands at column `at` of [outer, total]
    width: u32,
    total: u32,
    at: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

// dst [numel] = src viewed through p.src, row-major.
@compute @workgroup_size(256)
fn op_contiguous(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.src.numel) {
        return;
    }
    dst[i] = src[strided_offset(p.src, i)];
}

// dst [outer, total] columns at..at+width = part [outer, width] (read through its layout).
@compute @workgroup_size(256)
fn op_concat(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.src.numel) {
        return;
    }
    let row = i / p.width;
    let col = i % p.width;
    dst[row * p.total + p.at + col] = src[strided_offset(p.src, i)];
}

@compute @workgroup_size(256)
fn cast_f32_to_u32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.src.numel) {
        return;
    }
    dst[i] = u32(max(bitcast<f32>(src[strided_offset(p.src, i)]), 0.0));
}

@compute @workgroup_size(256)
fn cast_u32_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= p.src.numel) {
        return;
    }
    dst[i] = bitcast<u32>(f32(src[strided_offset(p.src, i)]));
}
