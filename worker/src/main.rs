//! `weir`: the command-line entry point.

use worker::cli;

use clap::Parser;

/// Hostile length prefixes in requests must not abort the broker (see
/// `alloc_guard`); everything else goes to mimalloc, whose per-thread heaps
/// keep the many small allocations of record conversion cheap. mimalloc
/// also serves the C code's `malloc` (libmimalloc-sys's `override`):
/// librdkafka allocates a message per record on the sending thread and
/// frees it on its event thread, which mimalloc does with less CPU than
/// the C library's allocator (ad hoc alternating runs of the spooling
/// directory source, three pairs: the event thread at 0.21-0.23 s against
/// 0.26-0.35 s per 3,000,000 records).
#[global_allocator]
static ALLOC: broker_core::alloc_guard::GuardedAlloc<Mimalloc> =
    broker_core::alloc_guard::GuardedAlloc(Mimalloc);

/// mimalloc through its plain `malloc` wherever that already gives the
/// alignment asked for, as Rust's own `System` allocator uses `malloc`.
///
/// Every block of 16 bytes or more that `mi_malloc` returns is 16-byte
/// aligned (8-byte blocks 8-byte aligned), so a layout aligned to at most 16
/// and no larger than its size needs nothing more. mimalloc's aligned entry
/// points, which the `mimalloc` crate calls for every layout, take a slower
/// path whenever the thread's page for the size has no free block at hand
/// (often, in a sink task whose records are freed by its writer thread), and
/// then allocate `size + align - 1` bytes, often from the next size class.
/// In ad hoc alternating runs of the PostgreSQL sink (1,000,000 rows, ten
/// of each build) the worker used about a tenth less CPU this way.
struct Mimalloc;

/// The largest alignment every `mi_malloc` block of at least that size has
/// (mimalloc's `MI_MAX_ALIGN_SIZE` on 64-bit targets).
const MI_PLAIN_ALIGN: usize = 16;

/// Whether `mi_malloc`'s own alignment serves a block of `size` bytes
/// aligned to `align`.
fn malloc_aligns(align: usize, size: usize) -> bool {
    align <= MI_PLAIN_ALIGN && align <= size
}

/// A block for `layout` from `plain` (mimalloc's `malloc` or `zalloc`) when
/// that gives its alignment, else from `aligned` (their `_aligned` forms).
///
/// # Safety
/// As `GlobalAlloc::alloc`: `layout` has a non-zero size.
#[allow(unsafe_code)]
#[inline]
unsafe fn allocate(
    layout: std::alloc::Layout,
    plain: unsafe extern "C" fn(usize) -> *mut std::ffi::c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut std::ffi::c_void,
) -> *mut u8 {
    let (size, align) = (layout.size(), layout.align());
    // SAFETY: plain sizes and alignments, as mimalloc takes them.
    unsafe {
        if malloc_aligns(align, size) {
            plain(size).cast()
        } else {
            aligned(size, align).cast()
        }
    }
}

