//! The `keel` binary: parses arguments and hands over to [`keel::cli`].

use std::process::ExitCode;

/// Planning is allocation-heavy (every evaluated value is a tree of maps and strings):
/// mimalloc's per-thread free lists cost a fraction of glibc malloc's bins here. Built
/// without transparent huge pages: faulting in and zeroing 2 MiB pages took a third of a
/// 50,000-instance plan's time.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    unset_empty_endpoints();
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

/// An empty `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_<SERVICE>`), as a CI template leaves
/// when its variable is not filled in, means "no custom endpoint"; the AWS SDK would take it
/// as an endpoint and panic on it. keel drops such empty settings before anything reads
/// them.
fn unset_empty_endpoints() {
    let empty: Vec<_> = std::env::vars_os()
        .filter(|(k, v)| {
            k.to_str()
                .is_some_and(|k| k == "AWS_ENDPOINT_URL" || k.starts_with("AWS_ENDPOINT_URL_"))
                && v.to_str().is_some_and(|v| v.trim().is_empty())
        })
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::remove_var(k) };
    }
}
