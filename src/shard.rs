//! Splitting one pipeline's linking over several machines: `leadrecon run --shard I/N`
//! links the leads of the agents whose hash falls in part `I` of `N`, and
//! `leadrecon merge` joins the parts' outputs into what one machine would have written.
//!
//! In agent scope leads of different agents are never one contact, so agents split with no
//! cross-talk. Every shard still reads, normalizes and folds every input (a lead's agent is
//! known only once its records are read and folded) and trains the model on every lead, so
//! each shard links with the model a single run would; blocking, comparing, clustering,
//! golden records, payloads and writing are split. Person links (one person under several
//! agents) cross shards: the merge computes them again over every shard's contacts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One part of `count` (`index` counts from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This part, from 0.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl Shard {
    /// The part an agent's leads belong to: the first eight bytes of the SHA-256 of the
    /// agent id, modulo the number of parts (leads without an agent: the id "").
    pub fn of_agent(agent: &str, count: u32) -> u32 {
        let digest = Sha256::digest(agent.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
    }

    /// Whether this part links the leads of `agent`.
    pub fn owns(&self, agent: &str) -> bool {
        Shard::of_agent(agent, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not I/N (the part, from 0, and how many parts)"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{i}` in `{s}` is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` in `{s}` is not a whole number"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "`{s}`: the part counts from 0 and must be below the number of parts"
            ));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert!("3/3".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
    }

    #[test]
    fn every_agent_has_exactly_one_part() {
        for agent in ["", "ag-1", "leadpro:1299", "metro-realty"] {
            let owners = (0..4)
                .filter(|&i| Shard { index: i, count: 4 }.owns(agent))
                .count();
            assert_eq!(owners, 1, "{agent}");
        }
        // The hash is fixed: shards of one pipeline agree across machines and releases.
        assert_eq!(Shard::of_agent("ag-1", 1000), Shard::of_agent("ag-1", 1000));
        assert_eq!(Shard::of_agent("anything", 1), 0);
    }
}
