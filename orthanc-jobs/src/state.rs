//! Job states, actions and the transition table, as pure functions.
//!
//! This module is the single source of truth for Orthanc's state machine (the table in the
//! project's design notes). Every store applies actions through [`apply`], so an in-memory
//! store, SQLite and any later backend agree on what each action does in each state.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The state of a job, with Orthanc's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting for a worker.
    Pending,
    /// A worker is running its steps.
    Running,
    /// Finished successfully (in the history).
    Success,
    /// Failed or canceled (in the history).
    Failure,
    /// Paused by a user; runs again only after `resume`.
    Paused,
    /// Waiting for a timer before it becomes `Pending` again.
    Retry,
}

impl JobState {
    /// Every state, in a fixed order.
    pub const ALL: [JobState; 6] = [
        JobState::Pending,
        JobState::Running,
        JobState::Success,
        JobState::Failure,
        JobState::Paused,
        JobState::Retry,
    ];

    /// Orthanc's name of the state (`"Pending"`, `"Running"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "Pending",
            JobState::Running => "Running",
            JobState::Success => "Success",
            JobState::Failure => "Failure",
            JobState::Paused => "Paused",
            JobState::Retry => "Retry",
        }
    }

    /// Whether the job is finished (`Success` or `Failure`) and so belongs to the history.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Success | JobState::Failure)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| Error::Corrupt {
                what: "job state",
                expected: "Pending, Running, Success, Failure, Paused or Retry",
                found: text.to_owned(),
            })
    }
}

/// A user action on a job (Orthanc's `POST /jobs/{id}/{action}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Stop the job between steps; it runs again after `resume`.
    Pause,
    /// Put a paused job back in the queue.
    Resume,
    /// Stop the job for good: it ends as `Failure` with the "canceled" error.
    Cancel,
    /// Run a failed job again from its beginning (the job is reset).
    Resubmit,
}

impl Action {
    /// Every action, in a fixed order.
    pub const ALL: [Action; 4] = [
        Action::Pause,
        Action::Resume,
        Action::Cancel,
        Action::Resubmit,
    ];

    /// The action's name in Orthanc's REST API (`"pause"`, `"resume"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
            Action::Resubmit => "resubmit",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| Error::Corrupt {
                what: "job action",
                expected: "pause, resume, cancel or resubmit",
                found: text.to_owned(),
            })
    }
}

/// A request left on a running job, applied by its worker between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    /// Pause before the next step.
    Pause,
    /// Cancel: the running step sees its cancellation token; the job ends as canceled.
    Cancel,
}

impl Request {
    /// The request's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Request::Pause => "pause",
            Request::Cancel => "cancel",
        }
    }

    /// Parse a stored name.
    pub fn parse(text: &str) -> Result<Request, Error> {
        match text {
            "pause" => Ok(Request::Pause),
            "cancel" => Ok(Request::Cancel),
            other => Err(Error::Corrupt {
                what: "job request",
                expected: "pause or cancel",
                found: other.to_owned(),
            }),
        }
    }

    /// Combine a request already left on a job with a new one: cancel wins over pause.
    pub fn merge(existing: Option<Request>, new: Request) -> Request {
        match (existing, new) {
            (Some(Request::Cancel), _) | (_, Request::Cancel) => Request::Cancel,
            _ => Request::Pause,
        }
    }
}

/// What an allowed action does to a job in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The job moves to this state now. A move to `Failure` by `cancel` records the canceled
    /// error; a move to `Pending` by `resubmit` resets the job.
    To(JobState),
    /// The job is running: the request is left for its worker, which applies it between steps.
    Request(Request),
    /// Nothing changes (Orthanc accepts the action and does nothing).
    NoOp,
}

/// Apply `action` to a job in `state`: Orthanc's table. Disallowed actions are
/// [`Error::ActionNotAllowed`].
pub fn apply(state: JobState, action: Action) -> Result<Transition, Error> {
    use JobState::*;
    use Transition::*;
    let transition = match (state, action) {
        (Pending | Retry, Action::Pause) => To(Paused),
        (Running, Action::Pause) => Request(self::Request::Pause),
        (Paused | Success | Failure, Action::Pause) => NoOp,
        (Paused, Action::Resume) => To(Pending),
        (Pending | Running | Retry | Success | Failure, Action::Resume) => {
            return Err(not_allowed(action, state));
        }
        (Pending | Retry | Paused, Action::Cancel) => To(Failure),
        (Running, Action::Cancel) => Request(self::Request::Cancel),
        (Success | Failure, Action::Cancel) => NoOp,
        (Failure, Action::Resubmit) => To(Pending),
        (Pending | Running | Retry | Paused | Success, Action::Resubmit) => {
            return Err(not_allowed(action, state));
        }
    };
    Ok(transition)
}

fn not_allowed(action: Action, state: JobState) -> Error {
    Error::ActionNotAllowed { action, state }
}

/// How a step ended, as the engine reports it to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEnd {
    /// The job has more steps.
    Continue,
    /// The job finished successfully.
    Success,
    /// The job failed.
    Failure,
    /// The job asked to be retried after a delay.
    Retry,
}

/// The state a running job lands in after a step ended with `end` while `request` was left on
/// it. Cancel wins over everything but success (a job that completed its work is not undone);
/// a pause takes effect if the job would otherwise continue or wait for a retry.
pub fn settle(end: StepEnd, request: Option<Request>) -> JobState {
    match (end, request) {
        (StepEnd::Success, _) => JobState::Success,
        (_, Some(Request::Cancel)) | (StepEnd::Failure, _) => JobState::Failure,
        (StepEnd::Continue | StepEnd::Retry, Some(Request::Pause)) => JobState::Paused,
        (StepEnd::Continue, None) => JobState::Running,
        (StepEnd::Retry, None) => JobState::Retry,
    }
}

