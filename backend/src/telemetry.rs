//! Logging: JSON lines in production, readable lines in development; the
//! request span's fields (request_id…) are on every line logged inside it.
//!
//! A server formats each line on the thread that logs it and hands it to a thread
//! of its own (tracing-appender's non-blocking writer over a buffered stdout), which
//! writes whatever has queued up in one `write(2)`: a request never waits on the
//! pipe or on stdout's lock, and a busy server makes one system call per batch
//! rather than one per line. Nothing is dropped: once [`QUEUED_LINES`] lines wait,
//! logging waits too. One-shot commands write straight to stdout, so their log lines
//! stay in order with what they print.
use std::io::{BufWriter, IsTerminal};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Lines that may wait for the writer thread before logging blocks.
pub const QUEUED_LINES: usize = 16_384;

/// Keeps the writer thread of [`init`] alive; dropping it writes out what is queued.
#[must_use = "dropping the guard stops the log writer: keep it until the process ends"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

/// How log lines reach stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A writer thread, batched (the server).
    Background,
    /// Written by the thread that logs (one-shot commands).
    Direct,
}

/// Installs the global subscriber once (later calls do nothing).
pub fn init(json: bool, output: Output) -> LogGuard {
    match output {
        Output::Direct => {
            install(json, std::io::stdout);
            LogGuard { _writer: None }
        }
        Output::Background => {
            let (writer, guard) = NonBlockingBuilder::default()
                .lossy(false)
                .buffered_lines_limit(QUEUED_LINES)
                .thread_name("qunjia-log")
                .finish(BufWriter::with_capacity(64 * 1024, std::io::stdout()));
            // A guard of a subscriber that was not installed stops its unused thread.
            LogGuard {
                _writer: install(json, writer).then_some(guard),
            }
        }
    }
}

fn install<W>(json: bool, writer: W) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init()
            .is_ok()
    } else {
        // Colours only for a person at a terminal: a pipe or a file gets plain text.
        let ansi = std::io::stdout().is_terminal();
        registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(ansi)
                    .with_writer(writer),
            )
            .try_init()
            .is_ok()
    }
}
