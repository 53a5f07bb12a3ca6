//! Opening an input file as a stream of JSON text: gzip (also multi-member) is recognised by
//! its magic bytes, not its name, so a mislabelled file still reads.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

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

/// Opens `path`, adding every byte read from disk to `bytes_read`.
pub fn open<'a>(path: &Path, bytes_read: &'a AtomicU64) -> io::Result<Opened<'a>> {
    from_reader(File::open(path)?, bytes_read)
}

/// Opens an object already fetched into memory.
pub fn open_bytes(bytes: bytes::Bytes, bytes_read: &AtomicU64) -> io::Result<Opened<'_>> {
    from_reader(io::Cursor::new(bytes), bytes_read)
}

fn from_reader<'a, R: Read + 'a>(inner: R, bytes_read: &'a AtomicU64) -> io::Result<Opened<'a>> {
    let mut buffered = BufReader::with_capacity(
        READ_BUFFER,
        Counting {
            inner,
            counter: bytes_read,
        },
    );
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    Ok(Opened { reader, gzip })
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
