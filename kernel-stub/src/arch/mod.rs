//! Arch selection: exactly one of `x86_64/`, `aarch64/`, `riscv64/` is compiled, as `crate::arch`.
//!
//! Every arch module provides the same items (the stub's arch interface):
//!
//! * `ARCH: clone_core::Arch`, `USER_REGION: Range<u64>` (what `access_ok` accepts),
//!   `USER_IMAGE_BASE: u64` (link address of the user ELF);
//! * `TrapFrame` (every user register, `Clone + Copy + Default`) with `new_user`, `syscall_nr`,
//!   `args`, `set_return`, `pc`, `sp`, `set_sp`, `tls`, `set_tls`;
//! * `run_user` returns the arch-neutral [`TrapCause`] defined here;
//! * `init()`, `console_write(&[u8])`, `run_user(&mut TrapFrame) -> TrapCause`, `idle()`,
//!   `exit_qemu(bool) -> !`, `check_tls(u64) -> Result<(), Errno>`;
//! * `sigframe`: Linux's signal frame of the arch (`setup_frame`, `restore_frame`,
//!   `restart_syscall`, `fault_code`, `RT_SIGRETURN`, `HAS_RESTORER`, `TRAMPOLINE`), used by
//!   `crate::signal`;
//! * `take_pending_tick() -> bool`: acknowledge a timer tick that came due while the kernel
//!   ran (a long syscall ends its slice there);
//! * clocks: `monotonic_ns()` (a free-running counter, never the tick count, so time stays
//!   right while the kernel runs with interrupts off) and `rtc_unix_ns()` (the board's RTC);
//! * `TASK_SIZE_MAX`: the end of the user half as Linux's `access_ok` sees it, which decides
//!   EFAULT where no memory is touched (a private futex key);
//! * `DIRECT_MAP_OFFSET`: where the kernel reaches physical memory (`frames::ptr`): 0 where
//!   the boot identity map does it, else the offset of a supervisor-only alias.
//!
//! The boot code of each arch (`_start`) sets up a stack, zeroes `.bss` and calls
//! [`crate::kmain`]. If the arch directory holds a `linker.ld`, `build.rs` passes it to the
//! linker (`-T`).
//!
//! The `use` list below is the compile-time check that an arch provides the whole interface:
//! a missing item fails the build here rather than in some later caller.

#[cfg_attr(target_arch = "x86_64", path = "x86_64/mod.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64/mod.rs")]
#[cfg_attr(target_arch = "riscv64", path = "riscv64/mod.rs")]
mod imp;

pub use imp::{
    ARCH, DIRECT_MAP_OFFSET, FRAME_POOL, TASK_SIZE_MAX, TrapFrame, USER_IMAGE_BASE, USER_REGION,
    check_tls, console_pending, console_read, console_write, exit_qemu, hwcap, idle, init, mmu,
    monotonic_ns, rtc_unix_ns, run_user, sigframe, take_pending_tick,
};

/// The permissions of one user page, as `crate::addrspace` asks the arch's `mmu` to encode them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perm {
    /// User writes allowed (never together with `exec`: W^X).
    pub write: bool,
    /// User instruction fetches allowed.
    pub exec: bool,
    /// Read-only because it is shared copy-on-write: a write fault copies it (or takes it
    /// back when this is its last mapping) and makes it writable.
    pub cow: bool,
}

/// The kind of user memory access a page fault was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Fetch,
}

/// Signal numbers a fault kills with: the same on x86_64, aarch64 and riscv64 (both
/// `arch/x86/include/uapi/asm/signal.h` and `include/uapi/asm-generic/signal.h`).
pub mod signal {
    /// Illegal instruction.
    pub const SIGILL: u8 = 4;
    /// Breakpoint or single-step trap.
    pub const SIGTRAP: u8 = 5;
    /// Bus error: misalignment, x86 stack-segment and segment-not-present faults.
    pub const SIGBUS: u8 = 7;
    /// Arithmetic error: integer divide, x87 and SIMD floating-point exceptions.
    pub const SIGFPE: u8 = 8;
    /// Invalid memory reference.
    pub const SIGSEGV: u8 = 11;
}

/// Why `run_user` came back: the same three outcomes on every arch.
#[derive(Clone, Copy, Debug)]
pub enum TrapCause {
    /// The task made a syscall (`syscall`, `svc #0`, `ecall`); the frame's pc already points
    /// after the instruction.
    Syscall,
    /// The preemption timer fired while the task ran (already acknowledged and re-armed).
    Timer,
    /// A user fault: the task dies of `signal`, the one Linux sends for this fault.
    Fault {
        /// Linux's signal for the fault ([`signal`]), e.g. SIGILL for an undefined
        /// instruction.
        signal: u8,
        /// User pc of the faulting instruction.
        pc: u64,
        /// Faulting address where the arch reports one (CR2, FAR_EL1, stval), else 0 or pc.
        addr: u64,
        /// The access, for a page fault the kernel may resolve (first touch of the user
        /// region, copy-on-write); `None` for every other fault.
        access: Option<Access>,
        /// Human-readable kind of fault.
        what: &'static str,
    },
}
