//! aarch64 signal frame: Linux's `struct rt_sigframe` (`arch/arm64/kernel/signal.c`): the
//! `siginfo`, then the `ucontext` whose `sigcontext` holds x0..x30, sp, pc, pstate and the
//! fault address, followed in `__reserved` by an `fpsimd_context` record (FPSR, FPCR,
//! q0..q31) and the terminator; above the frame a `frame_record` (fp, lr) that x29 points
//! at. The stub has no SVE, SME or other records to add (a kernel on a CPU without them
//! writes the same frame) and no `esr_context` (it keeps no ESR for a fault).
//!
//! The handler returns to `sa_restorer` when `SA_RESTORER` is set (musl and glibc set it);
//! without, Linux returns to the vDSO's `__kernel_rt_sigreturn`. The stub has no vDSO: it
//! points lr at [`TRAMPOLINE`], an address no user page can have, and takes the fetch fault
//! there as the `rt_sigreturn` that trampoline makes (`crate::fault`).

use super::TrapFrame;
use crate::arch::Access;
use crate::signal::{Delivery, Restored, SA_RESTORER, SA_SIGINFO};
use crate::uaccess;

/// `__NR_rt_sigreturn` (generic table).
pub const RT_SIGRETURN: u64 = 139;

/// The kernel's `struct sigaction` has `sa_restorer`.
pub const HAS_RESTORER: bool = true;

/// Where a handler without `SA_RESTORER` returns to: the first address above the user
/// region (kernel memory, never a user page), standing in for the vDSO's sigreturn
/// trampoline.
pub const TRAMPOLINE: Option<u64> = Some(crate::arch::USER_REGION.end);

/// Offsets in `struct rt_sigframe`: `info`, then `uc` (`uc_flags`, `uc_link`, `uc_stack`,
/// `uc_sigmask`, 120 unused bytes, `uc_mcontext` 16-byte aligned).
const UC: usize = 128;
const UC_STACK: usize = UC + 16;
const SIGMASK: usize = UC + 40;
const MCONTEXT: usize = UC + 176;
/// In `struct sigcontext`: `fault_address`, `regs[31]`, `sp`, `pc`, `pstate`, `__reserved`.
const SC_REGS: usize = MCONTEXT + 8;
const SC_SP: usize = MCONTEXT + 256;
const SC_PC: usize = MCONTEXT + 264;
const SC_PSTATE: usize = MCONTEXT + 272;
const RESERVED: usize = MCONTEXT + 288;
const RESERVED_SIZE: usize = 4096;
const FRAME_SIZE: usize = RESERVED + RESERVED_SIZE;

/// `FPSIMD_MAGIC` and the record's size (head, fpsr, fpcr, 32 q registers); `ESR_MAGIC`.
const FPSIMD_MAGIC: u32 = 0x4650_8001;
const FPSIMD_SIZE: usize = 528;
const ESR_MAGIC: u32 = 0x4553_5201;

/// PSTATE.BTYPE: cleared for the handler (a `BLR` to it, with BTI off).
const PSR_BTYPE: u64 = 3 << 10;

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

/// `get_sigframe` + `setup_rt_frame` + `setup_return`: the frame record and the frame below
/// the interrupted sp (or the alternate stack's top), then x0 = signal, x1 = &info and
/// x2 = &uc (with `SA_SIGINFO`), sp = the frame, x29 = the frame record, x30 = the restorer,
/// pc = the handler. `Err` if it cannot be written (the caller forces SIGSEGV).
pub fn setup_frame(frame: &mut TrapFrame, d: &Delivery) -> Result<(), ()> {
    let mut top = frame.sp;
    if d.flags & crate::signal::SA_ONSTACK != 0 && crate::signal::sas_ss_flags(top, d.altstack) == 0
    {
        top = d.altstack.0.wrapping_add(d.altstack.2);
    }
    let record = top.wrapping_sub(16) & !15;
    let sp = record.wrapping_sub(FRAME_SIZE as u64);
    if !uaccess::access_ok(sp, top.wrapping_sub(sp)) {
        return Err(());
    }
    let mut b = alloc::vec![0u8; FRAME_SIZE];
    if d.flags & SA_SIGINFO != 0 {
        b[..128].copy_from_slice(&d.info);
    }
    put(&mut b, UC_STACK, d.altstack.0);
    b[UC_STACK + 8..UC_STACK + 12].copy_from_slice(&d.altstack.1.to_le_bytes());
    put(&mut b, UC_STACK + 16, d.altstack.2);
    put(&mut b, SIGMASK, d.mask);
    put(&mut b, MCONTEXT, d.fault_address);
    for (n, &x) in frame.x.iter().enumerate() {
        put(&mut b, SC_REGS + 8 * n, x);
    }
    put(&mut b, SC_SP, frame.sp);
    put(&mut b, SC_PC, frame.pc);
    put(&mut b, SC_PSTATE, frame.pstate);
    b[RESERVED..RESERVED + 4].copy_from_slice(&FPSIMD_MAGIC.to_le_bytes());
    b[RESERVED + 4..RESERVED + 8].copy_from_slice(&(FPSIMD_SIZE as u32).to_le_bytes());
    b[RESERVED + 8..RESERVED + 12].copy_from_slice(&(frame.fpsr as u32).to_le_bytes());
    b[RESERVED + 12..RESERVED + 16].copy_from_slice(&(frame.fpcr as u32).to_le_bytes());
    for (n, q) in frame.q.iter().enumerate() {
        let at = RESERVED + 16 + 16 * n;
        b[at..at + 16].copy_from_slice(&q.to_le_bytes());
    }
    // The terminator after the record is already zero.
    let mut fr = [0u8; 16];
    fr[..8].copy_from_slice(&frame.x[29].to_le_bytes());
    fr[8..].copy_from_slice(&frame.x[30].to_le_bytes());
    uaccess::write_bytes(record, &fr).map_err(|_| ())?;
    uaccess::write_bytes(sp, &b).map_err(|_| ())?;
    frame.x[0] = d.sig;
    if d.flags & SA_SIGINFO != 0 {
        frame.x[1] = sp;
        frame.x[2] = sp + UC as u64;
    }
    frame.sp = sp;
    frame.x[29] = record;
    frame.x[30] = if d.flags & SA_RESTORER != 0 {
        d.restorer
    } else {
        TRAMPOLINE.unwrap_or(0)
    };
    frame.pc = d.handler;
    frame.pstate &= !PSR_BTYPE;
    Ok(())
}

