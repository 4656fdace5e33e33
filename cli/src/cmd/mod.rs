//! One module per command group.
pub mod audit;
pub mod config;
pub mod dashboard;
pub mod dev;
pub mod feeder;
pub mod model;
pub mod phase;
pub mod report;
pub mod sandbox;
pub mod setup;
pub mod tenant;

/// Logs to stdout at `RUST_LOG` (default `warn`), in colour only on a
/// terminal: a log sent to a file stays plain text.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .try_init();
}
