//! Element types. `DType` is a runtime enum so that f16/bf16 storage can be added later
//! without touching the tensor API; kernels are generic over [`Float`].

use std::fmt;

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float: the training and inference type.
    F32,
    /// 64-bit float: CPU only, used by the gradient checks so finite differences are exact.
    F64,
    /// 32-bit unsigned integer: token ids and other indices (not differentiable).
    U32,
}

impl DType {
    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 | DType::U32 => 4,
            DType::F64 => 8,
        }
    }

    /// True for the floating-point types.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::U32 => "u32",
        };
        f.write_str(name)
    }
}

/// A floating-point element type the CPU kernels are generic over (f32 and f64).
pub trait Float:
    num_traits::Float
    + num_traits::FromPrimitive
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + Send
    + Sync
    + fmt::Debug
    + Default
    + 'static
{
    /// The runtime tag of this type.
    const DTYPE: DType;

    /// Converts from f64 (rounding for f32).
    fn from_f64_lossy(x: f64) -> Self;
}

impl Float for f32 {
    const DTYPE: DType = DType::F32;
    fn from_f64_lossy(x: f64) -> Self {
        x as f32
    }
}

impl Float for f64 {
    const DTYPE: DType = DType::F64;
    fn from_f64_lossy(x: f64) -> Self {
        x
    }
}
