//! The VPC-isolation types against moto, one test each: created and read back through
//! the SDK, updated in place, replaced on a force-new change, destroyed, with the cloud
//! checked after every step.

use crate::fixture::Project;
use crate::moto::moto;
use aws_sdk_ec2::types::Filter;

/// The recorded id of `addr`.
pub fn id(p: &Project, addr: &str) -> String {
    p.state()["resources"][addr]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{addr} is in state"))
        .to_string()
}

/// A plan says `attr` forces the replacement.
pub fn forces(plan: &str, attr: &str) -> bool {
    plan.lines().any(|l| {
        l.trim_start().starts_with(&format!("~ {attr} ")) && l.contains("# forces replacement")
    })
}

/// Plans, checks the plan says `expect` about `addr`, and applies.
pub fn plan_then_apply(p: &Project, addr: &str, expect: &str) -> String {
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout.contains(&format!("# {addr} {expect}")),
        "expected {addr} {expect}:\n{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    plan.stdout
}

pub fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// A VPC with two subnets, made through the SDK (for types that need something to
/// attach to that keel does not manage).
async fn sdk_subnet(cidr: &str, subnet: &str) -> String {
    let ec2 = moto().ec2().await;
    let vpc = ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let s = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block(subnet)
        .send()
        .await
        .unwrap();
    s.subnet().unwrap().subnet_id().unwrap().to_string()
}

async fn sdk_eni(subnet: &str) -> String {
    let ec2 = moto().ec2().await;
    let eni = ec2
        .create_network_interface()
        .subnet_id(subnet)
        .send()
        .await
        .unwrap();
    eni.network_interface()
        .unwrap()
        .network_interface_id()
        .unwrap()
        .to_string()
}

