"""Per-token log-probs of Hugging Face LlamaForCausalLM and their gradients (PPO's ratio).

Reads:
  tests/fixtures/hf_tiny_llama/            the tiny random model written by hf_llama_parity.py
Writes:
  tests/fixtures/hf_token_log_probs.safetensors

Regenerate (from the repository root, after hf_llama_parity.py if the model changed):
  pip install torch safetensors transformers numpy
  python tests/reference/token_log_probs.py
Generated with torch 2.15.0 (CPU) and transformers 5.25.0 (also stored in the file's
metadata).

Model: LlamaForCausalLM.from_pretrained(hf_tiny_llama, attn_implementation="eager",
  dtype=float32), eval mode (no dropout anyway), CPU, one thread.

Inputs: torch.manual_seed(1); input_ids [3, 9] = randint(3, 64) (int64);
  weights w [3, 8] = randn (float32), a fixed weighting of the log-probs so every
  position contributes a different amount to the gradient (a plain sum would hide a
  position mix-up).

Forward (no labels): logits = model(input_ids).logits [B, T, V];
  log_probs[b, t] = log_softmax(logits[b, t])[input_ids[b, t+1]] for t < T-1, i.e.
  log_softmax(logits)[:, :-1].gather(-1, input_ids[:, 1:, None]).squeeze(-1), [B, T-1].
  Checked against -cross_entropy(reduction="none") of the same positions.
Backward: objective = sum(log_probs * w); objective.backward().

hf_token_log_probs.safetensors tensors:
  input_ids  [3, 9] I64
  weights    [3, 8] F32   (w)
  log_probs  [3, 8] F32
  grad.model.embed_tokens.weight                 [64, 32] F32
  grad.model.layers.0.self_attn.q_proj.weight    [32, 32] F32  (HF rotate-half row order:
             an interleaved-RoPE engine permutes its rows like the weight itself, see
             hf_llama_parity.py)
  grad.lm_head.weight                            [64, 32] F32

Written with tests/reference/_common.py's save_sorted (sorted metadata keys) so a
regeneration is byte-for-byte reproducible.
"""

import json
import os

import torch
import transformers
from _common import save_sorted  # save_file + sorted metadata keys
from transformers import LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
GRADS = (
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "lm_head.weight",
)


def main():
    torch.set_num_threads(1)
    mdir = os.path.join(FIXTURES, "hf_tiny_llama")
    model = LlamaForCausalLM.from_pretrained(mdir, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    vocab = model.config.vocab_size

    torch.manual_seed(1)
    input_ids = torch.randint(3, vocab, (3, 9), dtype=torch.int64)
    weights = torch.randn(3, 8, dtype=torch.float32)

    logits = model(input_ids=input_ids).logits  # [B, T, V]
    log_probs = torch.log_softmax(logits, -1)[:, :-1].gather(-1, input_ids[:, 1:, None]).squeeze(-1)  # [B, T-1]
    (log_probs * weights).sum().backward()

    # --- checks: the same numbers by another route, and all of them real log-probs
    ce = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, vocab), input_ids[:, 1:].reshape(-1), reduction="none"
    ).reshape(log_probs.shape)
    err = (ce + log_probs).abs().max().item()
    assert err < 1e-6, err
    assert (log_probs < 0).all()
    params = dict(model.named_parameters())
    for name in GRADS:
        assert params[name].grad is not None and params[name].grad.abs().max() > 0, name
    print(f"log_probs mean {log_probs.mean().item():.4f} (uniform: {-torch.log(torch.tensor(float(vocab))).item():.4f})")

    tensors = {"input_ids": input_ids, "weights": weights, "log_probs": log_probs.detach()}
    for name in GRADS:
        tensors["grad." + name] = params[name].grad.detach()
    meta = {
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "description": "per-token log-probs of hf_tiny_llama and grads of sum(log_probs * weights)",
        "log_probs": "log_softmax(logits)[:, :-1].gather(-1, input_ids[:, 1:, None]).squeeze(-1)",
        "rope": "HF rotate-half layout; the q_proj grad is in HF row order",
        "init": "torch.manual_seed(1); input_ids = randint(3, 64, (3, 9)); weights = randn(3, 8)",
        "grads": json.dumps(GRADS),
    }
    path = os.path.join(FIXTURES, "hf_token_log_probs.safetensors")
    save_sorted(tensors, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
