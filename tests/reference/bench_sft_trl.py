"""TRL peer for `llamaforge bench sft` (docs/PERFORMANCE.md, "SFT step").

TRL's `SFTTrainer` on the same tiny `LlamaForCausalLM` as tests/reference/bench_train_pytorch.py
(260K preset: dim 64, 5 layers, 8 heads, 4 kv heads, vocab 512, hidden 172, tied; float32,
eager attention, 2 CPU threads), at the same shape (batch 8 × seq 512), on the same kind of
synthetic data as ours: chat-like examples of random token ids — `<s>`, a prompt, then an
answer ending in `</s>`, the answer about `--answer-fraction` of each example, lengths uniform
in [T/8, T/2] — given pre-tokenized as `input_ids` + `completion_mask` with
`completion_only_loss=True` (TRL's spelling of "loss on the answer only" for pre-tokenized
prompt/completion data), packed to `max_length = T`. Optimizer: AdamW β 0.9/0.95, eps 1e-5,
weight decay 0.1, clip 1.0, constant lr 1e-4 (as `bench train`/`bench sft`). TRL turns activation
(gradient) checkpointing on by default, which recomputes every layer's forward during backward;
it is off here, as in our step, unless `--activation-checkpointing` is given.

Packing strategies (`--packing-strategy`):
  wrapped  rows of exactly T tokens cut from the concatenated examples: batches are [8, 512]
           with a full causal mask, what `bench sft` computes (ours packs whole examples and
           pads the rest of a row; attention also spans the examples of a row). The default.
  bfd      TRL's default: best-fit-decreasing rows, which switches on padding-free batches (the
           8 rows flattened to one sequence of up to 8·T tokens with per-example position ids).
           Meant for FlashAttention; on the CPU the eager kernel then attends over the whole
           flattened sequence under a block-diagonal mask.

A TrainerCallback times each optimizer step from `on_step_begin` to `on_step_end` (forward,
loss, backward, clip, AdamW, zero_grad — data loading and collation are outside), and the
median of the steps after 2 warm-up steps is reported. tok/s counts every position fed (like
`bench train`); answer tok/s counts the learned targets.

    pip install torch transformers trl
    python tests/reference/bench_sft_trl.py                   # 260K, 8×512, wrapped
    python tests/reference/bench_sft_trl.py --packing-strategy bfd
"""
import argparse
import os
import resource
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, TrainerCallback  # noqa: E402
from trl import SFTConfig, SFTTrainer  # noqa: E402

PRESETS = {
    # dim, layers, heads, kv heads, vocab, hidden, tied
    "260K": (64, 5, 8, 4, 512, 172, True),
    "15M": (288, 6, 6, 6, 32000, 768, True),
}
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2  # llamaforge's (and llama2.c's) special ids; pad is <unk>, never EOS


def word_tokenizer(vocab):
    """An in-memory tokenizer over ids 0..vocab (SFTTrainer needs one for its pad/EOS ids; the
    data is pre-tokenized, so it never encodes text)."""
    pieces = {"<unk>": PAD_ID, "<s>": BOS_ID, "</s>": EOS_ID}
    pieces.update({f"t{i}": i for i in range(3, vocab)})
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(pieces, unk_token="<unk>")))
    tok.add_special_tokens({"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<unk>"})
    return tok


