//! Counts the AWS API calls keel makes, per service and operation, every attempt included.
//! Refresh speed is a matter of how many calls a read takes, so the count is reported
//! (`keel drift --metrics`, debug logs) and tested, not guessed from the code. It also
//! counts retries (a second or later attempt: the cloud throttled or failed transiently),
//! which apply's adaptive parallelism watches.

use aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared by every client of one provider.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    retries: Arc<AtomicU64>,
}

impl CallCounter {
    /// (service, operation) -> calls so far.
    pub fn snapshot(&self) -> BTreeMap<(String, String), u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    /// Attempts after the first so far (throttling, transient errors).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "keel-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, op) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("unknown".to_string(), "unknown".to_string()));
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((service, op)).or_default() += 1;
        }
        Ok(())
    }
}
