//! Where the app reads the time. Production reads the system clock; a test sets a clock and moves
//! it, so expiry, overdue follow-ups and sessions are tested without writing dates in the past.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::sync::{Arc, Mutex, PoisonError};

/// The app's clock: the system's, or a settable one shared by every clone.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    set: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at` until it is set or moved.
    pub fn settable(at: DateTime<Utc>) -> Self {
        Self {
            set: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Now, to the microsecond (what both databases keep, so a time read back equals the one
    /// written).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.set {
            None => Utc::now(),
            Some(at) => *at.lock().unwrap_or_else(PoisonError::into_inner),
        }
        .trunc_subsecs(6)
    }

    /// Sets a settable clock to `at`; the system clock cannot be set, so this answers whether
    /// the clock moved.
    pub fn set(&self, at: DateTime<Utc>) -> bool {
        match &self.set {
            None => false,
            Some(now) => {
                *now.lock().unwrap_or_else(PoisonError::into_inner) = at;
                true
            }
        }
    }

    /// Moves a settable clock by `by` (see [`Clock::set`]).
    pub fn advance(&self, by: Duration) -> bool {
        self.set(self.now() + by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settable_clock_stands_until_moved_and_its_clones_move_with_it() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = Clock::settable(at);
        let shared = c.clone();
        assert_eq!(c.now(), at);
        assert!(shared.advance(Duration::days(2)));
        assert_eq!(c.now(), at + Duration::days(2));
    }

    #[test]
    fn the_system_clock_cannot_be_set() {
        let c = Clock::system();
        assert!(!c.set(Utc::now() - Duration::days(1)));
        assert!(c.now() > Utc::now() - Duration::minutes(1));
    }
}
