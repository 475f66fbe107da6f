//! The agent roster: canonical agent ids and each system's aliases for them.
//!
//! `agents.csv` has the columns `agent_id,name,email,peakidx,leadpro,realgeeks,epixel,maxwork`;
//! a system's column holds that system's alias(es) for the agent (PeakIDX site name,
//! Lead.Pro `office_id`, Real Geeks user id, Epixel username, Maxwork `Internal_UserId`),
//! several separated by `|`. Aliases match case-insensitively after trimming.
//!
//! An alias the roster does not know resolves to `system:alias` and is flagged
//! `unknown_agent`. Without a roster every agent is `system:alias` and nothing is flagged.

use std::collections::HashMap;
use std::path::Path;

use crate::lead::System;

/// Errors in the roster file.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file cannot be read.
    #[error("cannot read the agent roster {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid CSV.
    #[error("the agent roster {path} is not valid CSV: {source}")]
    Csv {
        /// The file.
        path: String,
        /// Why.
        source: csv::Error,
    },
    /// A problem with the roster's content.
    #[error("the agent roster {path}, line {line}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// How an agent reference was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentMatch {
    /// A roster agent.
    Known(String),
    /// Not in the roster: `system:alias`.
    Unknown(String),
    /// No roster is configured: `system:alias`, taken as it is.
    Unchecked(String),
}

/// Canonical agents and their aliases.
#[derive(Debug, Default, Clone)]
pub struct Roster {
    loaded: bool,
    ids: HashMap<String, String>,
    aliases: HashMap<(System, String), String>,
    emails: HashMap<String, String>,
    names: HashMap<String, String>,
    first_alias: HashMap<(String, System), String>,
}

const SYSTEM_COLUMNS: [(System, &str); 5] = [
    (System::Peakidx, "peakidx"),
    (System::Leadpro, "leadpro"),
    (System::Realgeeks, "realgeeks"),
    (System::Epixel, "epixel"),
    (System::Maxwork, "maxwork"),
];

fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Roster {
    /// No roster: agents resolve to `system:alias`.
    pub fn none() -> Roster {
        Roster::default()
    }

    /// Loads `agents.csv`. `display` names the file in messages.
    pub fn load(path: &Path, display: &str) -> Result<Roster, RosterError> {
        let text = std::fs::read_to_string(path).map_err(|source| RosterError::Io {
            path: display.to_string(),
            source,
        })?;
        Roster::parse(text.trim_start_matches('\u{feff}'), display)
    }

    /// Parses roster CSV text.
    pub fn parse(text: &str, display: &str) -> Result<Roster, RosterError> {
        let csv_err = |source| RosterError::Csv {
            path: display.to_string(),
            source,
        };
        let invalid = |line: u64, message: String| RosterError::Invalid {
            path: display.to_string(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers: Vec<String> = rdr.headers().map_err(csv_err)?.iter().map(key).collect();
        const KNOWN: [&str; 8] = [
            "agent_id",
            "name",
            "email",
            "peakidx",
            "leadpro",
            "realgeeks",
            "epixel",
            "maxwork",
        ];
        if let Some(bad) = headers.iter().find(|h| !KNOWN.contains(&h.as_str())) {
            return Err(invalid(
                1,
                format!(
                    "unknown column `{bad}`; the columns are {}",
                    KNOWN.join(",")
                ),
            ));
        }
        let col = |name: &str| headers.iter().position(|h| h == name);
        let id_col = col("agent_id").ok_or_else(|| invalid(1, "no `agent_id` column".into()))?;
        let mut roster = Roster {
            loaded: true,
            ..Roster::default()
        };
        for row in rdr.records() {
            let row = row.map_err(csv_err)?;
            let line = row.position().map_or(0, |p| p.line());
            let id = row.get(id_col).unwrap_or("").trim().to_string();
            if id.is_empty() {
                return Err(invalid(line, "blank agent_id".into()));
            }
            if roster.ids.insert(key(&id), id.clone()).is_some() {
                return Err(invalid(line, format!("agent_id {id} appears twice")));
            }
            if let Some(email) = col("email")
                .and_then(|c| row.get(c))
                .filter(|e| !e.trim().is_empty())
            {
                roster.emails.insert(key(email), id.clone());
            }
            if let Some(name) = col("name")
                .and_then(|c| row.get(c))
                .filter(|n| !n.trim().is_empty())
            {
                roster.names.insert(key(name), id.clone());
            }
            for (system, column) in SYSTEM_COLUMNS {
                let Some(cell) = col(column).and_then(|c| row.get(c)) else {
                    continue;
                };
                for alias in cell.split('|').map(str::trim).filter(|a| !a.is_empty()) {
                    roster
                        .first_alias
                        .entry((id.clone(), system))
                        .or_insert_with(|| alias.to_string());
                    if let Some(other) = roster.aliases.insert((system, key(alias)), id.clone()) {
                        if other != id {
                            return Err(invalid(
                                line,
                                format!(
                                    "{column} alias `{alias}` names two agents: {other} and {id}"
                                ),
                            ));
                        }
                    }
                }
            }
        }
        Ok(roster)
    }

    /// Whether a roster was loaded.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// The canonical id for one of `system`'s aliases, an agent id, an agent's email or name.
    pub fn resolve(&self, system: System, alias: &str) -> AgentMatch {
        let alias = alias.trim();
        if !self.loaded {
            return AgentMatch::Unchecked(format!("{system}:{alias}"));
        }
        let k = key(alias);
        if let Some(id) = self.aliases.get(&(system, k.clone())) {
            return AgentMatch::Known(id.clone());
        }
        if let Some(id) = self
            .ids
            .get(&k)
            .or_else(|| self.emails.get(&k))
            .or_else(|| self.names.get(&k))
        {
            return AgentMatch::Known(id.clone());
        }
        AgentMatch::Unknown(format!("{system}:{alias}"))
    }

    /// How `system` names an agent: the first alias the roster lists for it. An agent the
    /// roster does not know (`system:alias`) keeps its alias in its own system.
    pub fn alias(&self, agent_id: &str, system: System) -> Option<String> {
        if let Some(alias) = self.first_alias.get(&(agent_id.to_string(), system)) {
            return Some(alias.clone());
        }
        agent_id
            .strip_prefix(system.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
            .filter(|rest| !rest.is_empty())
            .map(str::to_string)
    }

    /// A roster agent by email or name (Real Geeks' deprecated `agent_email`/`agent_name`).
    pub fn by_email_or_name(&self, email: Option<&str>, name: Option<&str>) -> Option<String> {
        email
            .and_then(|e| self.emails.get(&key(e)))
            .or_else(|| name.and_then(|n| self.names.get(&key(n))))
            .cloned()
    }

    /// A source's `agent` setting: a roster id or an alias, or an error message.
    pub fn check_source_agent(&self, system: System, agent: &str) -> Result<(), String> {
        match self.resolve(system, agent) {
            AgentMatch::Unknown(_) => Err(format!(
                "agent `{agent}` is neither an agent_id nor a {system} alias in the roster"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROSTER: &str = "agent_id,name,email,peakidx,leadpro,realgeeks,epixel,maxwork\n\
        a-0001,Dana Reyes,dana@brokerage.example,lakeside-homes,1213,12345,dreyes,4411\n\
        a-0002,Sam Cole,sam@brokerage.example,,1214|1215,12346,scole,\n";

    #[test]
    fn resolves_ids_aliases_and_people() {
        let r = Roster::parse(ROSTER, "agents.csv").unwrap();
        assert_eq!(
            r.resolve(System::Leadpro, "1215"),
            AgentMatch::Known("a-0002".into())
        );
        assert_eq!(
            r.resolve(System::Epixel, " DReyes "),
            AgentMatch::Known("a-0001".into())
        );
        assert_eq!(
            r.resolve(System::Maxwork, "a-0002"),
            AgentMatch::Known("a-0002".into())
        );
        assert_eq!(
            r.resolve(System::Maxwork, "9999"),
            AgentMatch::Unknown("maxwork:9999".into())
        );
        assert_eq!(
            r.by_email_or_name(Some("SAM@brokerage.example"), None),
            Some("a-0002".into())
        );
        assert_eq!(
            r.by_email_or_name(None, Some("dana reyes")),
            Some("a-0001".into())
        );
    }

    #[test]
    fn agents_are_named_in_each_system() {
        let r = Roster::parse(ROSTER, "agents.csv").unwrap();
        assert_eq!(r.alias("a-0002", System::Leadpro).as_deref(), Some("1214"));
        assert_eq!(r.alias("a-0001", System::Epixel).as_deref(), Some("dreyes"));
        assert_eq!(r.alias("a-0002", System::Maxwork), None);
        assert_eq!(
            Roster::none()
                .alias("maxwork:4411", System::Maxwork)
                .as_deref(),
            Some("4411")
        );
        assert_eq!(Roster::none().alias("maxwork:4411", System::Epixel), None);
    }

    #[test]
    fn without_roster_aliases_pass_through() {
        assert_eq!(
            Roster::none().resolve(System::Epixel, "dreyes"),
            AgentMatch::Unchecked("epixel:dreyes".into())
        );
    }

    #[test]
    fn conflicting_alias_is_an_error() {
        let bad = "agent_id,leadpro\na-1,7\na-2,7\n";
        let e = Roster::parse(bad, "agents.csv").unwrap_err().to_string();
        assert!(
            e.contains("line 3") && e.contains("names two agents"),
            "{e}"
        );
        let unknown = Roster::parse("agent_id,phone\n", "agents.csv")
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown column `phone`"), "{unknown}");
    }
}
