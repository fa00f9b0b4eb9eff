//! keel: infrastructure as code for the cloud side of AI workloads on AWS.
//!
//! The pipeline, one module per stage, each a function from one artifact to the next:
//!
//! ```text
//! stacks/<name>/*.hcl   --config::load-->  Config         (syntax tree, spans kept)
//! Config                --graph::build-->  ResourceGraph  (petgraph DAG; a cycle is an error)
//! Config + variables    --eval-->          Desired        (values, or Unknown until apply)
//! State + cloud         --refresh-->       State          (what the cloud holds now)
//! Desired + State       --plan-->          Plan           (ordered changes with reasons)
//! Plan + provider       --apply-->         State'         (written after every operation)
//! State + cloud         --drift-->         DriftReport    (changed / missing / unmanaged)
//! Plan | ApplyReport | DriftReport --report--> terminal text, JSON, Markdown
//! ```
//!
//! Supporting modules: [`diag`] (file:line:column diagnostics), [`value`] (the dynamic
//! values expressions evaluate to), [`addr`] (resource addresses), [`providers`] (the only
//! code that calls a cloud), [`state`] (the recorded truth, locked and written atomically),
//! [`format`] (`keel fmt`: source -> canonical layout, outside the pipeline) and [`cli`]
//! (the `keel` command).

pub mod addr;
pub mod apply;
pub mod cli;
pub mod config;
pub mod diag;
pub mod drift;
pub mod eval;
pub mod format;
pub mod graph;
pub mod plan;
pub mod providers;
pub mod refresh;
pub mod report;
pub mod state;
pub mod value;
