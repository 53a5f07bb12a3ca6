//! Links `trawl` as a position-dependent executable.
//!
//! A position-independent `trawl` carries about 240,000 relocations (DataFusion's vtables and
//! function tables) that the loader applies at every start, copying a few MiB of pages: about
//! 10 ms of every `trawl sql -c` and saved-query run. Fixed addresses need none of that.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
