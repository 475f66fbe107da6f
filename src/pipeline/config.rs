//! Pipeline files: strict TOML, checked before any row is read.
//!
//! Unknown keys are errors (with line and column). Paths resolve relative to the pipeline
//! file's folder. See `pipelines/sample.toml` for a commented example.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use phonenumber::country::Id;
use serde::Deserialize;

use crate::agents::Roster;
use crate::dedupe::Scope;
use crate::extract::Format;
use crate::lead::System;
use crate::normalize::phone::parse_region;
use crate::normalize::time::{DateOrder, TimeContext};
use crate::normalize::NormalizeContext;
use crate::redact;
use crate::vendors::{self, SourceContext};

/// A pipeline file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the pipeline file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key, a wrong type (the message gives line and column).
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, secrets redacted.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and where.
        message: String,
    },
}

/// The pipeline file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// What this pipeline is.
    pub pipeline: PipelineSection,
    /// Inputs, read in this order.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// The agent roster.
    pub agents: Option<AgentsConfig>,
    /// How leads become contacts.
    #[serde(rename = "match", default)]
    pub matching: MatchConfig,
    /// Systems to write create/update payloads for.
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
}

/// `[[targets]]`: a system to write payloads for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The target system (`peakidx`, `leadpro`, `realgeeks`, `epixel`, `maxwork`).
    pub system: System,
    /// The target's current export (a file or glob, read with that system's adapter):
    /// contacts it already holds are updates, the others creates. None: all creates.
    pub existing: Option<String>,
    /// How phones are written: numbers of this country in its national form (default:
    /// the system's country; required for Epixel).
    pub region: Option<String>,
    /// IANA zone of the target's local times (PeakIDX `lead_created_datetime`; also how
    /// the existing export's naive timestamps are read).
    pub timezone: Option<String>,
    /// Agent of existing records that name none (a PeakIDX export is one site's).
    pub agent: Option<String>,
    /// Container format of `existing` where the file name does not tell.
    pub format: Option<Format>,
    /// Real Geeks: the site the leads go to (`/sites/{site_uuid}/leads`).
    pub site_uuid: Option<String>,
    /// Real Geeks `source` of created leads (default `leadrecon`); Epixel: the source sent
    /// when a contact has none of the install's.
    pub source: Option<String>,
    /// Epixel: the install's status choices (default: the documented six).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Epixel: the install's source choices (default: none known, `source` not sent).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// `[match]`: how leads become contacts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchConfig {
    /// `agent` (default): only leads of one agent become one contact; `global`: one
    /// contact per person across agents.
    pub scope: Scope,
    /// Match probability from which two leads are one contact (default 0.9).
    pub match_threshold: f64,
    /// Match probability from which a pair goes to `review.csv` (default 0.5).
    pub review_threshold: f64,
    /// Systems in order of trust, for golden-record ties (default: none).
    pub system_priority: Vec<System>,
}

impl Default for MatchConfig {
    fn default() -> MatchConfig {
        MatchConfig {
            scope: Scope::Agent,
            match_threshold: 0.9,
            review_threshold: 0.5,
            system_priority: Vec::new(),
        }
    }
}

/// `[pipeline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// Name, shown in the manifest.
    pub name: String,
    /// Output folder, relative to the pipeline file (default `out/<name>`); `--out` overrides.
    pub output: Option<String>,
    /// Largest share of rejected records (0–1) before the run exits with code 3.
    pub max_reject_ratio: Option<f64>,
    /// Folder kept between runs (contact ids, payloads sent), relative to the pipeline
    /// file; `--state` overrides. None: every run starts afresh.
    pub state: Option<String>,
}

/// `[[sources]]`: one input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The system that wrote the files.
    pub system: System,
    /// A file or a glob, relative to the pipeline file.
    pub path: String,
    /// Name in the manifest and rejects (default: the system, numbered when repeated).
    pub name: Option<String>,
    /// Default country of phones without a country code (ISO 3166 alpha-2; `UK` = `GB`).
    pub region: Option<String>,
    /// IANA zone of timestamps written without one (`America/Chicago`).
    pub timezone: Option<String>,
    /// Agent of records that name none: a roster `agent_id` or one of the system's aliases.
    pub agent: Option<String>,
    /// Container format where the file name does not tell.
    pub format: Option<Format>,
    /// `csv` sources: canonical field = column name.
    pub columns: Option<BTreeMap<String, String>>,
}

