//! `weir`: the command-line entry point.

use worker::cli;

use clap::Parser;

/// Hostile length prefixes in requests must not abort the broker (see
/// `alloc_guard`); everything else goes to mimalloc, whose per-thread heaps
/// keep the many small allocations of record conversion cheap.
#[global_allocator]
static ALLOC: broker_core::alloc_guard::GuardedAlloc<mimalloc::MiMalloc> =
    broker_core::alloc_guard::GuardedAlloc(mimalloc::MiMalloc);

fn main() -> std::process::ExitCode {
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
