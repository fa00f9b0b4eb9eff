//! How long keel waits for EC2 to finish what it started: an instance reaching `running`,
//! `stopped` or `terminated`, a placement group becoming `available`. The waiting itself
//! is the provider's one bounded poll, [`crate::providers::aws::wait::until`].

pub(super) use crate::providers::aws::wait::{Patience, Poll, until};
use std::time::Duration;

/// `m` minutes, polling after 1 s, then with pauses doubling up to 10 s.
const fn minutes(m: u64) -> Patience {
    Patience {
        timeout: Duration::from_secs(m * 60),
        first_pause: Duration::from_secs(1),
        max_pause: Duration::from_secs(10),
    }
}

/// Terraform's defaults for aws_instance: 10 minutes to create or update, 20 to delete.
pub(super) const INSTANCE_RUNNING: Patience = minutes(10);
pub(super) const INSTANCE_STOPPED: Patience = minutes(10);
pub(super) const INSTANCE_TERMINATED: Patience = minutes(20);
pub(super) const PLACEMENT_GROUP: Patience = minutes(5);
