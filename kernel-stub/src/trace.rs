//! The `trace` feature's event budget: `cargo xtask run` shows the first clone/exit events of
//! each program in full and then only counts, so the demo stays readable while the stress
//! cases run thousands of clones.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::kprintln;

/// Events printed per program before the trace goes quiet.
const BUDGET: u32 = 40;

static PRINTED: AtomicU32 = AtomicU32::new(0);

/// Should this clone/exit/refusal event be printed? Always `false` without the `trace`
/// feature; with it, `true` for the first [`BUDGET`] events of each program (the call that
/// exhausts the budget prints a note saying so).
pub fn event() -> bool {
    if !cfg!(feature = "trace") {
        return false;
    }
    let n = PRINTED.fetch_add(1, Ordering::Relaxed);
    if n == BUDGET {
        kprintln!(
            "(trace: further clone/exit lines of this program are not shown; counts at the end)"
        );
    }
    n < BUDGET
}

/// Starts a fresh budget (called between programs).
pub fn reset() {
    PRINTED.store(0, Ordering::Relaxed);
}
