//! A global allocator that keeps hostile length prefixes from aborting the
//! process.
//!
//! The protocol codec pre-allocates arrays, record lists and header maps from
//! counts read off the wire (`Vec::with_capacity(n)` before a single element
//! is decoded). A 20-byte request can claim two billion elements; the
//! reservation then exceeds what the kernel will commit and Rust aborts the
//! whole broker. Decoding such a request fails a few bytes later anyway, so
//! the memory is never touched: this allocator serves every request of 1 GiB
//! or more with an anonymous `MAP_NORESERVE` mapping, which costs address
//! space only until pages are written. Smaller requests go to the wrapped
//! allocator (the system's by default) unchanged. (With `vm.overcommit_memory=2` the kernel still
//! refuses such mappings.)
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

/// Requests at least this large are mapped lazily.
const HUGE_BYTES: usize = 1 << 30;
const PAGE_BYTES: usize = 4096;

/// Install with `#[global_allocator] static A: GuardedAlloc = GuardedAlloc(System);`,
/// or around another allocator.
#[derive(Debug, Default, Clone, Copy)]
pub struct GuardedAlloc<A = System>(pub A);

fn is_huge(layout: &Layout) -> bool {
    layout.size() >= HUGE_BYTES && layout.align() <= PAGE_BYTES
}

fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping with no address hint has no
    // preconditions; failure is reported as MAP_FAILED and turned into null.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p.cast()
    }
}

// SAFETY: every method either forwards to the wrapped allocator with the caller's layout or
// uses a page-aligned mmap region of exactly `layout.size()` bytes that is only
// released by `munmap` with the same size.
unsafe impl<A: GlobalAlloc> GlobalAlloc for GuardedAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_huge(&layout) {
            map(layout.size())
        } else {
            // SAFETY: forwarded with the caller's (non-zero-size) layout.
            unsafe { self.0.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_huge(&layout) {
            // Fresh anonymous mappings are zero-filled.
            map(layout.size())
        } else {
            // SAFETY: forwarded with the caller's layout.
            unsafe { self.0.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if is_huge(&layout) {
            // SAFETY: `p` came from `map(layout.size())`.
            unsafe {
                libc::munmap(p.cast(), layout.size());
            }
        } else {
            // SAFETY: `p` came from the wrapped allocator with this layout.
            unsafe { self.0.dealloc(p, layout) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with this alignment is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !is_huge(&layout) && !is_huge(&new_layout) {
            // SAFETY: both layouts are served by the wrapped allocator.
            return unsafe { self.0.realloc(p, layout, new_size) };
        }
        // SAFETY: allocation with a valid layout; the copy stays inside both blocks.
        unsafe {
            let fresh = self.alloc(new_layout);
            if !fresh.is_null() {
                ptr::copy_nonoverlapping(p, fresh, layout.size().min(new_size));
                self.dealloc(p, layout);
            }
            fresh
        }
    }
}
