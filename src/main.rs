//! llamaforge CLI: parses arguments, then calls into the crates. Each subcommand lives in
//! its own file under src/cli/.

mod cli;

use clap::{Parser, Subcommand};

/// A from-scratch LLaMA-2 engine, trainer and aligner in pure Rust.
#[derive(Parser)]
#[command(name = "llamaforge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pretrains a LLaMA-2 from scratch (default: the 260K preset on the bundled stories).
    Pretrain(Box<cli::pretrain::PretrainArgs>),
    /// Plots a run's train/validation loss and learning rate as SVG.
    Plot(cli::plot::PlotArgs),
    /// Benchmarks: `bench ops` (GEMM and fused kernels), `bench generate`, `bench train`.
    Bench(cli::bench::BenchArgs),
    /// Generates text from a checkpoint.
    Generate(cli::generate::GenerateArgs),
    /// Interactive multi-turn chat with the LLaMA-2-chat template.
    Chat(cli::chat::ChatArgs),
    /// Trains, applies and inspects tokenizers.
    Tokenizer(cli::tokenizer::TokenizerArgs),
    /// Converts checkpoints between formats (native, HF, llama2.c).
    Convert(cli::convert::ConvertArgs),
    /// Runs one forward/backward pass and dumps logits, loss and gradients.
    Forward(cli::forward::ForwardArgs),
    /// Builds datasets: `data instruct` writes the instruction task with gold answers.
    Data(cli::data::DataArgs),
    /// Supervised fine-tuning: the loss on the assistant's answers only (default: the
    /// bundled stories260K model on the built-in instruction task).
    Sft(Box<cli::sft::SftArgs>),
    /// Ghost Attention: keeps a system instruction for a whole dialogue.
    Gatt(Box<cli::gatt::GattArgs>),
    /// Gold scores of a model's greedy answers (helpfulness, safety, false refusals,
    /// adherence by turn).
    Eval(cli::eval::EvalArgs),
    /// Lists the CPU and the GPU adapters (backend, key limits); `--check` runs a kernel.
    Devices(cli::devices::DevicesArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    llamaforge_engine::cpu::tune_allocator();
    match cli.command {
        Command::Pretrain(args) => cli::pretrain::run(*args),
        Command::Plot(args) => cli::plot::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Generate(args) => cli::generate::run(args),
        Command::Chat(args) => cli::chat::run(args),
        Command::Tokenizer(args) => cli::tokenizer::run(args),
        Command::Convert(args) => cli::convert::run(args),
        Command::Forward(args) => cli::forward::run(args),
        Command::Devices(args) => cli::devices::run(args),
        Command::Data(args) => cli::data::run(args),
        Command::Sft(args) => cli::sft::run(*args),
        Command::Gatt(args) => cli::gatt::run(*args),
        Command::Eval(args) => cli::eval::run(args),
    }
}
