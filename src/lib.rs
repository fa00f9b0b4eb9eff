//! keel: infrastructure as code for the cloud side of AI workloads on AWS.
//!
//! The pipeline, one module per stage, each a function from one artifact to the next:
//!
//! ```text
//! stacks/<name>/*.hcl   --config::load-->  Config         (module tree, spans kept)
//! Config                --graph::build-->  ResourceGraph  (one DAG across all modules)
//! Config + variables    --eval-->          Desired        (values, or Unknown until apply)
//! State + moved blocks  --plan::moves-->   State          (addresses refactored first)
//! State + cloud         --refresh-->       State          (what the cloud holds now)
//! Desired + State       --plan-->          Plan           (ordered changes with reasons;
//!                                                          data sources read, imports
//!                                                          previewed, through providers'
//!                                                          read paths only)
//! Plan + Config         --guard::check-->  guard::Report  (policy findings, cost, budget)
//! Plan + provider       --apply-->         State'         (journaled call by call; rollback)
//! State + cloud         --drift-->         DriftReport    (changed / missing / unmanaged)
//! Plan | ApplyReport | DriftReport --report--> terminal text, JSON, Markdown
//! ```
//!
//! `config::load` reads the stack and every module it calls (each directory once) into a
//! tree of static scopes (`module.net.module.subnets`); `graph::build` makes one node per
//! block per scope; `eval` expands `count` / `for_each` of module calls and resources into
//! addressed instances (`module.net["a"].aws_subnet.private[0]`) while it walks the graph.
//!
//! [`guard`] holds every plan to the stack's guardrails before anything is applied: policy
//! rules over the planned resources, waivers, and the cost before and after ([`cost`],
//! from a price table shipped as data) against the stack's budget.
//!
//! The plan carries its schedule (what each step waits for, how rollback undoes it);
//! `apply` executes it eagerly and in parallel, journals every provider call in the state
//! before and after it, rolls back on failure, and on the next run adopts whatever a
//! killed keel left in flight (see [`apply`]).
//!
//! Supporting modules: [`diag`] (file:line:column diagnostics), [`value`] (the dynamic
//! values expressions evaluate to), [`addr`] (resource addresses), [`providers`] (the only
//! code that calls a cloud), [`state`] (the recorded truth: locked, written after every
//! operation, kept in a local file or S3, optionally encrypted), [`import`] (cloud objects
//! and Terraform state brought under keel), [`format`] (`keel fmt`: source -> canonical
//! layout, outside the pipeline) and [`cli`] (the `keel` command).

pub mod addr;
pub mod apply;
pub mod cli;
pub mod config;
pub mod cost;
pub mod diag;
pub mod drift;
pub mod eval;
pub mod format;
pub mod graph;
pub mod guard;
pub mod import;
pub mod plan;
pub mod providers;
pub mod refresh;
pub mod report;
pub mod state;
pub mod value;