/// `[agents]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    /// The roster CSV, relative to the pipeline file.
    pub roster: Option<String>,
}

/// A checked pipeline, paths resolved.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline file as given on the command line.
    pub file: PathBuf,
    /// Its folder: the base of relative paths.
    pub base: PathBuf,
    /// `[pipeline] name`.
    pub name: String,
    /// Output folder.
    pub output: PathBuf,
    /// Reject ratio limit.
    pub max_reject_ratio: Option<f64>,
    /// State folder, if any.
    pub state: Option<PathBuf>,
    /// Sources, in file order.
    pub sources: Vec<Source>,
    /// Roster path, if any.
    pub roster: Option<PathBuf>,
    /// Matching settings.
    pub matching: MatchConfig,
    /// Payload targets, in file order.
    pub targets: Vec<Target>,
}

/// A checked target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The system.
    pub system: System,
    /// How phones are written.
    pub region: Id,
    /// Its code (`PT`).
    pub region_code: String,
    /// Zone of local times.
    pub timezone: Option<Tz>,
    /// The existing export, read as a source named `target-<system>` (indexes follow the
    /// pipeline's sources, in target order).
    pub existing: Option<Source>,
    /// Real Geeks site.
    pub site_uuid: Option<String>,
    /// Source name for creates.
    pub source: Option<String>,
    /// Epixel statuses.
    pub statuses: Vec<String>,
    /// Epixel sources.
    pub sources: Vec<String>,
}

/// A checked source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Position in the pipeline file.
    pub index: usize,
    /// Name in outputs.
    pub name: String,
    /// System.
    pub system: System,
    /// Path or glob as written.
    pub path: String,
    /// Path or glob resolved against the pipeline folder.
    pub pattern: PathBuf,
    /// Default phone country.
    pub region: Id,
    /// Its code as written in outputs (`GB`).
    pub region_code: String,
    /// Zone of naive timestamps.
    pub timezone: Option<Tz>,
    /// Slash-date order.
    pub date_order: DateOrder,
    /// Default agent.
    pub agent: Option<String>,
    /// Explicit container format.
    pub format: Option<Format>,
    /// Column mapping (`csv`).
    pub columns: BTreeMap<String, String>,
}

/// The country a vendor's data comes from, when the vendor is national.
fn vendor_region(system: System) -> Option<&'static str> {
    match system {
        System::Peakidx | System::Realgeeks => Some("US"),
        System::Leadpro => Some("GB"),
        System::Maxwork => Some("PT"),
        System::Epixel | System::Csv => None,
    }
}

/// The zone of a country with one main zone.
fn country_zone(code: &str) -> Option<Tz> {
    let name = match code {
        "GB" => "Europe/London",
        "PT" => "Europe/Lisbon",
        "IE" => "Europe/Dublin",
        "ES" => "Europe/Madrid",
        "FR" => "Europe/Paris",
        "DE" => "Europe/Berlin",
        "IT" => "Europe/Rome",
        "NL" => "Europe/Amsterdam",
        "BE" => "Europe/Brussels",
        "CH" => "Europe/Zurich",
        "AT" => "Europe/Vienna",
        "NZ" => "Pacific/Auckland",
        "ZA" => "Africa/Johannesburg",
        "IN" => "Asia/Kolkata",
        _ => return None,
    };
    name.parse().ok()
}