async fn address(allocation: &str) -> Option<aws_sdk_ec2::types::Address> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_addresses()
        .filters(filter("allocation-id", allocation))
        .send()
        .await
        .unwrap();
    out.addresses().first().cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_elastic_ip_is_associated_moved_replaced_and_released() {
    let subnet = sdk_subnet("10.72.0.0/16", "10.72.1.0/24").await;
    let (eni_a, eni_b) = (sdk_eni(&subnet).await, sdk_eni(&subnet).await);
    let stack = |eni: &str, name: &str, address: &str| {
        format!(
            r#"
resource "aws_eip" "ip" {{
  domain            = "vpc"
  network_interface = "{eni}"
  {address}
  tags = {{ Name = "{name}" }}
}}
"#
        )
    };
    let p = Project::new("eip");
    p.write("main.hcl", &stack(&eni_a, "one", ""));
    p.keel(&["apply", "-auto-approve"]).ok();
    let first = id(&p, "aws_eip.ip");
    let a = address(&first).await.expect("allocated");
    assert_eq!(a.domain().map(|d| d.as_str()), Some("vpc"));
    assert_eq!(a.network_interface_id(), Some(eni_a.as_str()));
    assert_eq!(tag(a.tags(), "Name"), Some("one"));
    assert_eq!(tag(a.tags(), "keel:address"), Some("aws_eip.ip"));
    let state = p.state();
    let attrs = &state["resources"]["aws_eip.ip"]["attributes"];
    assert_eq!(attrs["public_ip"].as_str(), a.public_ip());
    assert_eq!(attrs["association_id"].as_str(), a.association_id());
    assert!(
        attrs["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":elastic-ip/{first}"))
    );
    p.assert_no_changes();

    // Moving the association and retagging happen in place.
    p.write("main.hcl", &stack(&eni_b, "two", ""));
    plan_then_apply(&p, "aws_eip.ip", "will be updated in-place");
    assert_eq!(id(&p, "aws_eip.ip"), first);
    let a = address(&first).await.unwrap();
    assert_eq!(a.network_interface_id(), Some(eni_b.as_str()));
    assert_eq!(tag(a.tags(), "Name"), Some("two"));
    p.assert_no_changes();

    // A specific address is a new allocation.
    let ip = format!("198.51.100.{}", std::process::id() % 250 + 1);
    p.write(
        "main.hcl",
        &stack(&eni_b, "two", &format!("address = \"{ip}\"")),
    );
    let plan = plan_then_apply(&p, "aws_eip.ip", "must be replaced");
    assert!(forces(&plan, "address"), "{plan}");
    let second = id(&p, "aws_eip.ip");
    assert_ne!(second, first);
    assert!(
        address(&first).await.is_none(),
        "the old address is released"
    );
    let a = address(&second).await.unwrap();
    assert_eq!(a.public_ip(), Some(ip.as_str()));
    assert_eq!(a.network_interface_id(), Some(eni_b.as_str()));
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(address(&second).await.is_none(), "released on destroy");
}

async fn nat(id: &str) -> aws_sdk_ec2::types::NatGateway {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .unwrap();
    out.nat_gateways()[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nat_gateway_waits_until_available_is_retagged_replaced_and_deleted() {
    let stack = |subnet: &str, ip: &str, name: &str| {
        format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.71.0.0/16"
}}

resource "aws_subnet" "public" {{
  for_each   = {{ a = "10.71.1.0/24", b = "10.71.2.0/24" }}
  vpc_id     = aws_vpc.main.id
  cidr_block = each.value
}}

resource "aws_eip" "nat" {{
  domain = "vpc"
}}

resource "aws_nat_gateway" "nat" {{
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public["{subnet}"].id
  private_ip    = "{ip}"
  tags          = {{ Name = "{name}" }}
}}
"#
        )
    };
    let p = Project::new("nat");
    p.write("main.hcl", &stack("a", "10.71.1.50", "one"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let first = id(&p, "aws_nat_gateway.nat");
    let eip = id(&p, "aws_eip.nat");
    let n = nat(&first).await;
    assert_eq!(n.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(
        n.subnet_id(),
        Some(id(&p, "aws_subnet.public[\"a\"]").as_str())
    );
    assert_eq!(n.connectivity_type().map(|c| c.as_str()), Some("public"));
    assert_eq!(tag(n.tags(), "Name"), Some("one"));
    let addr = &n.nat_gateway_addresses()[0];
    assert_eq!(addr.allocation_id(), Some(eip.as_str()));
    assert_eq!(addr.private_ip(), Some("10.71.1.50"));
    let a = address(&eip).await.unwrap();
    assert_eq!(a.network_interface_id(), addr.network_interface_id());
    let state = p.state();
    let attrs = &state["resources"]["aws_nat_gateway.nat"]["attributes"];
    assert_eq!(attrs["public_ip"].as_str(), a.public_ip());
    assert_eq!(
        attrs["network_interface_id"].as_str(),
        addr.network_interface_id()
    );
    p.assert_no_changes();
    // The association the NAT gateway made is not drift on the address.
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    p.write("main.hcl", &stack("a", "10.71.1.50", "two"));
    plan_then_apply(&p, "aws_nat_gateway.nat", "will be updated in-place");
    assert_eq!(id(&p, "aws_nat_gateway.nat"), first);
    assert_eq!(tag(nat(&first).await.tags(), "Name"), Some("two"));

    // Another subnet is another NAT gateway; the address moves to it.
    p.write("main.hcl", &stack("b", "10.71.2.50", "two"));
    let plan = plan_then_apply(&p, "aws_nat_gateway.nat", "must be replaced");
    assert!(forces(&plan, "subnet_id"), "{plan}");
    assert!(forces(&plan, "private_ip"), "{plan}");
    let second = id(&p, "aws_nat_gateway.nat");
    assert_ne!(second, first);
    assert_eq!(
        nat(&first).await.state().map(|s| s.as_str()),
        Some("deleted")
    );
    let n = nat(&second).await;
    assert_eq!(
        n.subnet_id(),
        Some(id(&p, "aws_subnet.public[\"b\"]").as_str())
    );
    assert_eq!(
        address(&eip).await.unwrap().network_interface_id(),
        n.nat_gateway_addresses()[0].network_interface_id()
    );
    p.assert_no_changes();
    // The replaced gateway is not left behind as an unmanaged object.
    let drift = p.keel(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert_eq!(
        nat(&second).await.state().map(|s| s.as_str()),
        Some("deleted")
    );
    assert!(address(&eip).await.is_none(), "the address is released");
}

async fn endpoint(id: &str) -> Option<aws_sdk_ec2::types::VpcEndpoint> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_vpc_endpoints()
        .filters(filter("vpc-endpoint-id", id))
        .send()
        .await
        .unwrap();
    out.vpc_endpoints()
        .first()
        .filter(|e| e.state().map(|s| s.as_str()) != Some("deleted"))
        .cloned()
}

/// The gateway ids the prefix-list routes of a route table point at.
async fn prefix_list_routes(table: &str) -> Vec<(String, String)> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .unwrap();
    out.route_tables()[0]
        .routes()
        .iter()
        .filter_map(|r| {
            Some((
                r.destination_prefix_list_id()?.to_string(),
                r.gateway_id()?.to_string(),
            ))
        })
        .collect()
}

async fn prefix_list(service: &str) -> String {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_prefix_lists()
        .filters(filter("prefix-list-name", service))
        .send()
        .await
        .unwrap();
    out.prefix_lists()[0].prefix_list_id().unwrap().to_string()
}

fn actions(policy: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(policy).unwrap();
    doc["Statement"][0]["Action"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn vpc_endpoints_change_route_tables_policy_and_groups_in_place_and_are_replaced() {
    let stack = |service: &str, tables: &str, action: &str, group: &str| {
        format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.73.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.73.1.0/24"
}}

resource "aws_route_table" "private" {{
  for_each = toset(["a", "b"])
  vpc_id   = aws_vpc.main.id
}}

resource "aws_security_group" "endpoint" {{
  for_each = toset(["one", "two"])
  name     = "endpoint-${{each.key}}"
  vpc_id   = aws_vpc.main.id
}}

resource "aws_vpc_endpoint" "gateway" {{
  vpc_id          = aws_vpc.main.id
  service_name    = "com.amazonaws.us-east-1.{service}"
  route_table_ids = [{tables}]
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = "*", Action = "{action}", Resource = "*" }}]
  }})
}}

