//! A validating JSON scanner over one JSON text. It finds where values begin and end without
//! building them: ingest's decoder reads each byte of a record once and copies only what it
//! stores, and a query's JSONPath finds one value without building the document around it.
//!
//! It accepts exactly what `serde_json` accepts when it skips a value: strict JSON grammar,
//! no control characters inside strings, only JSON's escapes (a `\u` escape needs four hex
//! digits, but a lone surrogate passes, as it does there). Nesting is not limited: skipping
//! keeps its own stack, not the call stack.

use std::ops::Range;

/// Why a record's text is not valid JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {offset}")]
pub struct SyntaxError {
    /// Byte offset in the record.
    pub offset: usize,
    /// What was expected or found.
    pub reason: &'static str,
}

/// The closing bracket of an object, as [`Scanner::next_or_close`] and
/// [`Scanner::empty_container`] take it.
pub const OBJECT: u8 = b'}';
/// The closing bracket of an array.
pub const ARRAY: u8 = b']';

/// A position in one record's text.
pub struct Scanner<'a, 's> {
    bytes: &'a [u8],
    /// The offset of the next unread byte.
    pub pos: usize,
    /// Whether white space outside strings was met.
    pub spaced: bool,
    /// Open containers while skipping a value (their closing bracket).
    stack: &'s mut Vec<u8>,
}

impl<'a, 's> Scanner<'a, 's> {
    /// A scanner at the start of `bytes`; `stack` is scratch space kept between records.
    pub fn new(bytes: &'a [u8], stack: &'s mut Vec<u8>) -> Self {
        stack.clear();
        Self {
            bytes,
            pos: 0,
            spaced: false,
            stack,
        }
    }

