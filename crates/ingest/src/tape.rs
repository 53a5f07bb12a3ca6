//! One record's members, located by their place in the schema in a single pass over its text.
//!
//! Known objects (`userIdentity`, its `sessionContext`…) are followed as they are met, so no
//! part of a record is scanned twice. Values are kept as byte ranges of the text; the decoder
//! copies each into its column afterwards. The tape is reused from record to record.

use std::borrow::Cow;
use std::ops::Range;

use trawl_lake::schema::{FieldDef, Kind};

use crate::json_scan::{Scanner, SyntaxError};

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
}

/// The root level: the record itself.
pub(crate) const ROOT: u32 = 0;

impl Tape {
    /// Reads `text`, which must be one JSON object, against `fields`.
    pub fn read(&mut self, text: &str, fields: &'static [FieldDef]) -> Result<(), SyntaxError> {
        self.levels.clear();
        self.slots.clear();
        self.unknown.clear();
        self.items.clear();
        let mut stack = std::mem::take(&mut self.stack);
        let result = self.read_record(text, fields, &mut Scanner::new(text, &mut stack));
        self.stack = stack;
        result
    }

    fn read_record(
        &mut self,
        text: &str,
        fields: &'static [FieldDef],
        sc: &mut Scanner<'_, '_>,
    ) -> Result<(), SyntaxError> {
        sc.skip_ws();
        if sc.peek() != Some(b'{') {
            return Err(sc.error("expected a JSON object"));
        }
        self.read_object(text, fields, sc)?;
        sc.finish()
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
        text: &str,
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
        // CloudTrail writes keys in the schema's order, leaving out absent ones: search onwards
        // from the field after the last one matched, then the fields before it.
        let mut next = 0;
        loop {
            let (literal, escaped) = sc.key()?;
            let key = key_text(&text[literal.clone()], escaped)
                .ok_or_else(|| sc.error("key is not valid Unicode"))?;
            let is_key = |d: &FieldDef| d.key == key.as_ref();
            let found = fields[next..]
                .iter()
                .position(is_key)
                .map(|i| next + i)
                .or_else(|| fields[..next].iter().position(is_key));
            let start = sc.pos;
            match found {
                Some(i) => {
                    next = i + 1;
                    let mut slot = self.value(text, fields[i].kind, sc)?;
                    slot.start = start as u32;
                    slot.end = sc.pos as u32;
                    self.slots[first + i] = slot;
                }
                None => {
                    sc.value()?;
                    self.unknown.push(Unknown {
                        level,
                        key: literal,
                        value: start..sc.pos,
                    });
                }
            }
            if !sc.next_or_close(b'}')? {
                return Ok(level);
            }
        }
    }

    /// Reads the value of a known field, following it if the schema knows its shape.
    fn value(
        &mut self,
        text: &str,
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

/// The text of a key literal, its escapes undone; `None` for a lone surrogate: a key is
/// kept as written, so it must stand for real text.
fn key_text(literal: &str, escaped: bool) -> Option<Cow<'_, str>> {
    if !escaped {
        return Some(Cow::Borrowed(&literal[1..literal.len() - 1]));
    }
    serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
}
