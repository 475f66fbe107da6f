//! The `leadrecon` binary: parse the command line, call the library, map the result to an
//! exit code. Errors are printed once, as `leadrecon: …`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use leadrecon::cli::LogFormat;
use leadrecon::cli::{Cli, Command, ExplainArgs, GenerateArgs, MergeArgs, RunArgs, ValidateArgs};
use leadrecon::pipeline::config::Pipeline;
use leadrecon::pipeline::manifest::Manifest;
use leadrecon::pipeline::run::{self, RunError, RunOptions};
use leadrecon::progress::{Bars, JsonLog, Observer, Silent};
use leadrecon::{lead::System, synth, vendors, Exit};

fn main() -> ExitCode {
    leadrecon::allocator::keep_freed_memory();
    leadrecon::allocator::ordinary_pages();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run_cmd(args),
        Command::Validate(args) => validate_cmd(args),
        Command::Systems => systems_cmd(),
        Command::Merge(args) => merge_cmd(args),
        Command::Explain(args) => explain_cmd(args),
        Command::Generate(args) => generate_cmd(args),
    };
    ExitCode::from(code as u8)
}

fn report(e: &anyhow::Error) {
    eprintln!("leadrecon: {e:#}");
}

fn failure(e: RunError) -> Exit {
    let code = if e.is_invalid_pipeline() {
        Exit::InvalidPipeline
    } else {
        Exit::Fatal
    };
    report(&anyhow::Error::new(e));
    code
}

fn load_pipeline(path: &Path) -> Result<Pipeline, Exit> {
    Pipeline::load(path).map_err(|e| failure(RunError::Config(e)))
}

fn run_cmd(args: RunArgs) -> Exit {
    let path = args
        .pipeline
        .clone()
        .unwrap_or_else(|| PathBuf::from("pipelines/sample.toml"));
    if args.pipeline.is_none() && !path.exists() {
        report(&anyhow::anyhow!(
            "no PIPELINE given and {} does not exist here: run from the repository root or name a pipeline file",
            path.display()
        ));
        return Exit::Usage;
    }
    if let Some(n) = args.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global()
            .context("cannot start the worker threads")
        {
            report(&e);
            return Exit::Fatal;
        }
    }
    let pipeline = match load_pipeline(&path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let json_log = args.log_format == LogFormat::Json;
    let bars = (!args.quiet && !json_log).then(Bars::on_terminal).flatten();
    let log = JsonLog::new();
    let observer: &dyn Observer = match (&bars, json_log) {
        (_, true) => &log,
        (Some(b), false) => b,
        (None, false) => &Silent,
    };
    let options = RunOptions {
        out: args.out,
        state: args.state,
        shard: args.shard,
    };
    let outcome = match run::run(&pipeline, &options, observer) {
        Ok(o) => o,
        Err(e) => {
            if json_log {
                JsonLog::event(
                    "run_end",
                    serde_json::json!({"ok": false, "error": e.to_string()}),
                );
            }
            return failure(e);
        }
    };
    if args.json {
        let json = serde_json::to_string(&outcome.manifest).expect("the manifest serializes");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{json}");
    }
    let m = &outcome.manifest;
    let review = m.matching.decisions.get("review").copied().unwrap_or(0);
    let code = if outcome.reject_ratio_exceeded() {
        Exit::RejectRatio
    } else if args.fail_on_review && review > 0 {
        Exit::Review
    } else {
        Exit::Ok
    };
    if json_log {
        for w in &m.warnings {
            JsonLog::event("warning", serde_json::json!({"message": w}));
        }
        JsonLog::event(
            "run_end",
            serde_json::json!({
                "ok": true,
                "exit_code": code as u8,
                "output": outcome.output.display().to_string(),
                "read": m.totals.read,
                "loaded": m.totals.loaded,
                "rejected": m.totals.rejected,
                "reject_ratio": m.reject_ratio,
                "leads": m.totals.leads,
                "contacts": m.matching.contacts,
                "review": review,
                "targets": m.targets,
                "total_ms": m.timings_ms.total,
            }),
        );
    } else if !args.quiet {
        print_summary(m, &outcome.output);
    }
    if code == Exit::Review {
        eprintln!(
            "leadrecon: {review} pairs wait for review in {} (--fail-on-review)",
            outcome.output.join("review.csv").display()
        );
        return code;
    }
    if outcome.reject_ratio_exceeded() {
        eprintln!(
            "leadrecon: {:.1}% of records were rejected, over the pipeline's max_reject_ratio of {:.1}%: see {}",
            outcome.manifest.reject_ratio * 100.0,
            outcome.manifest.max_reject_ratio.unwrap_or(0.0) * 100.0,
            outcome.output.join("rejects.csv").display()
        );
        return Exit::RejectRatio;
    }
    Exit::Ok
}

