//! The local AWS endpoint for keel's integration tests: moto in server mode, with keel's
//! compatibility patches (tests/moto/keel_moto.py), on a free 127.0.0.1 port.
//!
//! One server serves the whole test binary; tests keep out of each other's way by giving
//! every stack (and so every `keel:stack` tag and bucket name) a unique name. The server
//! stops when this process exits, since it watches its stdin pipe for EOF.
//!
//! Known gaps of moto 5.2.5 that keel_moto.py patches (each tested in
//! tests/moto/test_keel_moto.py): EC2 placement groups are not implemented; S3
//! GetBucketVersioning answers with the wrong XML root element; object calls in a bucket
//! with a deny-non-TLS policy get 403 because moto treats every request as plain HTTP;
//! IAM deletes policies that are attached or have other versions, accepts any character
//! in tag values and any principal in a trust policy (real IAM refuses a role created a
//! moment ago; the patch does so for a second after its creation);
//! lifecycle rules lose their object-size filters and NewerNoncurrentVersions; KMS
//! ignores a key's rotation period; EC2
//! instances lose their placement, gp3 IOPS and throughput, monitoring and user data
//! changes, and launch templates their tags and lookups by id (patch H); instances
//! launched from a template lose its network interface, instance profile, IMDS settings
//! and placement group (patch M). moto still does not carry a template's spot settings
//! onto the instances it launches: tests check those in the template's data.
//! S3 conditional writes (If-None-Match, If-Match) are checked and stored in two steps, so
//! racing ones could both win; CopyObject ignores x-amz-copy-source-if-match;
//! and for the VPC-isolation types, missing ACL and endpoint id filters, NAT gateways
//! that ignore their private IP and keep their Elastic IP after deletion, endpoint route
//! tables whose routes never move, ACL entries that lose ICMP, prefix lists without
//! CIDRs, ACL associations outliving their subnet, rule sources ModifySecurityGroupRules
//! ignores, and DescribeTags listing the tags of deleted objects.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub const REGION: &str = "us-east-1";

pub struct Moto {
    pub endpoint: String,
    _child: Mutex<Child>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> PathBuf {
    std::env::var_os("KEEL_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/keel/moto-5.2.5")
        })
}

/// The shared server, installed (scripts/moto-install) and started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let status = Command::new("bash")
            .arg(repo().join("scripts/moto-install"))
            .status()
            .expect("run scripts/moto-install");
        assert!(status.success(), "scripts/moto-install failed");
        let mut child = Command::new(venv().join("bin/python"))
            .arg(repo().join("tests/moto/keel_moto.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start keel_moto.py");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the endpoint line");
        let endpoint = line
            .trim()
            .strip_prefix("KEEL_MOTO_ENDPOINT=")
            .unwrap_or_else(|| panic!("keel_moto.py printed {line:?} instead of its endpoint"))
            .to_string();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        Moto {
            endpoint,
            _child: Mutex::new(child),
        }
    })
}

/// The EC2 filter for objects keel tagged as belonging to `stack`.
pub fn stack_filter(stack: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name("tag:keel:stack")
        .values(stack)
        .build()
}

impl Moto {
    /// The environment keel and the SDK need to talk to moto and nothing else.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    async fn sdk_config(&self) -> aws_config::SdkConfig {
        let creds =
            aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "keel-tests");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(creds)
            .load()
            .await
    }

    /// An EC2 client that reads the cloud directly, not through keel.
    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk_config().await)
    }

    /// An IAM client that reads the cloud directly, not through keel.
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config().await)
    }

    /// A KMS client that reads the cloud directly, not through keel.
    pub async fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config().await)
    }

    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}