/// A source's or target's phone country (its code as written) and time zone, from the
/// pipeline file or the system's defaults; `why_region` says why a region is needed.
fn place_and_time(
    at: &str,
    system: System,
    region: Option<&str>,
    timezone: Option<&str>,
    why_region: &str,
) -> Result<(Id, String, Option<Tz>), String> {
    let region_code = match region.or(vendor_region(system)) {
        Some(r) => match r.trim().to_ascii_uppercase() {
            u if u == "UK" => "GB".to_string(),
            u => u,
        },
        None => {
            return Err(format!(
                "{at}: set `region` (e.g. \"US\"): {system} {why_region}"
            ))
        }
    };
    let id = parse_region(&region_code)
        .ok_or_else(|| format!("{at}: region `{region_code}` is not an ISO 3166 country code"))?;
    let zone = match timezone {
        Some(tz) => Some(
            tz.parse::<Tz>()
                .map_err(|_| format!("{at}: timezone `{tz}` is not an IANA zone name"))?,
        ),
        None => country_zone(&region_code),
    };
    if system == System::Peakidx && zone.is_none() {
        return Err(format!(
            "{at}: set `timezone` (e.g. \"America/Chicago\"): PeakIDX times are the site's local time without a zone"
        ));
    }
    Ok((id, region_code, zone))
}

impl Source {
    /// What the source's adapter needs to know.
    pub fn context<'a>(&'a self, roster: &'a Roster) -> SourceContext<'a> {
        SourceContext {
            index: self.index,
            system: self.system,
            default_agent: self.agent.as_deref(),
            country: &self.region_code,
            columns: &self.columns,
            roster,
        }
    }

    /// Everything about the source that changes how its files parse, for the state's
    /// cache key.
    pub fn cache_settings(&self) -> String {
        format!("{}|{}|{}", self.index, self.name, self.parse_settings())
    }

    /// Everything about the source that changes what its files parse to, but for which
    /// source it is: two inputs with the same settings read a file alike.
    pub fn parse_settings(&self) -> String {
        format!(
            "{}|{}|{}|{:?}|{:?}|{:?}|{:?}",
            self.system,
            self.region_code,
            self.timezone.map_or("", |t| t.name()),
            self.date_order,
            self.agent,
            self.format,
            self.columns
        )
    }

    /// What normalizing the source's leads needs to know.
    pub fn normalize_context(&self) -> NormalizeContext {
        NormalizeContext {
            region: self.region,
            time: TimeContext {
                tz: self.timezone,
                order: self.date_order,
            },
        }
    }
}

impl Target {
    /// What the target's payload writer needs to know.
    pub fn write_context<'a>(
        &'a self,
        roster: &'a Roster,
    ) -> crate::vendors::write::WriteContext<'a> {
        crate::vendors::write::WriteContext {
            system: self.system,
            region: self.region,
            timezone: self.timezone,
            site_uuid: self.site_uuid.as_deref(),
            source: self.source.as_deref(),
            statuses: &self.statuses,
            sources: &self.sources,
            roster,
        }
    }
}

impl Pipeline {
    /// Every input: the sources, then the targets' existing exports.
    pub fn inputs(&self) -> impl Iterator<Item = &Source> {
        self.sources
            .iter()
            .chain(self.targets.iter().filter_map(|t| t.existing.as_ref()))
    }

