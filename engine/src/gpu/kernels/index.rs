//! Indexing with u32 ids (shaders/index.wgsl): gather, one_hot, index_select and
//! scatter_add. Ids arrive on the host (they were range-checked there) and are uploaded
//! with the launch; scatter_add groups them by target row on the host so the GPU sums
//! without atomics, deterministically.

use std::sync::Arc;

use super::{buf, copy, grid_1d, output, require_f32, target, GpuContext, Params};
use crate::gpu::{gpu_entry, GpuStorage};
use crate::{CpuStorage, DType, Layout, Op, Storage, Tensor};

/// Host ids as a device buffer.
fn upload_ids(ctx: &Arc<GpuContext>, ids: &[u32]) -> Tensor {
    let s = GpuStorage::upload(ctx, &CpuStorage::U32(ids.to_vec())).expect("u32 upload");
    Tensor::from_storage(Storage::Gpu(s), Layout::contiguous(&[ids.len()]))
}

/// A contiguous, offset-0 version of `t` for kernels that index rows directly.
fn dense(t: &Tensor) -> Tensor {
    if t.layout().is_contiguous() && t.layout().offset() == 0 {
        t.clone()
    } else {
        copy::contiguous(t)
    }
}

#[track_caller]
fn check_ids(op: &str, ids: &[u32], bound: usize, what: &str) {
    for (i, &id) in ids.iter().enumerate() {
        assert!((id as usize) < bound, "{op}: index {id} at position {i} is out of range for {bound} {what}");
    }
}

/// `x` `[.., V]`, ids `[..]` → `x[.., ids]`.
#[track_caller]
pub(crate) fn gather(x: &Tensor, ids: &[u32], out_shape: &[usize]) -> Tensor {
    let ctx = target(&[x]).expect("gpu operand");
    require_f32("gather", x);
    let v = *x.shape().last().unwrap_or(&1);
    check_ids("gather", ids, v, "entries of the last dim");
    let (x, ids_t) = (dense(x), upload_ids(&ctx, ids));
    let out = output(&ctx, x.dtype(), out_shape);
    let (shader, entry) = gpu_entry(Op::Gather);
    let p = Params::new().u(v).u(ids.len()).u(0).u(0);
    ctx.launch(shader, entry, &p.0, &[(1, buf(&x)), (2, buf(&ids_t)), (3, buf(&out))], grid_1d(ids.len()));
    out
}

/// ids `[..]` → `[.., classes]` one-hot rows on `ctx`.
#[track_caller]
pub(crate) fn one_hot(ctx: &Arc<GpuContext>, ids: &[u32], classes: usize, dtype: DType, out_shape: &[usize]) -> Tensor {
    assert_eq!(dtype, DType::F32, "one_hot: the GPU backend computes in f32, got {dtype}");
    check_ids("one_hot", ids, classes, "classes");
    let ids_t = upload_ids(ctx, ids);
    let out = output(ctx, dtype, out_shape);
    let (shader, entry) = gpu_entry(Op::OneHot);
    let p = Params::new().u(classes).u(ids.len()).u(0).u(0);
    ctx.launch(shader, entry, &p.0, &[(2, buf(&ids_t)), (3, buf(&out))], grid_1d(out.numel()));
    out
}

/// Rows `ids` of the `[R, C]` table → `[.., C]`.
#[track_caller]
pub(crate) fn index_select(table: &Tensor, ids: &[u32], out_shape: &[usize]) -> Tensor {
    let ctx = target(&[table]).expect("gpu operand");
    require_f32("index_select", table);
    let (rows, c) = (table.shape()[0], table.shape()[1]);
    check_ids("index_select", ids, rows, "rows");
    let (table, ids_t) = (dense(table), upload_ids(&ctx, ids));
    let out = output(&ctx, table.dtype(), out_shape);
    let (shader, entry) = gpu_entry(Op::IndexSelect);
    let p = Params::new().u(c).u(ids.len()).u(0).u(0);
    ctx.launch(shader, entry, &p.0, &[(1, buf(&table)), (2, buf(&ids_t)), (3, buf(&out))], grid_1d(out.numel()));
    out
}

/// `src` `[N, C]` rows added into `rows` zero rows at `ids` → `[rows, C]`.
#[track_caller]
pub(crate) fn scatter_add(src: &Tensor, ids: &[u32], rows: usize) -> Tensor {
    let ctx = target(&[src]).expect("gpu operand");
    require_f32("scatter_add", src);
    check_ids("scatter_add", ids, rows, "rows");
    let c = src.shape()[1];
    // counting sort of source rows by target row: row r's sources are order[start[r]..start[r+1]]
    let mut start = vec![0u32; rows + 1];
    for &id in ids {
        start[id as usize + 1] += 1;
    }
    for r in 0..rows {
        start[r + 1] += start[r];
    }
    let mut fill = start.clone();
    let mut order = vec![0u32; ids.len()];
    for (i, &id) in ids.iter().enumerate() {
        order[fill[id as usize] as usize] = i as u32;
        fill[id as usize] += 1;
    }
    let (src, order_t, start_t) = (dense(src), upload_ids(&ctx, &order), upload_ids(&ctx, &start));
    let out = output(&ctx, src.dtype(), &[rows, c]);
    let (shader, entry) = gpu_entry(Op::ScatterAdd);
    let p = Params::new().u(c).u(rows).u(0).u(0);
    let bindings = [(1, buf(&src)), (2, buf(&order_t)), (3, buf(&out)), (4, buf(&start_t))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_1d(out.numel()));
    out
}
