//! Features computed once per table, so that comparing a pair allocates nothing: each distinct
//! name and place is reduced once (names repeat a great deal), and records hold ids of them.

use crate::dates::DateFeat;
use crate::names::{Classes, split_full_name, tables};
use crate::normalise::fold;
use crate::places::normalise_place;
use crate::table::{FieldKind, Table};
use crate::translit::{phonetic, phonetic_french, skeleton};
use rayon::prelude::*;
use std::hash::{Hash, Hasher};

/// A stable 64-bit hash (FNV-1a): keys must not depend on a per-process random seed.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub(crate) fn hash_of<T: Hash>(t: &T) -> u64 {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 ^= u64::from(b);
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    t.hash(&mut h);
    h.finish()
}

/// One name (given, patronymic or family), reduced.
#[derive(Debug)]
pub(crate) struct NameFeat {
    /// Phonetic form (for family names with the ending made canonical).
    pub phon: Box<str>,
    pub folded_hash: u64,
    pub phon_hash: u64,
    pub skel_hash: u64,
    /// Hash of the first three skeleton letters (blocking).
    pub skel_prefix: u64,
    pub skel_initial: u8,
    /// Given names: their classes; patronymics: the father's classes; family names: none.
    pub classes: Classes,
    /// An unknown given name or patronymic: the (father's) classes of known ones one edit away
    /// (a typo); else none.
    pub near: Classes,
    /// A Latin family name read in the French-based scheme (ch = ш, j = ж) when that reading
    /// differs: the hash of its canonical form; 0 otherwise.
    pub french_hash: u64,
    /// Per word of a multi-word name (double surname), its phonetic hash; 0 when unused.
    pub parts: [u64; 2],
}

impl NameFeat {
    pub fn is_known(&self) -> bool {
        !self.classes.is_empty()
    }

    fn build(raw: &str, kind: FieldKind) -> Option<NameFeat> {
        let t = tables();
        let folded = fold(raw);
        let mut phon = phonetic(raw);
        if phon.is_empty() {
            return None;
        }
        let classes = match kind {
            FieldKind::GivenName => t.given_classes(&phon),
            FieldKind::Patronymic => t.patronymic(&phon).map(|(c, _)| c).unwrap_or_default(),
            _ => Classes::default(),
        };
        let near = match kind {
            FieldKind::GivenName if classes.is_empty() => t.given_classes_near(&phon),
            FieldKind::Patronymic if classes.is_empty() => t.patronymic_near(&phon),
            _ => Classes::default(),
        };
        let mut french_hash = 0;
        if kind == FieldKind::FamilyName {
            phon = t.surname_canonical(&phon);
            if let Some(f) = phonetic_french(raw) {
                french_hash = hash_bytes(t.surname_canonical(&f).as_bytes());
            }
        }
        let skel = skeleton(&phon);
        let mut parts = [0u64; 2];
        if phon.contains(' ') {
            for (slot, w) in parts.iter_mut().zip(phon.split(' ')) {
                *slot = hash_bytes(w.as_bytes());
            }
        }
        let skel_bytes = skel.as_bytes();
        Some(NameFeat {
            folded_hash: hash_bytes(folded.as_bytes()),
            phon_hash: hash_bytes(phon.as_bytes()),
            skel_hash: hash_bytes(skel_bytes),
            skel_prefix: hash_bytes(&skel_bytes[..skel_bytes.len().min(3)]),
            skel_initial: skel_bytes.first().copied().unwrap_or(0),
            classes,
            near,
            french_hash,
            parts,
            phon: phon.into_boxed_str(),
        })
    }

    /// The key term frequencies are counted on: the first class of a known given name or father
    /// (so Саша and Олександр count together), else the phonetic form.
    pub fn tf_key(&self) -> u64 {
        match self.classes.as_slice().first() {
            Some(&c) => hash_of(&("class", c)),
            None => self.phon_hash,
        }
    }
}

#[derive(Debug)]
pub(crate) struct PlaceFeat {
    pub phon: Box<str>,
    pub key: u64,
}

/// An identifier, text or exact value: (hash of the folded text, folded text).
pub(crate) type ExtraValue = (u64, Box<str>);

/// The id a record holds for a value it lacks.
pub(crate) const NONE: u32 = u32::MAX;

/// Slots of [`RecordFeat::names`] and [`Prepared::names`].
pub(crate) const GIVEN: usize = 0;
pub(crate) const PATRONYMIC: usize = 1;
pub(crate) const FAMILY: usize = 2;

