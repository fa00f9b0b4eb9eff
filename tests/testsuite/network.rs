//! VPC routing types against moto: internet gateway, route table, route, association.
//! Created, read back through the SDK, updated in place, replaced, destroyed.

use crate::fixture::Project;
use crate::moto::{moto, stack_filter};

fn stack(rt_tag: &str, dest: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.70.0.0/16"
}}

resource "aws_subnet" "public" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.70.1.0/24"
}}

resource "aws_internet_gateway" "gw" {{
  vpc_id = aws_vpc.main.id
}}

resource "aws_route_table" "public" {{
  vpc_id = aws_vpc.main.id
  tags = {{ Name = "{rt_tag}" }}
}}

resource "aws_route" "out" {{
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "{dest}"
  gateway_id             = aws_internet_gateway.gw.id
}}

resource "aws_route_table_association" "public" {{
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}}
"#
    )
}

async fn route_table(stack: &str) -> Option<aws_sdk_ec2::types::RouteTable> {
    let ec2 = moto().ec2().await;
    let out = ec2
        .describe_route_tables()
        .filters(stack_filter(stack))
        .send()
        .await
        .unwrap();
    out.route_tables().first().cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn routing_is_created_updated_replaced_and_destroyed() {
    let p = Project::new("routing");
    p.write("main.hcl", &stack("public", "0.0.0.0/0"));
    p.keel(&["apply", "-auto-approve"]).ok();

    let state = p.state();
    let id = |addr: &str| state["resources"][addr]["id"].as_str().unwrap().to_string();
    let ec2 = moto().ec2().await;
    let igws = ec2
        .describe_internet_gateways()
        .internet_gateway_ids(id("aws_internet_gateway.gw"))
        .send()
        .await
        .unwrap();
    let igw = &igws.internet_gateways()[0];
    assert_eq!(
        igw.attachments()[0].vpc_id(),
        Some(id("aws_vpc.main").as_str())
    );
    let rt = route_table(&p.stack)
        .await
        .expect("route table tagged with the stack");
    assert_eq!(
        rt.route_table_id(),
        Some(id("aws_route_table.public").as_str())
    );
    let gw_route = |rt: &aws_sdk_ec2::types::RouteTable, cidr: &str| {
        rt.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(cidr))
            .and_then(|r| r.gateway_id().map(str::to_string))
    };
    assert_eq!(
        gw_route(&rt, "0.0.0.0/0"),
        Some(id("aws_internet_gateway.gw"))
    );
    assert!(
        rt.associations()
            .iter()
            .any(|a| a.subnet_id() == Some(id("aws_subnet.public").as_str())),
        "the subnet is associated"
    );
    let again = p.keel(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        again.code, 0,
        "converged after apply:\n{}{}",
        again.stdout, again.stderr
    );

    // A tag on the route table updates in place; a new destination replaces the route.
    p.write("main.hcl", &stack("egress", "0.0.0.0/1"));
    let plan = p.keel(&["plan"]).ok();
    assert!(
        plan.stdout
            .contains("# aws_route_table.public will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("# aws_route.out must be replaced"),
        "{}",
        plan.stdout
    );
    p.keel(&["apply", "-auto-approve"]).ok();
    let rt = route_table(&p.stack).await.unwrap();
    assert_eq!(
        rt.route_table_id(),
        Some(id("aws_route_table.public").as_str()),
        "same table"
    );
    assert!(
        rt.tags()
            .iter()
            .any(|t| t.key() == Some("Name") && t.value() == Some("egress"))
    );
    assert_eq!(
        gw_route(&rt, "0.0.0.0/1"),
        Some(id("aws_internet_gateway.gw"))
    );
    assert_eq!(gw_route(&rt, "0.0.0.0/0"), None, "the old route is gone");

    p.keel(&["destroy", "-auto-approve"]).ok();
    assert!(route_table(&p.stack).await.is_none());
    let left = ec2
        .describe_internet_gateways()
        .filters(stack_filter(&p.stack))
        .send()
        .await
        .unwrap();
    assert!(left.internet_gateways().is_empty());
}