resource "aws_vpc_endpoint" "sts" {{
  vpc_id              = aws_vpc.main.id
  service_name        = "com.amazonaws.us-east-1.sts"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [aws_subnet.a.id]
  security_group_ids  = [aws_security_group.endpoint["{group}"].id]
  private_dns_enabled = false
}}
"#
        )
    };
    let one_table = r#"aws_route_table.private["a"].id"#;
    let two_tables = r#"aws_route_table.private["a"].id, aws_route_table.private["b"].id"#;
    let p = Project::new("vpce");
    p.write("main.hcl", &stack("s3", one_table, "s3:GetObject", "one"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let (rt_a, rt_b) = (
        id(&p, "aws_route_table.private[\"a\"]"),
        id(&p, "aws_route_table.private[\"b\"]"),
    );
    let first = id(&p, "aws_vpc_endpoint.gateway");
    let s3_pl = prefix_list("com.amazonaws.us-east-1.s3").await;
    let e = endpoint(&first).await.expect("the gateway endpoint exists");
    assert_eq!(e.vpc_endpoint_type().map(|t| t.as_str()), Some("Gateway"));
    assert_eq!(e.route_table_ids(), std::slice::from_ref(&rt_a));
    assert_eq!(actions(e.policy_document().unwrap()), "s3:GetObject");
    assert_eq!(
        tag(e.tags(), "keel:address"),
        Some("aws_vpc_endpoint.gateway")
    );
    assert_eq!(
        prefix_list_routes(&rt_a).await,
        [(s3_pl.clone(), first.clone())]
    );
    assert_eq!(prefix_list_routes(&rt_b).await, []);
    let state = p.state();
    let attrs = &state["resources"]["aws_vpc_endpoint.gateway"]["attributes"];
    assert_eq!(attrs["prefix_list_id"].as_str(), Some(s3_pl.as_str()));
    assert!(
        !attrs["cidr_blocks"].as_array().unwrap().is_empty(),
        "{attrs}"
    );
    assert_eq!(attrs["state"], "available");
    let sts = endpoint(&id(&p, "aws_vpc_endpoint.sts")).await.unwrap();
    assert_eq!(
        sts.subnet_ids(),
        [id(&p, "aws_subnet.a")],
        "an interface endpoint lives in its subnets"
    );
    assert_eq!(
        sts.groups()[0].group_id(),
        Some(id(&p, "aws_security_group.endpoint[\"one\"]").as_str())
    );
    assert_eq!(sts.private_dns_enabled(), Some(false));
    assert!(!sts.network_interface_ids().is_empty());
    p.assert_no_changes();

    // Route tables, the policy and security groups change in place.
    p.write("main.hcl", &stack("s3", two_tables, "s3:*", "two"));
    plan_then_apply(&p, "aws_vpc_endpoint.gateway", "will be updated in-place");
    assert_eq!(id(&p, "aws_vpc_endpoint.gateway"), first);
    let e = endpoint(&first).await.unwrap();
    let mut tables = e.route_table_ids().to_vec();
    tables.sort();
    let mut want = vec![rt_a.clone(), rt_b.clone()];
    want.sort();
    assert_eq!(tables, want);
    assert_eq!(actions(e.policy_document().unwrap()), "s3:*");
    assert_eq!(
        prefix_list_routes(&rt_b).await,
        [(s3_pl.clone(), first.clone())]
    );
    let sts = endpoint(&id(&p, "aws_vpc_endpoint.sts")).await.unwrap();
    assert_eq!(
        sts.groups()[0].group_id(),
        Some(id(&p, "aws_security_group.endpoint[\"two\"]").as_str())
    );
    p.assert_no_changes();

    // Another service is another endpoint.
    p.write("main.hcl", &stack("dynamodb", two_tables, "s3:*", "two"));
    let plan = plan_then_apply(&p, "aws_vpc_endpoint.gateway", "must be replaced");
    assert!(forces(&plan, "service_name"), "{plan}");
    let second = id(&p, "aws_vpc_endpoint.gateway");
    assert_ne!(second, first);
    assert!(
        endpoint(&first).await.is_none(),
        "the old endpoint is deleted"
    );
    let dynamo_pl = prefix_list("com.amazonaws.us-east-1.dynamodb").await;
    assert_eq!(
        prefix_list_routes(&rt_a).await,
        [(dynamo_pl, second.clone())],
        "the old endpoint's route went with it"
    );
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(endpoint(&second).await.is_none());
}

async fn acl(id: &str) -> Option<aws_sdk_ec2::types::NetworkAcl> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_network_acls()
        .filters(filter("network-acl-id", id))
        .send()
        .await
        .unwrap();
    out.network_acls().first().cloned()
}

