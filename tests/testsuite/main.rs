//! keel's integration tests: one binary, driving the `keel` command against moto (a real
//! AWS wire-protocol endpoint on loopback) and checking the cloud through the AWS SDK.

mod fixture;
mod moto;

mod apply;
mod bench_smoke;
mod compute;
mod corpus;
mod data_sources;
mod drift;
mod encrypted_bucket;
mod errors;
mod guard;
mod iam;
mod import;
mod inputs;
mod isolated_vpc;
mod kms;
mod module_language;
mod modules;
mod network;
mod refactor;
mod refresh;
mod repetition;
mod report;
mod rollback;
mod s3;
mod s3_config;
mod security_group;
mod security_group_rule;
mod sensitive;
mod stacks;
mod state_ops;
mod state_s3;
mod tooling;
mod variables;
mod vpc_isolation;
