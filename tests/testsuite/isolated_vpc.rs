//! The isolated-VPC shape AI stacks use, end to end against moto: private subnets in two
//! AZs with no route to an internet gateway, S3 reached through a gateway endpoint, egress
//! through a NAT gateway, a network ACL, flow logs to S3 and a security group open only to
//! the VPC. It applies, plans no changes, shows no drift, imports from ids alone, reads
//! back in a constant number of calls per type, and destroys to nothing.

use crate::fixture::Project;
use crate::moto::moto;
use crate::vpc_isolation::{filter, id};

/// The isolated VPC with one private subnet (and its route table, NAT route and
/// association) in each of `azs`.
fn shape(bucket: &str, azs: &[&str]) -> String {
    let subnets: Vec<String> = azs
        .iter()
        .enumerate()
        .map(|(i, az)| format!("    \"{az}\" = \"10.78.{}.0/24\"", i + 10))
        .collect();
    format!(
        r#"
locals {{
  private = {{
{subnets}
  }}
}}

resource "aws_vpc" "main" {{
  cidr_block           = "10.78.0.0/16"
  enable_dns_hostnames = true
  tags                 = {{ Name = "isolated" }}
}}

resource "aws_subnet" "public" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.78.0.0/24"
  availability_zone = "us-east-1a"
}}

resource "aws_internet_gateway" "gw" {{
  vpc_id = aws_vpc.main.id
}}

resource "aws_route_table" "public" {{
  vpc_id = aws_vpc.main.id
}}

resource "aws_route" "public_internet" {{
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.gw.id
}}

resource "aws_route_table_association" "public" {{
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}}

resource "aws_eip" "nat" {{
  domain = "vpc"
  tags   = {{ Name = "nat" }}
}}

resource "aws_nat_gateway" "nat" {{
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
  tags          = {{ Name = "nat" }}
}}

resource "aws_subnet" "private" {{
  for_each          = local.private
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = each.key
}}

resource "aws_route_table" "private" {{
  for_each = local.private
  vpc_id   = aws_vpc.main.id
}}

resource "aws_route" "private_egress" {{
  for_each               = local.private
  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.nat.id
}}

resource "aws_route_table_association" "private" {{
  for_each       = local.private
  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}}

resource "aws_vpc_endpoint" "s3" {{
  vpc_id          = aws_vpc.main.id
  service_name    = "com.amazonaws.us-east-1.s3"
  route_table_ids = [for rt in aws_route_table.private : rt.id]
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = "*", Action = "s3:*", Resource = "*" }}]
  }})
  tags = {{ Name = "s3" }}
}}

resource "aws_network_acl" "private" {{
  vpc_id     = aws_vpc.main.id
  subnet_ids = [for s in aws_subnet.private : s.id]

  ingress {{
    rule_no    = 100
    action     = "allow"
    protocol   = "6"
    cidr_block = aws_vpc.main.cidr_block
    from_port  = 443
    to_port    = 443
  }}
  ingress {{
    rule_no    = 200
    action     = "allow"
    protocol   = "6"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }}
  egress {{
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }}
}}

resource "aws_s3_bucket" "flow_logs" {{
  bucket        = "{bucket}"
  force_destroy = true
}}

resource "aws_flow_log" "vpc" {{
  vpc_id                   = aws_vpc.main.id
  traffic_type             = "ALL"
  log_destination_type     = "s3"
  log_destination          = aws_s3_bucket.flow_logs.arn
  max_aggregation_interval = 60
}}

resource "aws_security_group" "workers" {{
  name        = "workers"
  description = "GPU workers: reachable from inside the VPC only"
  vpc_id      = aws_vpc.main.id
}}

resource "aws_vpc_security_group_ingress_rule" "from_vpc" {{
  security_group_id = aws_security_group.workers.id
  cidr_ipv4         = aws_vpc.main.cidr_block
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}}

