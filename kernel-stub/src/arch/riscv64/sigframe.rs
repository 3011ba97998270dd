//! riscv64 signal frame: Linux's `struct rt_sigframe` (`arch/riscv/kernel/signal.c`): the
//! `siginfo`, then the `ucontext` whose `sigcontext` holds `user_regs_struct` (pc, then x1..x31)
//! and the F/D state (f0..f31, fcsr) in a union whose last words are the reserved word and
//! the END extension header (both 0; the stub has no V state to add).
//!
//! riscv64 has no `sa_restorer`: Linux returns from every handler to the vDSO's
//! `__vdso_rt_sigreturn`. The stub has no vDSO: ra is [`TRAMPOLINE`], an address no user
//! page can have, and the fetch fault there is taken as the `rt_sigreturn` that trampoline
//! makes (`crate::fault`).

use super::TrapFrame;
use crate::arch::Access;
use crate::signal::{Delivery, Restored};
use crate::uaccess;

/// `__NR_rt_sigreturn` (generic table).
pub const RT_SIGRETURN: u64 = 139;

/// The kernel's `struct sigaction` has no `sa_restorer` on riscv64.
pub const HAS_RESTORER: bool = false;

/// Where every handler returns to: the first address above the user region, standing in
/// for the vDSO's sigreturn trampoline.
pub const TRAMPOLINE: Option<u64> = Some(crate::arch::USER_REGION.end);

/// Offsets in `struct rt_sigframe`: `info`, then `uc` (`uc_flags`, `uc_link`, `uc_stack`,
/// `uc_sigmask`, 120 unused bytes, `uc_mcontext` 16-byte aligned).
const UC: usize = 128;
const UC_STACK: usize = UC + 16;
const SIGMASK: usize = UC + 40;
const MCONTEXT: usize = UC + 176;
/// In `struct sigcontext`: `sc_regs` (32 words), the F/D state (f[32], fcsr), the reserved
/// word and the END header at the end of the 528-byte union.
const SC_FP: usize = MCONTEXT + 256;
const SC_FCSR: usize = SC_FP + 256;
const SC_RESERVED: usize = SC_FP + 516;
const SC_END: usize = SC_FP + 520;
const FRAME_SIZE: usize = SC_FP + 528;

const SP: usize = 2;
const A0: usize = 10;
const A7: usize = 17;

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// `get_sigframe` + `setup_rt_frame`: the frame below sp (or the alternate stack's top),
/// 16-byte aligned; a0 = signal, a1 = &info, a2 = &uc, sp = the frame, ra = the
/// trampoline, pc = the handler. `Err` if it overflows the alternate stack it is on or cannot
/// be written (the caller forces SIGSEGV).
pub fn setup_frame(frame: &mut TrapFrame, d: &Delivery) -> Result<(), ()> {
    let cur = frame.x[SP];
    if crate::signal::on_sig_stack(cur, d.altstack)
        && !crate::signal::on_sig_stack(cur.wrapping_sub(FRAME_SIZE as u64), d.altstack)
    {
        return Err(());
    }
    let mut top = cur;
    if d.flags & crate::signal::SA_ONSTACK != 0 && crate::signal::sas_ss_flags(top, d.altstack) == 0
    {
        top = d.altstack.0.wrapping_add(d.altstack.2);
    }
    let sp = top.wrapping_sub(FRAME_SIZE as u64) & !15;
    let mut b = [0u8; FRAME_SIZE];
    b[..128].copy_from_slice(&d.info);
    put(&mut b, UC_STACK, d.altstack.0);
    b[UC_STACK + 8..UC_STACK + 12].copy_from_slice(&d.altstack.1.to_le_bytes());
    put(&mut b, UC_STACK + 16, d.altstack.2);
    put(&mut b, SIGMASK, d.mask);
    put(&mut b, MCONTEXT, frame.pc);
    for n in 1..32 {
        put(&mut b, MCONTEXT + 8 * n, frame.x[n]);
    }
    for (n, &f) in frame.f.iter().enumerate() {
        put(&mut b, SC_FP + 8 * n, f);
    }
    b[SC_FCSR..SC_FCSR + 4].copy_from_slice(&(frame.fcsr as u32).to_le_bytes());
    uaccess::write_bytes(sp, &b).map_err(|_| ())?;
    frame.pc = d.handler;
    frame.x[SP] = sp;
    frame.x[1] = TRAMPOLINE.unwrap_or(0);
    frame.x[A0] = d.sig;
    frame.x[A0 + 1] = sp;
    frame.x[A0 + 2] = sp + UC as u64;
    Ok(())
}

/// `rt_sigreturn`: the frame is at sp; the registers, pc and F/D state come back; the
/// reserved word must be 0 and the extension list only the END header (`restore_sigcontext`).
/// `Err` otherwise (`badframe`: SIGSEGV).
pub fn restore_frame(frame: &mut TrapFrame) -> Result<Restored, ()> {
    let at = frame.x[SP];
    let mut b = [0u8; FRAME_SIZE];
    uaccess::read_bytes(at, &mut b).map_err(|_| ())?;
    if b[SC_RESERVED..SC_RESERVED + 4] != [0; 4] || b[SC_END..SC_END + 8] != [0; 8] {
        return Err(());
    }
    frame.pc = get(&b, MCONTEXT);
    for n in 1..32 {
        frame.x[n] = get(&b, MCONTEXT + 8 * n);
    }
    for (n, f) in frame.f.iter_mut().enumerate() {
        *f = get(&b, SC_FP + 8 * n);
    }
    frame.fcsr = u64::from(u32::from_le_bytes(
        b[SC_FCSR..SC_FCSR + 4].try_into().unwrap_or([0; 4]),
    ));
    let mut stack = [0u8; 24];
    stack.copy_from_slice(&b[UC_STACK..UC_STACK + 24]);
    Ok(Restored {
        mask: get(&b, SIGMASK),
        stack,
        value: frame.x[A0],
    })
}

/// Rewinds an interrupted syscall so it runs again: a0 back to its first argument (Linux's
/// `orig_a0`), a7 to its number, pc back over the 4-byte `ecall`.
pub fn restart_syscall(frame: &mut TrapFrame, nr: u64, args: [u64; 6]) {
    frame.x[A0..A0 + 6].copy_from_slice(&args);
    frame.x[A7] = nr;
    frame.pc = frame.pc.wrapping_sub(4);
}

/// Linux's `si_code` and `si_addr` for a fault (`arch/riscv/kernel/traps.c`, `mm/fault.c`):
/// a page fault `SEGV_MAPERR` or `SEGV_ACCERR` (`mapped`: inside a mapping) at the address,
/// an access fault `SEGV_ACCERR`, an illegal instruction `ILL_ILLOPC` at pc, `ebreak`
/// `TRAP_BRKPT` at pc, a misaligned access `BUS_ADRALN` at the address.
pub fn fault_code(
    signal: u8,
    _what: &str,
    pc: u64,
    addr: u64,
    access: Option<Access>,
    mapped: bool,
) -> (i32, u64) {
    use super::super::signal::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};
    match (signal, access) {
        (SIGSEGV, Some(_)) => (if mapped { 2 } else { 1 }, addr),
        (SIGSEGV, None) => (2, addr),
        (SIGILL, _) => (1, pc),
        (SIGTRAP, _) => (1, pc),
        (SIGBUS, _) => (1, addr),
        _ => (0x80, 0),
    }
}
