//! Synthetic people and agents: names, emails, phones and addresses of the US, the UK and
//! Portugal. Phones are random numbers in valid mobile and landline ranges (the ranges set
//! aside for fiction are too small for a million people, and libphonenumber rejects the
//! UK's drama ranges); every person's phones and emails are their own, except a landline a
//! household shares. Besides ordinary people there are the hard cases a matcher must keep
//! apart: household members (same surname, address and landline, their own mobile, email
//! and first name) and namesakes (same first and last name, nothing else in common).

use std::collections::HashSet;

use fastrand::Rng;

/// A person's country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    /// United States.
    Us,
    /// United Kingdom.
    Gb,
    /// Portugal.
    Pt,
}

/// One synthetic person: the truth behind several lead records.
#[derive(Debug, Clone)]
pub struct Person {
    /// Ground-truth id.
    pub id: usize,
    /// Country.
    pub country: Country,
    /// Given name.
    pub first: String,
    /// Family name.
    pub last: String,
    /// Emails (the first is the main one).
    pub emails: Vec<String>,
    /// Phones as national digits (the first is the mobile).
    pub phones: Vec<String>,
    /// Street address.
    pub street: String,
    /// City.
    pub city: String,
    /// State, county or district.
    pub region: String,
    /// Postal code.
    pub postcode: String,
    /// 0 buyer, 1 seller, 2 renter, 3 landlord, 4 mortgage, 5 buyer and seller.
    pub intent: u8,
    /// Household: the id of its first member (the person's own id when alone).
    pub household: usize,
}

/// One roster agent.
pub struct Agent {
    /// Roster id.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// Email.
    pub email: &'static str,
    /// Country they work in.
    pub country: Country,
    /// PeakIDX site.
    pub peakidx: &'static str,
    /// Lead.Pro office ids.
    pub leadpro: &'static str,
    /// Real Geeks user id.
    pub realgeeks: &'static str,
    /// Epixel username.
    pub epixel: &'static str,
    /// Maxwork Internal_UserId.
    pub maxwork: &'static str,
}

/// The roster.
pub const AGENTS: [Agent; 8] = [
    Agent {
        id: "a-0001",
        name: "Dana Reyes",
        email: "dana.reyes@brokerage.example",
        country: Country::Us,
        peakidx: "lakeside-homes",
        leadpro: "",
        realgeeks: "10001",
        epixel: "dreyes",
        maxwork: "",
    },
    Agent {
        id: "a-0002",
        name: "Marcus Bell",
        email: "marcus.bell@brokerage.example",
        country: Country::Us,
        peakidx: "metro-realty",
        leadpro: "",
        realgeeks: "10002",
        epixel: "mbell",
        maxwork: "",
    },
    Agent {
        id: "a-0003",
        name: "Priya Shah",
        email: "priya.shah@brokerage.example",
        country: Country::Us,
        peakidx: "",
        leadpro: "",
        realgeeks: "10003",
        epixel: "pshah",
        maxwork: "",
    },
    Agent {
        id: "a-0004",
        name: "Oliver Hughes",
        email: "oliver.hughes@brokerage.example",
        country: Country::Gb,
        peakidx: "",
        leadpro: "1213",
        realgeeks: "",
        epixel: "ohughes",
        maxwork: "",
    },
    Agent {
        id: "a-0005",
        name: "Charlotte Evans",
        email: "charlotte.evans@brokerage.example",
        country: Country::Gb,
        peakidx: "",
        leadpro: "1214|1216",
        realgeeks: "",
        epixel: "cevans",
        maxwork: "",
    },
    Agent {
        id: "a-0006",
        name: "Inês Carvalho",
        email: "ines.carvalho@brokerage.example",
        country: Country::Pt,
        peakidx: "",
        leadpro: "",
        realgeeks: "",
        epixel: "icarvalho",
        maxwork: "4411",
    },
    Agent {
        id: "a-0007",
        name: "Tiago Ferreira",
        email: "tiago.ferreira@brokerage.example",
        country: Country::Pt,
        peakidx: "",
        leadpro: "",
        realgeeks: "",
        epixel: "tferreira",
        maxwork: "4412",
    },
    Agent {
        id: "a-0008",
        name: "Sofia Martins",
        email: "sofia.martins@brokerage.example",
        country: Country::Pt,
        peakidx: "",
        leadpro: "",
        realgeeks: "",
        epixel: "",
        maxwork: "4413",
    },
];

