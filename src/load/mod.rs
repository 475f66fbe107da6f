//! Load stage: writes the run's outputs into a temporary folder beside the output folder
//! and moves it into place only when everything is written.

pub mod contacts;
pub mod datasets;
pub mod payloads;
pub mod publish;
pub mod report;
pub mod table;