    /// An error at the current position.
    pub fn error(&self, reason: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            reason,
        }
    }

    /// The bytes in `range` of the text scanned.
    pub fn slice(&self, range: Range<usize>) -> &'a [u8] {
        &self.bytes[range]
    }

    /// The next byte, not consumed.
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips JSON white space.
    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
            self.spaced = true;
        }
    }

    /// Skips white space, then consumes `c` or fails with `reason`.
    pub fn expect(&mut self, c: u8, reason: &'static str) -> Result<(), SyntaxError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    /// After a member or item: skips white space and consumes `,` (true) or `close` (false).
    pub fn next_or_close(&mut self, close: u8) -> Result<bool, SyntaxError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            _ if close == OBJECT => Err(self.error("expected ',' or '}'")),
            _ => Err(self.error("expected ',' or ']'")),
        }
    }

    /// After an opening bracket: skips white space and consumes `close` if the container is
    /// empty.
    pub fn empty_container(&mut self, close: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Only white space is left.
    pub fn finish(&mut self) -> Result<(), SyntaxError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters")),
        }
    }

    /// Scans the string literal at the current position (on its opening quote); returns
    /// whether it holds escapes.
    #[inline]
    pub fn string(&mut self) -> Result<bool, SyntaxError> {
        // Most strings have no escape: their first special byte is the closing quote. Scanned
        // here, where the caller's loop is, without a call (a record holds about 60 strings).
        let i = self.pos + 1;
        if let Some(n) = find_special(&self.bytes[i..])
            && self.bytes[i + n] == b'"'
        {
            self.pos = i + n + 1;
            return Ok(false);
        }
        self.string_from(i)
    }

    /// Scans the rest of a string from `i`: escapes, the error cases.
    #[inline(never)]
    fn string_from(&mut self, mut i: usize) -> Result<bool, SyntaxError> {
        let mut escaped = false;
        loop {
            i += find_special(&self.bytes[i..]).ok_or(SyntaxError {
                offset: self.bytes.len(),
                reason: "EOF while parsing a string",
            })?;
            match self.bytes[i] {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    i += 1 + self.escape_len(i + 1)?;
                }
                _ => {
                    return Err(SyntaxError {
                        offset: i,
                        reason: "control character in string",
                    });
                }
            }
        }
    }

    /// The length of the escape sequence after a backslash at `i`.
    fn escape_len(&self, i: usize) -> Result<usize, SyntaxError> {
        let bad = |offset| SyntaxError {
            offset,
            reason: "invalid escape",
        };
        match self.bytes.get(i) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(1),
            Some(b'u') => {
                let hex = self.bytes.get(i + 1..i + 5).ok_or(bad(i))?;
                if hex.iter().all(u8::is_ascii_hexdigit) {
                    Ok(5)
                } else {
                    Err(bad(i))
                }
            }
            _ => Err(bad(i)),
        }
    }

    /// Scans the number at the current position.
    fn number(&mut self) -> Result<(), SyntaxError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            return Err(self.error("invalid number"));
        }
        Ok(())
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), SyntaxError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected value"))
        }
    }

    /// Consumes `expected` if the text goes on with exactly these bytes: a caller that can
    /// guess what comes next checks its guess without scanning.
    #[inline]
    pub fn eat(&mut self, expected: &[u8]) -> bool {
        let end = self.pos + expected.len();
        match self.bytes.get(self.pos..end) {
            Some(next) if same_bytes(next, expected) => {
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// Scans an object key and the colon after it; returns the key's literal (quotes
    /// included) as a range, and whether it holds escapes.
    pub fn key(&mut self) -> Result<(Range<usize>, bool), SyntaxError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a key"));
        }
        let start = self.pos;
        let escaped = self.string()?;
        let literal = start..self.pos;
        self.expect(b':', "expected ':'")?;
        self.skip_ws();
        Ok((literal, escaped))
    }

    /// Scans the value at the current position (white space already skipped), however deeply
    /// nested.
    pub fn value(&mut self) -> Result<(), SyntaxError> {
        let base = self.stack.len();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'{') => {
                    self.pos += 1;
                    if !self.empty_container(OBJECT) {
                        self.stack.push(OBJECT);
                        self.key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    if !self.empty_container(ARRAY) {
                        self.stack.push(ARRAY);
                        continue;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                None => return Err(self.error("EOF while parsing a value")),
                Some(_) => return Err(self.error("expected value")),
            }
            // A value is complete: close the containers it completes.
            loop {
                let Some(&close) = self.stack.last().filter(|_| self.stack.len() > base) else {
                    return Ok(());
                };
                if self.next_or_close(close)? {
                    if close == OBJECT {
                        self.key()?;
                    }
                    break;
                }
                self.stack.pop();
            }
        }
    }
}

/// `a == b` for two slices of the same length: a few loads of whole words, where `memcmp`'s
/// call costs more than the comparison for slices as short as JSON keys. Always inlined: it is
/// on the path of nearly every key of a record (`Scanner::eat`), and a call would cost about as
/// much as the comparison.
#[inline(always)]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    if n < 4 {
        return a == b;
    }
    if n < 8 {
        let word = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("four"));
        return word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4);
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("eight"));
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Eight bytes as a little-endian word.
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().expect("eight bytes"))
}

/// The high bit of each byte of `w` that is `"`, `\` or a control character, and maybe of
/// bytes after the first such byte (borrows only carry upwards): the lowest set bit marks the
/// first special byte.
#[inline(always)]
fn specials(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    // A byte's high bit is set where it is zero (or below 0x20).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    (zero(quote) | zero(backslash) | (w.wrapping_sub(ONES * 0x20) & !w)) & HIGHS
}