/// Which jobs an engine takes back when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// The engine is the only one on its store (the embedded default, and Orthanc's
    /// behaviour): every `Running` and `Retry` job becomes `Pending`.
    #[default]
    AllRunning,
    /// Several engines share the store: only `Running` jobs whose lease expired (their engine
    /// stopped sending heartbeats) become `Pending`; `Retry` jobs wait for their timer.
    ExpiredLeases,
}

/// The state a job is given back when an engine starts with `recovery`, given whether its
/// lease (if it has one) expired and the request left on it. A running job that is taken back
/// honours a pause or cancel asked for before its engine stopped.
pub fn after_restart(
    state: JobState,
    recovery: Recovery,
    lease_expired: bool,
    request: Option<Request>,
) -> JobState {
    let taken_back = match (state, recovery) {
        (JobState::Running | JobState::Retry, Recovery::AllRunning) => true,
        (JobState::Running, Recovery::ExpiredLeases) => lease_expired,
        _ => false,
    };
    match (taken_back, state, request) {
        (false, state, _) => state,
        (true, JobState::Running, Some(Request::Cancel)) => JobState::Failure,
        (true, JobState::Running, Some(Request::Pause)) => JobState::Paused,
        (true, _, _) => JobState::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobState::*;

    /// Every cell of the table in the design notes, written out.
    #[test]
    fn every_action_in_every_state() {
        let table: [(JobState, [Option<Transition>; 4]); 6] = [
            (
                Pending,
                [
                    Some(Transition::To(Paused)),
                    None,
                    Some(Transition::To(Failure)),
                    None,
                ],
            ),
            (
                Running,
                [
                    Some(Transition::Request(Request::Pause)),
                    None,
                    Some(Transition::Request(Request::Cancel)),
                    None,
                ],
            ),
            (
                Retry,
                [
                    Some(Transition::To(Paused)),
                    None,
                    Some(Transition::To(Failure)),
                    None,
                ],
            ),
            (
                Paused,
                [
                    Some(Transition::NoOp),
                    Some(Transition::To(Pending)),
                    Some(Transition::To(Failure)),
                    None,
                ],
            ),
            (
                Success,
                [Some(Transition::NoOp), None, Some(Transition::NoOp), None],
            ),
            (
                Failure,
                [
                    Some(Transition::NoOp),
                    None,
                    Some(Transition::NoOp),
                    Some(Transition::To(Pending)),
                ],
            ),
        ];
        for (state, row) in table {
            for (action, expected) in Action::ALL.into_iter().zip(row) {
                match (apply(state, action), expected) {
                    (Ok(got), Some(want)) => assert_eq!(got, want, "{action} in {state}"),
                    (
                        Err(Error::ActionNotAllowed {
                            action: a,
                            state: s,
                        }),
                        None,
                    ) => {
                        assert_eq!((a, s), (action, state));
                    }
                    (got, want) => panic!("{action} in {state}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn settle_after_step() {
        use StepEnd as E;
        let cases = [
            (E::Continue, None, Running),
            (E::Continue, Some(Request::Pause), Paused),
            (E::Continue, Some(Request::Cancel), Failure),
            (E::Success, None, Success),
            (E::Success, Some(Request::Pause), Success),
            (E::Success, Some(Request::Cancel), Success),
            (E::Failure, None, Failure),
            (E::Failure, Some(Request::Pause), Failure),
            (E::Failure, Some(Request::Cancel), Failure),
            (E::Retry, None, Retry),
            (E::Retry, Some(Request::Pause), Paused),
            (E::Retry, Some(Request::Cancel), Failure),
        ];
        for (end, request, want) in cases {
            assert_eq!(settle(end, request), want, "{end:?} with {request:?}");
        }
    }

    #[test]
    fn restart_column() {
        for (state, all, expired, live) in [
            (Pending, Pending, Pending, Pending),
            (Running, Pending, Pending, Running),
            (Retry, Pending, Retry, Retry),
            (Paused, Paused, Paused, Paused),
            (Success, Success, Success, Success),
            (Failure, Failure, Failure, Failure),
        ] {
            assert_eq!(after_restart(state, Recovery::AllRunning, false, None), all);
            assert_eq!(
                after_restart(state, Recovery::ExpiredLeases, true, None),
                expired
            );
            assert_eq!(
                after_restart(state, Recovery::ExpiredLeases, false, None),
                live
            );
        }
        // A request left on a running job is honoured when the job is taken back.
        let cancel = Some(Request::Cancel);
        let pause = Some(Request::Pause);
        assert_eq!(
            after_restart(Running, Recovery::AllRunning, false, cancel),
            Failure
        );
        assert_eq!(
            after_restart(Running, Recovery::AllRunning, false, pause),
            Paused
        );
        assert_eq!(
            after_restart(Running, Recovery::ExpiredLeases, true, pause),
            Paused
        );
        assert_eq!(
            after_restart(Running, Recovery::ExpiredLeases, false, cancel),
            Running
        );
    }

    #[test]
    fn cancel_wins_over_pause() {
        assert_eq!(Request::merge(None, Request::Pause), Request::Pause);
        assert_eq!(
            Request::merge(Some(Request::Pause), Request::Cancel),
            Request::Cancel
        );
        assert_eq!(
            Request::merge(Some(Request::Cancel), Request::Pause),
            Request::Cancel
        );
    }

    #[test]
    fn names_round_trip() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>().ok(), Some(state));
        }
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().ok(), Some(action));
        }
        assert!("Done".parse::<JobState>().is_err());
        assert!("stop".parse::<Action>().is_err());
    }
}
