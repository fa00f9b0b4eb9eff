//! Waiting for EC2 to finish what it started: an instance reaching `running`, `stopped`
//! or `terminated`, a placement group becoming `available`. Polls with growing pauses and
//! gives up after a bound, with an error that says what it waited for and what it last saw.

use crate::providers::ProviderError;
use std::future::Future;
use std::time::{Duration, Instant};

/// One look at the cloud: done, or still in the named state.
pub(super) enum Poll<T> {
    Ready(T),
    Pending(String),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Waiter {
    pub timeout: Duration,
    pub first_pause: Duration,
    pub max_pause: Duration,
}

/// Terraform's defaults for aws_instance: 10 minutes to create or update, 20 to delete.
pub(super) const INSTANCE_RUNNING: Waiter = Waiter::minutes(10);
pub(super) const INSTANCE_STOPPED: Waiter = Waiter::minutes(10);
pub(super) const INSTANCE_TERMINATED: Waiter = Waiter::minutes(20);
pub(super) const PLACEMENT_GROUP: Waiter = Waiter::minutes(5);

impl Waiter {
    pub const fn minutes(m: u64) -> Waiter {
        Waiter {
            timeout: Duration::from_secs(m * 60),
            first_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(10),
        }
    }

    /// Polls until `poll` answers [`Poll::Ready`]; the first look is immediate.
    pub async fn until<T, F, Fut>(self, what: &str, mut poll: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Poll<T>, ProviderError>>,
    {
        let start = Instant::now();
        let mut pause = self.first_pause;
        loop {
            match poll().await? {
                Poll::Ready(v) => return Ok(v),
                Poll::Pending(state) => {
                    if start.elapsed() + pause > self.timeout {
                        return Err(ProviderError::new(format!(
                            "gave up waiting for {what} after {}: it is still {state}",
                            humantime::format_duration(self.timeout)
                        )));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(self.max_pause);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const FAST: Waiter = Waiter {
        timeout: Duration::from_millis(200),
        first_pause: Duration::from_millis(5),
        max_pause: Duration::from_millis(20),
    };

    #[tokio::test]
    async fn waits_until_ready() {
        let looks = AtomicU32::new(0);
        let got = FAST
            .until("i-1 to run", || async {
                let n = looks.fetch_add(1, Ordering::SeqCst);
                Ok(if n < 3 {
                    Poll::Pending("pending".to_string())
                } else {
                    Poll::Ready(n)
                })
            })
            .await
            .unwrap();
        assert_eq!(got, 3);
    }

    #[tokio::test]
    async fn gives_up_with_what_it_waited_for_and_the_last_state() {
        let err = FAST
            .until("instance i-1 to reach running", || async {
                Ok::<Poll<()>, _>(Poll::Pending("pending".to_string()))
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.message,
            "gave up waiting for instance i-1 to reach running after 200ms: it is still pending"
        );
    }

    #[tokio::test]
    async fn errors_end_the_wait() {
        let err = FAST
            .until("x", || async {
                Err::<Poll<()>, _>(ProviderError::with_code("Boom", "no"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("Boom"));
    }
}