/// One record's features: ids of distinct values (so that a value is reduced once however many
/// records share it, and comparisons can be cached per pair of values), kept small so that the
/// records of a large table stay in cache while pairs are compared.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordFeat {
    /// Given name, patronymic, family name: indexes into [`Prepared::names`], or [`NONE`].
    pub names: [u32; 3],
    /// Index into [`Prepared::places`], or [`NONE`].
    pub place: u32,
    pub date: Option<DateFeat>,
    pub sex: u8,
}

/// All records' features, and which columns feed them.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub records: Vec<RecordFeat>,
    /// The distinct given names, patronymics and family names, reduced.
    pub names: [Vec<NameFeat>; 3],
    /// The distinct places of birth, reduced.
    pub places: Vec<PlaceFeat>,
    /// Per identifier/text/exact column, per record.
    pub extra: Vec<Vec<Option<ExtraValue>>>,
    /// Column index of each identifier/text/exact column, in order (indexes `extra`).
    pub extra_columns: Vec<usize>,
    /// Index into `extra` of the first identifier column, for blocking on it.
    pub identifier: Option<usize>,
    /// Per record, a hash of all its exact-match columns' values (by header, lower-cased, so two
    /// tables with the same columns in another order agree), or `None` when the table has no
    /// such column or the record lacks one of them: for blocking on them.
    pub exact_key: Vec<Option<u64>>,
    pub has_given: bool,
    pub has_patronymic: bool,
    pub has_family: bool,
}

impl Prepared {
    /// The name in `slot` of record `i`.
    pub fn name(&self, slot: usize, i: usize) -> Option<&NameFeat> {
        let id = self.records[i].names[slot];
        self.names[slot].get(id as usize)
    }

    pub fn place(&self, i: usize) -> Option<&PlaceFeat> {
        self.places.get(self.records[i].place as usize)
    }

    /// The hash of record `i`'s value in the first identifier column.
    pub fn identifier(&self, i: usize) -> Option<u64> {
        let col = self.extra.get(self.identifier?)?;
        col.get(i)?.as_ref().map(|v| v.0)
    }

    /// Record `i`'s value in the first identifier column, folded and without spaces.
    pub fn identifier_text(&self, i: usize) -> Option<&str> {
        let col = self.extra.get(self.identifier?)?;
        col.get(i)?.as_ref().map(|v| &*v.1)
    }
}

/// FxHash (rustc's): hashing short strings and integers in the hot loops without SipHash's cost.
/// Not for keys that must be stable across processes (those use [`hash_bytes`]).
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

pub(crate) type FxBuild = std::hash::BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;

/// Gives each distinct string an id, in order of first appearance.
struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            ids: FxHashMap::default(),
            values: Vec::new(),
        }
    }

    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(NONE - 1);
        self.values.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(NONE, |s| self.id(s))
    }
}

/// The name values of one row: from their own columns, or split from the full name.
pub(crate) fn row_names(table: &Table, row: usize) -> [Option<String>; 3] {
    let given = table
        .first_of(row, FieldKind::GivenName)
        .map(str::to_string);
    let patronymic = table
        .first_of(row, FieldKind::Patronymic)
        .map(str::to_string);
    let family = table
        .first_of(row, FieldKind::FamilyName)
        .map(str::to_string);
    if given.is_some() && family.is_some() {
        return [given, patronymic, family];
    }
    match table.first_of(row, FieldKind::FullName) {
        Some(full) => {
            let s = split_full_name(full);
            [
                given.or(s.given),
                patronymic.or(s.patronymic),
                family.or(s.family),
            ]
        }
        None => [given, patronymic, family],
    }
}

const SLOT_KINDS: [FieldKind; 3] = [
    FieldKind::GivenName,
    FieldKind::Patronymic,
    FieldKind::FamilyName,
];

