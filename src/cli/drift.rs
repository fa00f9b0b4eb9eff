//! `keel drift DIR`: what changed in the cloud behind the stack's back. Exit 0 for no
//! drift, 2 for drift, 1 for an error; `--metrics FILE` writes a Prometheus textfile.

use super::StackArgs;
use super::plan::Format;
use super::stack::{Failure, Providers, Stack};
use crate::addr::ResourceAddr;
use crate::drift::{self, DriftReport};
use crate::refresh;
use crate::report::drift as render;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// AWS API calls by (service, operation).
type CallCounts = BTreeMap<(String, String), u64>;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Output format: human (default), json or markdown.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
    /// Write drift counts, the run's time and duration as a Prometheus textfile.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<std::path::PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let format = if args.json { Format::Json } else { args.format };
    let mut stack = Stack::load(&args.stack)?;
    stack.ask_for_missing(&args.stack)?;
    let lock = stack.lock("drift")?;
    let Some(state) = stack.read_state()? else {
        return Err(Failure::Message(format!(
            "no state at {}: keel drift compares the cloud with what an apply recorded, so apply the stack first",
            stack.backend.location()
        )));
    };
    drop(lock);
    let providers = stack.connect()?;
    let (refreshed, found, refresh_calls) = stack.runtime.block_on(async {
        let mut quiet = |_line: String| {};
        let refreshed = refresh::refresh(&state, &providers, &mut quiet)
            .await
            .map_err(|e| Failure::Message(e.to_string()))?;
        let refresh_calls = call_counts(&providers);
        // One inventory per region the stack's provider configurations use.
        let mut found = Vec::new();
        let mut regions = std::collections::BTreeSet::new();
        for (_, provider) in providers.iter() {
            if !regions.insert(provider.region().to_string()) {
                continue;
            }
            let vpcs: Vec<String> = state
                .resources
                .values()
                .filter(|r| r.type_ == "aws_vpc")
                .filter(|r| {
                    providers
                        .get(&r.provider)
                        .is_ok_and(|p| p.region() == provider.region())
                })
                .map(|r| r.id.clone())
                .collect();
            found.extend(
                provider
                    .inventory(&state.stack, &vpcs)
                    .await
                    .map_err(|e| Failure::Message(format!("listing the stack's objects: {e}")))?,
            );
        }
        Ok::<_, Failure>((refreshed, found, refresh_calls))
    })?;
    let ignore: BTreeMap<ResourceAddr, Vec<String>> = state
        .resources
        .keys()
        .filter_map(|addr| {
            let (_, _, r) = stack.config.find_resource(addr)?;
            Some((addr.clone(), r.lifecycle.ignore_changes.clone()))
        })
        .collect();
    let report = drift::compare(&state, &refreshed, &found, &ignore);
    let redact = stack.redactor();
    match format {
        Format::Human => print!("{}", render::human(&report, &redact)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&render::json(&report, &redact)).expect("json")
        ),
        Format::Markdown => print!("{}", render::markdown(&report, &redact)),
    }
    if let Some(path) = &args.metrics {
        let mut inventory_calls = call_counts(&providers);
        for (k, n) in &refresh_calls {
            if let Some(total) = inventory_calls.get_mut(k) {
                *total -= n;
            }
        }
        inventory_calls.retain(|_, n| *n > 0);
        let calls = [("refresh", &refresh_calls), ("inventory", &inventory_calls)];
        write_metrics(path, &report, started, &calls)?;
    }
    Ok(if report.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The API calls of every provider configuration so far.
fn call_counts(providers: &Providers) -> CallCounts {
    let mut total = CallCounts::new();
    for (_, p) in providers.iter() {
        for (k, n) in p.calls().snapshot() {
            *total.entry(k).or_default() += n;
        }
    }
    total
}

/// A node_exporter textfile, written whole (temporary file, then rename).
fn write_metrics(
    path: &std::path::Path,
    r: &DriftReport,
    started: Instant,
    calls: &[(&str, &CallCounts)],
) -> Result<(), Failure> {
    let stack = r.stack.replace('\\', "\\\\").replace('"', "\\\"");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut text = String::new();
    text.push_str(
        "# HELP keel_drift_resources Objects that drifted, by kind, at the last keel drift run.\n",
    );
    text.push_str("# TYPE keel_drift_resources gauge\n");
    for (kind, n) in [
        ("changed", r.changed.len()),
        ("missing", r.missing.len()),
        ("unmanaged", r.unmanaged.len()),
    ] {
        text.push_str(&format!(
            "keel_drift_resources{{stack=\"{stack}\",kind=\"{kind}\"}} {n}\n"
        ));
    }
    text.push_str(
        "# HELP keel_drift_last_run_timestamp_seconds When keel drift last ran to completion.\n",
    );
    text.push_str("# TYPE keel_drift_last_run_timestamp_seconds gauge\n");
    text.push_str(&format!(
        "keel_drift_last_run_timestamp_seconds{{stack=\"{stack}\"}} {now}\n"
    ));
    text.push_str("# HELP keel_drift_duration_seconds How long the last keel drift run took.\n");
    text.push_str("# TYPE keel_drift_duration_seconds gauge\n");
    text.push_str(&format!(
        "keel_drift_duration_seconds{{stack=\"{stack}\"}} {:.3}\n",
        started.elapsed().as_secs_f64()
    ));
    text.push_str(
        "# HELP keel_drift_api_calls AWS API calls the last keel drift run made, retries included.\n",
    );
    text.push_str("# TYPE keel_drift_api_calls gauge\n");
    for (phase, calls) in calls {
        for ((service, op), n) in calls.iter() {
            text.push_str(&format!(
                "keel_drift_api_calls{{stack=\"{stack}\",phase=\"{phase}\",service=\"{service}\",operation=\"{op}\"}} {n}\n"
            ));
        }
    }
    let tmp = path.with_extension("prom.tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Failure::Message(format!("cannot write metrics to {}: {e}", path.display())))
}
