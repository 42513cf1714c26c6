//! One module per subcommand.

pub mod bench;
pub mod chat;
pub mod convert;
pub mod forward;
pub mod generate;
pub mod tokenizer;