// SAFETY: each method hands the layout's size (and its alignment where
// `mi_malloc`'s would not do) to the mimalloc call of the same contract;
// blocks from any of them are freed by `mi_free`.
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: the caller's layout, as `alloc` takes it.
        unsafe { allocate(layout, mi::mi_malloc, mi::mi_malloc_aligned) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys as mi;
        // SAFETY: as in `alloc`.
        unsafe { allocate(layout, mi::mi_zalloc, mi::mi_zalloc_aligned) }
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `p` came from one of this allocator's calls.
        unsafe { libmimalloc_sys::mi_free(p.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        use libmimalloc_sys as mi;
        let align = layout.align();
        // SAFETY: `p` came from this allocator; mimalloc keeps the contents
        // up to the smaller size, at the alignment asked for.
        unsafe {
            if malloc_aligns(align, size) {
                mi::mi_realloc(p.cast(), size).cast()
            } else {
                mi::mi_realloc_aligned(p.cast(), size, align).cast()
            }
        }
    }
}

/// mimalloc's `purge_delay` option: its number in mimalloc 3.3's
/// `mi_option_t` (libmimalloc-sys names only the older options). The test
/// below checks each number against the option's default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's `allow_thp` option (its number in mimalloc 3.3).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Memory freed by one thread is mostly reused by another within moments
/// (records are built by a task and dropped after delivery): returning it to
/// the system after 10 ms (mimalloc 2's default) and faulting fresh zeroed
/// pages back in costs a tenth of a record pipeline's time. A second keeps
/// it (mimalloc 3's default, set so that it holds whichever is linked).
///
/// Transparent huge pages are left out: every thread with a heap of its
/// own (a task's, and librdkafka's threads calling back into Rust) would
/// otherwise hold whole 2 MiB pages for a few KiB, about 3 MB per task; a
/// worker of 300 sink tasks measured 1 GB resident with them and 232 MB
/// without (scripts/bench/distributed.sh shows the per-worker figure).
///
/// `MIMALLOC_PURGE_DELAY` and `MIMALLOC_ALLOW_THP` still decide when set.
#[allow(unsafe_code)]
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, which it reads atomically.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0) };
        // The option is read when memory is first reserved, before `main`:
        // the kernel is told as well, which holds for memory already
        // reserved. Refused only by kernels without the call (nothing lost).
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    let args = cli::Cli::parse();
    if args.command.writes_to_pipes() {
        restore_default_sigpipe();
    }
    cli::init_logging(&args);
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<cli::StdoutError>() => {
            println!("{e}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            let msg = format!("{e:#}");
            if msg.starts_with("Error") {
                eprintln!("{msg}");
            } else {
                eprintln!("Error: {msg}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Lets `weir topics --list | head` end quietly, as Unix tools do, instead of
/// failing on the closed pipe. Only for the command-line tools: servers keep
/// Rust's default of ignoring SIGPIPE.
#[allow(unsafe_code)]
fn restore_default_sigpipe() {
    // SAFETY: called once at start, before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks have the alignment their layouts ask for, whichever path
    /// gives them, including after growing; thousands of each so that
    /// pages run out and fresh ones are taken.
    #[test]
    #[allow(unsafe_code)]
    fn blocks_are_aligned_as_asked() {
        use std::alloc::{GlobalAlloc, Layout};
        let aligned = |p: *mut u8, align: usize| !p.is_null() && (p as usize).is_multiple_of(align);
        let mut held = Vec::new();
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=520).step_by(7).chain([align, 3 * align, 70_000]) {
                let (Ok(layout), Ok(grown)) = (
                    Layout::from_size_align(size, align),
                    Layout::from_size_align(size * 2 + 5, align),
                ) else {
                    continue;
                };
                for _ in 0..40 {
                    // SAFETY: a layout of non-zero size; each block is freed below.
                    let p = unsafe { ALLOC.alloc(layout) };
                    assert!(aligned(p, align), "{size} at {align}");
                    // SAFETY: `p` was allocated with `layout`.
                    let q = unsafe { ALLOC.realloc(p, layout, grown.size()) };
                    assert!(aligned(q, align), "{size} grown at {align}");
                    held.push((q, grown));
                }
                // SAFETY: as above.
                let z = unsafe { ALLOC.alloc_zeroed(layout) };
                assert!(aligned(z, align), "zeroed {size} at {align}");
                // SAFETY: `z` holds `size` bytes.
                assert!(unsafe { std::slice::from_raw_parts(z, size) }
                    .iter()
                    .all(|b| *b == 0));
                held.push((z, layout));
            }
        }
        for (p, layout) in held {
            // SAFETY: each block was allocated with this layout.
            unsafe { ALLOC.dealloc(p, layout) };
        }
    }

    /// The option numbers name the options meant: a number shifted by a
    /// mimalloc upgrade would quietly set another option (37, `allow_thp`
    /// in mimalloc 2.3, is `page_max_candidates` in 3.3). Checked
    /// against mimalloc 3.3's defaults: purge delay 1000 ms, THP allowed on
    /// Linux, and around `allow_thp` the page options with defaults 2 and 4.
    #[test]
    #[allow(unsafe_code)]
    fn the_option_numbers_are_those_of_the_linked_mimalloc() {
        // SAFETY: reads an option, which mimalloc does atomically.
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(MI_OPTION_PURGE_DELAY), 1000);
        }
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert_eq!(get(MI_OPTION_ALLOW_THP), 1);
        }
        // page_full_retain and page_max_candidates, seven and six before.
        assert_eq!(get(MI_OPTION_ALLOW_THP - 7), 2);
        assert_eq!(get(MI_OPTION_ALLOW_THP - 6), 4);
    }
}
