//! keel's integration tests: one binary, driving the `keel` command against moto (a real
//! AWS wire-protocol endpoint on loopback) and checking the cloud through the AWS SDK.

mod fixture;
mod moto;

mod apply;
mod drift;
mod errors;
mod inputs;
mod network;
mod refresh;
mod repetition;
mod report;
mod s3;
mod security_group;
mod sensitive;
mod tooling;
mod variables;
