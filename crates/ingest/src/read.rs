//! Opening an input file as a stream of JSON text: gzip (also multi-member) is recognised by
//! its magic bytes, not its name, so a mislabelled file still reads.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::gunzip::{GzipReader, Inflater};

const READ_BUFFER: usize = 64 << 10;

/// Counts the bytes read from the file, for progress.
struct Counting<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An open input: its decompressed text, and whether it was gzip.
pub struct Opened<'a> {
    /// The decompressed text.
    pub reader: Box<dyn Read + 'a>,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
}

/// What a thread keeps from one input file to the next, so that opening a file allocates
/// (and zeroes) neither a read buffer nor an inflater: CloudTrail's files are many and small.
#[derive(Debug, Default)]
pub struct Scratch {
    buffer: Vec<u8>,
    inflater: Inflater,
}

/// Opens `path`, adding every byte read from disk to `bytes_read`.
pub fn open<'a>(
    path: &Path,
    bytes_read: &'a AtomicU64,
    scratch: &'a mut Scratch,
) -> io::Result<Opened<'a>> {
    from_reader(File::open(path)?, bytes_read, scratch)
}

/// Opens an object already fetched into memory.
pub fn open_bytes<'a>(
    bytes: bytes::Bytes,
    bytes_read: &'a AtomicU64,
    scratch: &'a mut Scratch,
) -> io::Result<Opened<'a>> {
    from_reader(io::Cursor::new(bytes), bytes_read, scratch)
}

fn from_reader<'a, R: Read + 'a>(
    inner: R,
    bytes_read: &'a AtomicU64,
    scratch: &'a mut Scratch,
) -> io::Result<Opened<'a>> {
    if scratch.buffer.len() < READ_BUFFER {
        scratch.buffer.resize(READ_BUFFER, 0);
    }
    let mut buffered = Buffered {
        inner: Counting {
            inner,
            counter: bytes_read,
        },
        buf: &mut scratch.buffer,
        pos: 0,
        end: 0,
    };
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(GzipReader::new(buffered, &mut scratch.inflater))
    } else {
        Box::new(buffered)
    };
    Ok(Opened { reader, gzip })
}

/// A buffered reader over a buffer that outlives it.
struct Buffered<'a, R> {
    inner: R,
    buf: &'a mut [u8],
    /// Bytes `pos..end` of `buf` are read and not yet consumed.
    pos: usize,
    end: usize,
}

impl<R: Read> Read for Buffered<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && out.len() >= self.buf.len() {
            return self.inner.read(out);
        }
        let n = self.fill_buf()?.read(out)?;
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Buffered<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.end = self.inner.read(self.buf)?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }
}

/// Says what an I/O error while reading an input means to its owner.
pub fn describe(error: &io::Error, gzip: bool) -> String {
    match (gzip, error.kind()) {
        (true, io::ErrorKind::UnexpectedEof) => "truncated gzip file".to_string(),
        (true, io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData) => {
            format!("corrupt gzip data ({error})")
        }
        _ => error.to_string(),
    }
}
