//! Data sources during apply: what the plan read is used as read; what the plan deferred
//! (arguments unknown then, or a `depends_on` with pending changes) is read now, once
//! everything it depends on is applied, through the provider's read path.

use super::{Event, Progress};
use crate::addr::DataAddr;
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{InstanceValue, NodeValue, Shape};
use crate::graph::Node;
use crate::plan::Plan;
use crate::providers::{Provider, ProviderSet};
use std::time::Instant;

/// The values references see for one data node's instances.
pub(super) async fn resolve<P: Provider>(
    config: &Config,
    node: Node,
    plan: &Plan,
    shape: Shape,
    instances: Vec<InstanceValue>,
    providers: &ProviderSet<P>,
    progress: &mut dyn Progress,
) -> Result<NodeValue, Diagnostics> {
    let (data, provider_addr) = node.data_in(config).expect("a data node");
    let mut seen = Vec::with_capacity(instances.len());
    for mut instance in instances {
        let addr = DataAddr(instance.addr.clone());
        let planned = plan.data_reads.iter().find(|r| r.addr == addr);
        match planned {
            Some(read) if read.deferred.is_none() => {
                instance.value = read.value.clone();
            }
            Some(_) => {
                if instance.value.has_unknown() {
                    return Err(Diagnostic::error(format!(
                        "{addr}: some of its arguments are still unknown after everything it depends on was applied"
                    ))
                    .at(data.span.clone())
                    .into());
                }
                progress.event(&Event::DataReading { addr: addr.clone() });
                let start = Instant::now();
                let provider = providers
                    .get(provider_addr)
                    .map_err(|e| Diagnostic::error(format!("reading {addr} failed: {e}")))?;
                let value = provider
                    .read_data(&data.type_, &instance.value)
                    .await
                    .map_err(|e| {
                        Diagnostic::error(format!("reading {addr} failed: {e}"))
                            .at(data.span.clone())
                    })?;
                progress.event(&Event::DataRead {
                    addr: addr.clone(),
                    elapsed: start.elapsed(),
                    id: value.get("id").as_str().unwrap_or_default().to_string(),
                });
                instance.value = value;
            }
            None => {
                return Err(Diagnostic::error(format!(
                    "{addr} is in the configuration but not in the plan; run keel plan again"
                ))
                .at(data.span.clone())
                .into());
            }
        }
        seen.push(instance);
    }
    Ok(NodeValue::Data(shape, seen))
}
