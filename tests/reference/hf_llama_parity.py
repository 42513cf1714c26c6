"""Hugging Face transformers LlamaForCausalLM parity fixtures (tiny random model).

Writes:
  tests/fixtures/hf_tiny_llama/            exactly what
                                           model.save_pretrained(dir, safe_serialization=True)
                                           writes (config.json, model.safetensors and,
                                           if this transformers version writes it,
                                           generation_config.json)
  tests/fixtures/hf_tiny_llama_io.safetensors   inputs, logits, loss, gradients
  tests/fixtures/hf_config_variants/config_old.json   top-level "rope_theta" layout
  tests/fixtures/hf_config_variants/config_new.json   "rope_parameters" layout

Regenerate (from the repository root):
  pip install torch safetensors transformers numpy
  python tests/reference/hf_llama_parity.py
Generated with torch 2.15.0 (+cu132 wheel, run on CPU) and transformers 5.24.0 (also stored in
the io file's metadata). Other versions may initialise differently (different
random weights) and may write a different config.json layout; the fixtures are
self-consistent either way.

Model: LlamaForCausalLM, float32, CPU, attn_implementation="eager",
  vocab_size 64, hidden_size 32, intermediate_size 64, num_hidden_layers 2,
  num_attention_heads 4, num_key_value_heads 2 (head_dim 8),
  max_position_embeddings 64, rms_norm_eps 1e-5, rope_theta 10000 (default
  rope, no scaling), tie_word_embeddings False, hidden_act silu,
  attention_bias False, mlp_bias False.
  torch.manual_seed(0), then the model is built (HF init: normal(0, 0.02)
  linears/embeddings, RMSNorm weights 1); then EVERY RMSNorm weight (both
  per-layer norms and model.norm, in named_modules order) is replaced by
  1 + 0.1*randn(hidden) so a missing/misplaced norm gain shows up.
  Then input_ids [2, 8] = randint(3, 64) (int64).

Forward: model(input_ids, labels=input_ids). HF shifts internally: the loss is
  the mean cross-entropy of logits[:, :-1] against input_ids[:, 1:] over the
  B*(T-1) = 14 positions. loss.backward().

hf_tiny_llama_io.safetensors tensors:
  input_ids [2,8] I64
  logits    [2,8,64] F32
  loss      [1] F32
  grad.<name> F32 for every name in model.named_parameters(), e.g.
            grad.model.embed_tokens.weight, grad.model.layers.0.self_attn.q_proj.weight,
            grad.model.layers.0.input_layernorm.weight, grad.model.norm.weight,
            grad.lm_head.weight  (same names and shapes as in model.safetensors)

Conventions to know on the Rust side:
  * Weights in model.safetensors are [out, in], y = x @ W.T.
  * HF Llama uses the "rotate-half" RoPE layout: for head dim D, element j is
    paired with element j + D/2 (angle of pair j = t * theta^(-2j/D)).
    An interleaved-RoPE engine (pairs (2i, 2i+1)) must permute the ROWS of
    q_proj.weight (with n = num_attention_heads) and k_proj.weight (with
    n = num_key_value_heads) at load time, head by head:
        W_interleaved = W_hf.view(n, 2, D//2, in).transpose(1, 2).reshape(n*D, in)
    i.e. within each head, new row 2i = old row i, new row 2i+1 = old row i + D/2.
    (This is the inverse of the `permute` in HF's convert_llama_weights_to_hf.py.)
    The gradients of q_proj/k_proj in the io file are in the HF layout, so
    permute them the same way before comparing. v_proj/o_proj are untouched.
  * This script checks that claim: it re-implements the forward pass in plain
    torch with interleaved RoPE and the permuted q/k weights and asserts the
    logits match HF's.

hf_config_variants/: config_old.json has top-level "rope_theta": 10000.0 and
  "rope_scaling": null (the layout written by transformers 4.x; derived here
  from the 5.x file, and checked to be identical, key for key, to what
  transformers 4.46.3's LlamaConfig(...).save_pretrained writes for this model); config_new.json has
  "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0} and no
  top-level rope_theta (the layout written by transformers >= 5). Both describe
  the same model as hf_tiny_llama/config.json.

Files are written with safetensors.torch.save_file and then the header's
__metadata__ keys are sorted (tests/reference/_common.py) so regeneration is
byte-for-byte reproducible.
"""

