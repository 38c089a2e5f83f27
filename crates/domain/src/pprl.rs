//! Privacy-preserving linkage in the server: the rules, without I/O.
//!
//! Each side (origin, custody) uploads its list encoded on its own machine; the mediator links
//! the two encoded lists and learns only which reference of one side goes with which reference
//! of the other. A pair found that way is not a match yet: the mediator asks each side for the
//! clear record of its own child in the pair, each side answers (or declines, when it has no
//! consent to share the record), and once both clear records exist the pair enters the normal
//! review queue. [`PairState`] is that path; [`PprlRefused`] the refusals with their stable codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which side of a pair: the origin side's list (tracing requests) or custody's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairSide {
    Origin,
    Custody,
}

impl PairSide {
    pub fn other(self) -> Self {
        match self {
            Self::Origin => Self::Custody,
            Self::Custody => Self::Origin,
        }
    }
}

/// Where a pair found on encodings stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairState {
    /// Found by the linkage; nobody has been asked anything yet.
    Proposed,
    /// The mediator asked both sides for their clear records.
    Requested,
    /// The origin side submitted its clear record; custody's is awaited.
    OriginAnswered,
    /// Custody submitted its clear record; the origin side's is awaited.
    CustodyAnswered,
    /// Both clear records exist and the pair is a candidate in the review queue.
    InReview,
    /// A side declined to share its record (no consent): the pair goes no further.
    Declined,
    /// The mediator dropped the pair before asking anyone.
    Dismissed,
}

impl PairState {
    pub const ALL: [PairState; 7] = [
        Self::Proposed,
        Self::Requested,
        Self::OriginAnswered,
        Self::CustodyAnswered,
        Self::InReview,
        Self::Declined,
        Self::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Requested => "requested",
            Self::OriginAnswered => "origin_answered",
            Self::CustodyAnswered => "custody_answered",
            Self::InReview => "in_review",
            Self::Declined => "declined",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether `side` has been asked for its clear record and not answered yet.
    pub fn awaits(self, side: PairSide) -> bool {
        match self {
            Self::Requested => true,
            Self::OriginAnswered => side == PairSide::Custody,
            Self::CustodyAnswered => side == PairSide::Origin,
            _ => false,
        }
    }

    /// What one side may know of the pair: only its own part of the exchange, never whether the
    /// other side answered or what the mediator made of it (a closed exchange is closed for
    /// both, without saying who closed it).
    pub fn seen_by(self, side: PairSide) -> SideView {
        match self {
            Self::Proposed | Self::Dismissed => SideView::Found,
            s if s.awaits(side) => SideView::Requested,
            Self::Declined => SideView::Closed,
            _ => SideView::Answered,
        }
    }

    /// The state after `event`, or why the event does not apply here.
    pub fn apply(self, event: PairEvent) -> Result<Self, PprlRefused> {
        use PairEvent as E;
        let next = match (self, event) {
            (Self::Proposed, E::Request) => Self::Requested,
            (Self::Proposed, E::Dismiss) => Self::Dismissed,
            (s, E::Answer(side)) if s.awaits(side) => match s {
                Self::Requested => match side {
                    PairSide::Origin => Self::OriginAnswered,
                    PairSide::Custody => Self::CustodyAnswered,
                },
                // The other side answered already: both clear records now exist.
                _ => Self::InReview,
            },
            (s, E::Decline(side)) if s.awaits(side) => Self::Declined,
            (state, event) => return Err(PprlRefused::PairState { state, event }),
        };
        Ok(next)
    }
}

impl fmt::Display for PairState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a side sees of one of its references in a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SideView {
    /// The reference is in a pair; nothing is asked of the side yet.
    Found,
    /// The mediator asks for the clear record of this reference.
    Requested,
    /// The side submitted the clear record.
    Answered,
    /// The exchange is closed (a side declined); nothing more is asked of anyone.
    Closed,
}

/// What happens to a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairEvent {
    /// The mediator asks both sides for their clear records.
    Request,
    /// The mediator drops the pair.
    Dismiss,
    /// A side submits its clear record.
    Answer(PairSide),
    /// A side declines to share its record.
    Decline(PairSide),
}

impl PairEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Dismiss => "dismiss",
            Self::Answer(_) => "answer",
            Self::Decline(_) => "decline",
        }
    }
}

/// Why an encoded list, a run or a step of a pair is refused; each with a stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PprlRefused {
    #[error(
        "the list has {records} records; at least {min} are needed, so that no single child can be probed for"
    )]
    ListTooSmall { records: usize, min: usize },
    #[error("the list has {records} records; at most {max} are taken")]
    ListTooLarge { records: usize, max: usize },
    #[error("the list is not a readable encoded list: {0}")]
    ListInvalid(String),
    #[error("the list was encoded with specification {got:?}; this server links {supported:?}")]
    SpecUnsupported { got: String, supported: String },
    /// `expected` and `got` name a key id and a specification each (`KEY_ID (SPEC)`). Three
    /// strings, not five: the error travels inside every use-case's result.
    #[error("the round {round:?} is encoded with key {expected}; this list used key {got}")]
    KeyMismatch {
        round: String,
        expected: String,
        got: String,
    },
    #[error("the two lists belong to different rounds ({left:?} and {right:?})")]
    RoundMismatch { left: String, right: String },
    #[error("a linkage needs one list of the origin side and one of custody")]
    SidesNotOpposite,
    #[error("the linkage of this run has not finished")]
    RunNotFinished,
    #[error("the pair is {state}: it cannot take a {}", .event.as_str())]
    PairState { state: PairState, event: PairEvent },
    #[error("the record answering a reference must be the side's own {expected} record")]
    WrongRecord { expected: &'static str },
}

