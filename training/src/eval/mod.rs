//! Evaluation by the gold judges: helpfulness, safety and false refusals of greedy answers
//! (`gold.rs`), and Ghost Attention's adherence by turn (`adherence.rs`).

mod adherence;
mod attention_svg;
mod gold;

pub use adherence::{adherence_by_turn, AdherenceReport};
pub use attention_svg::attention_heatmap_svg;
pub use gold::{gold_eval, greedy_answers, EvalPrompt, GoldReport, JudgedAnswer};
