//! Waiting on AWS, always bounded: polling an object until it reaches a state (a NAT
//! gateway becoming available, an instance running), and retrying a call AWS refuses for
//! now (DependencyViolation while dependents drain, IAM names not yet propagated). Every
//! wait in the AWS provider goes through here. Running out of time is an error that says
//! what was waited for, for how long, and what AWS said last.

use crate::providers::ProviderError;
use std::future::Future;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, ProviderError>;

/// How long to keep trying, and how often.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    pub timeout: Duration,
    /// The first pause; each one after doubles, up to `max_pause`.
    pub first_pause: Duration,
    pub max_pause: Duration,
}

impl Patience {
    pub(crate) const fn minutes(m: u64) -> Patience {
        Patience {
            timeout: Duration::from_secs(m * 60),
            first_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(15),
        }
    }
}

/// One look at the object being waited on.
pub(crate) enum Poll<T> {
    Done(T),
    /// Not there yet; the state it is in, for the timeout message.
    Pending(String),
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs().max(1))).to_string()
}

/// Calls `check` until it answers [`Poll::Done`], an error, or `patience` runs out.
/// `what` completes "timed out waiting for ...", e.g. "NAT gateway nat-1 to become
/// available".
pub(crate) async fn until<T, F, Fut>(what: &str, patience: Patience, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>>>,
{
    let start = Instant::now();
    let mut pause = patience.first_pause;
    loop {
        let state = match check().await? {
            Poll::Done(v) => return Ok(v),
            Poll::Pending(state) => state,
        };
        if start.elapsed() + pause > patience.timeout {
            return Err(ProviderError::new(format!(
                "timed out after {} waiting for {what} (it is still {state})",
                human(patience.timeout)
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(patience.max_pause);
    }
}

/// Runs `call` until it succeeds, retrying while AWS answers with one of `codes` (for a
/// delete: DependencyViolation while dependents drain) and `patience` lasts. Any other
/// error is returned at once; when time runs out, AWS's last refusal is returned with a
/// note of how long keel waited.
pub(crate) async fn while_refused<F, Fut>(codes: &[&str], patience: Patience, call: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    retry_while(
        |e| e.code.as_deref().is_some_and(|c| codes.contains(&c)),
        patience,
        call,
    )
    .await
}

/// Runs `call` until it succeeds, retrying while `retry` accepts its error and `patience`
/// lasts (the general form of [`while_refused`], for refusals a code alone does not
/// identify). Any other error is returned at once; when time runs out, the last error is
/// returned with a note of how long keel waited.
pub(crate) async fn retry_while<T, F, Fut>(
    retry: impl Fn(&ProviderError) -> bool,
    patience: Patience,
    mut call: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    let mut pause = patience.first_pause;
    loop {
        let err = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !retry(&err) {
            return Err(err);
        }
        if start.elapsed() + pause > patience.timeout {
            return Err(ProviderError {
                message: format!(
                    "{} (still refused after retrying for {})",
                    err.message,
                    human(patience.timeout)
                ),
                ..err
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(patience.max_pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const QUICK: Patience = Patience {
        timeout: Duration::from_millis(60),
        first_pause: Duration::from_millis(5),
        max_pause: Duration::from_millis(10),
    };

    #[tokio::test]
    async fn until_returns_once_the_state_is_reached() {
        let n = AtomicUsize::new(0);
        let v = until("x to be ready", QUICK, || async {
            Ok(if n.fetch_add(1, Ordering::SeqCst) < 2 {
                Poll::Pending("pending".to_string())
            } else {
                Poll::Done(7)
            })
        })
        .await
        .unwrap();
        assert_eq!(v, 7);
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn until_gives_up_with_what_it_waited_for() {
        let err = until::<(), _, _>("NAT gateway nat-1 to become available", QUICK, || async {
            Ok(Poll::Pending("pending".to_string()))
        })
        .await
        .unwrap_err();
        assert!(
            err.message.starts_with(
                "timed out after 1s waiting for NAT gateway nat-1 to become available"
            ),
            "{}",
            err.message
        );
        assert!(err.message.contains("still pending"), "{}", err.message);
    }

    #[tokio::test]
    async fn until_stops_at_the_first_error() {
        let n = AtomicUsize::new(0);
        let err = until::<(), _, _>("x", QUICK, || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::with_code("Boom", "no"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("Boom"));
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn while_refused_retries_only_the_named_codes_and_keeps_the_last_one() {
        let n = AtomicUsize::new(0);
        while_refused(&["DependencyViolation"], QUICK, || async {
            if n.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(ProviderError::with_code("DependencyViolation", "in use"))
            } else {
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 3);

        let other = while_refused(&["DependencyViolation"], QUICK, || async {
            Err(ProviderError::with_code("UnauthorizedOperation", "no"))
        })
        .await
        .unwrap_err();
        assert_eq!(other.code.as_deref(), Some("UnauthorizedOperation"));

        let stuck = while_refused(&["DependencyViolation"], QUICK, || async {
            Err(ProviderError::with_code(
                "DependencyViolation",
                "has dependents",
            ))
        })
        .await
        .unwrap_err();
        assert_eq!(stuck.code.as_deref(), Some("DependencyViolation"));
        assert!(
            stuck
                .message
                .starts_with("has dependents (still refused after"),
            "{}",
            stuck.message
        );
    }
}
