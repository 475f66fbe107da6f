//! `report.html`: one self-contained page (inline CSS, no scripts, nothing fetched) with
//! what a data analyst opens first: counts per source, the match-score histogram, the
//! cluster-size distribution, the top reject reasons, the review queue and each target's
//! payloads. Timings are left out so the page is identical from run to run.

use std::fmt::Write;

use crate::dedupe::{probability_tenth, Linkage, PairCounts};
use crate::pipeline::manifest::Manifest;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rows of `(label, count)` as a table with proportional bars.
fn bars(out: &mut String, title: &str, rows: &[(String, usize)]) {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let _ = write!(out, "<h2>{}</h2><table class=bars>", esc(title));
    for (label, n) in rows {
        let width = (*n as f64 / max as f64 * 100.0).round();
        let _ = write!(
            out,
            "<tr><th>{}</th><td class=n>{n}</td><td class=bar><div style=\"width:{width}%\"></div></td></tr>",
            esc(label)
        );
    }
    out.push_str("</table>");
}

/// What the page draws besides the manifest: pairs by match probability, contacts by size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Compared pairs per tenth of match probability.
    pub probabilities: [usize; 10],
    /// Contacts of 1, 2, … 5, and 6 or more leads.
    pub sizes: [usize; 6],
}

impl Shape {
    /// Counts pair probabilities and contact sizes.
    pub fn of(
        probabilities: impl Iterator<Item = f64>,
        sizes: impl Iterator<Item = usize>,
    ) -> Shape {
        let mut shape = Shape::default();
        for p in probabilities {
            shape.probabilities[probability_tenth(p)] += 1;
        }
        for n in sizes {
            shape.sizes[n.clamp(1, 6) - 1] += 1;
        }
        shape
    }

    /// The shape of a run's linkage, whose pairs were counted in `pairs`.
    pub fn of_linkage(linkage: &Linkage, pairs: &PairCounts) -> Shape {
        Shape {
            probabilities: pairs.probabilities,
            ..Shape::of(
                std::iter::empty(),
                linkage.contacts.iter().map(|c| c.lead_keys.len()),
            )
        }
    }
}

/// The page for a finished run.
pub fn render(m: &Manifest, shape: &Shape) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>leadrecon: {name}</title>\
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em;color:#222}}\
table{{border-collapse:collapse;margin:.5em 0 1.5em}}th,td{{padding:.2em .6em;text-align:left;border-bottom:1px solid #eee}}\
td.n{{text-align:right;font-variant-numeric:tabular-nums}}td.bar{{width:20em}}td.bar div{{background:#4a7bd0;height:.9em}}\
.big{{font-size:1.4em}}</style></head><body><h1>leadrecon: {name}</h1>",
        name = esc(&m.pipeline)
    );
    let t = &m.totals;
    let review = m.matching.decisions.get("review").copied().unwrap_or(0);
    let _ = write!(
        out,
        "<p class=big>{} records read, {} loaded, {} rejected ({:.2}%) &rarr; {} leads &rarr; {} contacts; {} pairs to review</p>",
        t.read,
        t.loaded,
        t.rejected,
        m.reject_ratio * 100.0,
        t.leads,
        m.matching.contacts,
        review
    );
    out.push_str("<h2>Sources</h2><table><tr><th>source</th><th>system</th><th>read</th><th>loaded</th><th>rejected</th><th>folded</th><th>leads</th></tr>");
    for s in &m.sources {
        let c = &s.counts;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&s.name),
            esc(&s.system),
            c.read,
            c.loaded,
            c.rejected,
            c.folded,
            c.leads
        );
    }
    out.push_str("</table>");

    // Match probability of compared pairs within scope, in tenths.
    let hist = shape.probabilities;
    let rows: Vec<(String, usize)> = hist
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                format!("{:.1}–{:.1}", i as f64 / 10.0, (i + 1) as f64 / 10.0),
                *n,
            )
        })
        .collect();
    bars(&mut out, "Match probability of compared pairs", &rows);

    let sizes = shape.sizes;
    let rows: Vec<(String, usize)> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let label = if i == 5 {
                "6 or more leads".to_string()
            } else if i == 0 {
                "1 lead".to_string()
            } else {
                format!("{} leads", i + 1)
            };
            (label, *n)
        })
        .collect();
    bars(&mut out, "Contacts by number of leads", &rows);

    let mut reasons: Vec<(String, usize)> = m
        .reject_reasons
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    reasons.truncate(10);
    if reasons.is_empty() {
        out.push_str("<h2>Top reject reasons</h2><p>No record was rejected.</p>");
    } else {
        bars(&mut out, "Top reject reasons (rejects.csv)", &reasons);
    }
    let _ = write!(
        out,
        "<h2>Review queue</h2><p>{review} pairs between the review and match thresholds wait in <code>review.csv</code>.</p>"
    );
    if !m.targets.is_empty() {
        out.push_str("<h2>Payloads</h2><table><tr><th>target</th><th>existing records</th><th>matched</th><th>creates</th><th>updates</th><th>unchanged</th><th>invalid</th><th>skipped</th></tr>");
        for t in &m.targets {
            let p = &t.payloads;
            let existing = t.existing.as_ref().map_or(0, |e| e.counts.leads);
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=n>{existing}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                esc(&t.system),
                p.matched,
                p.creates,
                p.updates,
                p.unchanged,
                p.invalid,
                p.skipped
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_names() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
