//! Reading and writing `.safetensors` files of named f32 tensors (f16/bf16/f64 — and i32/i64
//! index tensors — are converted to f32 on read). Writes go to a temp file that is renamed into place.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use llamaforge_engine::Tensor;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use super::atomic_write;
use crate::error::{ModelError, Result};

/// Every floating-point tensor of a safetensors file as f32, by name.
pub fn read_f32_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    parse_f32_tensors(path, &bytes)
}

/// [`read_f32_tensors`] on bytes already in memory (`path` only names them in errors).
pub fn parse_f32_tensors(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, Tensor>> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| ModelError::format(path, format!("not a valid safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::BF16 => data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                .collect(),
            // index tensors (token ids) come back as exact f32 values
            Dtype::I64 => {
                data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f32).collect()
            }
            Dtype::I32 => {
                data.chunks_exact(4).map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")) as f32).collect()
            }
            other => {
                return Err(ModelError::format(path, format!("tensor `{name}`: dtype {other:?} is not supported")))
            }
        };
        let shape = view.shape().to_vec();
        if values.len() != shape.iter().product::<usize>() {
            return Err(ModelError::format(path, format!("tensor `{name}`: data does not fill shape {shape:?}")));
        }
        out.insert(name, Tensor::from_vec(values, &shape));
    }
    Ok(out)
}

/// Writes f32 tensors (any layout) with optional string metadata, atomically.
pub fn write_f32_tensors(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    metadata: Option<HashMap<String, String>>,
) -> Result<()> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| {
            let data = t.to_dtype(llamaforge_engine::DType::F32).to_vec::<f32>();
            (name.clone(), data.iter().flat_map(|v| v.to_le_bytes()).collect(), t.shape().to_vec())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| ModelError::format(path, format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let encoded = safetensors::serialize(views, &metadata).map_err(|e| ModelError::format(path, e.to_string()))?;
    atomic_write(path, &encoded)
}