const US_FIRST: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Steven",
    "Ashley",
    "José",
    "María",
    "Zoë",
    "Chloé",
    "DeShawn",
    "Aaliyah",
    "Bob",
    "Kate",
    "Hiroshi",
    "Mei",
];
const US_LAST: [&str; 36] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "O'Neill",
    "McDonald",
    "Nguyen",
    "Kim",
    "Patel",
    "O'Brien",
    "Van Buren",
    "Peña",
    "Sánchez",
    "Okafor",
    "Cohen",
    "Schmidt",
    "Rossi",
    "Novak",
    "Yamamoto",
];
const GB_FIRST: [&str; 24] = [
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy", "Charlie",
    "Freya", "Siobhán", "Niamh", "Rhys", "Eluned", "Arthur", "Grace", "Leo", "Poppy", "Alfie",
    "Evie", "Muhammad", "Zara",
];
const GB_LAST: [&str; 26] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Hughes", "Edwards", "Green",
    "Hall", "Wood", "O'Connor", "Khan", "Ali", "Lloyd", "Price", "Morgan",
];
const PT_FIRST: [&str; 22] = [
    "João",
    "Maria",
    "José",
    "Ana",
    "António",
    "Francisca",
    "Tiago",
    "Inês",
    "Gonçalo",
    "Beatriz",
    "Rodrigo",
    "Mariana",
    "Duarte",
    "Leonor",
    "Afonso",
    "Matilde",
    "Conceição",
    "Sebastião",
    "Rui",
    "Catarina",
    "Vasco",
    "Joana",
];
const PT_LAST: [&str; 24] = [
    "Silva",
    "Santos",
    "Ferreira",
    "Pereira",
    "Oliveira",
    "Costa",
    "Rodrigues",
    "Martins",
    "Jesus",
    "Sousa",
    "Fernandes",
    "Gonçalves",
    "Gomes",
    "Lopes",
    "Marques",
    "Alves",
    "Almeida",
    "Ribeiro",
    "Pinto",
    "Carvalho",
    "dos Santos",
    "da Silva",
    "Magalhães",
    "Conceição",
];
const US_CITIES: [(&str, &str, &str, &str); 8] = [
    ("Chicago", "IL", "606", "312"),
    ("Evanston", "IL", "602", "847"),
    ("Boston", "MA", "021", "617"),
    ("Austin", "TX", "787", "512"),
    ("Seattle", "WA", "981", "206"),
    ("Denver", "CO", "802", "303"),
    ("Miami", "FL", "331", "305"),
    ("Honolulu", "HI", "968", "808"),
];
const GB_CITIES: [(&str, &str, &str); 5] = [
    ("London", "Greater London", "SW1A"),
    ("Manchester", "Greater Manchester", "M1"),
    ("Leeds", "West Yorkshire", "LS1"),
    ("Bristol", "Bristol", "BS1"),
    ("Derby", "Derbyshire", "DE1"),
];
const PT_CITIES: [(&str, &str, &str); 5] = [
    ("Lisboa", "Lisboa", "1100"),
    ("Porto", "Porto", "4000"),
    ("Cascais", "Lisboa", "2750"),
    ("Braga", "Braga", "4700"),
    ("Faro", "Faro", "8000"),
];
const STREETS: [&str; 10] = [
    "Oak", "Maple", "Lake", "Hill", "Park", "Cedar", "Elm", "Church", "Mill", "River",
];
const US_DOMAINS: [&str; 5] = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
];
const GB_DOMAINS: [&str; 4] = [
    "gmail.com",
    "hotmail.co.uk",
    "btinternet.com",
    "outlook.com",
];
const GB_MOBILE_PREFIXES: [&str; 23] = [
    "71", "72", "73", "74", "75", "76", "77", "80", "81", "84", "85", "86", "87", "88", "89", "90",
    "92", "94", "95", "96", "97", "98", "99",
];
const PT_DOMAINS: [&str; 4] = ["gmail.com", "sapo.pt", "hotmail.com", "outlook.pt"];

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

/// ASCII-only lower-case form of a name, for email local parts.
pub fn ascii_slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let base = match c {
                'á' | 'à' | 'â' | 'ã' | 'Á' | 'Â' | 'Ã' => 'a',
                'é' | 'ê' | 'É' | 'Ê' => 'e',
                'í' | 'Í' => 'i',
                'ó' | 'ô' | 'õ' | 'Ó' | 'Ô' | 'Õ' => 'o',
                'ú' | 'Ú' => 'u',
                'ç' | 'Ç' => 'c',
                'ñ' => 'n',
                'ë' => 'e',
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(base)
        })
        .collect()
}

