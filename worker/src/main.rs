//! `weir`: the command-line entry point.

use worker::cli;

use clap::Parser;

/// Hostile length prefixes in requests must not abort the broker (see
/// `alloc_guard`); everything else goes to mimalloc, whose per-thread heaps
/// keep the many small allocations of record conversion cheap.
#[global_allocator]
static ALLOC: broker_core::alloc_guard::GuardedAlloc<mimalloc::MiMalloc> =
    broker_core::alloc_guard::GuardedAlloc(mimalloc::MiMalloc);

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
