//! Network isolation: security group ingress open to the internet, GPU instances outside
//! private subnets, VPCs without flow logs. A subnet is private when no route of its route
//! table (through `aws_route_table_association` and `aws_route`) goes to an internet
//! gateway and it does not map public IPs on launch; an instance without a subnet lands in
//! the default VPC's public subnets.

use super::Hit;
use crate::guard::settings::RuleConfig;
use crate::guard::view::{Inventory, Planned, Target, first};
use crate::value::Value;

const ANYWHERE_V4: &str = "0.0.0.0/0";
const ANYWHERE_V6: &str = "::/0";

/// The ports an ingress rule opens.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ports {
    All,
    Range(i64, i64),
    /// A protocol without ports (ICMP): this rule leaves it alone.
    None,
}

fn ports(protocol: &Value, from: &Value, to: &Value) -> Ports {
    let n = |v: &Value| match v {
        Value::Number(n) => Some(*n as i64),
        _ => None,
    };
    match protocol
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "-1" | "all" => Ports::All,
        "tcp" | "udp" | "6" | "17" => match (n(from), n(to)) {
            (Some(a), Some(b)) if a <= 0 && b >= 65535 => Ports::All,
            (Some(a), Some(b)) => Ports::Range(a, b),
            _ => Ports::None,
        },
        _ => Ports::None,
    }
}

fn describe(protocol: &Value, ports: Ports) -> String {
    let p = protocol.as_str().unwrap_or("");
    match ports {
        Ports::Range(a, b) if a == b => format!("{p} port {a}"),
        Ports::Range(a, b) => format!("{p} ports {a}-{b}"),
        _ => "all ports".to_string(),
    }
}

fn allowed(rc: &RuleConfig, ports: Ports) -> bool {
    match ports {
        Ports::None => true,
        Ports::All => false,
        Ports::Range(a, b) => rc
            .allowed_ports
            .iter()
            .any(|&(x, y)| i64::from(x) <= a && b <= i64::from(y)),
    }
}

pub fn open_ingress(inv: &Inventory, rc: &RuleConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for g in inv.of_type("aws_security_group") {
        for rule in g.get("ingress").as_list().unwrap_or(&[]) {
            let sources: Vec<&str> = [ANYWHERE_V4, ANYWHERE_V6]
                .into_iter()
                .filter(|cidr| {
                    let key = if *cidr == ANYWHERE_V4 {
                        "cidr_blocks"
                    } else {
                        "ipv6_cidr_blocks"
                    };
                    rule.get(key).string_set().contains(*cidr)
                })
                .collect();
            if sources.is_empty() {
                continue;
            }
            let range = ports(
                rule.get("protocol"),
                rule.get("from_port"),
                rule.get("to_port"),
            );
            if allowed(rc, range) {
                continue;
            }
            hits.push(
                Hit::new(
                    g.addr,
                    format!(
                        "ingress from {} on {}",
                        sources.join(" and "),
                        describe(rule.get("protocol"), range)
                    ),
                )
                .at("ingress"),
            );
        }
    }
    for r in inv.of_type("aws_vpc_security_group_ingress_rule") {
        let source = if r.get("cidr_ipv4").as_str() == Some(ANYWHERE_V4) {
            ANYWHERE_V4
        } else if r.get("cidr_ipv6").as_str() == Some(ANYWHERE_V6) {
            ANYWHERE_V6
        } else {
            continue;
        };
        let range = ports(r.get("ip_protocol"), r.get("from_port"), r.get("to_port"));
        if allowed(rc, range) {
            continue;
        }
        let at = if source == ANYWHERE_V4 {
            "cidr_ipv4"
        } else {
            "cidr_ipv6"
        };
        hits.push(
            Hit::new(
                r.addr,
                format!(
                    "ingress from {source} on {}",
                    describe(r.get("ip_protocol"), range)
                ),
            )
            .at(at),
        );
    }
    hits
}

