//! `--device cpu|gpu|gpu:N|auto`, shared by every command that computes, so they parse
//! and report the choice the same way. `auto` takes GPU 0 when an adapter opens, else the
//! CPU; a GPU that does not open under `--device gpu` is an error, never a panic.

use anyhow::Context;
use llamaforge_engine::{select_device, Device, DeviceSpec};

/// The help text of every `--device` flag.
pub const HELP: &str = "Device: cpu, gpu (= gpu:0), gpu:N, or auto (GPU when an adapter opens, else CPU)";

/// The help text of `--device` on `generate` and `chat`, which decode differently per device.
pub const GENERATE_HELP: &str = "Device: cpu (the fast KV-cached inference path), gpu / gpu:N (the training model's \
    layers with a tensor KV cache on the GPU), or auto";

/// clap value parser: checks the spelling, keeps the text (pretrain stores it in its config).
pub fn parse_device(s: &str) -> Result<String, String> {
    s.parse::<DeviceSpec>().map(|_| s.trim().to_ascii_lowercase())
}

/// Opens the device `spec` names and prints one line saying which was chosen (stderr, so
/// stdout stays the command's output).
pub fn open_device(spec: &str) -> anyhow::Result<Device> {
    let parsed: DeviceSpec = spec.parse().map_err(anyhow::Error::msg)?;
    let selected = select_device(parsed).with_context(|| format!("--device {spec}"))?;
    eprintln!("{}", selected.description);
    Ok(selected.device)
}
