"""PyTorch reference fixture for 10 steps of torch.optim.AdamW.

Writes:
  tests/fixtures/adamw_10_steps.safetensors

Regenerate (from the repository root):
  pip install torch safetensors numpy
  python tests/reference/adamw.py

Setup (float32, CPU, deterministic: torch.manual_seed(0), draw order
w0, b0, grads_w, grads_b):
  parameters  w [4,3] = randn, b [3] = randn
  optimizer   torch.optim.AdamW([w, b], lr=1e-2, betas=(0.9, 0.95), eps=1e-5,
                                weight_decay=0.1, foreach=False)
              (both parameters in one group, both decayed; amsgrad=False,
               maximize=False)
  gradients   for step s = 0..9: w.grad = grads_w[s], b.grad = grads_b[s]
              (fixed randn tensors, saved), then optimizer.step().

Tensors (all float32):
  w0 [4,3], b0 [3]             initial parameter values
  grads_w [10,4,3], grads_b [10,3]   gradient used at step s
  w_after [10,4,3], b_after [10,3]   parameter values right after step s

The update PyTorch applies at step s (step count n = s + 1, m and v start at 0),
element-wise, in this order:
  p  = p * (1 - lr * weight_decay)          # decoupled weight decay FIRST,
                                            # on the pre-update parameter
  m  = beta1 * m + (1 - beta1) * g          # (torch: m.lerp_(g, 1 - beta1))
  v  = beta2 * v + (1 - beta2) * g * g
  bc1 = 1 - beta1^n ; bc2 = 1 - beta2^n     # bias correction
  p  = p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
Note eps is added AFTER dividing sqrt(v) by sqrt(bc2) (i.e. to sqrt(v_hat)),
not to sqrt(v) before the correction.

The script checks torch's result against a float64 transcription of the
formula above.

Files are written with safetensors.torch.save_file and then the header's
__metadata__ keys are sorted (tests/reference/_common.py) so regeneration is
byte-for-byte reproducible.
"""

import math
import os

import torch
from _common import save_sorted  # save_file + sorted metadata keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

LR, BETAS, EPS, WD, STEPS = 1e-2, (0.9, 0.95), 1e-5, 0.1, 10


def manual_adamw(p0, grads):
    p = p0.double().clone()
    m = torch.zeros_like(p)
    v = torch.zeros_like(p)
    b1, b2 = BETAS
    out = []
    for s in range(grads.shape[0]):
        n = s + 1
        g = grads[s].double()
        p = p * (1 - LR * WD)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        bc1 = 1 - b1**n
        bc2 = 1 - b2**n
        p = p - (LR / bc1) * m / (v.sqrt() / math.sqrt(bc2) + EPS)
        out.append(p.clone())
    return torch.stack(out)


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    w0 = torch.randn(4, 3)
    b0 = torch.randn(3)
    grads_w = torch.randn(STEPS, 4, 3)
    grads_b = torch.randn(STEPS, 3)

    w = torch.nn.Parameter(w0.clone())
    b = torch.nn.Parameter(b0.clone())
    opt = torch.optim.AdamW([w, b], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD, foreach=False)
    w_after, b_after = [], []
    for s in range(STEPS):
        opt.zero_grad(set_to_none=True)
        w.grad = grads_w[s].clone()
        b.grad = grads_b[s].clone()
        opt.step()
        w_after.append(w.detach().clone())
        b_after.append(b.detach().clone())
    w_after = torch.stack(w_after)
    b_after = torch.stack(b_after)

    err = max(
        (manual_adamw(w0, grads_w) - w_after.double()).abs().max().item(),
        (manual_adamw(b0, grads_b) - b_after.double()).abs().max().item(),
    )
    assert err < 1e-6, err
    print(f"adamw: max |torch f32 - manual f64| = {err:.2e}")

    tensors = {
        "w0": w0, "b0": b0,
        "grads_w": grads_w, "grads_b": grads_b,
        "w_after": w_after, "b_after": b_after,
    }
    meta = {
        "description": "torch.optim.AdamW, 10 steps, params w [4,3] and b [3] in one group",
        "lr": str(LR), "beta1": str(BETAS[0]), "beta2": str(BETAS[1]), "eps": str(EPS),
        "weight_decay": str(WD), "steps": str(STEPS),
        "update": "p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; "
                  "p -= (lr/(1-b1^n)) * m / (sqrt(v)/sqrt(1-b2^n) + eps), n = step index + 1",
        "layout": "grads_*[s] is the gradient of step s; *_after[s] is the parameter after step s",
        "seed": "torch.manual_seed(0); draw order w0, b0, grads_w, grads_b",
        "torch_version": torch.__version__,
    }
    path = os.path.join(FIXTURES, "adamw_10_steps.safetensors")
    save_sorted({n: t.to(torch.float32).contiguous() for n, t in tensors.items()}, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
