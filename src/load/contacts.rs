//! Dedupe outputs: `contacts.parquet`/`.csv` (golden records), `matches.parquet` (every
//! scored candidate pair with its level and weight per comparator) and `review.csv`
//! (borderline pairs, side by side, for a person to decide).

use crate::dedupe::compare::{EmailLevel, FirstNameLevel, LastNameLevel, PhoneLevel, PlaceLevel};
use crate::dedupe::score::{Model, Score, COMPARATORS};
use crate::dedupe::survive::Contact;
use crate::dedupe::{Decision, Levels, PersonLink, ScoredPair};
use crate::lead::{Email, Lead, Phone};
use crate::load::table::{Table, Values};
use crate::packed::LeadKeys;

/// The golden records (text borrowed from them).
pub fn contacts_table(contacts: &[Contact]) -> Table<'_> {
    let text = |f: &dyn Fn(&Contact) -> Option<&str>| {
        Values::BorrowedOpt(contacts.iter().map(f).collect())
    };
    let words =
        |f: &dyn Fn(&Contact) -> &'static str| Values::Borrowed(contacts.iter().map(f).collect());
    let mut t = Table::new(contacts.len());
    t.add("contact_id", words_of(contacts, |c| &c.contact_id))
        .add("agent_id", text(&|c| c.agent_id.as_deref()))
        .add("person_id", words_of(contacts, |c| &c.person_id))
        .add(
            "members",
            Values::UInt(contacts.iter().map(|c| c.lead_keys.len() as u64).collect()),
        )
        .add(
            "lead_keys",
            Values::BorrowedList(contacts.iter().map(|c| c.lead_keys.as_slice()).collect()),
        )
        .add("first_name", text(&|c| c.first_name.as_deref()))
        .add("last_name", text(&|c| c.last_name.as_deref()))
        .add("full_name", text(&|c| c.full_name.as_deref()))
        .add("email", text(&|c| c.email.as_deref()))
        .add("email2", text(&|c| c.email2.as_deref()))
        .add("phone", text(&|c| c.phone.as_deref()))
        .add("phone2", text(&|c| c.phone2.as_deref()))
        .add("kind", words(&|c| c.kind.as_str()))
        .add("status", words(&|c| c.status.as_str()))
        .add("marketing_source", text(&|c| c.marketing_source.as_deref()))
        .add("address", text(&|c| c.address.as_deref()))
        .add("city", text(&|c| c.city.as_deref()))
        .add("region", text(&|c| c.region.as_deref()))
        .add("postcode", text(&|c| c.postcode.as_deref()))
        .add("country", text(&|c| c.country.as_deref()))
        .add(
            "created_at",
            Values::Time(contacts.iter().map(|c| c.created_at).collect()),
        )
        .add(
            "updated_at",
            Values::Time(contacts.iter().map(|c| c.updated_at).collect()),
        )
        .add(
            "provenance",
            Values::Text(contacts.iter().map(|c| Some(c.provenance_json())).collect()),
        );
    t
}

fn words_of<'a>(
    contacts: &'a [Contact],
    f: impl Fn(&'a Contact) -> &'a compact_str::CompactString,
) -> Values<'a> {
    Values::Borrowed(contacts.iter().map(|c| f(c).as_str()).collect())
}

const LEVEL_COLUMNS: [&str; 5] = [
    "phone_level",
    "email_level",
    "first_name_level",
    "last_name_level",
    "place_level",
];
const WEIGHT_COLUMNS: [&str; 5] = [
    "phone_weight",
    "email_weight",
    "first_name_weight",
    "last_name_weight",
    "place_weight",
];

/// Each comparator's level name, in [`COMPARATORS`] order: a column of ten million cells
/// reads one field, not all five.
const LEVEL_OF: [fn(&Levels) -> &'static str; 5] = [
    |l| l.phone.as_str(),
    |l| l.email.as_str(),
    |l| l.first.as_str(),
    |l| l.last.as_str(),
    |l| l.place.as_str(),
];

/// Each comparator's level names, and the index of a pair's level among them, in
/// [`COMPARATORS`] order: `matches.parquet`'s level columns are written as the indices.
type LevelIndex = (&'static [&'static str], fn(&Levels) -> usize);
const LEVEL_INDEX: [LevelIndex; 5] = [
    (PhoneLevel::NAMES, |l| l.phone.index()),
    (EmailLevel::NAMES, |l| l.email.index()),
    (FirstNameLevel::NAMES, |l| l.first.index()),
    (LastNameLevel::NAMES, |l| l.last.index()),
    (PlaceLevel::NAMES, |l| l.place.index()),
];

fn names_of(levels: &Levels) -> [&'static str; 5] {
    LEVEL_OF.map(|level| level(levels))
}

/// Person links: contacts of different agents that score as one person, with whether
/// the chaining guard let the link join them, in contact order.
pub fn person_links_table<'a>(contacts: &'a [Contact], links: &[PersonLink]) -> Table<'a> {
    let id = |i: u32| contacts[i as usize].contact_id.as_str();
    let agent = |i: u32| contacts[i as usize].agent_id.as_deref().unwrap_or("");
    let mut t = Table::new(links.len());
    t.add(
        "contact_id_a",
        Values::Borrowed(links.iter().map(|l| id(l.a)).collect()),
    )
    .add(
        "contact_id_b",
        Values::Borrowed(links.iter().map(|l| id(l.b)).collect()),
    )
    .add(
        "agent_id_a",
        Values::Borrowed(links.iter().map(|l| agent(l.a)).collect()),
    )
    .add(
        "agent_id_b",
        Values::Borrowed(links.iter().map(|l| agent(l.b)).collect()),
    )
    .add(
        "probability",
        Values::Float(links.iter().map(|l| Some(l.score.probability)).collect()),
    )
    .add(
        "weight",
        Values::Float(links.iter().map(|l| Some(l.score.weight)).collect()),
    )
    .add(
        "linked",
        Values::Borrowed(
            links
                .iter()
                .map(|l| if l.linked { "true" } else { "false" })
                .collect(),
        ),
    );
    for (c, column) in LEVEL_COLUMNS.iter().enumerate() {
        t.add(
            column,
            Values::Borrowed(links.iter().map(|l| names_of(&l.levels)[c]).collect()),
        );
    }
    t
}

