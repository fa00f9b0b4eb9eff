//! Apply's failure handling against moto, through the fault-injecting proxy
//! (tests/moto/fault_proxy.py): every mutating call of a GPU stack failed in turn, with the
//! cloud listed independently after each rollback; throttling; keel killed at random
//! instants during apply and rollback; two applies at once; saved plans; Ctrl-C.

mod bench;
mod crash;
mod faults;
mod runs;

use crate::fixture::{Project, Run};
use crate::moto::{moto, stack_filter};
use aws_sdk_ec2::types::Filter;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A Deep Learning AMI from moto's built-in list.
pub const AMI: &str = "ami-999844e0";

/// The fault proxy, between keel and the shared moto; stops with the test.
pub struct Proxy {
    pub endpoint: String,
    child: Child,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    pub fn start() -> Proxy {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/moto/fault_proxy.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--upstream", &moto().endpoint])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // A client killed mid-call makes the proxy print a broken pipe: noise here.
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fault proxy");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read its endpoint");
        let endpoint = line
            .trim()
            .strip_prefix("KEEL_PROXY_ENDPOINT=")
            .unwrap_or_else(|| panic!("fault_proxy.py printed {line:?}"))
            .to_string();
        Proxy { endpoint, child }
    }

    fn http(&self, method: &str, path: &str, body: &str) -> String {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).expect("connect to the proxy");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }

    /// Sets the faults (and resets the counters and the call log).
    pub fn configure(&self, settings: serde_json::Value) {
        self.http("POST", "/__keel/faults", &settings.to_string());
    }

    pub fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&self.http("GET", "/__keel/stats", "")).expect("stats JSON")
    }

    /// The mutating calls since the last configure, as "service.Operation".
    pub fn mutating_calls(&self) -> Vec<String> {
        self.stats()["log"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|e| e[2] == true)
            .map(|e| {
                format!(
                    "{}.{}",
                    e[0].as_str().unwrap_or(""),
                    e[1].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Runs keel through the proxy.
    pub fn keel(&self, p: &Project, args: &[&str]) -> Run {
        p.keel_env(args, &[("AWS_ENDPOINT_URL", &self.endpoint)])
    }
}

/// The GPU training stack the fault matrix works on: a VPC with two subnets, a security
/// group, a cluster placement group, an IAM role and instance profile, a KMS key that
/// encrypts a bucket, a launch template, and two instances launched from it.
pub fn gpu_stack(name: &str, changed: bool) -> String {
    // The update: tags and descriptions change in place; subnet b moves to a new CIDR,
    // which replaces it (creating the new one first).
    let (tier, cidr_b, desc) = if changed {
        ("restricted", "10.60.3.0/24", "training data (v2)")
    } else {
        ("private", "10.60.2.0/24", "training data")
    };
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.60.0.0/16"
  tags       = {{ tier = "{tier}" }}
}}

resource "aws_subnet" "a" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.60.1.0/24"
  availability_zone = "us-east-1a"
}}

resource "aws_subnet" "b" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "{cidr_b}"
  availability_zone = "us-east-1b"
}}

resource "aws_security_group" "nodes" {{
  name   = "{name}-nodes"
  vpc_id = aws_vpc.main.id
  tags   = {{ tier = "{tier}" }}
}}

resource "aws_placement_group" "cluster" {{
  name     = "{name}"
  strategy = "cluster"
}}

resource "aws_iam_role" "node" {{
  name = "{name}-node"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
  tags = {{ tier = "{tier}" }}
}}

resource "aws_iam_instance_profile" "node" {{
  name = "{name}-node"
  role = aws_iam_role.node.name
}}

resource "aws_kms_key" "data" {{
  description             = "{desc}"
  deletion_window_in_days = 7
}}

resource "aws_s3_bucket" "data" {{
  bucket        = "{name}"
  force_destroy = true
  # The bucket names the subnet its data is read from: in the update, its tagging waits
  # for subnet b's replacement, so a failure there has a replacement to undo whatever
  # order the other calls take.
  tags          = {{ tier = "{tier}", subnet = aws_subnet.b.id }}
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {{
  bucket = aws_s3_bucket.data.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }}
  }}
}}

resource "aws_launch_template" "gpu" {{
  name                   = "{name}"
  image_id               = "{AMI}"
  instance_type          = "p5.48xlarge"
  vpc_security_group_ids = [aws_security_group.nodes.id]
  iam_instance_profile {{
    name = aws_iam_instance_profile.node.name
  }}
  # What keel's guardrails require of every GPU node: IMDSv2 and encrypted volumes.
  metadata_options {{
    http_tokens = "required"
  }}
  block_device_mappings {{
    device_name = "/dev/xvda"
    ebs {{
      volume_size = 200
      encrypted   = true
    }}
  }}
}}

resource "aws_instance" "node" {{
  count           = 2
  subnet_id       = aws_subnet.a.id
  placement_group = aws_placement_group.cluster.name
  launch_template {{
    id      = aws_launch_template.gpu.id
    version = aws_launch_template.gpu.latest_version
  }}
  tags = {{ Name = "gpu-${{count.index}}" }}
}}
"#
    )
}

