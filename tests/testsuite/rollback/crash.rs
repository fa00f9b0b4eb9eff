//! keel killed (SIGKILL) at random instants while applying and while rolling back: the
//! state file always parses, and the next `keel apply` converges with no duplicate and no
//! orphan.
