//! A window's life, beside the ticket's ([`super::lifecycle`]):
//!
//! ```text
//! closed ─sign in─▶ open ─pause─▶ paused ─resume─▶ open
//! open / paused ─sign out─▶ closed
//! ```
//!
//! Who may do it (the person signed in there, a manager) and whether a ticket still holds the
//! window are the hall's checks ([`crate::hall::window`]); this is only which state follows.

use qhall_shared::api::WindowState;

/// What can happen to a window; its name is the kind of its line in the window log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowStep {
    SignIn,
    SignOut,
    Pause,
    Resume,
}

impl WindowStep {
    /// The kind of the window log's line (`window_log.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            WindowStep::SignIn => "sign_in",
            WindowStep::SignOut => "sign_out",
            WindowStep::Pause => "pause",
            WindowStep::Resume => "resume",
        }
    }

    /// The step a window log line's kind names.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::SignIn, Self::SignOut, Self::Pause, Self::Resume]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A step that the window's state does not allow: `code` is the API's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowStepError {
    pub code: &'static str,
    pub from: WindowState,
}

/// The state after `step`, or why it is not allowed. Signing in and out is allowed from any
/// state (who may do it is checked by the hall); pausing needs an open window, resuming a
/// paused one.
pub fn next(from: WindowState, step: WindowStep) -> Result<WindowState, WindowStepError> {
    use WindowState as S;
    use WindowStep as W;
    match (from, step) {
        (_, W::SignIn) => Ok(S::Open),
        (_, W::SignOut) => Ok(S::Closed),
        (S::Open, W::Pause) => Ok(S::Paused),
        (_, W::Pause) => Err(WindowStepError {
            code: "not_open",
            from,
        }),
        (S::Paused, W::Resume) => Ok(S::Open),
        (_, W::Resume) => Err(WindowStepError {
            code: "not_paused",
            from,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WindowState as S;
    use WindowStep as W;

    #[test]
    fn a_window_opens_pauses_resumes_and_closes() {
        let mut s = S::Closed;
        for (step, want) in [
            (W::SignIn, S::Open),
            (W::Pause, S::Paused),
            (W::Resume, S::Open),
            (W::SignOut, S::Closed),
        ] {
            s = next(s, step).unwrap();
            assert_eq!(s, want, "after {}", step.as_str());
        }
    }

    #[test]
    fn only_an_open_window_pauses_and_only_a_paused_one_resumes() {
        assert_eq!(next(S::Paused, W::Pause).unwrap_err().code, "not_open");
        assert_eq!(next(S::Closed, W::Pause).unwrap_err().code, "not_open");
        assert_eq!(next(S::Open, W::Resume).unwrap_err().code, "not_paused");
        assert_eq!(next(S::Closed, W::Resume).unwrap_err().code, "not_paused");
        assert_eq!(next(S::Paused, W::SignOut), Ok(S::Closed));
    }
}
