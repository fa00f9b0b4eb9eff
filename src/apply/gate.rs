//! What each step (or undo) still waits for, counted: single waits on another step, and
//! joins (see [`crate::plan::Step::after_joins`]), each done once every step in it is.
//! Forward apply and rollback release steps through the same counts.

pub(super) struct Gate {
    /// Per step: the waits and joins not yet done.
    waits: Vec<usize>,
    /// Per step: the steps waiting for it one by one.
    released_by: Vec<Vec<usize>>,
    /// Per step: the joins it is part of.
    in_joins: Vec<Vec<usize>>,
    /// Per join: its steps not done yet, and the steps waiting for it.
    join_left: Vec<usize>,
    join_waiters: Vec<Vec<usize>>,
}

impl Gate {
    pub(super) fn new(steps: usize) -> Gate {
        Gate {
            waits: vec![0; steps],
            released_by: vec![Vec::new(); steps],
            in_joins: vec![Vec::new(); steps],
            join_left: Vec::new(),
            join_waiters: Vec::new(),
        }
    }

    /// `x` waits for `y`.
    pub(super) fn wait(&mut self, x: usize, y: usize) {
        self.waits[x] += 1;
        self.released_by[y].push(x);
    }

    /// `x` waits for join `j`.
    pub(super) fn wait_join(&mut self, x: usize, j: usize) {
        self.grow(j);
        self.waits[x] += 1;
        self.join_waiters[j].push(x);
    }

    /// `y` is part of join `j`.
    pub(super) fn join(&mut self, y: usize, j: usize) {
        self.grow(j);
        self.in_joins[y].push(j);
        self.join_left[j] += 1;
    }

    fn grow(&mut self, j: usize) {
        if self.join_left.len() <= j {
            self.join_left.resize(j + 1, 0);
            self.join_waiters.resize(j + 1, Vec::new());
        }
    }

    /// Once every wait is declared: a join nobody is part of is done already.
    pub(super) fn seal(&mut self) {
        for (left, waiters) in self.join_left.iter().zip(&self.join_waiters) {
            if *left == 0 {
                for &x in waiters {
                    self.waits[x] -= 1;
                }
            }
        }
    }

    pub(super) fn is_free(&self, x: usize) -> bool {
        self.waits[x] == 0
    }

    /// Step `y` is done: calls `freed` with each step that now waits for nothing.
    pub(super) fn release(&mut self, y: usize, mut freed: impl FnMut(usize)) {
        let waits = &mut self.waits;
        let mut one = |x: usize| {
            waits[x] -= 1;
            if waits[x] == 0 {
                freed(x);
            }
        };
        for &x in &self.released_by[y] {
            one(x);
        }
        for &j in &self.in_joins[y] {
            self.join_left[j] -= 1;
            if self.join_left[j] == 0 {
                for &x in &self.join_waiters[j] {
                    one(x);
                }
            }
        }
    }
}
