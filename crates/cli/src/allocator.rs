//! Settings of the process's allocator (mimalloc, chosen in `main.rs`).
//!
//! One of trawl's two unsafe modules (the other calls libdeflate, in the ingest crate): calls
//! into mimalloc's public C API, which is linked in with the allocator (the crate's safe
//! wrapper does not cover options), and into the C library's `mallopt`, for the memory C code
//! (zstd) takes from the C library's own allocator.
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

/// Lets a command keep the memory it frees instead of handing it back to the kernel
/// 10 ms later (mimalloc v2's default). Ingest and compact free and reallocate column buffers
/// all the time, and a query frees each page it decompressed as the next is read; each page
/// handed back costs a fault and a zeroing when it is taken again. That was about a tenth of an
/// ingest's wall time and half its system time in bench/ingest.sh, and in bench/query.sh's
/// JSON field the kernel's zeroing went from 13% of the samples to 3% (and the samples of 8
/// runs from 4,429 to 3,715). The peak stays about the same, and the process ends when the
/// work does; the interactive prompt, which does not, hands memory back later
/// ([`return_freed_memory_after`]).
pub fn keep_freed_memory() {
    set_purge_delay(-1);
    keep_c_freed_memory();
}

/// Hands memory freed back to the kernel once it has gone unused for `ms` milliseconds: long
/// enough that a query reuses what it frees, short enough that a prompt left open does not
/// hold the memory of its largest query.
pub fn return_freed_memory_after(ms: u32) {
    set_purge_delay(c_long::from(ms));
}

fn set_purge_delay(ms: c_long) {
    // SAFETY: mimalloc's options are plain integers, and setting one is thread-safe.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, ms) }
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
        return_freed_memory_after(1000);
        assert_eq!(purge_delay(), 1000);
        keep_freed_memory();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert!(keep_c_freed_memory(), "glibc refused the malloc settings");
    }
}