resource "aws_vpc_security_group_egress_rule" "to_s3" {{
  security_group_id = aws_security_group.workers.id
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}}
"#,
        subnets = subnets.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_isolated_vpc_applies_converges_shows_no_drift_and_destroys_to_nothing() {
    let p = Project::new("isolated");
    let bucket = p.stack.clone();
    p.write("main.hcl", &shape(&bucket, &["us-east-1a", "us-east-1b"]));
    p.keel(&["apply", "-auto-approve"]).ok();
    let ec2 = moto().ec2().await;
    let vpc = id(&p, "aws_vpc.main");
    let vpc_cidr = "10.78.0.0/16";
    let nat = id(&p, "aws_nat_gateway.nat");
    let vpce = id(&p, "aws_vpc_endpoint.s3");
    let acl = id(&p, "aws_network_acl.private");
    let igw = id(&p, "aws_internet_gateway.gw");

    // Private subnets in two AZs, each with its own route table: out through the NAT
    // gateway, to S3 through the endpoint, never to the internet gateway.
    let mut azs = Vec::new();
    for az in ["us-east-1a", "us-east-1b"] {
        let subnet = id(&p, &format!("aws_subnet.private[\"{az}\"]"));
        let s = ec2
            .describe_subnets()
            .subnet_ids(&subnet)
            .send()
            .await
            .unwrap();
        azs.push(s.subnets()[0].availability_zone().unwrap().to_string());
        let rts = ec2
            .describe_route_tables()
            .filters(filter("association.subnet-id", &subnet))
            .send()
            .await
            .unwrap();
        let rt = &rts.route_tables()[0];
        assert_eq!(
            rt.route_table_id(),
            Some(id(&p, &format!("aws_route_table.private[\"{az}\"]")).as_str())
        );
        assert!(
            rt.routes()
                .iter()
                .all(|r| r.gateway_id().is_none_or(|g| !g.starts_with("igw-"))),
            "no internet gateway route: {:?}",
            rt.routes()
        );
        assert!(rt.routes().iter().any(|r| {
            r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id() == Some(&nat)
        }));
        assert!(rt.routes().iter().any(|r| {
            r.destination_prefix_list_id().is_some() && r.gateway_id() == Some(vpce.as_str())
        }));
        let acls = ec2
            .describe_network_acls()
            .filters(filter("association.subnet-id", &subnet))
            .send()
            .await
            .unwrap();
        assert_eq!(acls.network_acls()[0].network_acl_id(), Some(acl.as_str()));
    }
    azs.sort();
    assert_eq!(azs, ["us-east-1a", "us-east-1b"]);

    // The NAT gateway sits in the public subnet with the Elastic IP.
    let n = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat)
        .send()
        .await
        .unwrap();
    let n = &n.nat_gateways()[0];
    assert_eq!(n.subnet_id(), Some(id(&p, "aws_subnet.public").as_str()));
    assert_eq!(
        n.nat_gateway_addresses()[0].allocation_id(),
        Some(id(&p, "aws_eip.nat").as_str())
    );
    let igws = ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&igw)
        .send()
        .await
        .unwrap();
    assert_eq!(
        igws.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(vpc.as_str())
    );

    // Flow logs for the whole VPC go to the bucket (moto stores, never delivers, them).
    let logs = ec2
        .describe_flow_logs()
        .filter(filter("resource-id", &vpc))
        .send()
        .await
        .unwrap();
    assert_eq!(logs.flow_logs().len(), 1);
    assert_eq!(
        logs.flow_logs()[0].log_destination(),
        Some(format!("arn:aws:s3:::{bucket}").as_str())
    );

    // The workers' group: in from the VPC only, out to S3 only.
    let sg = ec2
        .describe_security_groups()
        .group_ids(id(&p, "aws_security_group.workers"))
        .send()
        .await
        .unwrap();
    let sg = &sg.security_groups()[0];
    let ingress = sg.ip_permissions();
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    assert_eq!(ingress[0].ip_ranges().len(), 1);
    assert_eq!(ingress[0].ip_ranges()[0].cidr_ip(), Some(vpc_cidr));
    assert_eq!(ingress[0].from_port(), Some(443));
    let egress = sg.ip_permissions_egress();
    assert_eq!(egress.len(), 1, "{egress:?}");
    assert!(egress[0].ip_ranges().is_empty(), "no egress to any CIDR");
    assert_eq!(
        egress[0].prefix_list_ids()[0].prefix_list_id(),
        p.state()["resources"]["aws_vpc_endpoint.s3"]["attributes"]["prefix_list_id"].as_str()
    );

    p.assert_no_changes();
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    p.keel(&["destroy", "-auto-approve"]).ok();
    let vpcs = ec2
        .describe_vpcs()
        .filters(filter("vpc-id", &vpc))
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "the VPC is gone");
    let nat_after = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(&nat)
        .send()
        .await
        .unwrap();
    assert_eq!(
        nat_after.nat_gateways()[0].state().map(|s| s.as_str()),
        Some("deleted")
    );
    let eips = ec2
        .describe_addresses()
        .filters(filter("tag:keel:stack", &p.stack))
        .send()
        .await
        .unwrap();
    assert!(eips.addresses().is_empty(), "the Elastic IP is released");
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(filter("vpc-endpoint-id", &vpce))
        .send()
        .await
        .unwrap();
    assert!(
        endpoints
            .vpc_endpoints()
            .iter()
            .all(|e| e.state().map(|s| s.as_str()) == Some("deleted"))
    );
    let logs = ec2
        .describe_flow_logs()
        .filter(filter("resource-id", &vpc))
        .send()
        .await
        .unwrap();
    assert!(logs.flow_logs().is_empty(), "the flow log is gone");
    let acls = ec2
        .describe_network_acls()
        .filters(filter("network-acl-id", &acl))
        .send()
        .await
        .unwrap();
    assert!(acls.network_acls().is_empty(), "the ACL is gone");
    let buckets = moto().s3().await.list_buckets().send().await.unwrap();
    assert!(
        buckets.buckets().iter().all(|b| b.name() != Some(&bucket)),
        "the bucket is gone"
    );
    // Nothing tagged with the stack is left.
    let tagged = ec2
        .describe_tags()
        .filters(filter("key", "keel:stack"))
        .filters(filter("value", &p.stack))
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = tagged
        .tags()
        .iter()
        .filter_map(|t| t.resource_id())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The attributes a read with only the id must give back as the full apply recorded them
