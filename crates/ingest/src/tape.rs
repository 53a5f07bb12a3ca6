//! One record's members, located by their place in the schema in a single pass over its text.
//!
//! Known objects (`userIdentity`, its `sessionContext`…) are followed as they are met, so no
//! part of a record is scanned twice. Values are kept as byte ranges of the text; the decoder
//! copies each into its column afterwards. The tape is reused from record to record, and so is
//! what it learnt of the order keys come in: most keys are then found by one comparison of
//! bytes instead of a scan and a lookup.

use std::borrow::Cow;
use std::ops::Range;

use trawl_lake::json_scan::{Scanner, SyntaxError, same_bytes};
use trawl_lake::schema::{FieldDef, Kind};

/// Where one known field's value is, and what the scan learnt of it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Slot {
    start: u32,
    end: u32,
    /// For an object field: 1 + the level its members were read into. For an array of
    /// objects: 1 + the index of its first item in the tape's items. 0 if neither.
    nested: u32,
    /// Items of an array of objects.
    items: u32,
    /// A string with escapes to undo.
    pub escaped: bool,
}

impl Slot {
    /// Whether the key was in the object.
    pub fn is_present(&self) -> bool {
        self.end > 0
    }

    /// The value's JSON text, as a range of the record.
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A member whose key the schema does not know.
#[derive(Debug, Clone)]
pub(crate) struct Unknown {
    level: u32,
    /// The key's JSON string literal, quotes included.
    pub key: Range<usize>,
    /// The value's JSON text.
    pub value: Range<usize>,
}

/// The members of one record, by level: level 0 is the record itself, every known object
/// read adds one.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// The first slot of each level.
    levels: Vec<u32>,
    slots: Vec<Slot>,
    unknown: Vec<Unknown>,
    /// The level of each item of arrays of objects, plus one; 0 for an item that is not an
    /// object.
    items: Vec<u32>,
    stack: Vec<u8>,
    /// What is known of each object shape met so far.
    shapes: Vec<Shape>,
}

/// How to find the keys of one object shape quickly.
#[derive(Debug)]
struct Shape {
    fields: &'static [FieldDef],
    index: KeyIndex,
    /// The key that came next last time, after each field (and, last, at the start).
    next: Box<[Guess]>,
    /// Each field's key, as a guess.
    keys: Box<[Guess]>,
}

impl Shape {
    fn new(fields: &'static [FieldDef]) -> Self {
        Self {
            fields,
            index: KeyIndex::new(fields),
            next: vec![Guess::NONE; fields.len() + 1].into(),
            keys: fields
                .iter()
                .enumerate()
                .map(|(i, d)| Guess::new(i, d.key))
                .collect(),
        }
    }
}

/// The longest key literal a guess holds; longer keys (none in the schema) are never guessed.
const GUESS_BYTES: usize = 46;

/// A field and its key as written without escapes, with its colon (`"eventName":`), held in
/// place: checking a guess loads it from the shape's table, with no pointer to follow.
#[derive(Debug, Clone, Copy)]
struct Guess {
    field: u8,
    len: u8,
    literal: [u8; GUESS_BYTES],
}

impl Guess {
    /// No guess: matches nothing.
    const NONE: Guess = Guess {
        field: NO_FIELD,
        len: 0,
        literal: [0; GUESS_BYTES],
    };

    fn new(field: usize, key: &str) -> Self {
        let text = format!("\"{key}\":");
        if text.len() > GUESS_BYTES {
            return Self::NONE;
        }
        let mut literal = [0; GUESS_BYTES];
        literal[..text.len()].copy_from_slice(text.as_bytes());
        Self {
            field: field as u8,
            len: text.len() as u8,
            literal,
        }
    }

    /// The key literal; empty for no guess.
    fn literal(&self) -> &[u8] {
        &self.literal[..usize::from(self.len)]
    }
}

/// An object member, by its key.
enum Member {
    /// The field at this position of the object's fields.
    Known(usize),
    /// A key the schema does not know: its string literal.
    Unknown(Range<usize>),
}

/// The root level: the record itself.
pub(crate) const ROOT: u32 = 0;

