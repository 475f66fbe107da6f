//! `leadrecon explain`: why leads merged or not, from a run's `matches.parquet` and
//! `contacts.csv`, as a waterfall of match weights per comparator.

use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;

use crate::dedupe::score::COMPARATORS;

/// Errors reading a run's outputs.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// An output file cannot be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Nothing in the run has this key.
    #[error("{key} is neither a lead key nor a contact id of the run in {dir}")]
    Unknown {
        /// What was asked.
        key: String,
        /// The output folder.
        dir: String,
    },
}

fn read_parquet(path: &Path) -> Result<DataFrame, ExplainError> {
    let err = read_error(path);
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| err(e.to_string()))
}

/// The error for an output file that cannot be read as expected.
fn read_error(path: &Path) -> impl Fn(String) -> ExplainError + '_ {
    move |message| ExplainError::Read {
        path: path.display().to_string(),
        message,
    }
}

/// A CSV output opened, with its header.
fn open_csv(path: &Path) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord), ExplainError> {
    let err = read_error(path);
    let mut rdr = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    Ok((rdr, headers))
}

/// The members of a contact, from `contacts.csv`.
fn members_of(out: &Path, contact_id: &str) -> Result<Option<(Vec<String>, String)>, ExplainError> {
    let path = out.join("contacts.csv");
    let err = read_error(&path);
    let (mut rdr, headers) = open_csv(&path)?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(id), Some(keys), Some(name)) =
        (col("contact_id"), col("lead_keys"), col("full_name"))
    else {
        return Err(err("not a contacts.csv".into()));
    };
    for row in rdr.records() {
        let row = row.map_err(|e| err(e.to_string()))?;
        if row.get(id) == Some(contact_id) {
            let keys = row
                .get(keys)
                .unwrap_or("")
                .split('|')
                .map(String::from)
                .collect();
            return Ok(Some((keys, row.get(name).unwrap_or("").to_string())));
        }
    }
    Ok(None)
}

/// The explanation of a lead key or contact id, as text for the terminal.
pub fn explain(out: &Path, key: &str) -> Result<String, ExplainError> {
    let df = read_parquet(&out.join("matches.parquet"))?;
    let text = |name: &str| -> Result<Vec<String>, ExplainError> {
        let c = df.column(name).map_err(|e| ExplainError::Read {
            path: "matches.parquet".into(),
            message: e.to_string(),
        })?;
        Ok(c.str()
            .map(|s| s.iter().map(|v| v.unwrap_or("").to_string()).collect())
            .unwrap_or_default())
    };
    let num = |name: &str| -> Result<Vec<f64>, ExplainError> {
        let c = df.column(name).map_err(|e| ExplainError::Read {
            path: "matches.parquet".into(),
            message: e.to_string(),
        })?;
        Ok(c.f64()
            .map(|s| s.iter().map(|v| v.unwrap_or(0.0)).collect())
            .unwrap_or_default())
    };
    let (a, b, decision) = (text("lead_key_a")?, text("lead_key_b")?, text("decision")?);
    let (prior, weight, prob) = (num("prior_weight")?, num("weight")?, num("probability")?);
    let levels: Vec<Vec<String>> = COMPARATORS
        .iter()
        .map(|c| text(&format!("{c}_level")))
        .collect::<Result<_, _>>()?;
    let weights: Vec<Vec<f64>> = COMPARATORS
        .iter()
        .map(|c| num(&format!("{c}_weight")))
        .collect::<Result<_, _>>()?;

    let mut s = String::new();
    let contact = members_of(out, key)?;
    let rows: Vec<usize> = if let Some((members, name)) = &contact {
        let _ = writeln!(s, "contact {key} ({name}): {} lead(s)", members.len());
        for m in members.iter() {
            let _ = writeln!(s, "  {m}");
        }
        (0..a.len())
            .filter(|&i| members.contains(&a[i]) || members.contains(&b[i]))
            .collect()
    } else {
        let rows: Vec<usize> = (0..a.len())
            .filter(|&i| a[i] == key || b[i] == key)
            .collect();
        let known = !rows.is_empty() || lead_exists(out, key);
        if !known {
            return Err(ExplainError::Unknown {
                key: key.to_string(),
                dir: out.display().to_string(),
            });
        }
        let _ = writeln!(s, "lead {key}: {} compared pair(s)", rows.len());
        rows
    };
    if contact.is_some() {
        person_links_of(out, key, &mut s)?;
    }
    let mut rows = rows;
    rows.sort_by(|x, y| prob[*y].total_cmp(&prob[*x]));
    for i in rows {
        let _ = writeln!(
            s,
            "\n{}  <->  {}\n  decision {}   probability {:.4}   total weight {:+.2}",
            a[i], b[i], decision[i], prob[i], weight[i]
        );
        let _ = writeln!(
            s,
            "    {:<12} {:<20} {:>8}   running",
            "prior",
            "",
            format!("{:+.2}", prior[i])
        );
        let mut running = prior[i];
        for c in 0..COMPARATORS.len() {
            running += weights[c][i];
            let bar = bar(weights[c][i]);
            let _ = writeln!(
                s,
                "    {:<12} {:<20} {:>8}   {:+7.2}  {bar}",
                COMPARATORS[c],
                levels[c][i],
                format!("{:+.2}", weights[c][i]),
                running
            );
        }
    }
    Ok(s)
}