pub fn flow_logs(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let mut logged = Vec::new();
    for f in inv.of_type("aws_flow_log") {
        match inv.resolve(f.get("vpc_id"), &["aws_vpc"], &["id"]) {
            Target::Resource(v, _) => logged.push(v.addr.clone()),
            Target::Unknown if !f.get("vpc_id").is_null() => return Vec::new(),
            _ => {}
        }
    }
    inv.of_type("aws_vpc")
        .filter(|v| !logged.contains(v.addr))
        .map(|v| {
            Hit::new(v.addr, "no flow log records the VPC's traffic").fix(format!(
                "add an aws_flow_log with vpc_id = {}.{}.id and traffic_type = \"ALL\"",
                v.addr.type_, v.addr.name
            ))
        })
        .collect()
}

/// GPU and other accelerator families: p4d, g6e, trn1, inf2, dl1...
pub fn is_accelerated(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or("");
    let mut chars = family.chars();
    let first = chars.next();
    let second = chars.next();
    matches!((first, second), (Some('p' | 'g'), Some(c)) if c.is_ascii_digit())
        || family.starts_with("gr")
        || family.starts_with("trn")
        || family.starts_with("inf")
        || family.starts_with("dl")
}

/// The launch template an instance names, when it names one the plan holds.
pub fn launch_template<'i, 'a>(inv: &'i Inventory<'a>, instance: &Planned) -> Target<'i, 'a> {
    let Some(lt) = instance.block("launch_template") else {
        return Target::Outside;
    };
    match inv.resolve(lt.get("id"), &["aws_launch_template"], &["id"]) {
        Target::Outside if lt.get("id").is_null() => {
            inv.resolve(lt.get("name"), &["aws_launch_template"], &["name"])
        }
        other => other,
    }
}

/// An instance's type: its own, or its launch template's.
pub fn instance_type(inv: &Inventory, instance: &Planned) -> Option<String> {
    if let Some(t) = instance.get("instance_type").as_str() {
        return Some(t.to_string());
    }
    match launch_template(inv, instance) {
        Target::Resource(lt, _) => lt.get("instance_type").as_str().map(str::to_string),
        _ => None,
    }
}

/// Why a subnet is public, if it is; `None` when it is private or cannot be told.
fn public_subnet(inv: &Inventory, subnet: &Planned) -> Option<String> {
    if subnet.get("map_public_ip_on_launch").as_bool() == Some(true) {
        return Some(format!("{} maps public IPs on launch", subnet.addr));
    }
    let mut tables = Vec::new();
    for a in inv.of_type("aws_route_table_association") {
        if let Target::Resource(s, _) = inv.resolve(a.get("subnet_id"), &["aws_subnet"], &["id"])
            && s.addr == subnet.addr
            && let Target::Resource(t, _) =
                inv.resolve(a.get("route_table_id"), &["aws_route_table"], &["id"])
        {
            tables.push(t.addr.clone());
        }
    }
    for r in inv.of_type("aws_route") {
        let Target::Resource(t, _) =
            inv.resolve(r.get("route_table_id"), &["aws_route_table"], &["id"])
        else {
            continue;
        };
        if !tables.contains(t.addr) {
            continue;
        }
        let gateway = r.get("gateway_id");
        let to_igw = match inv.resolve(gateway, &["aws_internet_gateway"], &["id"]) {
            Target::Resource(g, _) => Some(g.addr.to_string()),
            Target::Outside => gateway
                .as_str()
                .filter(|g| g.starts_with("igw-"))
                .map(str::to_string),
            Target::Unknown => None,
        };
        if let Some(igw) = to_igw {
            return Some(format!(
                "{} routes {} to {igw} through {}",
                subnet.addr,
                r.get("destination_cidr_block")
                    .as_str()
                    .unwrap_or("traffic"),
                t.addr
            ));
        }
    }
    None
}

