//! Compute: IMDSv2 required and EBS volumes encrypted, on instances (with what their
//! launch template supplies) and on launch templates. Left out, EC2 allows IMDSv1 (unless
//! the AMI asks for v2) and creates unencrypted volumes (unless the account encrypts by
//! default); neither is the stack's to decide then, so leaving them out is a finding.

use super::Hit;
use super::network::launch_template;
use crate::guard::settings::RuleConfig;
use crate::guard::view::{Inventory, Planned, Target, first};
use crate::value::Value;

fn http_tokens<'v>(p: &'v Planned) -> &'v Value {
    p.block("metadata_options")
        .map(|m| m.get("http_tokens"))
        .unwrap_or(&Value::Null)
}

pub fn imdsv2(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for lt in inv.of_type("aws_launch_template") {
        if let Some(t) = http_tokens(lt).as_str()
            && t != "required"
        {
            hits.push(
                Hit::new(
                    lt.addr,
                    format!(
                        "metadata_options.http_tokens is \"{t}\": instances answer IMDSv1 requests"
                    ),
                )
                .at("metadata_options"),
            );
        }
    }
    for i in inv.of_type("aws_instance") {
        let own = http_tokens(i);
        let tokens = match own {
            Value::String(_) => own,
            Value::Unknown => continue,
            _ => match launch_template(inv, i) {
                Target::Resource(lt, _) => match http_tokens(lt) {
                    Value::String(_) => continue, // judged on the template
                    _ => own,
                },
                Target::Unknown => continue,
                Target::Outside => own,
            },
        };
        match tokens.as_str() {
            Some("required") => {}
            Some(t) => hits.push(
                Hit::new(i.addr, format!("metadata_options.http_tokens is \"{t}\": the instance answers IMDSv1 requests"))
                    .at("metadata_options"),
            ),
            None => hits.push(Hit::new(
                i.addr,
                "IMDSv2 is not required: without metadata_options.http_tokens = \"required\" EC2 answers IMDSv1 requests",
            )),
        }
    }
    hits
}

/// A launch template's EBS mappings: (device, encrypted).
fn mappings<'v>(lt: &'v Planned) -> Vec<(String, &'v Value)> {
    lt.get("block_device_mappings")
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|m| {
            let ebs = first(m.get("ebs"))?;
            let device = m
                .get("device_name")
                .as_str()
                .unwrap_or("a volume")
                .to_string();
            Some((device, ebs.get("encrypted")))
        })
        .collect()
}

pub fn ebs_encryption(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for lt in inv.of_type("aws_launch_template") {
        for (device, encrypted) in mappings(lt) {
            if encrypted.as_bool() != Some(true) && !encrypted.has_unknown() {
                hits.push(
                    Hit::new(
                        lt.addr,
                        format!("the EBS volume for {device} is not encrypted"),
                    )
                    .at("block_device_mappings"),
                );
            }
        }
    }
    for i in inv.of_type("aws_instance") {
        let own = i
            .block("root_block_device")
            .map(|r| r.get("encrypted"))
            .unwrap_or(&Value::Null);
        match own {
            Value::Bool(true) => continue,
            Value::Unknown => continue,
            Value::Bool(false) => {
                hits.push(
                    Hit::new(
                        i.addr,
                        "the root volume is not encrypted (root_block_device.encrypted = false)",
                    )
                    .at("root_block_device"),
                );
                continue;
            }
            _ => {}
        }
        match launch_template(inv, i) {
            // The template's own volumes are judged on the template.
            Target::Resource(lt, _) if !mappings(lt).is_empty() => continue,
            Target::Unknown => continue,
            _ => hits.push(Hit::new(
                i.addr,
                "root volume encryption is not set: EBS encrypts it only if the account encrypts by default",
            )),
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::hits;

    fn instance(body: &str) -> String {
        format!(
            r#"
resource "aws_instance" "node" {{
  ami           = "ami-12345678"
  instance_type = "m7i.large"
  {body}
}}
"#
        )
    }

    const IMDSV2: &str = "metadata_options {\n    http_tokens = \"required\"\n  }";
    const ENCRYPTED: &str = "root_block_device {\n    encrypted = true\n  }";

    #[test]
    fn instances_must_require_imdsv2() {
        assert!(hits("imdsv2", &instance(IMDSV2)).is_empty());
        assert_eq!(
            hits("imdsv2", &instance("")),
            [
                "aws_instance.node: IMDSv2 is not required: without metadata_options.http_tokens = \"required\" EC2 answers IMDSv1 requests"
            ]
        );
        assert_eq!(
            hits("imdsv2", &instance(&IMDSV2.replace("required", "optional"))),
            [
                "aws_instance.node: metadata_options.http_tokens is \"optional\": the instance answers IMDSv1 requests"
            ]
        );
    }

    #[test]
    fn volumes_must_be_encrypted() {
        assert!(hits("ebs-encryption", &instance(ENCRYPTED)).is_empty());
        assert_eq!(
            hits("ebs-encryption", &instance("")),
            [
                "aws_instance.node: root volume encryption is not set: EBS encrypts it only if the account encrypts by default"
            ]
        );
        assert_eq!(
            hits(
                "ebs-encryption",
                &instance(&ENCRYPTED.replace("true", "false"))
            ),
            [
                "aws_instance.node: the root volume is not encrypted (root_block_device.encrypted = false)"
            ]
        );
    }

    fn templated(template: &str) -> String {
        format!(
            r#"
resource "aws_launch_template" "gpu" {{
  name = "gpu"
  {template}
}}

resource "aws_instance" "node" {{
  count = 2
  launch_template {{
    id      = aws_launch_template.gpu.id
    version = aws_launch_template.gpu.latest_version
  }}
}}
"#
        )
    }

    #[test]
    fn a_launch_template_supplies_imdsv2_and_encryption() {
        let good = templated(
            r#"metadata_options {
    http_tokens = "required"
  }
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      encrypted = true
    }
  }"#,
        );
        assert!(hits("imdsv2", &good).is_empty());
        assert!(hits("ebs-encryption", &good).is_empty());
        let bad = good
            .replace("\"required\"", "\"optional\"")
            .replace("encrypted = true", "encrypted = false");
        assert_eq!(
            hits("imdsv2", &bad),
            [
                "aws_launch_template.gpu: metadata_options.http_tokens is \"optional\": instances answer IMDSv1 requests"
            ]
        );
        assert_eq!(
            hits("ebs-encryption", &bad),
            ["aws_launch_template.gpu: the EBS volume for /dev/xvda is not encrypted"]
        );
        // A template that says nothing leaves it to each instance.
        let silent = templated("");
        assert_eq!(
            hits("imdsv2", &silent).len(),
            2,
            "{:?}",
            hits("imdsv2", &silent)
        );
        assert_eq!(hits("ebs-encryption", &silent).len(), 2);
    }
}