    /// Reads and checks a pipeline file (not the inputs).
    pub fn load(file: &Path) -> Result<Pipeline, ConfigError> {
        let display = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Io {
            path: display.clone(),
            source,
        })?;
        let base = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Pipeline::parse(&text, file, &base)
    }

    /// Checks pipeline TOML text; `file` names it in messages, `base` resolves paths.
    pub fn parse(text: &str, file: &Path, base: &Path) -> Result<Pipeline, ConfigError> {
        let display = file.display().to_string();
        let raw: PipelineFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: display.clone(),
            message: redact::text(e.to_string().trim_end()),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: display.clone(),
            message,
        };
        if raw.pipeline.name.trim().is_empty() {
            return Err(invalid("[pipeline] name must not be blank".into()));
        }
        if let Some(r) = raw.pipeline.max_reject_ratio {
            if !(0.0..=1.0).contains(&r) {
                return Err(invalid(format!(
                    "[pipeline] max_reject_ratio must be between 0 and 1, not {r}"
                )));
            }
        }
        let mc = &raw.matching;
        if !(0.0..=1.0).contains(&mc.match_threshold)
            || !(0.0..=1.0).contains(&mc.review_threshold)
            || mc.review_threshold > mc.match_threshold
        {
            return Err(invalid(format!(
                "[match] thresholds must satisfy 0 <= review_threshold ({}) <= match_threshold ({}) <= 1",
                mc.review_threshold, mc.match_threshold
            )));
        }
        if raw.sources.is_empty() {
            return Err(invalid("no [[sources]]: nothing to read".into()));
        }
        let mut sources = Vec::with_capacity(raw.sources.len());
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for (index, s) in raw.sources.iter().enumerate() {
            let at = format!("[[sources]] #{} ({})", index + 1, s.system);
            let (region, region_code, timezone) = place_and_time(
                &at,
                s.system,
                s.region.as_deref(),
                s.timezone.as_deref(),
                "phones may lack a country code",
            )
            .map_err(invalid)?;
            let columns = s.columns.clone().unwrap_or_default();
            match (s.system, columns.is_empty()) {
                (System::Csv, true) => {
                    return Err(invalid(format!(
                        "{at}: a csv source needs a [sources.columns] table (canonical field = column name)"
                    )))
                }
                (System::Csv, false) => {
                    if let Some(bad) = columns.keys().find(|k| !vendors::csv::is_mappable(k)) {
                        let known: Vec<&str> = vendors::csv::FIELDS.iter().map(|(f, _)| *f).collect();
                        return Err(invalid(format!(
                            "{at}: `{bad}` is not a canonical field; map one of: {}",
                            known.join(", ")
                        )));
                    }
                }
                (_, false) => {
                    return Err(invalid(format!(
                        "{at}: [sources.columns] is only for csv sources; {} columns are known",
                        s.system
                    )))
                }
                (_, true) => {}
            }
            let name = match &s.name {
                Some(n) if !n.trim().is_empty() => n.trim().to_string(),
                _ => {
                    let same = raw.sources.iter().filter(|o| o.system == s.system).count();
                    if same > 1 {
                        let n = raw.sources[..=index]
                            .iter()
                            .filter(|o| o.system == s.system)
                            .count();
                        format!("{}-{n}", s.system)
                    } else {
                        s.system.to_string()
                    }
                }
            };
            if let Some(prev) = names.insert(name.clone(), index) {
                return Err(invalid(format!(
                    "{at}: name `{name}` is already used by [[sources]] #{}",
                    prev + 1
                )));
            }
            sources.push(Source {
                index,
                name,
                system: s.system,
                path: s.path.clone(),
                pattern: base.join(&s.path),
                region,
                date_order: if region_code == "US" {
                    DateOrder::MonthFirst
                } else {
                    DateOrder::DayFirst
                },
                region_code,
                timezone,
                agent: s.agent.clone().filter(|a| !a.trim().is_empty()),
                format: s.format,
                columns,
            });
        }
        let mut targets: Vec<Target> = Vec::with_capacity(raw.targets.len());
        for (t_index, t) in raw.targets.iter().enumerate() {
            let at = format!("[[targets]] #{} ({})", t_index + 1, t.system);
            if t.system == System::Csv {
                return Err(invalid(format!(
                    "{at}: a generic CSV has no API to send payloads to; targets are peakidx, leadpro, realgeeks, epixel, maxwork"
                )));
            }
            if let Some(prev) = targets.iter().position(|o| o.system == t.system) {
                return Err(invalid(format!(
                    "{at}: {} is already the target of [[targets]] #{}: payloads/{} holds one target",
                    t.system,
                    prev + 1,
                    t.system
                )));
            }
            let (region, region_code, timezone) = place_and_time(
                &at,
                t.system,
                t.region.as_deref(),
                t.timezone.as_deref(),
                "phones are written in its national form",
            )
            .map_err(invalid)?;
            let site_uuid = t.site_uuid.clone().filter(|s| !s.trim().is_empty());
            if t.system == System::Realgeeks && site_uuid.is_none() {
                return Err(invalid(format!(
                    "{at}: set `site_uuid`: Real Geeks leads are created under a site (/sites/{{site_uuid}}/leads)"
                )));
            }
            let existing = t.existing.as_ref().map(|path| Source {
                index: sources.len() + targets.iter().filter(|o| o.existing.is_some()).count(),
                name: format!("target-{}", t.system),
                system: t.system,
                path: path.clone(),
                pattern: base.join(path),
                region,
                date_order: if region_code == "US" {
                    DateOrder::MonthFirst
                } else {
                    DateOrder::DayFirst
                },
                region_code: region_code.clone(),
                timezone,
                agent: t.agent.clone().filter(|a| !a.trim().is_empty()),
                format: t.format,
                columns: BTreeMap::new(),
            });
            targets.push(Target {
                system: t.system,
                region,
                region_code,
                timezone,
                existing,
                site_uuid,
                source: t.source.clone().filter(|s| !s.trim().is_empty()),
                statuses: t.statuses.clone(),
                sources: t.sources.clone(),
            });
        }
        let name = raw.pipeline.name.trim().to_string();
        Ok(Pipeline {
            file: file.to_path_buf(),
            base: base.to_path_buf(),
            output: lexical(
                &base.join(
                    raw.pipeline
                        .output
                        .clone()
                        .unwrap_or_else(|| format!("out/{name}")),
                ),
            ),
            name,
            max_reject_ratio: raw.pipeline.max_reject_ratio,
            state: raw.pipeline.state.as_ref().map(|s| lexical(&base.join(s))),
            sources,
            roster: raw.agents.and_then(|a| a.roster).map(|r| base.join(r)),
            matching: raw.matching,
            targets,
        })
    }

    /// A path as shown in outputs: relative to the pipeline file's folder, `/`-separated.
    pub fn display_path(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.base).unwrap_or(path);
        rel.to_string_lossy().replace('\\', "/")
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pipeline, String> {
        Pipeline::parse(text, Path::new("p.toml"), Path::new("pipes")).map_err(|e| e.to_string())
    }

    const OK: &str = r#"
