//! Settings of the process's allocator (mimalloc, chosen in `main.rs`).
//!
//! The only unsafe code of trawl: calls into mimalloc's public C API, which is linked in with
//! the allocator (the crate's safe wrapper does not cover options), and into the C library's
//! `mallopt`, for the memory C code (zstd) takes from the C library's own allocator.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_long};

/// `mi_option_purge_delay` in `mi_option_e` of mimalloc.h (v2, as libmimalloc-sys 0.1.49
/// builds it with the `v2` feature; the unit test below notices a renumbering).
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` of glibc's malloc.h.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_TRIM_THRESHOLD: c_int = -1;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_MMAP_THRESHOLD: c_int = -3;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: c_int, value: c_int) -> c_int;
}

/// Lets a batch command keep the memory it frees instead of handing it back to the kernel
/// a second later. Ingest and compact free and reallocate column buffers all the time, and each
/// page handed back costs a fault and a zeroing when it is taken again: about a tenth of an
/// ingest's wall time and half its system time in bench/ingest.sh. The peak stays about the
/// same, and the process ends when the work does.
pub fn keep_freed_memory() {
    // SAFETY: mimalloc's options are plain integers, and setting one is thread-safe.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
    keep_c_freed_memory();
}

/// The same for the C library's allocator, which zstd uses: Parquet's codec makes a zstd
/// context for every page it compresses, and glibc maps each large one fresh and unmaps it
/// when freed. Served from a heap that keeps what is freed instead, an ingest of 1M events
/// takes about 4,000 page faults instead of 42,000 (and about half its system time).
/// Returns whether the C library took the settings.
fn keep_c_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // 32 MiB is the largest mmap threshold glibc accepts on 64-bit.
        // SAFETY: mallopt takes two plain integers and is thread-safe.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// The purge delay in effect, in milliseconds (-1: never).
#[cfg(test)]
fn purge_delay() -> c_long {
    // SAFETY: reading an option takes a plain integer.
    unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // The purge delay's default in mimalloc v2 (src/options.c) is 10 ms: a renumbered
        // option would most likely read something else.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay(), 10);
        }
        keep_freed_memory();
        assert_eq!(purge_delay(), -1);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert!(keep_c_freed_memory(), "glibc refused the malloc settings");
    }
}
