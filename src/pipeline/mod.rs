//! The pipeline: its file ([`config`]), the stage order ([`run`]) and what a run reports
//! ([`manifest`]).

pub mod config;
pub mod manifest;
pub mod run;
