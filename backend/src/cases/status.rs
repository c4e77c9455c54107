//! The status machine of a case, as a parsed type and one pure rule.
//!
//! ```text
//! submitted → accepted | rejected        (officer)
//! accepted  → in_progress | rejected     (officer)
//! in_progress → resolved                 (officer)
//! resolved  → closed                     (officer)
//! submitted → withdrawn                  (applicant)
//! ```
use crate::cases::access::Viewer;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 已提交: waiting for the officers.
    Submitted,
    /// 已受理.
    Accepted,
    /// 未受理 (with a reason).
    Rejected,
    /// 办理中.
    InProgress,
    /// 已办结.
    Resolved,
    /// 已归档.
    Closed,
    /// 已撤回 by the applicant.
    Withdrawn,
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may never make this kind of move (the applicant deciding a case): 403.
    NotYours,
    /// The move does not exist from here: 409 `invalid_transition`.
    Invalid,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 7] = [
        Status::Submitted,
        Status::Accepted,
        Status::Rejected,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
        Status::Withdrawn,
    ];

    /// From the API / column spelling.
    pub fn parse(raw: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The API / column spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// How a worker reads it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Submitted => "已提交",
            Status::Accepted => "已受理",
            Status::Rejected => "未受理",
            Status::InProgress => "办理中",
            Status::Resolved => "已办结",
            Status::Closed => "已归档",
            Status::Withdrawn => "已撤回",
        }
    }

    /// Whether the case is over: no more messages or files.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Rejected | Status::Closed | Status::Withdrawn)
    }

    /// The statuses that are [`Status::is_final`], for a query on the column.
    pub fn finals() -> impl Iterator<Item = Status> {
        Self::ALL.into_iter().filter(|s| s.is_final())
    }

    /// Whether only the applicant may move a case here.
    fn applicants_move(self) -> bool {
        self == Status::Withdrawn
    }
}

/// Whether `viewer` may move a case from `from` to `to`.
pub fn allowed(from: Status, to: Status, viewer: Viewer) -> bool {
    use Status::*;
    match viewer {
        Viewer::Applicant => matches!((from, to), (Submitted, Withdrawn)),
        Viewer::Officer => matches!(
            (from, to),
            (Submitted, Accepted)
                | (Submitted, Rejected)
                | (Accepted, InProgress)
                | (Accepted, Rejected)
                | (InProgress, Resolved)
                | (Resolved, Closed)
        ),
    }
}

/// [`allowed`], saying why not: the applicant asking for an officer's move is
/// refused outright (403); any other move that does not exist is a 409.
pub fn check(from: Status, to: Status, viewer: Viewer) -> Result<(), Refusal> {
    if allowed(from, to, viewer) {
        Ok(())
    } else if viewer == Viewer::Applicant && to != Status::Submitted && !to.applicants_move() {
        Err(Refusal::NotYours)
    } else {
        Err(Refusal::Invalid)
    }
}

/// The moves `viewer` may make from `from`, in a stable order.
pub fn moves(from: Status, viewer: Viewer) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|to| allowed(from, *to, viewer))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    const OFFICER_MOVES: [(Status, Status); 6] = [
        (Submitted, Accepted),
        (Submitted, Rejected),
        (Accepted, InProgress),
        (Accepted, Rejected),
        (InProgress, Resolved),
        (Resolved, Closed),
    ];
    const APPLICANT_MOVES: [(Status, Status); 1] = [(Submitted, Withdrawn)];

    #[test]
    fn every_pair_is_allowed_exactly_when_the_machine_says_so() {
        let mut allowed_count = 0;
        for from in Status::ALL {
            for to in Status::ALL {
                let officer = OFFICER_MOVES.contains(&(from, to));
                let applicant = APPLICANT_MOVES.contains(&(from, to));
                assert_eq!(
                    allowed(from, to, Viewer::Officer),
                    officer,
                    "officer {from:?}→{to:?}"
                );
                assert_eq!(
                    allowed(from, to, Viewer::Applicant),
                    applicant,
                    "applicant {from:?}→{to:?}"
                );
                allowed_count += usize::from(officer) + usize::from(applicant);
            }
        }
        assert_eq!(allowed_count, 7);
    }

    #[test]
    fn officer_moves_are_allowed() {
        for (from, to) in OFFICER_MOVES {
            assert_eq!(check(from, to, Viewer::Officer), Ok(()));
        }
    }

    #[test]
    fn the_applicant_may_only_withdraw_a_submitted_case() {
        assert_eq!(check(Submitted, Withdrawn, Viewer::Applicant), Ok(()));
        for from in [Accepted, Rejected, InProgress, Resolved, Closed, Withdrawn] {
            assert_eq!(
                check(from, Withdrawn, Viewer::Applicant),
                Err(Refusal::Invalid),
                "{from:?}"
            );
        }
    }

    #[test]
    fn the_applicant_asking_for_an_officer_move_is_refused_as_not_theirs() {
        for from in Status::ALL {
            for to in [Accepted, Rejected, InProgress, Resolved, Closed] {
                assert_eq!(
                    check(from, to, Viewer::Applicant),
                    Err(Refusal::NotYours),
                    "{from:?}→{to:?}"
                );
            }
        }
    }

    #[test]
    fn an_officer_may_not_withdraw_and_nobody_may_go_back_to_submitted() {
        for from in Status::ALL {
            assert_eq!(
                check(from, Withdrawn, Viewer::Officer),
                Err(Refusal::Invalid)
            );
            assert_eq!(
                check(from, Submitted, Viewer::Officer),
                Err(Refusal::Invalid)
            );
            assert_eq!(
                check(from, Submitted, Viewer::Applicant),
                Err(Refusal::Invalid)
            );
        }
    }

    #[test]
    fn every_forbidden_officer_move_is_invalid() {
        for from in Status::ALL {
            for to in Status::ALL {
                if !OFFICER_MOVES.contains(&(from, to)) {
                    assert_eq!(
                        check(from, to, Viewer::Officer),
                        Err(Refusal::Invalid),
                        "{from:?}→{to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn moves_list_what_is_allowed_and_statuses_round_trip() {
        assert_eq!(moves(Submitted, Viewer::Officer), vec![Accepted, Rejected]);
        assert_eq!(moves(Accepted, Viewer::Officer), vec![Rejected, InProgress]);
        assert_eq!(moves(Submitted, Viewer::Applicant), vec![Withdrawn]);
        assert!(moves(Closed, Viewer::Officer).is_empty());
        assert!(moves(Accepted, Viewer::Applicant).is_empty());
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("done"), None);
        assert!(Rejected.is_final() && Closed.is_final() && Withdrawn.is_final());
        assert!(!Resolved.is_final());
        assert_eq!(
            Status::finals().map(Status::as_str).collect::<Vec<_>>(),
            ["rejected", "closed", "withdrawn"]
        );
    }
}
