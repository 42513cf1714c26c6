//! `llamaforge forward`: one forward + backward pass on given tokens, dumped as
//! safetensors — `logits` `[B, T, V]`, `loss` `[1]` (mean next-token cross-entropy over
//! the B·(T−1) predicted positions, as HF computes it with labels = input ids) and
//! `grad.<HF name>` for every parameter (q/k gradients in HF's rotate-half row order).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use llamaforge_engine::{Device, Tensor};
use llamaforge_model::checkpoint::rope_layout::{interleaved_to_hf, rope_heads};
use llamaforge_model::checkpoint::safetensors_io::write_f32_tensors;
use llamaforge_model::loss::{next_token_loss, next_token_targets};

use super::model_io::{load_checkpoint, load_tokenizer_for};

/// Arguments of `llamaforge forward`.
#[derive(clap::Args)]
pub struct ForwardArgs {
    /// Native/HF checkpoint directory or llama2.c .bin file.
    #[arg(long)]
    model: PathBuf,
    /// tokenizer.bin (default: inside the model directory or next to the .bin file).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// File with one sequence of token ids per line (spaces or commas); equal lengths
    /// make a batch.
    #[arg(long, conflicts_with = "text", required_unless_present = "text")]
    tokens: Option<PathBuf>,
    /// Text to encode (with BOS) as a batch of one.
    #[arg(long)]
    text: Option<String>,
    /// Output .safetensors file.
    #[arg(long)]
    dump: PathBuf,
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = super::device::HELP)]
    device: String,
}

/// Parses a token file: one sequence per non-empty line, ids separated by spaces/commas.
fn read_token_file(path: &std::path::Path) -> anyhow::Result<Vec<Vec<u32>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let ids = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().with_context(|| format!("{}:{}: `{s}` is not a token id", path.display(), n + 1)))
            .collect::<anyhow::Result<Vec<u32>>>()?;
        if ids.is_empty() {
            continue;
        }
        if let Some(first) = rows.first().map(Vec::len) {
            if ids.len() != first {
                bail!(
                    "{}:{}: {} tokens, but the first sequence has {first} (a batch needs equal lengths)",
                    path.display(),
                    n + 1,
                    ids.len()
                );
            }
        }
        rows.push(ids);
    }
    if rows.is_empty() {
        bail!("{}: no token ids", path.display());
    }
    Ok(rows)
}

pub fn run(args: ForwardArgs) -> anyhow::Result<()> {
    let checkpoint = load_checkpoint(&args.model)?;
    let config = checkpoint.config.clone();
    let ids = match (&args.tokens, &args.text) {
        (Some(path), _) => read_token_file(path)?,
        (None, Some(text)) => vec![load_tokenizer_for(&args.model, args.tokenizer.as_deref())?.encode_with_bos(text)],
        (None, None) => bail!("give --tokens FILE or --text TEXT"),
    };
    let (b, t) = (ids.len(), ids[0].len());
    if t < 2 {
        bail!("sequences need at least 2 tokens for a next-token loss (got {t})");
    }
    if t > config.max_seq_len {
        bail!("sequences of {t} tokens exceed the model's max_seq_len {}", config.max_seq_len);
    }
    if let Some(bad) = ids.iter().flatten().find(|&&id| id as usize >= config.vocab_size) {
        bail!("token id {bad} is outside the vocabulary of {}", config.vocab_size);
    }
    let device = super::device::open_device(&args.device)?;
    let model = checkpoint.into_model()?;
    model.to_device(device)?;
    let logits = model.forward(&Tensor::from_vec(ids.concat(), &[b, t]));
    let loss = next_token_loss(&logits, &next_token_targets(&ids, None));
    loss.backward();

    let mut out = BTreeMap::new();
    out.insert("logits".to_string(), logits.value().to_device(Device::Cpu)?);
    out.insert("loss".to_string(), loss.value().reshape(&[1]).to_device(Device::Cpu)?);
    for param in model.parameters() {
        let name = param.name().expect("named").to_string();
        let grad = param.grad().with_context(|| format!("{name} received no gradient"))?.to_device(Device::Cpu)?;
        let grad = match rope_heads(&name, config.n_heads, config.n_kv_heads) {
            Some(heads) => interleaved_to_hf(&grad, heads),
            None => grad,
        };
        out.insert(format!("grad.{name}"), grad);
    }
    write_f32_tensors(&args.dump, &out, None)?;
    println!(
        "loss {:.6} over {b}×{} predicted positions; wrote {}",
        loss.value().to_scalar(),
        t - 1,
        args.dump.display()
    );
    Ok(())
}