impl Prepared {
    pub fn build(table: &Table) -> Prepared {
        let extra_columns: Vec<usize> = table
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                matches!(
                    c.kind,
                    FieldKind::Identifier | FieldKind::Text | FieldKind::Exact
                )
            })
            .map(|(i, _)| i)
            .collect();
        let extra: Vec<Vec<Option<ExtraValue>>> = extra_columns
            .iter()
            .map(|&c| {
                let identifier = table.columns()[c].kind == FieldKind::Identifier;
                (0..table.len())
                    .into_par_iter()
                    .map(|row| {
                        let v = table.value(row, c)?;
                        let folded = if identifier {
                            fold(v).replace(' ', "")
                        } else {
                            fold(v)
                        };
                        if folded.is_empty() {
                            return None;
                        }
                        Some((hash_bytes(folded.as_bytes()), folded.into_boxed_str()))
                    })
                    .collect()
            })
            .collect();

        let mut exact_cols: Vec<(String, usize)> = extra_columns
            .iter()
            .enumerate()
            .filter(|(_, c)| table.columns()[**c].kind == FieldKind::Exact)
            .map(|(e, c)| (table.columns()[*c].name.to_lowercase(), e))
            .collect();
        exact_cols.sort();
        let exact_key: Vec<Option<u64>> = (0..table.len())
            .map(|row| {
                if exact_cols.is_empty() {
                    return None;
                }
                let mut parts = Vec::with_capacity(exact_cols.len());
                for (name, e) in &exact_cols {
                    let (h, _) = extra[*e][row].as_ref()?;
                    parts.push((name.as_str(), *h));
                }
                Some(hash_of(&parts))
            })
            .collect();

        // Interning is one sequential pass of hash lookups; the costly reductions then run once
        // per distinct value, in parallel. Most names and places repeat many times over.
        let mut slots = [Interner::new(), Interner::new(), Interner::new()];
        let mut fulls = Interner::new();
        let mut places = Interner::new();
        let has_full = table.has_kind(FieldKind::FullName);
        // Per row: the three name ids as far as their own columns give them, the full name to
        // split for the rest (NONE when not needed), and the place.
        let mut rows: Vec<([u32; 3], u32, u32)> = Vec::with_capacity(table.len());
        for row in 0..table.len() {
            let own = SLOT_KINDS.map(|k| table.first_of(row, k));
            let full = if has_full && (own[GIVEN].is_none() || own[FAMILY].is_none()) {
                fulls.opt(table.first_of(row, FieldKind::FullName))
            } else {
                NONE
            };
            let mut ids = [NONE; 3];
            for (slot, (id, v)) in ids.iter_mut().zip(own).enumerate() {
                *id = slots[slot].opt(v);
            }
            let place = places.opt(table.first_of(row, FieldKind::BirthPlace));
            rows.push((ids, full, place));
        }
        let split: Vec<[Option<String>; 3]> = fulls
            .values
            .par_iter()
            .map(|f| {
                let s = split_full_name(f);
                [s.given, s.patronymic, s.family]
            })
            .collect();
        let split_ids: Vec<[u32; 3]> = split
            .iter()
            .map(|parts| {
                let mut ids = [NONE; 3];
                for (slot, (id, v)) in ids.iter_mut().zip(parts).enumerate() {
                    *id = slots[slot].opt(v.as_deref());
                }
                ids
            })
            .collect();
        let [g, p, f] = slots;
        let reduce = |values: Vec<Box<str>>, kind: FieldKind| -> (Vec<NameFeat>, Vec<u32>) {
            let feats: Vec<Option<NameFeat>> = values
                .par_iter()
                .map(|v| NameFeat::build(v, kind))
                .collect();
            // A value that reduces to nothing (punctuation only) is as good as missing.
            let mut remap = Vec::with_capacity(feats.len());
            let mut kept = Vec::with_capacity(feats.len());
            for feat in feats {
                match feat {
                    Some(n) => {
                        remap.push(u32::try_from(kept.len()).unwrap_or(NONE));
                        kept.push(n);
                    }
                    None => remap.push(NONE),
                }
            }
            (kept, remap)
        };
        let (gn, gmap) = reduce(g.values, FieldKind::GivenName);
        let (pn, pmap) = reduce(p.values, FieldKind::Patronymic);
        let (fnames, fmap) = reduce(f.values, FieldKind::FamilyName);
        let maps = [gmap, pmap, fmap];
        let place_feats: Vec<Option<PlaceFeat>> = places
            .values
            .par_iter()
            .map(|v| {
                normalise_place(v).map(|p| PlaceFeat {
                    key: p
                        .known
                        .map(|k| hash_of(&("place", k)))
                        .unwrap_or_else(|| hash_bytes(p.phonetic.as_bytes())),
                    phon: p.phonetic.into_boxed_str(),
                })
            })
            .collect();
        let mut place_map = Vec::with_capacity(place_feats.len());
        let mut place_kept = Vec::with_capacity(place_feats.len());
        for feat in place_feats {
            match feat {
                Some(p) => {
                    place_map.push(u32::try_from(place_kept.len()).unwrap_or(NONE));
                    place_kept.push(p);
                }
                None => place_map.push(NONE),
            }
        }
        let lookup = |map: &[u32], id: u32| map.get(id as usize).copied().unwrap_or(NONE);
        let records: Vec<RecordFeat> = rows
            .iter()
            .enumerate()
            .map(|(row, &(own, full, place))| {
                let from_full = split_ids.get(full as usize).copied().unwrap_or([NONE; 3]);
                let mut names = [NONE; 3];
                for slot in 0..3 {
                    // Own columns win when the row has both given and family name; otherwise the
                    // full name fills what the own columns lack (as `row_names` does).
                    let raw = if own[slot] != NONE {
                        own[slot]
                    } else {
                        from_full[slot]
                    };
                    names[slot] = lookup(&maps[slot], raw);
                }
                RecordFeat {
                    names,
                    place: lookup(&place_map, place),
                    date: table.dates[row].map(DateFeat::new),
                    sex: table.sexes[row],
                }
            })
            .collect();
        let full = table.has_kind(FieldKind::FullName);
        Prepared {
            records,
            names: [gn, pn, fnames],
            places: place_kept,
            extra,
            identifier: extra_columns
                .iter()
                .position(|&c| table.columns()[c].kind == FieldKind::Identifier),
            exact_key,
            extra_columns,
            has_given: full || table.has_kind(FieldKind::GivenName),
            has_patronymic: full || table.has_kind(FieldKind::Patronymic),
            has_family: full || table.has_kind(FieldKind::FamilyName),
        }
    }
}

