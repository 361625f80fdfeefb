//! The page's panels. Each takes plain data (signals of numbers, records and pixels).

mod compare;
mod controls;
mod curves;
mod embedding;
mod explore;
mod history_table;
mod reconstructions;
mod status;
mod weights;

pub use compare::{ComparePanel, Compared};
pub use controls::Controls;
pub use curves::Curves;
pub use embedding::EmbeddingPanel;
pub use explore::{Drawn, ExplorePanel};
pub use history_table::HistoryTable;
pub use reconstructions::{ReconstructionPanel, SHOWN as RECONSTRUCTIONS_SHOWN};
pub use status::{BackendNote, DataProgress, ErrorBanner, LoadErrors, Notices};
pub use weights::WeightsControls;
