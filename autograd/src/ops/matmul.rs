//! Matrix product: `dA = dC · Bᵀ`, `dB = Aᵀ · dC`, transposes as free views.

use llamaforge_engine::Op;

use crate::Var;

impl Var {
    /// `[.., M, K] · [.., K, N] → [.., M, N]` with batch broadcasting.
    #[track_caller]
    pub fn matmul(&self, rhs: &Var) -> Var {
        let (a, b) = (self.value(), rhs.value());
        let y = a.matmul(&b);
        Var::from_op(Op::Matmul, y, &[self, rhs], move |g| {
            let (ra, rb) = (a.rank(), b.rank());
            let ga = g.matmul(&b.transpose(rb - 2, rb - 1)).sum_to(a.shape());
            let gb = a.transpose(ra - 2, ra - 1).matmul(g).sum_to(b.shape());
            vec![Some(ga), Some(gb)]
        })
    }
}