import json
import math
import os
import shutil

import torch
import transformers
from safetensors import safe_open
from _common import save_sorted  # save_file + sorted metadata keys
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

CFG = dict(
    vocab_size=64,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=64,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    tie_word_embeddings=False,
    hidden_act="silu",
    attention_bias=False,
    mlp_bias=False,
)


# ------------------------------------------------ independent interleaved-RoPE reference
def hf_to_interleaved(w, n):
    rows, cols = w.shape
    d = rows // n
    return w.view(n, 2, d // 2, cols).transpose(1, 2).reshape(rows, cols)


def rope_interleaved(x, theta):
    B, T, NH, D = x.shape
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=x.dtype) / D))
    ang = torch.arange(T, dtype=x.dtype)[:, None] * inv_freq[None, :]
    cos, sin = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).reshape(B, T, NH, D)


def rmsnorm(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def plain_forward(sd, ids, c):
    H, KV, C = c["num_attention_heads"], c["num_key_value_heads"], c["hidden_size"]
    D = C // H
    eps, theta = c["rms_norm_eps"], c["rope_theta"]
    B, T = ids.shape
    x = sd["model.embed_tokens.weight"][ids]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rmsnorm(x, sd[p + "input_layernorm.weight"], eps)
        wq = hf_to_interleaved(sd[p + "self_attn.q_proj.weight"], H)
        wk = hf_to_interleaved(sd[p + "self_attn.k_proj.weight"], KV)
        q = rope_interleaved((h @ wq.T).view(B, T, H, D), theta)
        k = rope_interleaved((h @ wk.T).view(B, T, KV, D), theta)
        v = (h @ sd[p + "self_attn.v_proj.weight"].T).view(B, T, KV, D)
        kvh = torch.arange(H) // (H // KV)
        q, k, v = q.transpose(1, 2), k[:, :, kvh].transpose(1, 2), v[:, :, kvh].transpose(1, 2)
        s = (q @ k.transpose(-1, -2) / math.sqrt(D)).masked_fill(mask, float("-inf"))
        o = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + o @ sd[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, sd[p + "post_attention_layernorm.weight"], eps)
        m = torch.nn.functional.silu(h @ sd[p + "mlp.gate_proj.weight"].T) * (h @ sd[p + "mlp.up_proj.weight"].T)
        x = x + m @ sd[p + "mlp.down_proj.weight"].T
    x = rmsnorm(x, sd["model.norm.weight"], eps)
    return x @ sd["lm_head.weight"].T


# ------------------------------------------------ config variants
def config_variants(saved):
    """Return (old, new) dicts derived from the config.json that save_pretrained wrote."""
    base = {k: v for k, v in saved.items() if k not in ("rope_theta", "rope_parameters", "rope_scaling")}
    theta = saved.get("rope_theta")
    if theta is None:
        theta = saved["rope_parameters"]["rope_theta"]
    old = dict(base)
    old["rope_theta"] = theta
    old["rope_scaling"] = None
    old["transformers_version"] = "4.46.3"
    if old.get("pad_token_id", 0) is None:  # 4.x omitted unset pad_token_id
        del old["pad_token_id"]
    if "dtype" in old:  # 4.x spelled it torch_dtype
        old["torch_dtype"] = old.pop("dtype")
    new = dict(base)
    new["rope_parameters"] = {"rope_theta": theta, "rope_type": "default"}
    return dict(sorted(old.items())), dict(sorted(new.items()))


def main():
    torch.set_num_threads(1)
    os.makedirs(FIXTURES, exist_ok=True)
    versions = {"torch_version": torch.__version__, "transformers_version": transformers.__version__}

    torch.manual_seed(0)
    config = LlamaConfig(**CFG)
    config._attn_implementation = "eager"
    model = LlamaForCausalLM(config).to(torch.float32)
    model.config._attn_implementation = "eager"
    model.eval()  # no dropout anyway (attention_dropout 0)
    with torch.no_grad():
        for name, mod in model.named_modules():
            if type(mod).__name__.endswith("RMSNorm"):
                mod.weight.copy_(1 + 0.1 * torch.randn_like(mod.weight))
    input_ids = torch.randint(3, CFG["vocab_size"], (2, 8), dtype=torch.int64)

    out = model(input_ids=input_ids, labels=input_ids)
    out.loss.backward()
    logits = out.logits.detach().float()
    loss = out.loss.detach().float().reshape(1)

    # --- checks
    ref_loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 64), input_ids[:, 1:].reshape(-1))
    assert torch.allclose(ref_loss, loss[0], atol=1e-6), (ref_loss, loss)
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    plain = plain_forward(sd, input_ids, CFG)
    perr = (plain - logits).abs().max().item()
    assert perr < 1e-5, perr
    print(f"plain interleaved-RoPE forward vs HF logits: max abs diff {perr:.2e}")
    print(f"loss {loss.item():.6f}  (ln 64 = {math.log(64):.6f}); logits std {logits.std().item():.4f}")

    # --- save_pretrained
    mdir = os.path.join(FIXTURES, "hf_tiny_llama")
    if os.path.isdir(mdir):
        shutil.rmtree(mdir)
    model.save_pretrained(mdir, safe_serialization=True)
    print("save_pretrained wrote:", sorted(os.listdir(mdir)))
    with open(os.path.join(mdir, "config.json")) as f:
        saved_cfg = json.load(f)
    layout = "rope_parameters" if "rope_parameters" in saved_cfg else "top-level rope_theta"
    print(f"config.json layout written by transformers {transformers.__version__}: {layout}")

    # reload round-trip: same logits from the saved directory
    reloaded = LlamaForCausalLM.from_pretrained(mdir, attn_implementation="eager", dtype=torch.float32)
    with torch.no_grad():
        rerr = (reloaded(input_ids=input_ids).logits - logits).abs().max().item()
    assert rerr == 0.0, rerr
    with safe_open(os.path.join(mdir, "model.safetensors"), "pt") as f:
        saved_keys = set(f.keys())

    # --- io file
    tensors = {"input_ids": input_ids.contiguous(), "logits": logits.contiguous(), "loss": loss.contiguous()}
    for name, p in model.named_parameters():
        assert name in saved_keys, name
        tensors["grad." + name] = p.grad.detach().float().contiguous()
    assert saved_keys == {n[5:] for n in tensors if n.startswith("grad.")}
    meta = dict(versions)
    meta.update({
        "description": "tiny LlamaForCausalLM forward+backward; model in hf_tiny_llama/",
        "config": json.dumps(CFG),
        "attn_implementation": "eager",
        "loss": "HF causal LM loss with labels=input_ids: mean CE of logits[:, :-1] vs input_ids[:, 1:] over B*(T-1) positions",
        "rope": "HF rotate-half layout; q_proj/k_proj (and their grads) are in HF row order",
        "init": "torch.manual_seed(0); LlamaForCausalLM(config); every RMSNorm weight = 1 + 0.1*randn (named_modules order); input_ids = randint(3, 64, (2, 8))",
        "config_json_layout": layout,
    })
    path = os.path.join(FIXTURES, "hf_tiny_llama_io.safetensors")
    save_sorted(tensors, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")

    # --- config variants
    vdir = os.path.join(FIXTURES, "hf_config_variants")
    os.makedirs(vdir, exist_ok=True)
    old, new = config_variants(saved_cfg)
    for fname, cfg in (("config_old.json", old), ("config_new.json", new)):
        with open(os.path.join(vdir, fname), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        # both layouts must load in the installed transformers to the same rope_theta
        c = LlamaConfig.from_dict(cfg)
        rp = getattr(c, "rope_parameters", None) or {}
        th = rp.get("rope_theta", getattr(c, "rope_theta", None))
        assert th == 10000.0, (fname, th)
    print(f"wrote {vdir}/config_old.json, config_new.json")
    print(versions)


if __name__ == "__main__":
    main()