/// Small tables in every shape the preparation handles, shared by the tests of the modules that
/// use prepared records.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::table::{FieldKind, Table};

    /// Own name columns and a full name, place, date, sex; rows repeat values, miss fields, spell
    /// one child in several scripts, and carry names in several classes (Саша, Слава).
    pub fn left() -> Table {
        let cols = vec![
            ("id".to_string(), FieldKind::Id),
            ("given".to_string(), FieldKind::GivenName),
            ("patronymic".to_string(), FieldKind::Patronymic),
            ("family".to_string(), FieldKind::FamilyName),
            ("full".to_string(), FieldKind::FullName),
            ("sex".to_string(), FieldKind::Sex),
            ("dob".to_string(), FieldKind::BirthDate),
            ("place".to_string(), FieldKind::BirthPlace),
            ("doc".to_string(), FieldKind::Identifier),
        ];
        let rows: [[&str; 8]; 9] = [
            [
                "Дмитро",
                "Андрійович",
                "Олійник",
                "",
                "ч",
                "2014-03-07",
                "м. Маріуполь",
                "AB 123",
            ],
            [
                "Дмитро",
                "Андрійович",
                "Олійник",
                "",
                "ч",
                "2014-07-03",
                "Маріуполь",
                "",
            ],
            [
                "",
                "",
                "",
                "Коваленко Олена Петрівна",
                "ж",
                "2015-06-12",
                "Бахмут",
                "AB-124",
            ],
            [
                "Саша",
                "",
                "",
                "Лисенко Олександр",
                "",
                "2013-04",
                "Херсон",
                "",
            ],
            ["Слава", "Іванович", "Петренко", "", "ч", "", "", ""],
            ["", "", "", "", "", "2012", "", ""],
            [
                "Марія",
                "",
                "Бондаренко",
                "Бондаренко Марія Миколаївна",
                "ж",
                "2011-08-21",
                "",
                "",
            ],
            [
                "Ivan",
                "Vasylovych",
                "Tkachenko",
                "",
                "m",
                "2017-02-02",
                "Kyiv",
                "",
            ],
            ["—", "", "Мельник", "", "ж", "~2014", "Краматорськ", ""],
        ];
        let mut t = Table::new(cols).unwrap_or_else(|e| panic!("{e}"));
        for (n, r) in rows.iter().enumerate() {
            let id = format!("L{n}");
            t.push(
                id.clone(),
                std::iter::once(Some(id.as_str())).chain(r.iter().map(|v| Some(*v))),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        t
    }

    /// Full names only, in Russian forms and Latin, with the same fields otherwise.
    pub fn right() -> Table {
        let cols = vec![
            ("id".to_string(), FieldKind::Id),
            ("name".to_string(), FieldKind::FullName),
            ("sex".to_string(), FieldKind::Sex),
            ("dob".to_string(), FieldKind::BirthDate),
            ("place".to_string(), FieldKind::BirthPlace),
            ("doc".to_string(), FieldKind::Identifier),
        ];
        let rows: [[&str; 5]; 10] = [
            [
                "Олейник Дмитрий Андреевич",
                "м",
                "07.03.2014",
                "г. Мариуполь",
                "AB123",
            ],
            ["Oliinyk Dmytro", "m", "2014-03-08", "Mariupol", ""],
            [
                "Коваленко Ольга Петровна",
                "ж",
                "12.06.2015",
                "Артемовск",
                "",
            ],
            [
                "Лысенко Александр Иванович",
                "м",
                "2013-04-09",
                "Херсон",
                "",
            ],
            ["Петренко Вячеслав", "м", "", "", ""],
            ["Ткаченко Иван Васильевич", "м", "02.02.2017", "Киев", ""],
            ["", "", "2012-05-05", "", ""],
            ["Бондаренко Мария", "ж", "21.08.2011", "", "AB 124"],
            ["Мельник Анна", "ж", "2014-10-10", "Краматорск", ""],
            [
                "Олейник Дмитрий Андреевич",
                "м",
                "03.07.2014",
                "Мариуполь",
                "",
            ],
        ];
        let mut t = Table::new(cols).unwrap_or_else(|e| panic!("{e}"));
        for (n, r) in rows.iter().enumerate() {
            let id = format!("R{n}");
            t.push(
                id.clone(),
                std::iter::once(Some(id.as_str())).chain(r.iter().map(|v| Some(*v))),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(kind: FieldKind, a: &str, b: &str) -> u8 {
        let (x, y) = (
            NameFeat::build(a, kind).unwrap(),
            NameFeat::build(b, kind).unwrap(),
        );
        let l = crate::compare::name_level(&x, &y);
        assert_eq!(l, crate::compare::name_level(&y, &x), "symmetric");
        l
    }

    /// A Latin surname in the French-based scheme without ou or tch, or with scholarly šč for щ,
    /// meets its Cyrillic and other Latin spellings as equivalent (level 2); an English or ICAO
    /// spelling with a u or a ch that is ч does not turn into another surname.
    #[test]
    fn french_and_scholarly_spellings_are_equivalent() {
        use FieldKind::FamilyName as F;
        for (a, b) in [
            ("Chvetsak", "Швецак"),
            ("CHEVTSOV", "Шевцов"),
            ("Jadan", "Жадан"),
            ("Chapovalova", "Шаповалов"),
            ("Chvetsak", "Shvetsak"),
            ("Chornousovych", "Чорноусович"),
            ("Bilous", "Білоус"),
            ("KOVALTCHOUK", "Ковальчук"),
            ("TESLYŠČAK", "Теслищак"),
            ("Teslyščak", "Теслищак"),
        ] {
            assert_eq!(level(F, a, b), 2, "{a} ~ {b}");
        }
        assert_eq!(level(F, "Kovalchuk", "Ковальчук"), 2);
        assert!(level(F, "Kovalchuk", "Ковальшук") > 2, "u is not French");
        assert!(level(F, "Cherniak", "Черняк") == 2);
        assert_eq!(NameFeat::build("Швецак", F).unwrap().french_hash, 0);
        assert_eq!(NameFeat::build("Petrenko", F).unwrap().french_hash, 0);
    }

    /// Interning must give every record exactly the features reducing its own values would.
    #[test]
    fn interned_features_equal_per_record_features() {
        for table in [fixtures::left(), fixtures::right()] {
            let p = Prepared::build(&table);
            assert_eq!(p.records.len(), table.len());
            for row in 0..table.len() {
                let names = row_names(&table, row);
                for (slot, kind) in SLOT_KINDS.into_iter().enumerate() {
                    let want = names[slot]
                        .as_deref()
                        .and_then(|s| NameFeat::build(s, kind));
                    let got = p.name(slot, row);
                    match (want, got) {
                        (None, None) => {}
                        (Some(w), Some(g)) => {
                            assert_eq!(
                                (w.folded_hash, w.phon_hash, w.skel_hash, w.skel_prefix),
                                (g.folded_hash, g.phon_hash, g.skel_hash, g.skel_prefix),
                                "row {row} slot {slot}"
                            );
                            assert_eq!(w.phon, g.phon);
                            assert_eq!(w.classes, g.classes);
                            assert_eq!(w.parts, g.parts);
                        }
                        (w, g) => panic!("row {row} slot {slot}: {w:?} vs {g:?}"),
                    }
                }
                let want_place = table
                    .first_of(row, FieldKind::BirthPlace)
                    .and_then(normalise_place)
                    .map(|p| p.phonetic);
                assert_eq!(
                    want_place.as_deref(),
                    p.place(row).map(|p| &*p.phon),
                    "row {row}"
                );
                assert_eq!(p.records[row].date.map(|d| d.date), table.dates[row]);
                assert_eq!(p.records[row].sex, table.sexes[row]);
            }
            // Values shared by records are reduced once.
            let distinct: usize = p.names.iter().map(Vec::len).sum();
            let present: usize = p
                .records
                .iter()
                .map(|r| r.names.iter().filter(|&&id| id != NONE).count())
                .sum();
            assert!(distinct < present, "{distinct} distinct of {present}");
        }
    }
}