impl Tape {
    /// Reads `text`, which must be one JSON object, against `fields`.
    pub fn read(&mut self, text: &[u8], fields: &'static [FieldDef]) -> Result<(), SyntaxError> {
        self.read_with(text, fields, |sc| sc.finish())
    }

    /// Reads the JSON object at the start of `text` against `fields`; returns where it ends,
    /// and whether it holds white space outside strings. `None` if `text` does not start with
    /// a whole object (it is broken, or goes on past `text`): the caller then finds out which.
    pub fn read_prefix(
        &mut self,
        text: &[u8],
        fields: &'static [FieldDef],
    ) -> Option<(usize, bool)> {
        let mut end = (0, false);
        self.read_with(text, fields, |sc| {
            end = (sc.pos, sc.spaced);
            Ok(())
        })
        .ok()
        .map(|()| end)
    }

    fn read_with(
        &mut self,
        text: &[u8],
        fields: &'static [FieldDef],
        at_end: impl FnOnce(&mut Scanner<'_, '_>) -> Result<(), SyntaxError>,
    ) -> Result<(), SyntaxError> {
        self.levels.clear();
        self.slots.clear();
        self.unknown.clear();
        self.items.clear();
        let mut stack = std::mem::take(&mut self.stack);
        let mut sc = Scanner::new(text, &mut stack);
        sc.skip_ws();
        let result = if sc.peek() == Some(b'{') {
            self.read_object(text, fields, &mut sc)
                .and_then(|_| at_end(&mut sc))
        } else {
            Err(sc.error("expected a JSON object"))
        };
        self.stack = stack;
        result
    }

    /// The slots of `level`, which holds an object of `fields`.
    pub fn slots(&self, level: u32, fields: &[FieldDef]) -> &[Slot] {
        let first = self.levels[level as usize] as usize;
        &self.slots[first..first + fields.len()]
    }

    /// The members of `level` that no field holds, in the order read.
    pub fn unknown(&self, level: u32) -> impl Iterator<Item = &Unknown> {
        self.unknown.iter().filter(move |u| u.level == level)
    }

    /// The level an object field was read into, if its value is an object.
    pub fn object_level(&self, slot: &Slot) -> Option<u32> {
        slot.nested.checked_sub(1)
    }

    /// The items of an array-of-objects field (each `Some(level)` if it is an object), if its
    /// value is an array.
    pub fn items(&self, slot: &Slot) -> Option<impl Iterator<Item = Option<u32>> + '_> {
        let first = slot.nested.checked_sub(1)? as usize;
        Some(
            self.items[first..first + slot.items as usize]
                .iter()
                .map(|i| i.checked_sub(1)),
        )
    }

    /// Reads the object at the scanner (on its `{`) as a new level; returns the level.
    fn read_object(
        &mut self,
        text: &[u8],
        fields: &'static [FieldDef],
        sc: &mut Scanner<'_, '_>,
    ) -> Result<u32, SyntaxError> {
        let level = self.levels.len() as u32;
        let first = self.slots.len();
        self.levels.push(first as u32);
        self.slots.resize(first + fields.len(), Slot::default());
        sc.pos += 1;
        if sc.empty_container(b'}') {
            return Ok(level);
        }
        let shape = self.shape(fields);
        // Records of one feed write their keys in one order: the key that followed the last
        // one found is tried first, as a plain comparison of bytes, before the key is scanned
        // and looked up.
        let mut previous = fields.len();
        loop {
            sc.skip_ws();
            let guess = &self.shapes[shape].next[previous];
            let member = if guess.len > 0 && sc.eat(guess.literal()) {
                sc.skip_ws();
                Member::Known(usize::from(guess.field))
            } else {
                let (literal, escaped) = sc.key()?;
                let key = key_text(&text[literal.clone()], escaped)
                    .ok_or_else(|| sc.error("key is not valid Unicode"))?;
                match self.shapes[shape].index.find(fields, &key) {
                    Some(i) => {
                        let s = &mut self.shapes[shape];
                        s.next[previous] = s.keys[i];
                        Member::Known(i)
                    }
                    None => Member::Unknown(literal),
                }
            };
            let start = sc.pos;
            match member {
                Member::Known(i) => {
                    let mut slot = self.value(text, fields[i].kind, sc)?;
                    slot.start = start as u32;
                    slot.end = sc.pos as u32;
                    self.slots[first + i] = slot;
                    previous = i;
                }
                Member::Unknown(key) => {
                    sc.value()?;
                    self.unknown.push(Unknown {
                        level,
                        key,
                        value: start..sc.pos,
                    });
                }
            }
            if !sc.next_or_close(b'}')? {
                return Ok(level);
            }
        }
    }

    /// The position in `shapes` of the shape of `fields`, made on first use.
    fn shape(&mut self, fields: &'static [FieldDef]) -> usize {
        match self
            .shapes
            .iter()
            .position(|s| std::ptr::eq(s.fields, fields))
        {
            Some(i) => i,
            None => {
                self.shapes.push(Shape::new(fields));
                self.shapes.len() - 1
            }
        }
    }

    /// Reads the value of a known field, following it if the schema knows its shape.
    fn value(
        &mut self,
        text: &[u8],
        kind: Kind,
        sc: &mut Scanner<'_, '_>,
    ) -> Result<Slot, SyntaxError> {
        let mut slot = Slot::default();
        match (kind, sc.peek()) {
            (Kind::Struct(fields), Some(b'{')) => {
                slot.nested = self.read_object(text, fields, sc)? + 1;
            }
            (Kind::StructList(fields), Some(b'[')) => {
                let first = self.items.len();
                sc.pos += 1;
                if !sc.empty_container(b']') {
                    loop {
                        sc.skip_ws();
                        let item = if sc.peek() == Some(b'{') {
                            self.read_object(text, fields, sc)? + 1
                        } else {
                            sc.value()?;
                            0
                        };
                        self.items.push(item);
                        if !sc.next_or_close(b']')? {
                            break;
                        }
                    }
                }
                slot.nested = first as u32 + 1;
                slot.items = (self.items.len() - first) as u32;
            }
            (Kind::Text | Kind::Timestamp, Some(b'"')) => slot.escaped = sc.string()?,
            _ => sc.value()?,
        }
        Ok(slot)
    }
}

