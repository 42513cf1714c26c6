"""SFT answer-only loss of Hugging Face LlamaForCausalLM (labels = -100 on prompt tokens).

Reads:
  tests/fixtures/hf_tiny_llama/            the tiny random model written by hf_llama_parity.py
Writes:
  tests/fixtures/hf_sft_masking.safetensors

Regenerate (from the repository root, after hf_llama_parity.py if the model changed):
  pip install torch safetensors transformers numpy
  python tests/reference/sft_masking.py
Generated with torch 2.15.0 (CPU) and transformers 5.25.0 (also stored in the file's
metadata).

Model: LlamaForCausalLM.from_pretrained(hf_tiny_llama, attn_implementation="eager",
  dtype=float32), eval mode, CPU, one thread.

Rows: 3 packed rows of W = 17 tokens (= T + 1 with T = 16, the width of llamaforge's
  PackedRows), laid out by hand like training/src/data/packing.rs lays out chat examples
  (BOS = 1, EOS = 2, PAD = 0; content ids drawn with torch.manual_seed(3) from [3, 64)):
    row 0: [<s> p4 a3 </s>] [<s> p3 a2 </s>] pad1            two examples, one pad
    row 1: [<s> p2 a2 </s> <s> p3 a3 </s>] pad3                one two-turn example, three pads
    row 2: [a2 </s>] [<s> p4 a4 </s>] [<s> p2 a1]              no padding: starts with learned
                                                               tokens (position 0 is never a
                                                               target), ends mid-answer (the
                                                               last token is a learned target)
  pN = N prompt tokens (not learned), aN = N answer tokens (learned), </s> after an answer
  is learned (the chat template's assistant mask covers it), <s> and pads are not.
  learn [3, 17] = 1 where a token is learned; labels = where(learn, input_ids, -100).

Forward/backward (masked): loss = model(input_ids, labels=labels).loss. HF shifts the
  labels itself: position t (t < W-1) predicts labels[t+1], so the loss is the mean
  cross-entropy of logits[:, :-1] against labels[:, 1:] over the entries that are not
  -100 (learn[:, 0] never counts). The logits of the last position W-1 take no part, so
  running on all W tokens equals running on inputs row[:T] with targets row[1:] (causal
  attention: positions < T do not see position T). loss.backward().
  The script checks the loss against a hand-written masked mean cross-entropy, and that a
  mask shifted by one position gives a clearly different loss.
Unmasked (no grad): loss_unmasked = model(input_ids, labels=input_ids).loss, the mean over
  all B·(W-1) = 48 next-token targets, pads included (what an all-ones mask must give).

hf_sft_masking.safetensors tensors:
  input_ids      [3, 17] I64
  learn          [3, 17] I64 (0/1)
  labels         [3, 17] I64 (-100 where not learned)
  loss           [1] F32     (masked)
  loss_unmasked  [1] F32
  grad.<name>    F32 of the masked loss for every name in model.named_parameters()
                 (q_proj/k_proj grads in HF rotate-half row order, see hf_llama_parity.py)

Written with tests/reference/_common.py's save_sorted (sorted metadata keys) so a
regeneration is byte-for-byte reproducible.
"""

import os

import torch
import transformers
from _common import save_sorted  # save_file + sorted metadata keys
from transformers import LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PAD, BOS, EOS = 0, 1, 2
IGNORE = -100

# (kind, count) segments per row; "b" BOS, "p" prompt, "a" answer, "e" EOS, "pad" padding
ROWS = [
    [("b", 1), ("p", 4), ("a", 3), ("e", 1), ("b", 1), ("p", 3), ("a", 2), ("e", 1), ("pad", 1)],
    [("b", 1), ("p", 2), ("a", 2), ("e", 1), ("b", 1), ("p", 3), ("a", 3), ("e", 1), ("pad", 3)],
    [("a", 2), ("e", 1), ("b", 1), ("p", 4), ("a", 4), ("e", 1), ("b", 1), ("p", 2), ("a", 1)],
]
WIDTH = 17


