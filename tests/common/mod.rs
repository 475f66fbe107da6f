//! Helpers for tests that run the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `leadrecon` with `args` in `cwd`.
pub fn leadrecon(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leadrecon"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

/// Runs `leadrecon` and checks the exit code, printing the command and its output if not.
pub fn expect_code(cwd: &Path, args: &[&str], code: i32) -> Output {
    let out = leadrecon(cwd, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "command: leadrecon {}\n(cwd {})\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        cwd.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Rows of a CSV file as header → value maps.
pub fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = rdr.headers().expect("header").clone();
    rdr.records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `manifest.json` without its timings (which change from run to run).
pub fn manifest_without_timings(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    let obj = v.as_object_mut().expect("object");
    obj.remove("timings_ms");
    obj.remove("resources");
    v
}

/// `leadrecon run PIPELINE --out OUT [extra…]` from the repository root; expects exit 0.
pub fn run_ok(pipeline: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        pipeline.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    expect_code(&root(), &args, 0)
}