def synthetic_examples(gen, tokens, seq, vocab, answer_fraction):
    """Pre-tokenized prompt/answer examples with about `tokens` ids in all (see the docstring)."""
    lo = max(seq // 8, 3)
    hi = max(seq // 2, lo)
    rows = {"input_ids": [], "completion_mask": []}
    total = 0
    while total < tokens:
        n = int(torch.randint(lo, hi + 1, (1,), generator=gen))
        answer = min(max(round(n * answer_fraction), 1), n - 1)  # BOS stays prompt; EOS is answer
        ids = torch.randint(EOS_ID + 1, vocab, (n,), generator=gen).tolist()
        ids[0], ids[-1] = BOS_ID, EOS_ID
        rows["input_ids"].append(ids)
        rows["completion_mask"].append([0] * (n - answer) + [1] * answer)
        total += n
    return Dataset.from_dict(rows)


class StepTimer(TrainerCallback):
    """Wall time of each optimizer step, on_step_begin → on_step_end."""

    def __init__(self):
        self.times, self.t0 = [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self.t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self.t0)


class CountingSFTTrainer(SFTTrainer):
    """SFTTrainer that also records, per micro-batch, the positions fed and the learned
    targets (labels are shifted inside the model, so position 0's label is never one)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fed, self.learned = [], []

    def training_step(self, model, inputs, *args, **kwargs):
        self.fed.append(inputs["input_ids"].numel())
        self.learned.append(int((inputs["labels"][..., 1:] != -100).sum()))
        return super().training_step(model, inputs, *args, **kwargs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="260K", choices=PRESETS)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--steps", type=int, default=10, help="timed steps (after 2 warm-up steps)")
    p.add_argument("--answer-fraction", type=float, default=0.6)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--packing-strategy", default="wrapped", choices=["wrapped", "bfd"])
    p.add_argument("--attn", default="eager", choices=["eager", "sdpa"])
    p.add_argument("--activation-checkpointing", action="store_true",
                   help="TRL's default; off here because our step keeps its activations (no recompute)")
    args = p.parse_args()
    assert 0.0 < args.answer_fraction <= 1.0, "--answer-fraction must be in (0, 1]"
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()

    dim, layers, heads, kv, vocab, hidden, tied = PRESETS[args.preset]
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=dim, intermediate_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=max(args.seq, 512),
        rms_norm_eps=1e-5, tie_word_embeddings=tied, attn_implementation=args.attn,
        pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
    )
    model = LlamaForCausalLM(config).float()
    total_steps = args.steps + 2
    # a third more tokens than the steps take, so no epoch boundary falls inside the run
    gen = torch.Generator().manual_seed(1337)
    data = synthetic_examples(gen, int(total_steps * args.batch * args.seq * 4 / 3), args.seq, vocab,
                              args.answer_fraction)
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as out:
        sft = SFTConfig(
            output_dir=out, max_steps=total_steps, per_device_train_batch_size=args.batch,
            gradient_accumulation_steps=1, max_length=args.seq, packing=True,
            packing_strategy=args.packing_strategy, completion_only_loss=True,
            learning_rate=1e-4, lr_scheduler_type="constant", warmup_steps=0, optim="adamw_torch",
            adam_beta1=0.9, adam_beta2=0.95, adam_epsilon=1e-5, weight_decay=0.1, max_grad_norm=1.0,
            activation_checkpointing=args.activation_checkpointing, bf16=False, fp16=False, use_cpu=True,
            seed=0, report_to="none", save_strategy="no", logging_strategy="no", disable_tqdm=True,
            dataloader_num_workers=0, dataloader_pin_memory=False,
        )
        trainer = CountingSFTTrainer(model=model, args=sft, train_dataset=data,
                                     processing_class=word_tokenizer(vocab), callbacks=[timer])
        rows = len(trainer.train_dataset)
        trainer.train()
    assert len(timer.times) == total_steps, f"timed {len(timer.times)} steps, expected {total_steps}"
    times, fed, learned = timer.times[2:], trainer.fed[2:], trainer.learned[2:]
    med = statistics.median(times)
    mean_fed, mean_learned = statistics.mean(fed), statistics.mean(learned)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"trl {trl.__version__} SFTTrainer (torch {torch.__version__}, transformers {transformers.__version__}) "
          f"{args.preset} batch {args.batch}x{args.seq}, packing {args.packing_strategy} "
          f"{'with' if args.activation_checkpointing else 'without'} activation checkpointing "
          f"({len(data)} examples into {rows} rows), {args.attn} attention, {args.threads} threads: "
          f"median step {med * 1e3:.1f} ms over {len(times)} steps, {mean_fed:.0f} positions fed per step "
          f"({100 * mean_learned / mean_fed:.0f}% learned): {mean_fed / med:.0f} tok/s, "
          f"{mean_learned / med:.0f} answer tok/s, peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
