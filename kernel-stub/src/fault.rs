//! User faults: resolve what the memory model allows (a first touch of the user region, a
//! write to a copy-on-write page), kill the task for anything else.
//!
//! Linux's order: `handle_mm_fault` first; only a fault it cannot resolve becomes a signal.
//! The stub delivers no signals, so the task dies of the arch's signal for the fault (SIGSEGV
//! for a page fault), reported on the console. A fault the memory model allows but no frame
//! is left for (out of memory) is SIGKILL, the signal Linux's OOM killer sends.

use clone_core::Errno;

use crate::arch::Access;
use crate::kprintln;
use crate::task::{Death, Kernel};

/// `SIGKILL`.
const SIGKILL: u8 = 9;

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
    let resolved = access.map(|access| task.space().fault(addr, access == Access::Write));
    if let Some(Ok(())) = resolved {
        return;
    }
    // No frame for a fault the memory model allows: what Linux's OOM killer would end with
    // SIGKILL. (Linux picks the largest process; the stub kills the one that faulted.)
    let (signal, what) = match resolved {
        Some(Err(Errno::ENOMEM)) => (SIGKILL, "out of frames"),
        _ => (signal, what),
    };
    kprintln!(
        "kernel-stub: task {} killed by signal {signal}: {what} at pc={pc:#x} addr={addr:#x}",
        task.tid
    );
    // Linux would kill the whole thread group with a signal; the stub kills only the faulting
    // thread and keeps going, so one hostile case cannot end the run. The exit status is what
    // a death by Linux's signal reports.
    k.exit_task(i, Death::Killed(signal));
}
