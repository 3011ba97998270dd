//! User faults: resolve what the memory model allows (a first touch of the user region, a
//! write to a copy-on-write page); anything else becomes a signal, as Linux's
//! `force_sig_fault`.
//!
//! Linux's order: `handle_mm_fault` first; only a fault it cannot resolve becomes a signal:
//! the arch's signal for the fault (SIGSEGV for a page fault) with its `si_code` and
//! `si_addr` (`arch::sigframe::fault_code`; a page fault's is `SEGV_MAPERR` outside every
//! mapping, `SEGV_ACCERR` inside one that refuses the access). It is delivered before the
//! task runs again: to the handler if one is installed and the signal is not blocked, else
//! (a blocked or ignored fault signal gets its default back) the default action ends the
//! whole thread group, reported on the console. A fault the memory model allows but no
//! frame is left for (out of memory) is SIGKILL, the signal Linux's OOM killer sends.

use clone_core::Errno;

use crate::arch::{Access, sigframe};
use crate::kprintln;
use crate::signal::SigInfo;
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
    // A handler returning to the stand-in for the vDSO's sigreturn trampoline (aarch64
    // without `SA_RESTORER`, riscv64 always): the `rt_sigreturn` that trampoline makes.
    if access == Some(Access::Fetch) && Some(pc) == sigframe::TRAMPOLINE {
        if let Ok(value) = crate::signal::rt_sigreturn(k, i) {
            k.task(i).frame.set_return(value);
        }
        return;
    }
    let task = k.task(i);
    let resolved = access.map(|access| task.space().fault(addr, access == Access::Write));
    if let Some(Ok(())) = resolved {
        return;
    }
    if let Some(Err(Errno::ENOMEM)) = resolved {
        // No frame for a fault the memory model allows: what Linux's OOM killer ends with
        // SIGKILL. (Linux picks the largest process; the stub kills the one that faulted.)
        kprintln!(
            "kernel-stub: task {} killed by signal {SIGKILL}: out of frames at pc={pc:#x} addr={addr:#x}",
            task.tid
        );
        k.exit_group(i, Death::Killed(SIGKILL));
        return;
    }
    let mapped = task.space().mm.borrow().find(addr).is_some();
    let (code, si_addr) = sigframe::fault_code(signal, what, pc, addr, access, mapped);
    let tid = task.tid;
    let info = SigInfo::fault(u64::from(signal), code, si_addr);
    if crate::signal::force_sig_fault(k, i, info) {
        kprintln!(
            "kernel-stub: task {tid} killed by signal {signal}: {what} at pc={pc:#x} addr={addr:#x}"
        );
    }
}
