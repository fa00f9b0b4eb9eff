//! Cost: the planned resources + a [`PriceTable`] -> [`Estimate`], what the stack costs
//! per hour and per month before and after the plan, resource by resource. A month is
//! 730 hours. Spot instances are estimated from the on-demand price less the table's
//! spot discount and marked as estimates. Usage (S3 storage, NAT data processing,
//! transfer) is not estimated; a type the table has no price for is "price unknown",
//! never $0, and the totals say how many they leave out.
//!
//! Priced: `aws_instance` (its type, or its launch template's; plus its root volume and
//! the template's EBS volumes when their size is known), `aws_nat_gateway`, `aws_eip`,
//! `aws_kms_key`, interface `aws_vpc_endpoint`s (one per subnet).

pub mod money;
pub mod prices;

pub use prices::PriceTable;

use crate::addr::ResourceAddr;
use crate::guard::rules::network::{instance_type, launch_template};
use crate::guard::view::{Inventory, Planned, Target, first};
use crate::plan::{Action, Plan};
use crate::value::Value;
use std::collections::BTreeMap;

/// The price of one resource, on one side of the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Priced {
    Known {
        hourly: f64,
        /// A spot estimate, not a list price.
        estimate: bool,
        /// What is priced: `p5.48xlarge spot + 500 GB gp3`.
        what: String,
    },
    /// It costs money, but the table cannot say how much.
    Unknown { what: String, why: String },
}

impl Priced {
    pub fn hourly(&self) -> Option<f64> {
        match self {
            Priced::Known { hourly, .. } => Some(*hourly),
            Priced::Unknown { .. } => None,
        }
    }

    pub fn what(&self) -> &str {
        match self {
            Priced::Known { what, .. } | Priced::Unknown { what, .. } => what,
        }
    }

    pub fn is_estimate(&self) -> bool {
        matches!(self, Priced::Known { estimate: true, .. })
    }
}

/// One priced resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub addr: ResourceAddr,
    pub action: Action,
    /// What it costs now (from state); `None` when it does not exist yet or is free.
    pub before: Option<Priced>,
    /// What it costs once applied; `None` when deleted or free.
    pub after: Option<Priced>,
}

/// A side's total.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Total {
    pub hourly: f64,
    /// Some of it is a spot estimate.
    pub estimate: bool,
    /// Resources with no price, left out of `hourly`.
    pub unpriced: usize,
}

/// The whole estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub lines: Vec<Line>,
    pub before: Total,
    pub after: Total,
    pub region: String,
    pub date: String,
    pub source: String,
    pub overrides: Option<String>,
    pub hours_per_month: f64,
    pub spot_discount: f64,
    /// Caveats: usage not estimated, prices from another region.
    pub notes: Vec<String>,
    /// Spend after the plan per cost-allocation tag: key -> value -> hourly (see
    /// [`by_tag`]); resources without the tag under "(untagged)".
    pub by_tag: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Estimate {
    pub fn monthly(&self, hourly: f64) -> f64 {
        hourly * self.hours_per_month
    }

    /// After minus before, per month.
    pub fn delta_monthly(&self) -> f64 {
        self.monthly(self.after.hourly - self.before.hourly)
    }

    pub fn has_estimates(&self) -> bool {
        self.before.estimate || self.after.estimate
    }
}

/// Prices every resource of the plan, before (as state holds it) and after (as planned).
pub fn estimate(
    plan: &Plan,
    inv: &Inventory,
    table: &PriceTable,
    stack_region: Option<&str>,
) -> Estimate {
    let mut lines = Vec::new();
    let (mut before, mut after) = (Total::default(), Total::default());
    let mut notes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in &plan.changes {
        let b = c
            .before
            .as_ref()
            .filter(|_| c.action != Action::Create)
            .and_then(|v| price(&c.addr.type_, v, None, table));
        let a = inv.get(&c.addr).and_then(|p| price_planned(p, inv, table));
        if b.is_none() && a.is_none() {
            continue;
        }
        for (side, total) in [(&b, &mut before), (&a, &mut after)] {
            match side {
                Some(Priced::Known {
                    hourly, estimate, ..
                }) => {
                    total.hourly += hourly;
                    total.estimate |= estimate;
                }
                Some(Priced::Unknown { .. }) => total.unpriced += 1,
                None => {}
            }
        }
        for p in [&b, &a].into_iter().flatten() {
            let note = match c.addr.type_.as_str() {
                "aws_nat_gateway" => Some(format!(
                    "NAT gateway data processing (per GB) is not estimated: only the {}/h per gateway.",
                    money::usd_hour(table.nat_gateway_hour)
                )),
                "aws_instance" if p.hourly().is_some() => Some(
                    "Instance prices are on-demand Linux; data transfer and snapshots are not estimated.".to_string(),
                ),
                _ => None,
            };
            if let Some(n) = note
                && seen.insert(n.clone())
            {
                notes.push(n);
            }
        }
        lines.push(Line {
            addr: c.addr.clone(),
            action: c.action,
            before: b,
            after: a,
        });
    }
    lines.sort_by(|x, y| x.addr.cmp(&y.addr));
    if let Some(region) = stack_region
        && region != table.region
        && !lines.is_empty()
    {
        notes.push(format!(
            "The prices are {}'s; the stack deploys to {region}, where they differ. Point cost {{ prices_file = \"...\" }} at a table for {region}.",
            table.region
        ));
    }
    Estimate {
        lines,
        before,
        after,
        region: table.region.clone(),
        date: table.date.clone(),
        source: table.source.clone(),
        overrides: table.overrides.clone(),
        hours_per_month: table.hours_per_month,
        spot_discount: table.spot_discount,
        notes,
        by_tag: BTreeMap::new(),
    }
}