/// Every scored pair: both lead keys, prior and total weight, probability, decision, and
/// the level and weight of each comparator.
pub fn matches_table<'a>(keys: &'a LeadKeys, pairs: &[ScoredPair], model: &Model) -> Table<'a> {
    let key = |i: u32| keys.get(i);
    let scorer = model.scorer();
    let scores: Vec<Score> = pairs.iter().map(|p| p.score(&scorer)).collect();
    let mut t = Table::new(pairs.len());
    let firsts: Vec<u32> = pairs.iter().map(|p| p.a).collect();
    t.add("lead_key_a", Values::coded_by_id(&firsts, key))
        .add(
            "lead_key_b",
            Values::Borrowed(pairs.iter().map(|p| key(p.b)).collect()),
        )
        .add(
            "prior_weight",
            Values::Float(vec![Some(model.prior_weight()); pairs.len()]),
        )
        .add(
            "weight",
            Values::Float(scores.iter().map(|s| Some(s.weight)).collect()),
        )
        .add(
            "probability",
            Values::Float(scores.iter().map(|s| Some(s.probability)).collect()),
        )
        .add(
            "decision",
            Values::coded(
                &Decision::ALL.map(Decision::as_str),
                pairs.iter().map(|p| p.decision as usize),
            ),
        );
    for c in 0..COMPARATORS.len() {
        let (names, index) = LEVEL_INDEX[c];
        t.add(
            LEVEL_COLUMNS[c],
            Values::coded(names, pairs.iter().map(|p| index(&p.levels))),
        );
        t.add(
            WEIGHT_COLUMNS[c],
            Values::Float(scores.iter().map(|s| Some(s.parts[c])).collect()),
        );
    }
    t
}

/// A probability as `review.csv` shows it (six decimals), in millionths.
pub fn shown_millionths(p: f64) -> u64 {
    let text = format!("{p:.6}");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, "0"));
    whole.parse::<u64>().unwrap_or(0) * 1_000_000 + frac.parse::<u64>().unwrap_or(0)
}

/// A text field of a lead, for the review table's columns.
type LeadText = fn(&Lead) -> Option<&str>;

/// Pairs to review, most likely first, with both leads' contact data side by side
/// (`lead(i)` is lead `i`: the run unpacks only the review pairs' leads).
pub fn review_table<'a>(lead: &dyn Fn(u32) -> &'a Lead, pairs: &[ScoredPair]) -> Table<'a> {
    let review: Vec<&ScoredPair> = pairs
        .iter()
        .filter(|p| p.decision == Decision::Review)
        .collect();
    // Most likely first at the precision written (six decimals), then in lead order: the
    // order `leadrecon merge` can restore from the file itself.
    let mut review: Vec<(u64, &ScoredPair)> = review
        .into_iter()
        .map(|p| (shown_millionths(p.probability), p))
        .collect();
    review.sort_by(|(x, px), (y, py)| y.cmp(x).then((px.a, px.b).cmp(&(py.a, py.b))));
    let review: Vec<&ScoredPair> = review.into_iter().map(|(_, p)| p).collect();
    let side = |f: LeadText, pick: fn(&ScoredPair) -> u32| {
        Values::BorrowedOpt(review.iter().map(|p| f(lead(pick(p)))).collect())
    };
    let mut t = Table::new(review.len());
    t.add(
        "probability",
        Values::Float(review.iter().map(|p| Some(p.probability)).collect()),
    );
    // Each field of the two leads, side by side: `x_a`, then `x_b`.
    let sides: [(&'static str, &'static str, LeadText); 5] = [
        ("lead_key_a", "lead_key_b", |l| Some(l.lead_key.as_str())),
        ("name_a", "name_b", |l| l.full_name.as_deref()),
        ("email_a", "email_b", |l| {
            l.email.as_ref().map(Email::as_str)
        }),
        ("phone_a", "phone_b", |l| {
            l.phone.as_ref().map(Phone::as_str)
        }),
        ("agent_a", "agent_b", |l| l.agent_id.as_deref()),
    ];
    for (name_a, name_b, f) in sides {
        t.add(name_a, side(f, |p| p.a))
            .add(name_b, side(f, |p| p.b));
    }
    t.add(
        "levels",
        Values::Text(
            review
                .iter()
                .map(|p| {
                    let names = names_of(&p.levels);
                    Some(
                        COMPARATORS
                            .iter()
                            .zip(names)
                            .map(|(c, l)| format!("{c}={l}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                })
                .collect(),
        ),
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::compare::{
        EmailLevel, FirstNameLevel, LastNameLevel, PhoneLevel, PlaceLevel,
    };

    #[test]
    fn one_level_per_column_is_the_level_of_all_five() {
        let levels = Levels {
            phone: PhoneLevel::SameLast7,
            email: EmailLevel::DomainTypo,
            first: FirstNameLevel::Nickname,
            last: LastNameLevel::Similar,
            place: PlaceLevel::SameDistrict,
        };
        assert_eq!(LEVEL_OF.map(|f| f(&levels)), names_of(&levels));
    }
}