/// The contact's person links (`person-links.csv`): other agents' contacts that score as
/// the same person, with the field levels of the two golden records.
fn person_links_of(out: &Path, contact_id: &str, s: &mut String) -> Result<(), ExplainError> {
    let path = out.join("person-links.csv");
    if !path.exists() {
        return Ok(());
    }
    let err = read_error(&path);
    let (mut rdr, headers) = open_csv(&path)?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let names = [
        "contact_id_a",
        "contact_id_b",
        "agent_id_a",
        "agent_id_b",
        "probability",
        "linked",
    ];
    let [Some(id_a), Some(id_b), Some(agent_a), Some(agent_b), Some(probability), Some(linked)] =
        names.map(col)
    else {
        return Err(err("not a person-links.csv".into()));
    };
    let level_cols: Vec<Option<usize>> = COMPARATORS
        .iter()
        .map(|c| col(&format!("{c}_level")))
        .collect();
    let mut lines = Vec::new();
    for row in rdr.records() {
        let row = row.map_err(|e| err(e.to_string()))?;
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).unwrap_or("");
        let (other, other_agent) = if get(Some(id_a)) == contact_id {
            (id_b, agent_b)
        } else if get(Some(id_b)) == contact_id {
            (id_a, agent_a)
        } else {
            continue;
        };
        let levels: Vec<String> = COMPARATORS
            .iter()
            .zip(&level_cols)
            .map(|(c, &i)| format!("{c}={}", get(i)))
            .collect();
        lines.push(format!(
            "  {} (agent {})  probability {}  {}  {}",
            get(Some(other)),
            get(Some(other_agent)),
            get(Some(probability)),
            if get(Some(linked)) == "true" {
                "same person"
            } else {
                "refused by the chaining guard"
            },
            levels.join(" ")
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(s, "person links to other agents' contacts:");
        for l in lines {
            let _ = writeln!(s, "{l}");
        }
    }
    Ok(())
}

fn lead_exists(out: &Path, key: &str) -> bool {
    csv::Reader::from_path(out.join("leads.csv"))
        .map(|mut r| {
            r.records()
                .filter_map(Result::ok)
                .any(|row| row.get(0) == Some(key))
        })
        .unwrap_or(false)
}

/// A text bar: `+` for evidence for a match, `-` against, one per unit of weight.
fn bar(w: f64) -> String {
    let n = (w.abs().round() as usize).min(20);
    if w >= 0.0 {
        "+".repeat(n)
    } else {
        "-".repeat(n)
    }
}