pub fn gpu_private(inv: &Inventory, _: &RuleConfig) -> Vec<Hit> {
    let mut hits = Vec::new();
    for i in inv.of_type("aws_instance") {
        let Some(itype) = instance_type(inv, i).filter(|t| is_accelerated(t)) else {
            continue;
        };
        let template = match launch_template(inv, i) {
            Target::Resource(lt, _) => Some(lt),
            _ => None,
        };
        let nic = template.and_then(|lt| first(lt.get("network_interfaces")));
        let public_ip = i.get("associate_public_ip_address").as_bool() == Some(true)
            || nic.is_some_and(|n| n.get("associate_public_ip_address").as_bool() == Some(true));
        if public_ip {
            hits.push(
                Hit::new(i.addr, format!("{itype} instance gets a public IP address"))
                    .at("associate_public_ip_address"),
            );
        }
        let mut subnet = i.get("subnet_id");
        if subnet.is_null()
            && let Some(n) = nic
        {
            subnet = n.get("subnet_id");
        }
        if subnet.is_null() {
            if template.is_some() || i.block("launch_template").is_none() {
                hits.push(
                    Hit::new(i.addr, format!("{itype} instance names no subnet, so it launches into the default VPC, whose subnets are public"))
                        .fix("set subnet_id to a private subnet of the stack's VPC"),
                );
            }
            continue;
        }
        if let Target::Resource(s, _) = inv.resolve(subnet, &["aws_subnet"], &["id"])
            && let Some(why) = public_subnet(inv, s)
        {
            hits.push(
                Hit::new(
                    i.addr,
                    format!("{itype} instance runs in a public subnet: {why}"),
                )
                .at("subnet_id"),
            );
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::{hits, hits_with, lines};
    use super::is_accelerated;

    fn group(rule: &str) -> String {
        format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.0.0.0/16"
}}

resource "aws_security_group" "web" {{
  name   = "web"
  vpc_id = aws_vpc.main.id
  ingress {{
    {rule}
  }}
}}
"#
        )
    }

    #[test]
    fn ingress_from_anywhere_denies_unless_the_port_is_allowed() {
        let ssh = group(
            r#"from_port = 22
    to_port = 22
    protocol = "tcp"
    cidr_blocks = ["0.0.0.0/0"]"#,
        );
        assert_eq!(
            hits("sg-open-ingress", &ssh),
            ["aws_security_group.web: ingress from 0.0.0.0/0 on tcp port 22"]
        );
        let allow = |ports: Vec<(u16, u16)>| {
            move |rc: &mut crate::guard::settings::RuleConfig| rc.allowed_ports = ports
        };
        assert!(hits_with("sg-open-ingress", &ssh, allow(vec![(22, 22)])).is_empty());
        assert_eq!(
            hits_with("sg-open-ingress", &ssh, allow(vec![(443, 443)])).len(),
            1
        );
        let inside = group(
            r#"from_port = 22
    to_port = 22
    protocol = "tcp"
    cidr_blocks = [aws_vpc.main.cidr_block]"#,
        );
        assert!(hits("sg-open-ingress", &inside).is_empty());
        let all = group(
            r#"from_port = 0
    to_port = 0
    protocol = "-1"
    ipv6_cidr_blocks = ["::/0"]"#,
        );
        assert_eq!(
            lines(hits_with("sg-open-ingress", &all, allow(vec![(0, 65535)]))),
            ["aws_security_group.web: ingress from ::/0 on all ports"]
        );
    }

    #[test]
    fn standalone_ingress_rules_are_checked_too() {
        let rule = |cidr: &str| {
            format!(
                r#"
resource "aws_security_group" "web" {{
  name = "web"
}}

resource "aws_vpc_security_group_ingress_rule" "https" {{
  security_group_id = aws_security_group.web.id
  cidr_ipv4         = "{cidr}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}}
"#
            )
        };
        assert_eq!(
            hits("sg-open-ingress", &rule("0.0.0.0/0")),
            ["aws_vpc_security_group_ingress_rule.https: ingress from 0.0.0.0/0 on tcp port 443"]
        );
        assert!(hits("sg-open-ingress", &rule("10.0.0.0/8")).is_empty());
    }

    const NET: &str = r#"
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_internet_gateway" "igw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}

resource "aws_subnet" "private" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.2.0/24"
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.igw.id
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_flow_log" "main" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::flow-logs"
}
"#;

    fn node(extra: &str) -> String {
        format!(
            r#"{NET}
resource "aws_instance" "node" {{
  ami           = "ami-12345678"
  instance_type = "p5.48xlarge"
  {extra}
}}
"#
        )
    }

    #[test]
    fn a_gpu_instance_in_a_private_subnet_passes() {
        assert!(
            hits(
                "gpu-private-subnet",
                &node("subnet_id = aws_subnet.private.id")
            )
            .is_empty()
        );
    }

    #[test]
    fn a_gpu_instance_in_a_subnet_routed_to_an_internet_gateway_denies() {
        assert_eq!(
            hits(
                "gpu-private-subnet",
                &node("subnet_id = aws_subnet.public.id")
            ),
            [
                "aws_instance.node: p5.48xlarge instance runs in a public subnet: aws_subnet.public routes 0.0.0.0/0 to aws_internet_gateway.igw through aws_route_table.public"
            ]
        );
    }

    #[test]
    fn a_public_ip_or_no_subnet_denies() {
        assert_eq!(
            hits(
                "gpu-private-subnet",
                &node("subnet_id = aws_subnet.private.id\n  associate_public_ip_address = true")
            ),
            ["aws_instance.node: p5.48xlarge instance gets a public IP address"]
        );
        assert_eq!(
            hits("gpu-private-subnet", &node("")),
            [
                "aws_instance.node: p5.48xlarge instance names no subnet, so it launches into the default VPC, whose subnets are public"
            ]
        );
        let mapping = NET.replace(
            "cidr_block = \"10.0.2.0/24\"",
            "cidr_block = \"10.0.2.0/24\"\n  map_public_ip_on_launch = true",
        );
        let hcl = format!(
            "{mapping}\nresource \"aws_instance\" \"node\" {{\n  instance_type = \"g6e.xlarge\"\n  subnet_id = aws_subnet.private.id\n}}\n"
        );
        assert_eq!(
            hits("gpu-private-subnet", &hcl),
            [
                "aws_instance.node: g6e.xlarge instance runs in a public subnet: aws_subnet.private maps public IPs on launch"
            ]
        );
        // A CPU instance is not this rule's business.
        let cpu = node("").replace("p5.48xlarge", "m7i.large");
        assert!(hits("gpu-private-subnet", &cpu).is_empty());
    }

    #[test]
    fn the_instance_type_and_subnet_may_come_from_the_launch_template() {
        let hcl = format!(
            r#"{NET}
resource "aws_launch_template" "gpu" {{
  name          = "gpu"
  instance_type = "trn1.32xlarge"
  network_interfaces {{
    subnet_id = aws_subnet.public.id
  }}
}}

resource "aws_instance" "node" {{
  launch_template {{
    id = aws_launch_template.gpu.id
  }}
}}
"#
        );
        assert_eq!(
            hits("gpu-private-subnet", &hcl),
            [
                "aws_instance.node: trn1.32xlarge instance runs in a public subnet: aws_subnet.public routes 0.0.0.0/0 to aws_internet_gateway.igw through aws_route_table.public"
            ]
        );
    }

    #[test]
    fn vpcs_need_a_flow_log() {
        assert!(hits("vpc-flow-logs", NET).is_empty());
        let without = NET.split("resource \"aws_flow_log\"").next().unwrap();
        assert_eq!(
            hits("vpc-flow-logs", without),
            ["aws_vpc.main: no flow log records the VPC's traffic"]
        );
    }

    #[test]
    fn accelerated_families() {
        for t in [
            "p4d.24xlarge",
            "p5en.48xlarge",
            "g5.xlarge",
            "g6e.2xlarge",
            "trn1.32xlarge",
            "inf2.xlarge",
            "dl1.24xlarge",
        ] {
            assert!(is_accelerated(t), "{t}");
        }
        for t in ["m7g.large", "c7i.xlarge", "t3.micro", "r6i.large"] {
            assert!(!is_accelerated(t), "{t}");
        }
    }
}
