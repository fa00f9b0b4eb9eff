//! Single runs: throttling, two applies at once, a rollback that fails and is resumed,
//! saved plans, JSON events, Ctrl-C.