impl PprlRefused {
    /// Stable, machine-readable.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ListTooSmall { .. } => "pprl_list_too_small",
            Self::ListTooLarge { .. } => "pprl_list_too_large",
            Self::ListInvalid(_) => "pprl_list_invalid",
            Self::SpecUnsupported { .. } => "pprl_spec_unsupported",
            Self::KeyMismatch { .. } => "pprl_key_mismatch",
            Self::RoundMismatch { .. } => "pprl_round_mismatch",
            Self::SidesNotOpposite => "pprl_sides_not_opposite",
            Self::RunNotFinished => "pprl_run_not_finished",
            Self::PairState { .. } => "pprl_pair_state",
            Self::WrongRecord { .. } => "pprl_wrong_record",
        }
    }

    /// Refusals of the input itself (the caller must send something else), as opposed to
    /// refusals of the current state (the caller may try again later, or elsewhere).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Self::ListTooSmall { .. }
                | Self::ListTooLarge { .. }
                | Self::ListInvalid(_)
                | Self::SpecUnsupported { .. }
                | Self::WrongRecord { .. }
        )
    }
}

/// The minimum and maximum size of an encoded list, checked on upload.
pub fn check_list_size(records: usize, min: usize, max: usize) -> Result<(), PprlRefused> {
    if records < min {
        return Err(PprlRefused::ListTooSmall { records, min });
    }
    if records > max {
        return Err(PprlRefused::ListTooLarge { records, max });
    }
    Ok(())
}

/// The label of a round, as the mediator announces it: 1 to 100 characters, no control
/// characters, trimmed.
pub fn parse_round(s: &str) -> Result<String, crate::ValidationErrors> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(crate::ValidationErrors::single(
            "round",
            "invalid",
            "a round is named by 1 to 100 characters, without control characters",
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PairEvent as E;
    use PairSide::{Custody, Origin};

    fn run(events: &[PairEvent]) -> Result<PairState, PprlRefused> {
        events
            .iter()
            .try_fold(PairState::Proposed, |s, e| s.apply(*e))
    }

    #[test]
    fn both_answers_in_either_order_put_the_pair_in_review() {
        for order in [[Origin, Custody], [Custody, Origin]] {
            let s = run(&[E::Request, E::Answer(order[0]), E::Answer(order[1])]);
            assert_eq!(s, Ok(PairState::InReview), "{order:?}");
        }
        assert_eq!(
            run(&[E::Request, E::Answer(Custody)]),
            Ok(PairState::CustodyAnswered)
        );
    }

    #[test]
    fn nothing_is_answered_before_it_is_asked_nor_twice() {
        for side in [Origin, Custody] {
            assert!(matches!(
                run(&[E::Answer(side)]),
                Err(PprlRefused::PairState {
                    state: PairState::Proposed,
                    ..
                })
            ));
            let twice = run(&[E::Request, E::Answer(side), E::Answer(side)]);
            assert_eq!(twice.map_err(|e| e.code()), Err("pprl_pair_state"));
        }
        assert!(run(&[E::Request, E::Request]).is_err());
        assert!(run(&[E::Request, E::Dismiss]).is_err());
    }

    #[test]
    fn a_decline_closes_the_pair_for_good() {
        let s = run(&[E::Request, E::Answer(Origin), E::Decline(Custody)]);
        assert_eq!(s, Ok(PairState::Declined));
        for e in [
            E::Answer(Origin),
            E::Answer(Custody),
            E::Request,
            E::Dismiss,
        ] {
            assert!(PairState::Declined.apply(e).is_err(), "{e:?}");
        }
        // The side that answered cannot decline afterwards.
        assert!(run(&[E::Request, E::Answer(Origin), E::Decline(Origin)]).is_err());
    }

    #[test]
    fn terminal_states_take_no_event() {
        let events = [
            E::Request,
            E::Dismiss,
            E::Answer(Origin),
            E::Answer(Custody),
            E::Decline(Origin),
            E::Decline(Custody),
        ];
        for s in [
            PairState::InReview,
            PairState::Declined,
            PairState::Dismissed,
        ] {
            for e in events {
                assert!(s.apply(e).is_err(), "{s} took {e:?}");
            }
        }
    }

    #[test]
    fn a_side_sees_only_its_own_part() {
        // Custody answered: the origin side is still asked, and does not learn that custody
        // answered.
        assert_eq!(
            PairState::CustodyAnswered.seen_by(Origin),
            SideView::Requested
        );
        assert_eq!(
            PairState::CustodyAnswered.seen_by(Custody),
            SideView::Answered
        );
        // A declined pair is closed for both: the side still asked must stop being asked, and
        // "closed" does not say who closed it.
        assert_eq!(PairState::Declined.seen_by(Origin), SideView::Closed);
        assert_eq!(PairState::InReview.seen_by(Origin), SideView::Answered);
        assert_eq!(PairState::Dismissed.seen_by(Custody), SideView::Found);
    }

    #[test]
    fn states_round_trip_and_codes_are_stable() {
        for s in PairState::ALL {
            assert_eq!(PairState::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            check_list_size(49, 50, 100).map_err(|e| e.code()),
            Err("pprl_list_too_small")
        );
        assert_eq!(check_list_size(50, 50, 100), Ok(()));
        assert_eq!(
            check_list_size(101, 50, 100).map_err(|e| e.code()),
            Err("pprl_list_too_large")
        );
        assert!(parse_round(" 2026-12 ").is_ok_and(|r| r == "2026-12"));
        assert!(parse_round("  ").is_err());
        assert!(parse_round("a\u{0}b").is_err());
    }
}