/// What the cloud holds for a stack, listed through the SDK and never through keel:
/// kind -> ids. Objects being deleted (terminated instances, keys pending deletion)
/// count as gone.
pub type Cloud = BTreeMap<&'static str, BTreeSet<String>>;

fn tag<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, key: &str) -> Option<String> {
    tags.into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// The stack's objects in the cloud, with the `keel:address` each carries (for
/// duplicate checks): kind -> [(id, address)].
pub async fn cloud_objects(
    stack: &str,
    name: &str,
) -> BTreeMap<&'static str, Vec<(String, String)>> {
    let ec2 = moto().ec2().await;
    let mut out: BTreeMap<&'static str, Vec<(String, String)>> = BTreeMap::new();
    let ec2_tags = |t: &[aws_sdk_ec2::types::Tag]| {
        tag(
            t.iter()
                .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
            "keel:address",
        )
        .unwrap_or_default()
    };
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    for v in vpcs.vpcs() {
        out.entry("vpc")
            .or_default()
            .push((v.vpc_id().unwrap().into(), ec2_tags(v.tags())));
    }
    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    for s in subnets.subnets() {
        out.entry("subnet")
            .or_default()
            .push((s.subnet_id().unwrap().into(), ec2_tags(s.tags())));
    }
    let groups = ec2
        .describe_security_groups()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    for g in groups.security_groups() {
        out.entry("security_group")
            .or_default()
            .push((g.group_id().unwrap().into(), ec2_tags(g.tags())));
    }
    let live = Filter::builder()
        .name("instance-state-name")
        .values("pending")
        .values("running")
        .values("stopping")
        .values("stopped")
        .build();
    let instances = ec2
        .describe_instances()
        .filters(stack_filter(stack))
        .filters(live)
        .send()
        .await
        .unwrap();
    for r in instances.reservations() {
        for i in r.instances() {
            out.entry("instance")
                .or_default()
                .push((i.instance_id().unwrap().into(), ec2_tags(i.tags())));
        }
    }
    let pgs = ec2
        .describe_placement_groups()
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .unwrap();
    for g in pgs.placement_groups() {
        if !matches!(g.state().map(|s| s.as_str()), Some("deleting" | "deleted")) {
            out.entry("placement_group")
                .or_default()
                .push((g.group_name().unwrap().into(), ec2_tags(g.tags())));
        }
    }
    let lts = ec2
        .describe_launch_templates()
        .filters(
            Filter::builder()
                .name("launch-template-name")
                .values(name)
                .build(),
        )
        .send()
        .await;
    if let Ok(lts) = lts {
        for t in lts.launch_templates() {
            out.entry("launch_template")
                .or_default()
                .push((t.launch_template_id().unwrap().into(), ec2_tags(t.tags())));
        }
    }
    let iam = moto().iam().await;
    if let Ok(r) = iam
        .get_role()
        .role_name(format!("{name}-node"))
        .send()
        .await
    {
        let role = r.role().unwrap();
        out.entry("iam_role").or_default().push((
            role.role_name().into(),
            tag(
                role.tags().iter().map(|t| (t.key(), t.value())),
                "keel:address",
            )
            .unwrap_or_default(),
        ));
    }
    if let Ok(p) = iam
        .get_instance_profile()
        .instance_profile_name(format!("{name}-node"))
        .send()
        .await
    {
        let p = p.instance_profile().unwrap();
        out.entry("instance_profile")
            .or_default()
            .push((p.instance_profile_name().into(), String::new()));
    }
    let kms = moto().kms().await;
    let keys = kms.list_keys().send().await.unwrap();
    for k in keys.keys() {
        let id = k.key_id().unwrap();
        let tags = kms.list_resource_tags().key_id(id).send().await;
        let Ok(tags) = tags else { continue };
        let t = |key: &str| {
            tag(
                tags.tags().iter().map(|t| (t.tag_key(), t.tag_value())),
                key,
            )
        };
        if t("keel:stack").as_deref() != Some(stack) {
            continue;
        }
        let meta = kms.describe_key().key_id(id).send().await.unwrap();
        let state = meta
            .key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str().to_string());
        if state.as_deref() != Some("PendingDeletion") {
            out.entry("kms_key")
                .or_default()
                .push((id.into(), t("keel:address").unwrap_or_default()));
        }
    }
    let s3 = moto().s3().await;
    if s3.head_bucket().bucket(name).send().await.is_ok() {
        out.entry("bucket")
            .or_default()
            .push((name.into(), String::new()));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// The stack's objects as kind -> ids.
pub async fn cloud(stack: &str, name: &str) -> Cloud {
    cloud_objects(stack, name)
        .await
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|(id, _)| id).collect()))
        .collect()
}

/// The recorded resources as address -> id, with nothing pending.
pub fn recorded(p: &Project) -> BTreeMap<String, String> {
    if !p.state_path().exists() {
        return BTreeMap::new();
    }
    let state = p.state();
    state["resources"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(a, r)| (a.clone(), r["id"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}