/// The offset of the first `"`, `\` or control character in `s`, sixteen bytes at a time
/// (two words, one branch), then eight.
#[inline]
fn find_special(s: &[u8]) -> Option<usize> {
    let mut offset = 0;
    let mut pairs = s.chunks_exact(16);
    for pair in &mut pairs {
        let (a, b) = pair.split_at(8);
        let (a, b) = (specials(word(a)), specials(word(b)));
        if a | b != 0 {
            let at = if a != 0 {
                a.trailing_zeros() / 8
            } else {
                8 + b.trailing_zeros() / 8
            };
            return Some(offset + at as usize);
        }
        offset += 16;
    }
    let mut chunks = pairs.remainder().chunks_exact(8);
    for chunk in &mut chunks {
        let hits = specials(word(chunk));
        if hits != 0 {
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Result<(), SyntaxError> {
        let mut stack = Vec::new();
        let mut s = Scanner::new(text.as_bytes(), &mut stack);
        s.skip_ws();
        s.value()?;
        s.finish()
    }

    /// What the decoder accepted before this scanner: serde_json skipping a value.
    fn serde_accepts(text: &str) -> bool {
        serde_json::from_str::<&serde_json::value::RawValue>(text).is_ok()
    }

    fn assert_agrees(text: &str) {
        assert_eq!(
            scan(text).is_ok(),
            serde_accepts(text),
            "{text:?}: {:?}",
            scan(text)
        );
    }

    #[test]
    fn agrees_with_serde_json_on_valid_and_broken_text() {
        let cases = [
            r#"{"a":[1,-2.5e+3,0,true,false,null,"x\"y\\z\u00e9\/"],"b":{},"c":[]}"#,
            " { \"a\" : [ 1 , 2 ] } ",
            "{\"\\ud800 lone\":1}",
            "\"a\u{1}b\"",
            "\"a\tb\"",
            "01",
            "-",
            "1.",
            "1e",
            "1.5E-7",
            ".5",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{1:2}",
            "[1 2]",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"\\u12\"",
            "\"unterminated",
            "{\"a\":\"b\"",
            "[[[[]]]]",
            "[{\"a\":[{\"b\":{}}]}]",
            "{\"a\":1}}",
            "",
            "\"long string without specials, long enough for several words é\"",
            "\"0123456\\\"\"",
        ];
        for case in cases {
            assert_agrees(case);
        }
    }

    #[test]
    fn nesting_is_not_limited() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(scan(&deep).is_ok());
        assert!(scan(&deep[..deep.len() - 1]).is_err());
    }

    #[test]
    fn every_truncation_and_byte_flip_of_a_record_agrees_with_serde_json() {
        let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a\"b"},"requestParameters":{"n":[1,2.50,-3e2,{"x":null}],"t":true},"tls":"\u00e9\n"}"#;
        for end in 0..record.len() {
            if record.is_char_boundary(end) {
                assert_agrees(&record[..end]);
            }
        }
        let bytes = record.as_bytes();
        for i in 0..bytes.len() {
            for b in [
                b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'1', b'.', b' ', 1,
            ] {
                let mut v = bytes.to_vec();
                v[i] = b;
                if let Ok(text) = std::str::from_utf8(&v) {
                    assert_agrees(text);
                }
            }
        }
    }

    #[test]
    fn same_bytes_agrees_with_slice_equality() {
        for len in 0..40 {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{len} at {i}");
            }
        }
    }

    #[test]
    fn eat_takes_only_an_exact_continuation() {
        let mut stack = Vec::new();
        let mut s = Scanner::new(br#"{"arn":"x","#, &mut stack);
        s.pos = 1;
        assert!(!s.eat(br#""ar":"#));
        assert!(!s.eat(br#""arnx":"#));
        assert!(s.eat(br#""arn":"#));
        assert_eq!(s.pos, 7);
        assert!(!s.eat(br#""x",""#), "past the end of the text");
        assert_eq!(s.pos, 7);
    }

    #[test]
    fn specials_are_found_in_any_lane() {
        // Across both words of a sixteen-byte step, the single words after it and the tail;
        // with a later special byte too, which must not win, and with bytes above 0x7f.
        for len in 0..40 {
            for at in 0..len {
                for c in [b'"', b'\\', 0x1f, 0] {
                    for fill in [b'a', 0xc3] {
                        let mut s = vec![fill; len];
                        s[at] = c;
                        assert_eq!(find_special(&s), Some(at), "{s:?}");
                        s[len - 1] = b'"';
                        assert_eq!(find_special(&s), Some(at), "{s:?}");
                    }
                }
            }
            assert_eq!(find_special(&vec![0xc3; len]), None);
        }
    }
}
