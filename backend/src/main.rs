//! The `qunjia` command: parses the CLI, nothing else.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    qunjia::cli::run(qunjia::cli::Cli::parse()).await
}
