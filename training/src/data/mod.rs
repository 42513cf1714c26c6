//! The pretraining data pipeline: documents from text or JSONL, a deterministic
//! train/validation split by document, tokenization cached as binary ids, and seeded
//! random training windows / fixed validation windows; and fine-tuning examples packed
//! into full windows with a mask of the learned tokens.

mod batches;
mod corpus;
mod error;
mod packing;
mod token_cache;

pub use batches::{random_windows, validation_windows, Windows};
pub use corpus::{load_documents, split_documents, DOC_SEPARATOR};
pub use error::DataError;
pub use packing::{pack_examples, MaskedExample, PackedRows};
pub use token_cache::{tokenize_documents, write_atomic, TokenCache};