/// `rt_sigreturn` (`restore_sigframe`, `parse_user_sigframe`): the frame is at sp, which
/// must be 16-byte aligned; pstate must be EL0t with DAIF clear (`valid_user_regs`); the
/// records in `__reserved` must be one `fpsimd_context` of the right size, ESR records
/// (ignored) and the terminator, each 16-byte aligned and inside the area. `Err` otherwise
/// (`badframe`: SIGSEGV).
pub fn restore_frame(frame: &mut TrapFrame) -> Result<Restored, ()> {
    let at = frame.sp;
    if !at.is_multiple_of(16) {
        return Err(());
    }
    let mut b = alloc::vec![0u8; FRAME_SIZE];
    uaccess::read_bytes(at, &mut b).map_err(|_| ())?;
    let pstate = get(&b, SC_PSTATE);
    // The mode field (M[4:0]: EL0t, AArch64) and DAIF.
    if pstate & (0x1f | 0xf << 6) != 0 {
        return Err(());
    }
    let mut fpsimd = None;
    let mut off = 0;
    loop {
        if RESERVED_SIZE - off < 8 || !off.is_multiple_of(16) {
            return Err(());
        }
        let magic = get32(&b, RESERVED + off);
        let size = get32(&b, RESERVED + off + 4) as usize;
        if RESERVED_SIZE - off < size {
            return Err(());
        }
        match magic {
            0 if size == 0 => break,
            FPSIMD_MAGIC if fpsimd.is_none() && size == FPSIMD_SIZE => fpsimd = Some(off),
            ESR_MAGIC => {}
            _ => return Err(()),
        }
        if size < 8 {
            return Err(());
        }
        off += size;
    }
    let fp = RESERVED + fpsimd.ok_or(())?;
    for (n, x) in frame.x.iter_mut().enumerate() {
        *x = get(&b, SC_REGS + 8 * n);
    }
    frame.sp = get(&b, SC_SP);
    frame.pc = get(&b, SC_PC);
    frame.pstate = pstate;
    frame.fpsr = u64::from(get32(&b, fp + 8));
    frame.fpcr = u64::from(get32(&b, fp + 12));
    for (n, q) in frame.q.iter_mut().enumerate() {
        let at = fp + 16 + 16 * n;
        *q = u128::from_le_bytes(b[at..at + 16].try_into().unwrap_or([0; 16]));
    }
    let mut stack = [0u8; 24];
    stack.copy_from_slice(&b[UC_STACK..UC_STACK + 24]);
    Ok(Restored {
        mask: get(&b, SIGMASK),
        stack,
        value: frame.x[0],
    })
}

/// Rewinds an interrupted syscall so it runs again: x0 back to its first argument (the
/// result overwrote it; Linux keeps `orig_x0`), x8 to its number, pc back over the `svc`.
pub fn restart_syscall(frame: &mut TrapFrame, nr: u64, args: [u64; 6]) {
    frame.x[..6].copy_from_slice(&args);
    frame.x[8] = nr;
    frame.pc = frame.pc.wrapping_sub(4);
}

/// Linux's `si_code` and `si_addr` for a fault (`arch/arm64/mm/fault.c`, `traps.c`): a data
/// or instruction abort `SEGV_MAPERR` or `SEGV_ACCERR` (`mapped`: inside a mapping) at the
/// address, an undefined instruction `ILL_ILLOPC` at pc, `brk` `TRAP_BRKPT` at pc, an
/// alignment fault `BUS_ADRALN` at the address, a floating-point trap `FPE_FLTUNK`.
pub fn fault_code(
    signal: u8,
    _what: &str,
    pc: u64,
    addr: u64,
    access: Option<Access>,
    mapped: bool,
) -> (i32, u64) {
    use super::super::signal::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    match (signal, access) {
        (SIGSEGV, _) => (if mapped && access.is_some() { 2 } else { 1 }, addr),
        (SIGILL, _) => (1, pc),
        (SIGTRAP, _) => (1, pc),
        (SIGBUS, _) => (1, addr),
        (SIGFPE, _) => (14, pc),
        _ => (0x80, 0),
    }
}
