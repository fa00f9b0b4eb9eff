//! The `keel` binary: parses arguments and hands over to [`keel::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEEL_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = keel::cli::normalize_args(std::env::args_os());
    let cli = keel::cli::parse(args);
    keel::cli::run(cli)
}