const INDEX_SLOTS: usize = 128;
const NO_FIELD: u8 = u8::MAX;

/// Finds a key among an object's fields with a probe or two, whatever order the keys come in
/// (CloudTrail writes them in the schema's order, other tools alphabetically).
#[derive(Debug)]
struct KeyIndex([u8; INDEX_SLOTS]);

impl KeyIndex {
    fn new(fields: &[FieldDef]) -> Self {
        assert!(
            fields.len() <= INDEX_SLOTS / 2,
            "an object has few known keys"
        );
        let mut table = [NO_FIELD; INDEX_SLOTS];
        for (i, d) in fields.iter().enumerate() {
            let mut slot = Self::hash(d.key.as_bytes());
            while table[slot] != NO_FIELD {
                slot = (slot + 1) % INDEX_SLOTS;
            }
            table[slot] = i as u8;
        }
        Self(table)
    }

    fn hash(key: &[u8]) -> usize {
        let (n, first, mid, last) = match key {
            [] => return 0,
            [first, .., last] => (key.len(), *first, key[key.len() / 2], *last),
            [only] => (1, *only, *only, *only),
        };
        ((n * 7) ^ (usize::from(first) * 31) ^ (usize::from(mid) * 3) ^ (usize::from(last) * 17))
            % INDEX_SLOTS
    }

    /// The position of `key` in `fields` (those the index was made for).
    fn find(&self, fields: &[FieldDef], key: &[u8]) -> Option<usize> {
        let mut slot = Self::hash(key);
        loop {
            match self.0[slot] {
                NO_FIELD => return None,
                i if same_key(fields[usize::from(i)].key.as_bytes(), key) => {
                    return Some(usize::from(i));
                }
                _ => slot = (slot + 1) % INDEX_SLOTS,
            }
        }
    }
}

/// `a == b` for short keys, without a call to `memcmp`, which costs more than the comparison
/// itself for keys this short. Kept out of line: it serves the lookup, which runs only when a
/// guessed key was wrong, and inlined it made the guessing loop around it slower.
#[inline(never)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && same_bytes(a, b)
}

