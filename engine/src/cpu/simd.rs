//! Run-time selection of the vector instruction set, and the `simd_kernel!` macro that
//! compiles one loop body once per level.
//!
//! A default `cargo build --release` targets baseline x86-64 (SSE2), so loops compiled the
//! ordinary way never touch the AVX2/AVX-512 units of the machine they run on. Each hot loop
//! is therefore written once as plain Rust whose shape LLVM can vectorize (fixed-width lane
//! arrays for reductions, branch-free bodies), and `simd_kernel!` instantiates it inside
//! `#[target_feature]` functions for AVX-512 and AVX2+FMA, picking one at run time from
//! the cached CPU detection. Other architectures get the portable instantiation only (on
//! aarch64 that is already NEON, which is part of its baseline).

use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// The widest vector instruction set the kernels use on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// Whatever the compile target guarantees (SSE2 on x86-64, NEON on aarch64).
    Baseline,
    /// 256-bit AVX2 with fused multiply-add.
    Avx2,
    /// 512-bit AVX-512 (F, BW, DQ, VL) with AVX2 and FMA.
    Avx512,
}

impl std::fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            SimdLevel::Baseline if cfg!(target_arch = "aarch64") => "baseline (NEON)",
            SimdLevel::Baseline if cfg!(target_arch = "x86_64") => "baseline (SSE2)",
            SimdLevel::Baseline => "baseline",
            SimdLevel::Avx2 => "AVX2+FMA",
            SimdLevel::Avx512 => "AVX-512",
        };
        f.write_str(name)
    }
}

/// What the CPU supports, ignoring any override.
pub fn detected_level() -> SimdLevel {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        let avx512 = avx2
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl");
        if avx512 {
            return SimdLevel::Avx512;
        }
        if avx2 {
            return SimdLevel::Avx2;
        }
    }
    SimdLevel::Baseline
}

/// The level the kernels use: the detected one, lowered by `LLAMAFORGE_SIMD=baseline|avx2`
/// (for benchmarking the fallback and testing it on a machine that has more). Detected
/// once; the atomic load of a `OnceLock` is all a kernel call pays afterwards.
pub fn level() -> SimdLevel {
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let detected = detected_level();
        let requested = match std::env::var("LLAMAFORGE_SIMD").ok().as_deref().map(str::to_ascii_lowercase) {
            Some(s) if s == "baseline" || s == "scalar" || s == "sse2" => SimdLevel::Baseline,
            Some(s) if s == "avx2" => SimdLevel::Avx2,
            _ => SimdLevel::Avx512,
        };
        detected.min(requested)
    })
}

/// Defines `pub(crate) fn $name(args) -> ret` whose body is compiled three times — for
/// AVX-512, for AVX2+FMA and for the baseline target — and dispatched by [`level`].
///
/// The body must be a plain function body over its arguments (no `self`, no generics);
/// everything it calls should be `#[inline(always)]` or generic so that it is inlined into,
/// and so compiled with the features of, each instantiation. Inside the body the constant
/// `FMA` says whether fused multiply-add exists; pass it on to [`super::exp::exp_f32_with`]
/// and friends (`f32::mul_add` is one instruction with FMA but a libm call without it).
///
/// Exported (`llamaforge_engine::simd_kernel!`) so other crates' hot loops (the decoding
/// kernels in `model/src/generate/`) dispatch the same way and obey `LLAMAFORGE_SIMD` too.
#[macro_export]
macro_rules! simd_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body<const FMA: bool>($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { body::<true>($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body::<true>($($arg),*) }
                match $crate::cpu::simd::level() {
                    // SAFETY: `level()` returns Avx512 only when `detected_level()` found
                    // AVX-512 F/BW/DQ/VL, AVX2 and FMA on this CPU, so every instruction the
                    // target_feature body may use exists; the body itself is safe Rust.
                    $crate::cpu::simd::SimdLevel::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above, Avx2 is returned only when AVX2 and FMA were detected.
                    $crate::cpu::simd::SimdLevel::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::cpu::simd::SimdLevel::Baseline => {}
                }
            }
            body::<false>($($arg),*)
        }
    };
}
pub use simd_kernel;

/// Lanes of the fixed-width accumulator arrays reductions use. 16 f32 = one zmm register
/// (two ymm, four xmm): wide enough to fill every level, and it breaks the loop-carried
/// dependency of a single running sum, which is what keeps LLVM from vectorizing a float
/// reduction (it may not reassociate `+` on its own).
pub const LANES: usize = 16;

/// Maximum of a slice (-inf for an empty one), vectorizable.
#[inline(always)]
pub fn max_f32(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            // written as a select, not f32::max, so that it maps onto one vmaxps
            *a = if v > *a { v } else { *a };
        }
    }
    let mut m = acc.iter().fold(f32::NEG_INFINITY, |m, &a| if a > m { a } else { m });
    for &v in tail {
        m = if v > m { v } else { m };
    }
    m
}

/// Sum of `f(x)` over a slice with `LANES` partial sums, vectorizable when `f` is.
#[inline(always)]
pub fn sum_map_f32(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let mut s = 0.0;
    for &v in tail {
        s += f(v);
    }
    acc.iter().sum::<f32>() + s
}

/// Views a `&[T]` as `&[f32]` when `T` is f32, so a generic kernel can take its SIMD path.
#[inline]
pub fn as_f32<T: 'static>(x: &[T]) -> Option<&[f32]> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: T is f32 (same TypeId), so the pointer, length and lifetime describe the
        // same valid, initialized f32 slice.
        Some(unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

/// Mutable counterpart of [`as_f32`].
#[inline]
pub fn as_f32_mut<T: 'static>(x: &mut [T]) -> Option<&mut [f32]> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: T is f32, and the returned borrow takes over the unique borrow of `x`.
        Some(unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

/// `Some(slice)` when `T` is f32: the uninitialized-output counterpart of [`as_f32_mut`].
pub fn as_f32_uninit_mut<T: 'static>(x: &mut [MaybeUninit<T>]) -> Option<&mut [MaybeUninit<f32>]> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        // SAFETY: T is f32, so `MaybeUninit<T>` is `MaybeUninit<f32>`; the returned borrow
        // takes over the unique borrow of `x`.
        Some(unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<MaybeUninit<f32>>(), x.len()) })
    } else {
        None
    }
}