/// (those that echo the configuration, like `tags`, are left out).
const ECHOED: &[&str] = &[
    "tags",
    "auto_accept",
    "associate_with_private_ip",
    "address",
    "revoke_rules_on_delete",
];

#[test]
fn every_type_is_imported_from_its_cloud_id_alone() {
    let p = Project::new("import");
    let bucket = p.stack.clone();
    p.write("main.hcl", &shape(&bucket, &["us-east-1a", "us-east-1b"]));
    p.keel(&["apply", "-auto-approve"]).ok();
    let full = p.state();
    // A state holding nothing but each resource's id, as an import leaves it.
    let mut bare = full.clone();
    for (_, r) in bare["resources"].as_object_mut().unwrap() {
        let id = r["id"].clone();
        r["attributes"] = serde_json::json!({ "id": id });
    }
    std::fs::write(p.state_path(), serde_json::to_vec_pretty(&bare).unwrap()).unwrap();
    p.keel(&["apply", "-refresh-only", "-auto-approve"]).ok();
    let imported = p.state();
    let mine = [
        // A VPC read from its id alone looks up its default ACL and security group.
        "aws_vpc",
        "aws_internet_gateway",
        "aws_route_table",
        "aws_route",
        "aws_route_table_association",
        "aws_eip",
        "aws_nat_gateway",
        "aws_vpc_endpoint",
        "aws_network_acl",
        "aws_flow_log",
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    ];
    let mut checked = 0;
    for (addr, r) in full["resources"].as_object().unwrap() {
        if !mine.contains(&r["type"].as_str().unwrap()) {
            continue;
        }
        checked += 1;
        let want = r["attributes"].as_object().unwrap();
        let got = &imported["resources"][addr]["attributes"];
        for (k, v) in want {
            if ECHOED.contains(&k.as_str()) {
                continue;
            }
            assert_eq!(&got[k], v, "{addr}.{k} after an import by id");
        }
    }
    assert_eq!(checked, 19, "every instance of these types was checked");
    let plan = p.keel(&["plan"]).ok();
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
}