[pipeline]
name = "t"

[[sources]]
system = "peakidx"
path = "../data/*.json"
timezone = "America/Chicago"
agent = "a-1"

[[sources]]
system = "leadpro"
path = "lp.jsonl"

[[sources]]
system = "csv"
path = "x.csv"
region = "uk"
columns = { email = "E-mail", full_name = "Name" }
"#;

    #[test]
    fn defaults_and_paths() {
        let p = parse(OK).unwrap();
        assert_eq!(p.output, Path::new("pipes/out/t"));
        assert_eq!(p.sources[0].pattern, Path::new("pipes/../data/*.json"));
        assert_eq!(p.sources[1].region_code, "GB");
        assert_eq!(p.sources[1].timezone.unwrap().name(), "Europe/London");
        assert_eq!(p.sources[2].region_code, "GB");
        assert_eq!(p.sources[2].date_order, DateOrder::DayFirst);
        assert_eq!(p.sources[0].date_order, DateOrder::MonthFirst);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let e = parse("[pipeline]\nname = \"t\"\nnmae = 1\n").unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("unknown field `nmae`"),
            "{e}"
        );
    }

    #[test]
    fn semantic_errors() {
        let base = "[pipeline]\nname = \"t\"\n[[sources]]\n";
        for (body, needle) in [
            ("system = \"epixel\"\npath = \"x\"\n", "set `region`"),
            ("system = \"peakidx\"\npath = \"x\"\n", "set `timezone`"),
            (
                "system = \"maxwork\"\npath = \"x\"\ntimezone = \"Mars/Base\"\n",
                "IANA",
            ),
            (
                "system = \"maxwork\"\npath = \"x\"\nregion = \"XX\"\n",
                "ISO 3166",
            ),
            (
                "system = \"csv\"\npath = \"x\"\nregion = \"US\"\n",
                "[sources.columns]",
            ),
            (
                "system = \"csv\"\npath = \"x\"\nregion = \"US\"\ncolumns = { mail = \"m\" }\n",
                "`mail` is not a canonical field",
            ),
            (
                "system = \"maxwork\"\npath = \"x\"\ncolumns = { email = \"m\" }\n",
                "only for csv",
            ),
            ("system = \"hubspot\"\npath = \"x\"\n", "unknown variant"),
        ] {
            let e = parse(&format!("{base}{body}")).unwrap_err();
            assert!(e.contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn secrets_in_bad_keys_are_redacted() {
        let e = parse("[pipeline]\nname = \"t\"\napi_key = \"sk_live_123\"\n").unwrap_err();
        assert!(!e.contains("sk_live_123"), "{e}");
    }
}