fn print_summary(m: &Manifest, output: &Path) {
    let t = &m.totals;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "leadrecon: {}: read {} records, loaded {}, rejected {} ({:.1}%) -> {} leads in {} ({:.2} s)",
        m.pipeline,
        t.read,
        t.loaded,
        t.rejected,
        m.reject_ratio * 100.0,
        t.leads,
        output.display(),
        m.timings_ms.total as f64 / 1000.0
    );
    let width = m.sources.iter().map(|s| s.name.len()).max().unwrap_or(6);
    for s in &m.sources {
        let c = &s.counts;
        let _ = writeln!(
            err,
            "  {:width$}  read {:>7}  loaded {:>7}  rejected {:>6}  folded {:>6}  leads {:>7}",
            s.name, c.read, c.loaded, c.rejected, c.folded, c.leads
        );
    }
    for w in &m.warnings {
        let _ = writeln!(err, "  warning: {w}");
    }
}

fn validate_cmd(args: ValidateArgs) -> Exit {
    let pipeline = match load_pipeline(&args.pipeline) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match run::validate(&pipeline) {
        Ok(v) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "leadrecon: {} is valid", args.pipeline.display());
            for (name, system, files) in &v.sources {
                let _ = writeln!(err, "  {name} ({system}): {} file(s)", files.len());
                for (file, format, fields) in files {
                    let _ = writeln!(err, "    {file}  {}  {fields} fields", format.as_str());
                }
            }
            for w in &v.warnings {
                let _ = writeln!(err, "  warning: {w}");
            }
            Exit::Ok
        }
        Err(e) => failure(e),
    }
}

fn systems_cmd() -> Exit {
    let mut out = std::io::stdout().lock();
    for system in System::ALL {
        let _ = writeln!(out, "{system}: {}", vendors::summary(system));
        let width = vendors::fields_read(system)
            .iter()
            .map(|(f, _)| f.len())
            .max()
            .unwrap_or(0);
        for (field, target) in vendors::fields_read(system) {
            let _ = writeln!(out, "  {field:width$}  -> {target}");
        }
        let _ = writeln!(out);
    }
    Exit::Ok
}

fn merge_cmd(args: MergeArgs) -> Exit {
    let pipeline = match load_pipeline(&args.pipeline) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let out = args.out.unwrap_or_else(|| pipeline.output.clone());
    match leadrecon::merge::merge(&pipeline, &args.parts, &out) {
        Ok(manifest) => {
            if args.json {
                let json = serde_json::to_string(&manifest).expect("the manifest serializes");
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{json}");
            }
            Exit::Ok
        }
        Err(e) => {
            report(&anyhow::Error::new(e).context(format!("cannot merge into {}", out.display())));
            Exit::Fatal
        }
    }
}

fn explain_cmd(args: ExplainArgs) -> Exit {
    match leadrecon::explain::explain(&args.out, &args.key) {
        Ok(text) => {
            print!("{text}");
            Exit::Ok
        }
        Err(e) => {
            report(&anyhow::Error::new(e));
            Exit::Fatal
        }
    }
}

fn generate_cmd(args: GenerateArgs) -> Exit {
    match synth::write_dataset(&args.out, args.leads, args.seed)
        .with_context(|| format!("cannot write the dataset into {}", args.out.display()))
    {
        Ok(summary) => {
            eprintln!("leadrecon: {summary}");
            Exit::Ok
        }
        Err(e) => {
            report(&e);
            Exit::Fatal
        }
    }
}

// Parsing allocates many small strings and maps from several threads at once; mimalloc's
// per-thread heaps avoid glibc malloc's arena contention (measured: see the README). The
// big arrays are mapped from the kernel directly: see `leadrecon::allocator`.
#[global_allocator]
static GLOBAL: leadrecon::allocator::Allocator = leadrecon::allocator::Allocator;
