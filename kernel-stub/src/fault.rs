//! User faults: resolve what the memory model allows (a first touch of the user region, a
//! write to a copy-on-write page), kill the task for anything else.
//!
//! Linux's order: `handle_mm_fault` first; only a fault it cannot resolve becomes a signal.
//! The stub delivers no signals, so the task dies of the arch's signal for the fault (SIGSEGV
//! for a page fault), reported on the console.

use crate::arch::Access;
use crate::kprintln;
use crate::task::{Death, Kernel};

/// Handles a fault of the task in slot `i` at user pc `pc` on address `addr`.
pub fn user_fault(
    k: &mut Kernel,
    i: usize,
    signal: u8,
    pc: u64,
    addr: u64,
    access: Option<Access>,
    what: &str,
) {
    let task = k.task(i);
    if let Some(access) = access
        && task.space.fault(addr, access == Access::Write).is_ok()
    {
        return;
    }
    kprintln!(
        "kernel-stub: task {} killed by signal {signal}: {what} at pc={pc:#x} addr={addr:#x}",
        task.tid
    );
    // Linux would kill the whole thread group with a signal; the stub kills only the faulting
    // thread and keeps going, so one hostile case cannot end the run. The exit status is what
    // a death by Linux's signal reports.
    k.exit_task(i, Death::Killed(signal));
}