/// The text of a key literal, its escapes undone; `None` for a lone surrogate: a key is
/// kept as written, so it must stand for real text.
fn key_text(literal: &[u8], escaped: bool) -> Option<Cow<'_, [u8]>> {
    if !escaped {
        return Some(Cow::Borrowed(&literal[1..literal.len() - 1]));
    }
    serde_json::from_slice::<String>(literal)
        .ok()
        .map(|k| Cow::Owned(k.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trawl_lake::schema::RECORD;

    /// Every object shape of the schema, depth first.
    fn shapes(fields: &'static [FieldDef], out: &mut Vec<&'static [FieldDef]>) {
        out.push(fields);
        for d in fields {
            if let Kind::Struct(f) | Kind::StructList(f) = d.kind {
                shapes(f, out);
            }
        }
    }

    #[test]
    fn every_key_of_the_schema_can_be_guessed() {
        let mut all = Vec::new();
        shapes(RECORD, &mut all);
        for fields in all {
            for (i, d) in fields.iter().enumerate() {
                let guess = Guess::new(i, d.key);
                assert_eq!(guess.literal(), format!("\"{}\":", d.key).as_bytes());
                assert_eq!(usize::from(guess.field), i);
            }
        }
    }

    /// What a tape holds after a read, whatever it learnt before.
    fn contents(tape: &Tape) -> String {
        format!(
            "{:?} {:?} {:?} {:?}",
            tape.levels, tape.slots, tape.unknown, tape.items
        )
    }

    #[test]
    fn guessing_the_next_key_finds_what_scanning_finds() {
        let records = [
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"a"},"eventTime":"t","eventName":"x"}"#,
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"a"},"eventTime":"t","eventName":"x"}"#,
            // The same keys in another order, one missing, an unknown one between.
            r#"{"eventName":"x","userIdentity":{"arn":"a","type":"Root"},"extra":1,"eventTime":"t"}"#,
            // A key that starts like the guess, keys spaced from their colons, an escaped key.
            r#"{"eventVersionX":"1","eventVersion" :"1.08", "userIdentity" : {"type":"Root","arn":"a"},"eventTime":"t"}"#,
            // White space after the colons of guessed keys.
            "{\"eventVersion\": \"1.08\",\"userIdentity\":\n {\"type\":\t\"Root\"}}",
            // The guess at the very end of the text, a repeated key, a key cut short.
            r#"{"eventVersion":"1","eventVersion":"2","userIdentity":{"type":"Root"}}"#,
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"a"},"eventTim"#,
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"a"},"eventTime""#,
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"a"},"eventTime":"#,
        ];
        let mut warm = Tape::default();
        for (n, record) in records.iter().enumerate() {
            for earlier in &records[..n] {
                let _ = warm.read(earlier.as_bytes(), RECORD);
            }
            let guessed = warm.read(record.as_bytes(), RECORD);
            let mut fresh = Tape::default();
            let scanned = fresh.read(record.as_bytes(), RECORD);
            assert_eq!(guessed, scanned, "{record}");
            if scanned.is_ok() {
                assert_eq!(contents(&warm), contents(&fresh), "{record}");
            }
        }
    }

    #[test]
    fn same_key_agrees_with_slice_equality() {
        let keys = [
            "",
            "a",
            "type",
            "eventName",
            "eventNamf",
            "sessionCredentialFromConsole",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same_key(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
            }
            // A difference at each position, in the words and in the tail.
            for i in 0..a.len() {
                let mut c = a.as_bytes().to_vec();
                c[i] ^= 1;
                assert!(!same_key(a.as_bytes(), &c), "{a} at {i}");
            }
        }
    }

    #[test]
    fn every_known_key_is_found_and_no_other() {
        let mut all = Vec::new();
        shapes(RECORD, &mut all);
        for fields in all {
            let index = KeyIndex::new(fields);
            for (i, d) in fields.iter().enumerate() {
                assert_eq!(index.find(fields, d.key.as_bytes()), Some(i), "{}", d.key);
                let upper = d.key.to_ascii_uppercase();
                if upper != d.key {
                    assert_eq!(index.find(fields, upper.as_bytes()), None);
                }
            }
            for other in ["", "x", "eventtime", "arn ", "Records", "type2"] {
                assert_eq!(index.find(fields, other.as_bytes()), None, "{other}");
            }
        }
    }
}