/// The value a tag has when untagged resources are grouped.
pub const UNTAGGED: &str = "(untagged)";

/// Groups the after-plan spend by the values of each tag in `keys` (e.g. team,
/// experiment): what an experiment costs per hour. A resource's tags are its own `tags`
/// and its provider's default tags.
pub fn by_tag(
    e: &Estimate,
    inv: &Inventory,
    keys: &[String],
) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for l in &e.lines {
        let (Some(hourly), Some(p)) = (l.after.as_ref().and_then(Priced::hourly), inv.get(&l.addr))
        else {
            continue;
        };
        for key in keys {
            let own = p.get("tags").get(key).as_str().map(str::to_string);
            let default = inv
                .provider_of(p)
                .and_then(|s| s.default_tags.get(key).cloned());
            let value = own
                .or(default)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| UNTAGGED.to_string());
            *out.entry(key.clone())
                .or_default()
                .entry(value)
                .or_default() += hourly;
        }
    }
    out
}

/// A planned resource's price, its launch template consulted.
fn price_planned(p: &Planned, inv: &Inventory, table: &PriceTable) -> Option<Priced> {
    price(p.type_(), &p.value, Some((p, inv)), table)
}

/// The price of a resource whose value is `v`. `planned` gives access to the launch
/// template an instance names.
fn price(
    type_: &str,
    v: &Value,
    planned: Option<(&Planned, &Inventory)>,
    table: &PriceTable,
) -> Option<Priced> {
    let per_month = |m: f64| m / table.hours_per_month;
    match type_ {
        "aws_instance" => Some(instance(v, planned, table)),
        "aws_nat_gateway" => Some(Priced::Known {
            hourly: table.nat_gateway_hour,
            estimate: false,
            what: "NAT gateway".into(),
        }),
        "aws_eip" => Some(Priced::Known {
            hourly: table.public_ipv4_hour,
            estimate: false,
            what: "Elastic IP (public IPv4)".into(),
        }),
        "aws_kms_key" => Some(Priced::Known {
            hourly: per_month(table.kms_key_month),
            estimate: false,
            what: "KMS key".into(),
        }),
        "aws_vpc_endpoint" if v.get("vpc_endpoint_type").as_str() == Some("Interface") => {
            Some(match v.get("subnet_ids") {
                Value::List(s) => {
                    let n = s.len().max(1);
                    Priced::Known {
                        hourly: table.vpc_interface_endpoint_hour * n as f64,
                        estimate: false,
                        what: format!("interface endpoint in {n} subnet(s)"),
                    }
                }
                _ => Priced::Unknown {
                    what: "interface endpoint".into(),
                    why: "its subnets are known only after apply".into(),
                },
            })
        }
        _ => None,
    }
}

fn instance(v: &Value, planned: Option<(&Planned, &Inventory)>, table: &PriceTable) -> Priced {
    let template = planned.and_then(|(p, inv)| match launch_template(inv, p) {
        Target::Resource(lt, _) => Some(lt),
        _ => None,
    });
    let itype = match planned {
        Some((p, inv)) => instance_type(inv, p),
        None => v.get("instance_type").as_str().map(str::to_string),
    };
    let Some(itype) = itype else {
        return Priced::Unknown {
            what: "instance".into(),
            why: "its instance type is known only after apply".into(),
        };
    };
    let Some(on_demand) = table.instance(&itype) else {
        return Priced::Unknown {
            what: itype.clone(),
            why: format!("the price table has no price for {itype}"),
        };
    };
    let market = |v: &Value| {
        first(v.get("instance_market_options"))
            .map(|m| m.get("market_type").as_str() == Some("spot"))
            .unwrap_or(false)
    };
    let spot = market(v)
        || v.get("instance_lifecycle").as_str() == Some("spot")
        || template.is_some_and(|lt| market(&lt.value));
    let mut hourly = if spot {
        on_demand * (1.0 - table.spot_discount)
    } else {
        on_demand
    };
    let mut what = if spot {
        format!("{itype} spot")
    } else {
        itype.clone()
    };
    let mut volumes: Vec<(f64, String)> = Vec::new();
    if let Some(root) = first(v.get("root_block_device")) {
        volumes.extend(volume(root));
    }
    if let Some(lt) = template {
        for m in lt.get("block_device_mappings").as_list().unwrap_or(&[]) {
            if let Some(ebs) = first(m.get("ebs")) {
                volumes.extend(volume(ebs));
            }
        }
    }
    for (gb, kind) in volumes {
        if let Some(p) = table.ebs_gb_month.get(&kind) {
            hourly += gb * p / table.hours_per_month;
            what.push_str(&format!(" + {gb} GB {kind}"));
        }
    }
    Priced::Known {
        hourly,
        estimate: spot,
        what,
    }
}

/// (size in GB, volume type) when the size is known; gp3 when the type is not said.
fn volume(v: &Value) -> Option<(f64, String)> {
    let Value::Number(gb) = v.get("volume_size") else {
        return None;
    };
    let kind = v.get("volume_type").as_str().unwrap_or("gp3").to_string();
    Some((*gb, kind))
}

#[cfg(test)]
mod tests;