/// Makes person `id` living in `country`, with phones and emails not in `taken` (which
/// gains them).
pub fn person_in(
    rng: &mut Rng,
    id: usize,
    country: Country,
    taken: &mut HashSet<String>,
) -> Person {
    let (first, last) = match country {
        Country::Us => (pick(rng, &US_FIRST), pick(rng, &US_LAST)),
        Country::Gb => (pick(rng, &GB_FIRST), pick(rng, &GB_LAST)),
        Country::Pt => (pick(rng, &PT_FIRST), pick(rng, &PT_LAST)),
    };
    let (city, region, postcode, area) = place(rng, country);
    let street = match country {
        Country::Pt => format!("Rua do {} {}", pick(rng, &STREETS), rng.u16(1..300)),
        _ => format!("{} {} Street", rng.u16(1..2000), pick(rng, &STREETS)),
    };
    let mut p = Person {
        id,
        country,
        first: first.to_string(),
        last: last.to_string(),
        emails: Vec::new(),
        phones: Vec::new(),
        street,
        city: city.to_string(),
        region: region.to_string(),
        postcode,
        intent: rng.u8(..6),
        household: id,
    };
    contact_data(rng, &mut p, area, taken);
    if rng.u8(..4) == 0 {
        let landline = unique(taken, || landline(rng, country, area));
        p.phones.push(landline);
    }
    p
}

/// A second member of `of`'s household: same surname and address, another first name, a
/// mobile and email of their own, and the household's landline (which `of` gains when it
/// had none).
pub fn household_member(
    rng: &mut Rng,
    id: usize,
    of: &mut Person,
    taken: &mut HashSet<String>,
) -> Person {
    let firsts: &[&str] = match of.country {
        Country::Us => &US_FIRST,
        Country::Gb => &GB_FIRST,
        Country::Pt => &PT_FIRST,
    };
    let first = loop {
        let f = pick(rng, firsts);
        if f != of.first {
            break f;
        }
    };
    let area = area_of(of);
    if of.phones.len() < 2 {
        let landline = unique(taken, || landline(rng, of.country, area));
        of.phones.push(landline);
    }
    let mut p = Person {
        id,
        first: first.to_string(),
        emails: Vec::new(),
        phones: Vec::new(),
        intent: rng.u8(..6),
        ..of.clone()
    };
    contact_data(rng, &mut p, area, taken);
    p.phones.truncate(1);
    p.phones.push(of.phones[1].clone());
    p
}

/// Someone with `of`'s first and last name and nothing else in common.
pub fn namesake(rng: &mut Rng, id: usize, of: &Person, taken: &mut HashSet<String>) -> Person {
    let mut p = person_in(rng, id, of.country, taken);
    p.first = of.first.clone();
    p.last = of.last.clone();
    // Emails made from the new name (the old ones stay taken: nobody else gets them).
    p.emails.clear();
    emails(rng, &mut p, taken);
    p
}

/// The area code of a US person's mobile ("" elsewhere).
fn area_of(p: &Person) -> &'static str {
    if p.country != Country::Us {
        return "";
    }
    let area = p.phones.first().map(|n| &n[..3]).unwrap_or("312");
    US_CITIES
        .iter()
        .map(|c| c.3)
        .find(|a| *a == area)
        .unwrap_or("312")
}

/// City, region, postcode and (US) area code.
fn place(rng: &mut Rng, country: Country) -> (&'static str, &'static str, String, &'static str) {
    match country {
        Country::Us => {
            let (city, state, zip3, area) = US_CITIES[rng.usize(..US_CITIES.len())];
            (city, state, format!("{zip3}{:02}", rng.u32(..100)), area)
        }
        Country::Gb => {
            let (city, county, out) = GB_CITIES[rng.usize(..GB_CITIES.len())];
            let letters = [b'A' + rng.u8(..26), b'A' + rng.u8(..26)];
            let postcode = format!(
                "{out} {}{}",
                rng.u8(1..9),
                String::from_utf8_lossy(&letters)
            );
            (city, county, postcode, "")
        }
        Country::Pt => {
            let (city, district, cp) = PT_CITIES[rng.usize(..PT_CITIES.len())];
            (city, district, format!("{cp}-{:03}", rng.u32(..1000)), "")
        }
    }
}

/// Draws until `make` gives a value not in `taken`, and takes it.
fn unique(taken: &mut HashSet<String>, mut make: impl FnMut() -> String) -> String {
    loop {
        let v = make();
        if taken.insert(v.clone()) {
            return v;
        }
    }
}

