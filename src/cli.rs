//! The command line (clap derive). `///` on every argument is its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes, printed after `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  the run finished
  1  fatal error: an input, the roster or the output cannot be read or written
  2  usage error on the command line
  3  the run finished, but rejected more records than the pipeline's max_reject_ratio
  4  the pipeline file is invalid (or the roster, or an input does not fit its source)
  5  the run finished, but --fail-on-review is set and pairs wait in review.csv";

/// leadrecon: reconcile real-estate leads across PeakIDX, Lead.Pro, Real Geeks, Epixel and
/// Maxwork exports into one clean, typed table, with every record accounted for.
#[derive(Debug, Parser)]
#[command(name = "leadrecon", version, after_help = EXIT_CODES, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline: read every source, normalize, write leads.parquet, leads.csv,
    /// rejects.csv and manifest.json.
    Run(RunArgs),
    /// Check a pipeline file, its roster and its inputs' headers, writing nothing.
    Validate(ValidateArgs),
    /// List the lead systems and the fields each adapter reads.
    Systems,
    /// Join the outputs of `run --shard I/N` (every part of one run) into the output a
    /// single machine would have written.
    Merge(MergeArgs),
    /// Show why leads merged or not: per-field levels and weights of every compared
    /// pair of a lead, or of a contact's leads.
    Explain(ExplainArgs),
    /// Write synthetic exports of all five systems with a roster and a pipeline (the
    /// shipped sample data; any size for benchmarks).
    Generate(GenerateArgs),
}

/// `leadrecon run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pipeline file (TOML) [default: pipelines/sample.toml]
    pub pipeline: Option<PathBuf>,
    /// Output folder, instead of the pipeline's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// State folder kept between runs (stable contact ids, payloads already sent),
    /// instead of the pipeline's `state`.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Worker threads [default: one per core]. Outputs are the same for any count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Print nothing on stderr but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Print the run's manifest as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// How stderr reports: `human` (progress bars on a terminal, a summary) or `json` (one
    /// JSON object per event: stage_start, stage_end, warning, run_end).
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Exit with code 5 when pairs wait for a person in review.csv.
    #[arg(long)]
    pub fail_on_review: bool,
    /// Link only part I of N of the agents (I counts from 0), to spread one pipeline over
    /// N machines; `leadrecon merge` joins the parts. Every part reads all inputs; give
    /// each its own --out. Needs `[match] scope = "agent"`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
}

/// `leadrecon merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The pipeline file the parts ran.
    pub pipeline: PathBuf,
    /// The parts' output folders (every part from 0 to N-1, once).
    #[arg(required = true, value_name = "PART_DIR")]
    pub parts: Vec<PathBuf>,
    /// Output folder, instead of the pipeline's `output`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the merged manifest as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How a run reports on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Progress bars on a terminal and a summary.
    Human,
    /// One JSON object per line.
    Json,
}

/// `leadrecon validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pipeline file (TOML).
    pub pipeline: PathBuf,
}

/// `leadrecon explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A run's output folder [default: out/sample]
    #[arg(long, value_name = "DIR", default_value = "out/sample")]
    pub out: PathBuf,
    /// A lead key (`leadpro:7001`) or a contact id (`c-…`).
    pub key: String,
}

/// `leadrecon generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder to write into (created; files in it are replaced).
    #[arg(long, value_name = "DIR", default_value = "sample-data")]
    pub out: PathBuf,
    /// About how many lead records to write over all systems.
    #[arg(long, value_name = "N", default_value_t = 420)]
    pub leads: usize,
    /// Random seed: the same seed and size give the same files.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}
