//! The page's panels. Each reads the page state from context ([`crate::page::use_page`]);
//! the small widgets inside them take plain props.

mod compare;
mod controls;
mod curves;
mod embedding;
mod explore;
mod history_table;
mod language;
mod reconstructions;
mod status;
mod summary;
mod weights;

pub use compare::ComparePanel;
pub use controls::Controls;
pub use curves::Curves;
pub use embedding::EmbeddingPanel;
pub use explore::ExplorePanel;
pub use history_table::HistoryTable;
pub use language::LanguageSwitcher;
pub use reconstructions::ReconstructionPanel;
pub use status::StatusPanel;
pub use summary::ModelSummary;
pub use weights::WeightsControls;