/// The calls of one phase and operation in a drift metrics file.
fn calls(prom: &str, operation: &str) -> u64 {
    prom.lines()
        .filter(|l| l.starts_with("keel_drift_api_calls{") && l.contains("phase=\"refresh\""))
        .filter(|l| l.contains(&format!("operation=\"{operation}\"")))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

fn refresh_calls(p: &Project) -> String {
    let metrics = p.root.path().join("drift.prom");
    let run = p.keel(&["drift", "--metrics", metrics.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    std::fs::read_to_string(&metrics).unwrap()
}

/// Refresh reads each type with a fixed number of calls however many resources it has:
/// with one, two or four private subnets (and so as many route tables, routes,
/// associations and ACL associations), the calls are the same.
#[test]
fn refreshing_the_isolated_vpc_takes_the_same_calls_for_any_number_of_subnets() {
    let expected: &[(&str, u64)] = &[
        ("DescribeVpcs", 1),
        ("DescribeVpcAttribute", 2),
        ("DescribeSubnets", 1),
        ("DescribeInternetGateways", 1),
        // The VPC's main table; route tables; routes; associations.
        ("DescribeRouteTables", 4),
        ("DescribeAddresses", 1),
        ("DescribeNatGateways", 1),
        ("DescribeVpcEndpoints", 1),
        ("DescribePrefixLists", 1),
        // The stack's ACLs (the VPC's default ACL id is fixed, and state holds it).
        ("DescribeNetworkAcls", 1),
        ("DescribeFlowLogs", 1),
        // The ARNs of Elastic IPs and of flow logs.
        ("GetCallerIdentity", 2),
        // The stack's groups (the VPC's default group id is fixed, and state holds it).
        ("DescribeSecurityGroups", 1),
        // Rule-owned rules of the groups; ingress rules; egress rules.
        ("DescribeSecurityGroupRules", 3),
    ];
    for azs in [
        &["us-east-1a"][..],
        &["us-east-1a", "us-east-1b"],
        &["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"],
    ] {
        let p = Project::new("calls");
        let bucket = p.stack.clone();
        p.write("main.hcl", &shape(&bucket, azs));
        p.keel(&["apply", "-auto-approve"]).ok();
        let prom = refresh_calls(&p);
        for (op, n) in expected {
            assert_eq!(
                calls(&prom, op),
                *n,
                "{op} with {} subnets:\n{prom}",
                azs.len()
            );
        }
        let ec2_total: u64 = expected
            .iter()
            .filter(|(op, _)| *op != "GetCallerIdentity")
            .map(|(_, n)| n)
            .sum();
        let measured: u64 = prom
            .lines()
            .filter(|l| {
                l.starts_with("keel_drift_api_calls{")
                    && l.contains("phase=\"refresh\"")
                    && l.contains("service=\"EC2\"")
            })
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(measured, ec2_total, "{prom}");
        p.keel(&["destroy", "-auto-approve"]).ok();
    }
}

/// More Elastic IPs than one page of ids: two DescribeAddresses calls for 205.
#[test]
fn refreshing_205_elastic_ips_takes_two_pages() {
    let p = Project::new("eips");
    p.write(
        "main.hcl",
        r#"
resource "aws_eip" "ip" {
  count  = 205
  domain = "vpc"
}
"#,
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let prom = refresh_calls(&p);
    assert_eq!(calls(&prom, "DescribeAddresses"), 2, "{prom}");
    assert_eq!(calls(&prom, "GetCallerIdentity"), 1, "{prom}");
    p.keel(&["destroy", "-auto-approve"]).ok();
}