/// Gives `p` a mobile and one or two emails of its own.
fn contact_data(rng: &mut Rng, p: &mut Person, area: &str, taken: &mut HashSet<String>) {
    let country = p.country;
    let mobile = unique(taken, || mobile(rng, country, area));
    p.phones.insert(0, mobile);
    emails(rng, p, taken);
}

/// Gives `p` a main email and sometimes a work one, made from its name.
fn emails(rng: &mut Rng, p: &mut Person, taken: &mut HashSet<String>) {
    let country = p.country;
    let domains: &[&str] = match country {
        Country::Us => &US_DOMAINS,
        Country::Gb => &GB_DOMAINS,
        Country::Pt => &PT_DOMAINS,
    };
    let f = ascii_slug(&p.first);
    let l = ascii_slug(&p.last);
    let main = unique(taken, || {
        let local = match rng.u8(..4) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}{l}{}", rng.u16(1..999)),
            2 => format!("{}{l}{}", &f[..1], rng.u16(10..9999)),
            _ => format!("{f}_{l}{}", rng.u16(1..9999)),
        };
        format!("{local}@{}", pick(rng, domains))
    });
    p.emails.push(main);
    if rng.u8(..5) == 0 {
        let work = unique(taken, || {
            format!("{f}.{l}.work{}@{}", rng.u16(1..9999), pick(rng, domains))
        });
        p.emails.push(work);
    }
}

/// A mobile number (national digits). US numbers have no mobile range of their own.
fn mobile(rng: &mut Rng, country: Country, area: &str) -> String {
    match country {
        Country::Us => us_number(rng, area),
        // Ranges libphonenumber knows as mobiles throughout (076 is pagers, 07700 900 is
        // for drama).
        Country::Gb => format!(
            "07{}{:07}",
            pick(rng, &GB_MOBILE_PREFIXES),
            rng.u32(..10_000_000)
        ),
        Country::Pt => format!(
            "{}{:07}",
            ["91", "92", "93", "96"][rng.usize(..4)],
            rng.u32(..10_000_000)
        ),
    }
}

/// A landline number (national digits).
fn landline(rng: &mut Rng, country: Country, area: &str) -> String {
    match country {
        Country::Us => us_number(rng, area),
        Country::Gb => format!(
            "020{}{:07}",
            [3, 7, 8][rng.usize(..3)],
            rng.u32(..10_000_000)
        ),
        Country::Pt => format!("21{:07}", rng.u32(..10_000_000)),
    }
}

/// A US number in `area`: exchange 200-999 (not N11, not 555), any line.
fn us_number(rng: &mut Rng, area: &str) -> String {
    let exchange = loop {
        let e = rng.u16(200..1000);
        if e % 100 != 11 && e != 555 {
            break e;
        }
    };
    format!("{area}{exchange}{:04}", rng.u16(..10_000))
}

/// A phone written the way exports of `country` write it, in one of several styles.
pub fn format_phone(rng: &mut Rng, country: Country, national: &str) -> String {
    let d = national;
    match country {
        Country::Us => match rng.u8(..6) {
            0 => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
            1 => format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]),
            2 => format!("{}.{}.{}", &d[..3], &d[3..6], &d[6..]),
            3 => format!("+1 {} {} {}", &d[..3], &d[3..6], &d[6..]),
            4 => d.to_string(),
            _ => format!("1-{}-{}-{}", &d[..3], &d[3..6], &d[6..]),
        },
        Country::Gb => match rng.u8(..5) {
            0 => format!("{} {}", &d[..5], &d[5..]),
            1 => d.to_string(),
            2 => format!("+44 {} {}", &d[1..5], &d[5..]),
            3 => format!("+44 (0){} {}", &d[1..5], &d[5..]),
            _ => format!("0044 {} {}", &d[1..5], &d[5..]),
        },
        Country::Pt => match rng.u8(..4) {
            0 => format!("{} {} {}", &d[..3], &d[3..6], &d[6..]),
            1 => format!("+351 {} {} {}", &d[..3], &d[3..6], &d[6..]),
            2 => format!("00351{d}"),
            _ => d.to_string(),
        },
    }
}

/// International digits without `+` (as Epixel stores them).
pub fn international_digits(country: Country, national: &str) -> String {
    match country {
        Country::Us => format!("1{national}"),
        Country::Gb => format!("44{}", &national[1..]),
        Country::Pt => format!("351{national}"),
    }
}