def build_rows(vocab):
    """input_ids and learn, both [B, WIDTH] int64, from ROWS."""
    ids, learn = [], []
    for segments in ROWS:
        row_ids, row_learn = [], []
        for kind, n in segments:
            if kind in ("p", "a"):
                row_ids += torch.randint(3, vocab, (n,)).tolist()
            else:
                row_ids += [{"b": BOS, "e": EOS, "pad": PAD}[kind]] * n
            row_learn += [1 if kind in ("a", "e") else 0] * n
        assert len(row_ids) == WIDTH, segments
        ids.append(row_ids)
        learn.append(row_learn)
    return torch.tensor(ids, dtype=torch.int64), torch.tensor(learn, dtype=torch.int64)


def masked_mean_ce(logits, input_ids, learn):
    """Mean cross-entropy of logits[:, :-1] against input_ids[:, 1:] where learn[:, 1:]."""
    vocab = logits.shape[-1]
    ce = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, vocab), input_ids[:, 1:].reshape(-1), reduction="none"
    )
    keep = learn[:, 1:].reshape(-1).to(ce.dtype)
    return (ce * keep).sum() / keep.sum()


def main():
    torch.set_num_threads(1)
    mdir = os.path.join(FIXTURES, "hf_tiny_llama")
    model = LlamaForCausalLM.from_pretrained(mdir, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    vocab = model.config.vocab_size

    torch.manual_seed(3)
    input_ids, learn = build_rows(vocab)
    labels = torch.where(learn.bool(), input_ids, torch.full_like(input_ids, IGNORE))

    out = model(input_ids=input_ids, labels=labels)
    loss = out.loss
    loss.backward()

    with torch.no_grad():
        loss_unmasked = model(input_ids=input_ids, labels=input_ids).loss

    # --- checks: HF's loss is the masked mean over learn[:, 1:], and the mask position matters
    logits = out.logits.detach()
    manual = masked_mean_ce(logits, input_ids, learn)
    assert (manual - loss.detach()).abs() < 1e-6, (manual.item(), loss.item())
    all_ones = masked_mean_ce(logits, input_ids, torch.ones_like(learn))
    assert (all_ones - loss_unmasked).abs() < 1e-6, (all_ones.item(), loss_unmasked.item())
    shifted = torch.zeros_like(learn)
    shifted[:, 1:] = learn[:, :-1]
    shifted_loss = masked_mean_ce(logits, input_ids, shifted)
    assert (shifted_loss - loss.detach()).abs() > 1e-2, (shifted_loss.item(), loss.item())
    n_learned = int(learn[:, 1:].sum())
    params = dict(model.named_parameters())
    for name, p in params.items():
        assert p.grad is not None and p.grad.abs().max() > 0, name
    print(
        f"masked loss {loss.item():.6f} over {n_learned} targets; unmasked {loss_unmasked.item():.6f} "
        f"over {input_ids.shape[0] * (WIDTH - 1)}; mask shifted by one {shifted_loss.item():.6f}"
    )

    tensors = {
        "input_ids": input_ids,
        "learn": learn,
        "labels": labels,
        "loss": loss.detach().reshape(1),
        "loss_unmasked": loss_unmasked.reshape(1),
    }
    for name, p in params.items():
        tensors["grad." + name] = p.grad.detach()
    meta = {
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "description": "SFT answer-only loss of hf_tiny_llama (labels -100 off the answers) and its grads",
        "loss": "model(input_ids, labels=where(learn, input_ids, -100)).loss; HF shifts: t predicts labels[t+1]",
        "loss_unmasked": "model(input_ids, labels=input_ids).loss",
        "rows": "3 packed rows of 17 = T + 1 tokens (T = 16); BOS 1, EOS 2, PAD 0; torch.manual_seed(3)",
        "rope": "HF rotate-half layout; q_proj/k_proj grads are in HF row order",
    }
    path = os.path.join(FIXTURES, "hf_sft_masking.safetensors")
    save_sorted(tensors, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
