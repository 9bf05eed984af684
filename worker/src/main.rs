//! `weir`: the command-line entry point.

mod cli;

use clap::Parser;

/// Hostile length prefixes in requests must not abort the broker (see `alloc_guard`).
#[global_allocator]
static ALLOC: broker_core::alloc_guard::GuardedAlloc = broker_core::alloc_guard::GuardedAlloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(&args);
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
