//! One module per subcommand.

pub mod bench;
pub mod bench_generate;
pub mod bench_gpu;
pub mod bench_sft;
pub mod bench_train;
pub mod chat;
pub mod convert;
pub mod data;
pub mod device;
pub mod devices;
pub mod engine;
pub mod eval;
pub mod forward;
pub mod gatt;
pub mod generate;
pub mod model_io;
pub mod plot;
pub mod pretrain;
pub mod sft;
pub mod tokenizer;