/// The ACL a subnet is associated with.
async fn acl_of(subnet: &str) -> String {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_network_acls()
        .filters(filter("association.subnet-id", subnet))
        .send()
        .await
        .unwrap();
    out.network_acls()[0].network_acl_id().unwrap().to_string()
}

/// (egress, rule number, protocol, from port, icmp type) of one ACL entry.
type EntryKey = (bool, i32, String, Option<i32>, Option<i32>);

/// The entries keel manages, sorted.
fn entries(a: &aws_sdk_ec2::types::NetworkAcl) -> Vec<EntryKey> {
    let mut out: Vec<_> = a
        .entries()
        .iter()
        .filter(|e| e.rule_number() != Some(32767))
        .map(|e| {
            (
                e.egress().unwrap(),
                e.rule_number().unwrap(),
                e.protocol().unwrap().to_string(),
                e.port_range().and_then(|p| p.from()),
                e.icmp_type_code().and_then(|c| c.r#type()),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_acl_moves_subnets_and_entries_in_place_and_is_replaced_in_another_vpc() {
    let stack = |vpc: &str, subnets: &str, port: u16| {
        format!(
            r#"
resource "aws_vpc" "one" {{
  cidr_block = "10.74.0.0/16"
}}

resource "aws_vpc" "two" {{
  cidr_block = "10.75.0.0/16"
}}

resource "aws_subnet" "one" {{
  for_each   = {{ a = "10.74.1.0/24", b = "10.74.2.0/24" }}
  vpc_id     = aws_vpc.one.id
  cidr_block = each.value
}}

resource "aws_subnet" "two" {{
  vpc_id     = aws_vpc.two.id
  cidr_block = "10.75.1.0/24"
}}

resource "aws_network_acl" "private" {{
  vpc_id     = aws_vpc.{vpc}.id
  subnet_ids = [{subnets}]

  ingress {{
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    cidr_block = aws_vpc.{vpc}.cidr_block
    from_port  = {port}
    to_port    = {port}
  }}
  ingress {{
    rule_no    = 110
    action     = "allow"
    protocol   = "icmp"
    cidr_block = aws_vpc.{vpc}.cidr_block
    from_port  = 0
    to_port    = 0
    icmp_type  = 8
    icmp_code  = 0
  }}
  egress {{
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }}
  tags = {{ Name = "private" }}
}}
"#
        )
    };
    let p = Project::new("acl");
    p.write("main.hcl", &stack("one", r#"aws_subnet.one["a"].id"#, 443));
    p.keel(&["apply", "-auto-approve"]).ok();
    let first = id(&p, "aws_network_acl.private");
    let (a, b, c) = (
        id(&p, "aws_subnet.one[\"a\"]"),
        id(&p, "aws_subnet.one[\"b\"]"),
        id(&p, "aws_subnet.two"),
    );
    let default_one = acl_of(&b).await;
    assert_ne!(default_one, first);
    let cloud = acl(&first).await.expect("created");
    assert_eq!(cloud.vpc_id(), Some(id(&p, "aws_vpc.one").as_str()));
    assert_eq!(
        entries(&cloud),
        [
            (false, 100, "6".to_string(), Some(443), None),
            (false, 110, "1".to_string(), None, Some(8)),
            (true, 100, "-1".to_string(), None, None),
        ]
    );
    assert_eq!(acl_of(&a).await, first);
    assert_eq!(tag(cloud.tags(), "Name"), Some("private"));
    p.assert_no_changes();

    // Subnet a leaves (back to the VPC's default ACL), b joins, a port changes.
    p.write("main.hcl", &stack("one", r#"aws_subnet.one["b"].id"#, 8443));
    plan_then_apply(&p, "aws_network_acl.private", "will be updated in-place");
    assert_eq!(id(&p, "aws_network_acl.private"), first);
    assert_eq!(
        acl_of(&a).await,
        default_one,
        "a is back in the default ACL"
    );
    assert_eq!(acl_of(&b).await, first);
    let cloud = acl(&first).await.unwrap();
    assert!(
        entries(&cloud).contains(&(false, 100, "6".to_string(), Some(8443), None)),
        "{:?}",
        entries(&cloud)
    );
    p.assert_no_changes();

    // Another VPC is another ACL.
    p.write("main.hcl", &stack("two", "aws_subnet.two.id", 8443));
    let plan = plan_then_apply(&p, "aws_network_acl.private", "must be replaced");
    assert!(forces(&plan, "vpc_id"), "{plan}");
    let second = id(&p, "aws_network_acl.private");
    assert_ne!(second, first);
    assert!(acl(&first).await.is_none(), "the old ACL is deleted");
    assert_eq!(acl_of(&b).await, default_one, "its subnet went back first");
    assert_eq!(acl_of(&c).await, second);
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(acl(&second).await.is_none());
}

async fn flow_log(id: &str) -> Option<aws_sdk_ec2::types::FlowLog> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_flow_logs()
        .filter(filter("flow-log-id", id))
        .send()
        .await
        .unwrap();
    out.flow_logs().first().cloned()
}

/// moto stores a flow log and checks that its bucket exists, but never delivers a log
/// record: these checks are of what the API stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_flow_log_to_s3_is_created_retagged_replaced_and_deleted() {
    let stack = |bucket: &str, traffic: &str, name: &str| {
        format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.76.0.0/16"
}}

resource "aws_s3_bucket" "logs" {{
  bucket        = "{bucket}"
  force_destroy = true
}}

resource "aws_flow_log" "vpc" {{
  vpc_id                   = aws_vpc.main.id
  traffic_type             = "{traffic}"
  log_destination_type     = "s3"
  log_destination          = aws_s3_bucket.logs.arn
  max_aggregation_interval = 60
  tags                     = {{ Name = "{name}" }}
}}
"#
        )
    };
    let p = Project::new("flowlog");
    let bucket = p.stack.clone();
    p.write("main.hcl", &stack(&bucket, "ALL", "one"));
    p.keel(&["apply", "-auto-approve"]).ok();
    let first = id(&p, "aws_flow_log.vpc");
    let f = flow_log(&first).await.expect("created");
    assert_eq!(f.resource_id(), Some(id(&p, "aws_vpc.main").as_str()));
    assert_eq!(f.traffic_type().map(|t| t.as_str()), Some("ALL"));
    assert_eq!(f.log_destination_type().map(|t| t.as_str()), Some("s3"));
    assert_eq!(
        f.log_destination(),
        Some(format!("arn:aws:s3:::{bucket}").as_str())
    );
    assert_eq!(f.max_aggregation_interval(), Some(60));
    assert_eq!(tag(f.tags(), "Name"), Some("one"));
    assert_eq!(tag(f.tags(), "keel:address"), Some("aws_flow_log.vpc"));
    let state = p.state();
    assert_eq!(
        state["resources"]["aws_flow_log.vpc"]["attributes"]["arn"],
        format!("arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/{first}")
    );
    p.assert_no_changes();

    p.write("main.hcl", &stack(&bucket, "ALL", "two"));
    plan_then_apply(&p, "aws_flow_log.vpc", "will be updated in-place");
    assert_eq!(id(&p, "aws_flow_log.vpc"), first);
    assert_eq!(
        tag(flow_log(&first).await.unwrap().tags(), "Name"),
        Some("two")
    );

    p.write("main.hcl", &stack(&bucket, "REJECT", "two"));
    let plan = plan_then_apply(&p, "aws_flow_log.vpc", "must be replaced");
    assert!(forces(&plan, "traffic_type"), "{plan}");
    let second = id(&p, "aws_flow_log.vpc");
    assert_ne!(second, first);
    assert!(
        flow_log(&first).await.is_none(),
        "the old flow log is deleted"
    );
    assert_eq!(
        flow_log(&second)
            .await
            .unwrap()
            .traffic_type()
            .map(|t| t.as_str()),
        Some("REJECT")
    );
    p.assert_no_changes();

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(flow_log(&second).await.is_none());
}

#[test]
fn an_aws_refusal_names_its_code_the_call_and_the_resource() {
    let p = Project::new("nat-bad");
    p.write(
        "main.hcl",
        r#"
resource "aws_vpc" "main" {
  cidr_block = "10.79.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.79.1.0/24"
}

resource "aws_nat_gateway" "nat" {
  subnet_id         = aws_subnet.a.id
  connectivity_type = "private"
  private_ip        = "10.80.0.5"
}
"#,
    );
    let run = p.keel(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(out.contains("aws_nat_gateway.nat"), "{out}");
    assert!(
        out.contains("InvalidParameterValue: CreateNatGateway: The private IP address 10.80.0.5"),
        "{out}"
    );
    p.keel(&["destroy", "-auto-approve"]).ok();
}
