//! Nicknames and the given names they stand for (English and Portuguese), for the
//! first-name comparator. Names are folded (lower case, no accents) before lookup.

use foldhash::{HashMap, HashMapExt};
use std::sync::LazyLock;

/// (nickname, given name). A nickname may stand for several names (`sam`).
const PAIRS: &[(&str, &str)] = &[
    ("abby", "abigail"),
    ("al", "albert"),
    ("al", "alfred"),
    ("al", "alan"),
    ("alex", "alexander"),
    ("alex", "alexandra"),
    ("alfie", "alfred"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("tony", "anthony"),
    ("toni", "antonio"),
    ("to", "antonio"),
    ("barb", "barbara"),
    ("ben", "benjamin"),
    ("benny", "benjamin"),
    ("bea", "beatriz"),
    ("bea", "beatrice"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("liz", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("eliza", "elizabeth"),
    ("bill", "william"),
    ("billy", "william"),
    ("will", "william"),
    ("willy", "william"),
    ("liam", "william"),
    ("bob", "robert"),
    ("bobby", "robert"),
    ("rob", "robert"),
    ("robbie", "robert"),
    ("bert", "robert"),
    ("cathy", "catherine"),
    ("kate", "catherine"),
    ("kate", "katherine"),
    ("katie", "katherine"),
    ("kathy", "katherine"),
    ("kat", "katherine"),
    ("charlie", "charles"),
    ("chuck", "charles"),
    ("chris", "christopher"),
    ("chris", "christine"),
    ("chris", "christina"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("dave", "david"),
    ("davy", "david"),
    ("deb", "deborah"),
    ("debbie", "deborah"),
    ("dick", "richard"),
    ("rich", "richard"),
    ("rick", "richard"),
    ("ricky", "richard"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("ned", "edward"),
    ("fred", "frederick"),
    ("freddie", "frederick"),
    ("frank", "francis"),
    ("chico", "francisco"),
    ("kiko", "francisco"),
    ("chica", "francisca"),
    ("gabe", "gabriel"),
    ("greg", "gregory"),
    ("harry", "henry"),
    ("hank", "henry"),
    ("jack", "john"),
    ("johnny", "john"),
    ("jon", "john"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("jess", "jessica"),
    ("jessie", "jessica"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("jose", "joseph"),
    ("ze", "jose"),
    ("zeca", "jose"),
    ("juca", "jose"),
    ("quim", "joaquim"),
    ("larry", "lawrence"),
    ("len", "leonard"),
    ("leo", "leonardo"),
    ("lena", "helena"),
    ("mags", "margaret"),
    ("maggie", "margaret"),
    ("meg", "margaret"),
    ("peggy", "margaret"),
    ("manel", "manuel"),
    ("mane", "manuel"),
    ("matt", "matthew"),
    ("matty", "matthew"),
    ("mike", "michael"),
    ("mikey", "michael"),
    ("mick", "michael"),
    ("mitch", "mitchell"),
    ("nick", "nicholas"),
    ("nicky", "nicholas"),
    ("nico", "nicolau"),
    ("pat", "patricia"),
    ("pat", "patrick"),
    ("patty", "patricia"),
    ("trish", "patricia"),
    ("paco", "francisco"),
    ("pete", "peter"),
    ("phil", "philip"),
    ("ray", "raymond"),
    ("ron", "ronald"),
    ("ronnie", "ronald"),
    ("sam", "samuel"),
    ("sam", "samantha"),
    ("sammy", "samuel"),
    ("sandy", "sandra"),
    ("sandy", "alexandra"),
    ("steve", "steven"),
    ("steve", "stephen"),
    ("stevie", "steven"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("suzy", "susan"),
    ("terry", "terence"),
    ("theo", "theodore"),
    ("tim", "timothy"),
    ("timmy", "timothy"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("val", "valerie"),
    ("vicky", "victoria"),
    ("tori", "victoria"),
    ("zach", "zachary"),
    ("zack", "zachary"),
    ("tiago", "santiago"),
    ("gui", "guilherme"),
    ("rodri", "rodrigo"),
    ("xico", "francisco"),
    ("nando", "fernando"),
    ("tonico", "antonio"),
];

/// Nickname → the given names it stands for, built once from [`PAIRS`]: the comparator
/// looks names up for every candidate pair, and scanning the table each time was a tenth
/// of linking a million leads.
static BY_NICK: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
    for (nick, name) in PAIRS {
        map.entry(*nick).or_default().push(*name);
    }
    map
});

/// The given names a folded first name can stand for, itself included.
pub fn given_names(folded: &str) -> impl Iterator<Item = &str> {
    std::iter::once(folded).chain(BY_NICK.get(folded).into_iter().flatten().copied())
}

/// Whether two folded first names can be the same person's (`bob` and `robert`, `bob` and
/// `rob`), other than being equal.
pub fn same_person(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    // Each name looked up once (this runs for most compared pairs): they meet if one
    // stands for the other or both stand for one name.
    let (na, nb) = (names_of(a), names_of(b));
    nb.contains(&a) || na.contains(&b) || na.iter().any(|x| nb.contains(x))
}

/// The given names a nickname stands for (none for a name that is no nickname).
fn names_of(folded: &str) -> &'static [&'static str] {
    BY_NICK.get(folded).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_meet_their_names_and_each_other() {
        assert!(same_person("bob", "robert"));
        assert!(same_person("robert", "bob"));
        assert!(same_person("bob", "rob"));
        assert!(same_person("ze", "jose"));
        assert!(same_person("sam", "samantha") && same_person("sam", "samuel"));
        assert!(!same_person("samuel", "samantha"));
        assert!(!same_person("bob", "william"));
        assert!(!same_person("anna", "anna"));
    }

    #[test]
    fn same_person_is_sharing_a_given_name() {
        // The definition, against every pair of names the table knows and a stranger.
        let mut names: Vec<&str> = PAIRS.iter().flat_map(|(n, g)| [*n, *g]).collect();
        names.push("zebedee");
        for a in &names {
            for b in &names {
                let shared = given_names(a).any(|x| given_names(b).any(|y| x == y));
                assert_eq!(same_person(a, b), a != b && shared, "{a} {b}");
            }
        }
    }

    #[test]
    fn table_is_folded() {
        for (nick, name) in PAIRS {
            for s in [nick, name] {
                assert!(s.chars().all(|c| c.is_ascii_lowercase()), "{s}");
            }
        }
    }
}
