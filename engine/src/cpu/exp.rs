//! A vectorizable f32 `exp`, for the f32 paths of softmax, log-softmax, cross-entropy,
//! sigmoid, SiLU and SwiGLU.
//!
//! `f32::exp` calls libm, an opaque function call per element, so a loop around it never
//! becomes vector code. This version is branch-free straight-line arithmetic and integer
//! bit manipulation, so inside a loop LLVM turns it into 4/8/16-lane code depending on
//! the `simd_kernel!` instantiation. f64 kernels keep `f64::exp`: the gradient checks
//! need its full accuracy.
//!
//! Method (Cephes `expf`): `exp(x) = 2^n · exp(r)` with `n = round(x / ln 2)` and
//! `r = x - n ln 2` in `[-ln2/2, ln2/2]`; `exp(r)` is a degree-7 polynomial (1 + r + r²·P5(r)).
//! Relative error ≤ 2e-7 over the range where the result is a normal f32 (tested in
//! engine/tests/cpu_kernels.rs).

/// Below this, exp(x) < 2^-150 rounds to 0 even as a subnormal.
const EXP_LO: f32 = -103.972_08;
/// Above this the result overflows to +inf; clamping here keeps `n` small enough for the
/// exponent arithmetic while still producing inf naturally.
const EXP_HI: f32 = 89.0;
/// 1.5 · 2^23: adding it rounds a float of magnitude < 2^22 to an integer (ties to even)
/// held in the low mantissa bits — a rounding that vectorizes on every level, unlike
/// `f32::round`, which is a libm call without SSE4.1.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// ln 2 split in two: `C1` has few enough mantissa bits that `n · C1` is exact for |n| ≤ 150.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` for f32 with ≤ 2e-7 relative error: `-inf` and anything below -103.97 → 0,
/// large inputs → +inf, NaN → NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    exp_f32_with::<false>(x)
}

/// `a · b + c`, fused into one instruction when the caller is compiled with FMA (there
/// `mul_add` is `vfmadd`; without FMA it would be a libm call, so it is not used).
#[inline(always)]
fn mul_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// [`exp_f32`], with the polynomial in fused multiply-adds when `FMA` (about a quarter
/// fewer instructions; the same accuracy bound).
#[inline(always)]
pub fn exp_f32_with<const FMA: bool>(x: f32) -> f32 {
    // comparisons (not f32::max/min) so that NaN passes through to the result
    let xc = if x < EXP_LO { EXP_LO } else { x };
    let xc = if xc > EXP_HI { EXP_HI } else { xc };

    let shifted = mul_add::<FMA>(xc, std::f32::consts::LOG2_E, ROUND_MAGIC);
    let n_float = shifted - ROUND_MAGIC;
    let n = shifted.to_bits() as i32 - ROUND_MAGIC.to_bits() as i32;

    let r = mul_add::<FMA>(n_float, -LN2_HI, xc);
    let r = mul_add::<FMA>(n_float, -LN2_LO, r);
    let mut p = 1.987_569_2e-4_f32;
    p = mul_add::<FMA>(p, r, 1.398_2e-3);
    p = mul_add::<FMA>(p, r, 8.333_452e-3);
    p = mul_add::<FMA>(p, r, 4.166_579_6e-2);
    p = mul_add::<FMA>(p, r, 1.666_666_5e-1);
    p = mul_add::<FMA>(p, r, 0.5);
    let er = mul_add::<FMA>(p * r, r, r) + 1.0;

    // 2^n as two factors 2^(n/2)·2^(n - n/2): each stays a normal float for n in
    // [-150, 129], so results that are subnormal or overflow still round correctly
    let n_half = n >> 1;
    let scale_a = f32::from_bits(((n_half + 127) << 23) as u32);
    let scale_b = f32::from_bits(((n - n_half + 127) << 23) as u32);
    let y = er * scale_a * scale_b;
    if x < EXP_LO {
        0.0
    } else {
        y
    }
}

/// `1 / (1 + e^-x)` with [`exp_f32_with`]; saturates cleanly to 0 and 1.
#[inline(always)]
pub fn sigmoid_f32<const FMA: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32_with::<FMA>(-x))
}

/// `x · sigmoid(x)`.
#[inline(always)]
pub fn silu_f32<const FMA: bool>(x: f32) -> f32 {
    x / (1.0 + exp_f32_with::<FMA>(-x))
}
