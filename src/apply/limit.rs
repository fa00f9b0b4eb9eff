//! Adaptive parallelism: how many provider calls run at once. It starts at the
//! `--parallelism` bound; when the cloud asks for retries (throttling, 5xx) it halves, at
//! most once per second, and it grows back by one for every `limit` calls answered
//! without a retry, as TCP's congestion control does (additive increase, multiplicative
//! decrease). Calls are never failed for throttling: the SDK retries them with backoff.

use std::time::{Duration, Instant};

pub(super) struct Limit {
    max: usize,
    now: usize,
    seen_retries: u64,
    calm: usize,
    last_cut: Option<Instant>,
}

const CUT_EVERY: Duration = Duration::from_secs(1);

impl Limit {
    pub(super) fn new(max: usize, retries: u64) -> Limit {
        let max = max.max(1);
        Limit {
            max,
            now: max,
            seen_retries: retries,
            calm: 0,
            last_cut: None,
        }
    }

    pub(super) fn current(&self) -> usize {
        self.now
    }

    /// Takes in the provider's retry count after `answered` calls came back; returns the
    /// new limit when it changed.
    pub(super) fn observe(&mut self, retries: u64, answered: usize) -> Option<usize> {
        let before = self.now;
        if retries > self.seen_retries {
            self.seen_retries = retries;
            self.calm = 0;
            if self.last_cut.is_none_or(|t| t.elapsed() >= CUT_EVERY) {
                self.now = (self.now / 2).max(1);
                self.last_cut = Some(Instant::now());
            }
        } else {
            self.calm += answered;
            while self.now < self.max && self.calm >= self.now {
                self.calm -= self.now;
                self.now += 1;
            }
        }
        (self.now != before).then_some(self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_retries_and_grows_back_when_calm() {
        let mut l = Limit::new(32, 0);
        assert_eq!(l.observe(0, 1), None);
        assert_eq!(l.observe(3, 1), Some(16));
        // Within a second, more retries do not cut again.
        assert_eq!(l.observe(5, 1), None);
        assert_eq!(l.observe(5, 16), Some(17));
        assert_eq!(l.observe(5, 17 + 18), Some(19));
        let mut one = Limit::new(1, 0);
        assert_eq!(one.observe(1, 1), None);
        assert_eq!(one.current(), 1);
    }
}
