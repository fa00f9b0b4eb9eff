//! The price table: on-demand prices shipped with keel (`prices-us-east-1.json`, with the
//! date, region and source of its figures), with entries a user's file overrides. A user
//! file has the same shape; every field is optional and its entries replace or add to
//! the shipped ones.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

const BUILTIN: &str = include_str!("prices-us-east-1.json");

/// Prices in one region, in US dollars.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    pub region: String,
    /// When the prices were in effect.
    pub date: String,
    pub source: String,
    /// 730: a month of hours, as AWS's calculator counts it.
    pub hours_per_month: f64,
    /// Spot estimate = on-demand x (1 - spot_discount).
    pub spot_discount: f64,
    /// On-demand Linux price per hour, by instance type.
    pub instance_hour: BTreeMap<String, f64>,
    /// Price per GB-month, by EBS volume type.
    pub ebs_gb_month: BTreeMap<String, f64>,
    pub nat_gateway_hour: f64,
    /// A public IPv4 address (an Elastic IP), in use or not.
    pub public_ipv4_hour: f64,
    pub kms_key_month: f64,
    /// An interface VPC endpoint, per availability zone (subnet).
    pub vpc_interface_endpoint_hour: f64,
    /// The user's file whose entries were merged in, if any.
    pub overrides: Option<String>,
}

/// The JSON shape, shipped and user files alike.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    region: Option<String>,
    #[allow(dead_code)]
    currency: Option<String>,
    date: Option<String>,
    #[allow(dead_code)]
    compiled: Option<String>,
    source: Option<String>,
    #[allow(dead_code)]
    notes: Option<String>,
    hours_per_month: Option<f64>,
    spot_discount: Option<f64>,
    #[serde(default)]
    instance_hour: BTreeMap<String, f64>,
    #[serde(default)]
    ebs_gb_month: BTreeMap<String, f64>,
    nat_gateway_hour: Option<f64>,
    public_ipv4_hour: Option<f64>,
    kms_key_month: Option<f64>,
    vpc_interface_endpoint_hour: Option<f64>,
}

impl PriceTable {
    /// The table shipped with keel.
    pub fn builtin() -> PriceTable {
        let f: PriceFile = serde_json::from_str(BUILTIN).expect("the shipped price table parses");
        PriceTable {
            region: f.region.unwrap_or_default(),
            date: f.date.unwrap_or_default(),
            source: f.source.unwrap_or_default(),
            hours_per_month: f.hours_per_month.unwrap_or(730.0),
            spot_discount: f.spot_discount.unwrap_or(0.6),
            instance_hour: f.instance_hour,
            ebs_gb_month: f.ebs_gb_month,
            nat_gateway_hour: f.nat_gateway_hour.unwrap_or_default(),
            public_ipv4_hour: f.public_ipv4_hour.unwrap_or_default(),
            kms_key_month: f.kms_key_month.unwrap_or_default(),
            vpc_interface_endpoint_hour: f.vpc_interface_endpoint_hour.unwrap_or_default(),
            overrides: None,
        }
    }

    /// Merges a user's price file over this table. The error is a sentence naming the
    /// file.
    pub fn merge_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the prices file {}: {e}", path.display()))?;
        self.merge_json(&text).map_err(|e| {
            format!(
                "the prices file {} is not a price table: {e}",
                path.display()
            )
        })?;
        self.overrides = Some(path.display().to_string());
        Ok(())
    }

    /// Merges a price table given as JSON text.
    pub fn merge_json(&mut self, text: &str) -> Result<(), String> {
        let f: PriceFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let negative = f
            .instance_hour
            .iter()
            .chain(&f.ebs_gb_month)
            .find(|(_, v)| **v < 0.0 || !v.is_finite());
        if let Some((k, v)) = negative {
            return Err(format!("the price of {k} is {v}"));
        }
        if let Some(d) = f.spot_discount
            && !(0.0..1.0).contains(&d)
        {
            return Err(format!("spot_discount must be from 0 to below 1, got {d}"));
        }
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = f.$field { self.$field = v; } )* };
        }
        set!(
            region,
            date,
            source,
            hours_per_month,
            spot_discount,
            nat_gateway_hour,
            public_ipv4_hour,
            kms_key_month,
            vpc_interface_endpoint_hour
        );
        self.instance_hour.extend(f.instance_hour);
        self.ebs_gb_month.extend(f.ebs_gb_month);
        Ok(())
    }

    pub fn instance(&self, instance_type: &str) -> Option<f64> {
        self.instance_hour.get(instance_type).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_covers_the_gpu_families_first() {
        let t = PriceTable::builtin();
        assert_eq!(t.region, "us-east-1");
        assert_eq!(t.hours_per_month, 730.0);
        for it in [
            "p4d.24xlarge",
            "p4de.24xlarge",
            "p5.48xlarge",
            "p5en.48xlarge",
            "g5.xlarge",
            "g6.xlarge",
            "g6e.xlarge",
            "trn1.32xlarge",
            "inf2.xlarge",
            "m7i.large",
        ] {
            assert!(t.instance(it).is_some_and(|p| p > 0.0), "{it}");
        }
        assert!(t.ebs_gb_month.contains_key("gp3"));
        assert!(t.nat_gateway_hour > 0.0 && t.public_ipv4_hour > 0.0 && t.kms_key_month > 0.0);
    }

    #[test]
    fn a_user_file_overrides_and_adds_entries() {
        let mut t = PriceTable::builtin();
        let gp3 = t.ebs_gb_month["gp3"];
        t.merge_json(
            r#"{"region": "eu-west-1", "instance_hour": {"p5.48xlarge": 60.0, "p5e.48xlarge": 70.0}, "spot_discount": 0.5}"#,
        )
        .unwrap();
        assert_eq!(t.instance("p5.48xlarge"), Some(60.0));
        assert_eq!(t.instance("p5e.48xlarge"), Some(70.0));
        assert_eq!(t.region, "eu-west-1");
        assert_eq!(t.spot_discount, 0.5);
        assert_eq!(t.ebs_gb_month["gp3"], gp3, "untouched entries stay");
        assert!(
            t.merge_json(r#"{"instance_hours": {}}"#).is_err(),
            "misspelt field"
        );
        assert!(t.merge_json(r#"{"instance_hour": {"x": -1}}"#).is_err());
    }
}
