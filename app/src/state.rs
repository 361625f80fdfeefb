//! The run's state machine as the page shows it (also on `document.body.dataset.state`).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Starting the backend and fetching the first shards.
    Loading,
    /// Data and backend ready; nothing trained yet.
    Ready,
    Training,
    /// Finished or stopped; the results stay on screen.
    Done,
    /// Something failed; the message is shown, results so far stay.
    Error,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Ready => "ready",
            Self::Training => "training",
            Self::Done => "done",
            Self::Error => "error",
        }
    }
}
