//! aarch64 (QEMU `virt`) arch module of the kernel stub: boot, EL0 entry and traps, PL011
//! console, generic-timer preemption through GICv2, identity-mapped MMU and semihosting exit.
//!
//! # Orientation
//!
//! This file is `crate::arch::imp` (selected by `src/arch/mod.rs` with `cfg_attr(path)`); it
//! provides exactly the items listed in `kernel-stub/src/arch/mod.rs`. Files beside it:
//! `boot.s` (`_start`: EL2 -> EL1, stack, `.bss`, `kmain`), `trap.s` (`__arch_run_user` and the
//! VBAR_EL1 table), `mmu.rs` (identity map of RAM, device window, user page formats), `irq.rs`
//! (GICv2 + virtual timer) and `linker.ld` (link address 0x4008_0000, picked up by `build.rs`).
//!
//! QEMU command line this module is written for (the xtask must pass all of it):
//!
//! ```text
//! qemu-system-aarch64 -machine virt -cpu cortex-a72 -m 512M -nographic -semihosting \
//!     -kernel <kernel-stub ELF>
//! ```
//!
//! * `-m 512M`: RAM is 0x4000_0000..0x6000_0000, [`FRAME_POOL`] its upper 256 MiB;
//!   [`USER_REGION`] (0x40_0000..0x4000_0000, where static Linux programs are linked) is
//!   virtual only, backed by frames of the pool.
//! * `-semihosting`: [`exit_qemu`] uses the semihosting `SYS_EXIT` call (qemu-exit's AArch64
//!   backend), which makes QEMU exit with the given status; without it the `hlt #0xf000` is an
//!   undefined instruction.
//! * GICv2 is `virt`'s default (no `gic-version=3`); `virtualization=on` also works (the boot
//!   code drops from EL2 to EL1); `secure=on` (EL3 entry) does not.
//!
//! Memory model: the MMU is on with a 4 KiB-granule identity map of RAM and the devices at
//! `mmu::MMIO_OFFSET` (see `mmu.rs`), because with the MMU off every data access is Device
//! memory, where the unaligned loads and stores of ordinary (non-strict-align) Linux user code
//! fault. The user region is the only EL0-accessible memory, so a wild user pointer is a
//! translation or permission fault reported as [`TrapCause::Fault`].
//!
//! Limitation: the kernel copies the user program into RAM with data stores and does no
//! I-cache maintenance; QEMU's TCG does not model caches, real hardware would need
//! `dc cvau`/`ic ivau` over the image.

mod irq;
pub mod mmu;
pub mod sigframe;

use super::signal::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
use super::{Access, TrapCause};
use core::arch::global_asm;
use core::mem::offset_of;
use core::ops::Range;

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    CNTFRQ_EL0, CNTKCTL_EL1, CNTVCT_EL0, CPACR_EL1, ESR_EL1, FAR_EL1, Readable, VBAR_EL1, Writeable,
};
use clone_core::{Arch, Errno};

/// The architecture the kernel serves.
pub const ARCH: Arch = Arch::Aarch64;

/// User-accessible memory: 4 MiB..1 GiB of VA, as on x86_64, so a static program at the
/// usual aarch64 link address (0x40_0000, GNU ld's default for non-PIE) loads as it is, with
/// its break, `mmap` area and stack above it; pages are mapped EL0 (and privileged-execute-
/// never) by `crate::addrspace` through `mmu.rs`. Must stay 2 MiB aligned (leaf tables).
pub const USER_REGION: Range<u64> = 0x0040_0000..0x4000_0000;

/// End of the user half as Linux's arm64 `access_ok` sees it: `TASK_SIZE_MAX`
/// = 1 << `VA_BITS` (48 in Debian's kernels).
pub const TASK_SIZE_MAX: u64 = 1 << 48;

/// Link address of the stub's own user programs (conformance, hostile): 32 MiB, as on x86_64,
/// clear of the usual static link address below it.
pub const USER_IMAGE_BASE: u64 = 0x0200_0000;

/// Physical frames for user pages and page tables: the upper 256 MiB of `-m 512M`, above the
/// kernel image (`linker.ld` checks the image ends below).
pub const FRAME_POOL: Range<u64> = 0x5000_0000..0x6000_0000;

/// The kernel reaches frames through the boot identity map.
pub const DIRECT_MAP_OFFSET: u64 = 0;

/// `AT_HWCAP` as Linux reports it for what the stub enables (`arch/arm64/include/uapi/asm/
/// hwcap.h`): HWCAP_FP and HWCAP_ASIMD (CPACR_EL1.FPEN lets EL0 use both).
pub fn hwcap() -> u64 {
    (1 << 0) | (1 << 1)
}

/// Every user register of one task, saved by `trap.s` on each exception from EL0 and
/// restored by [`run_user`]. The layout is shared with `trap.s` (offsets checked below).
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// x0..x30 (x29 = frame pointer, x30 = link register).
    pub x: [u64; 31],
    /// SP_EL0.
    pub sp: u64,
    /// ELR_EL1: where the user resumes (after an `svc`, the next instruction).
    pub pc: u64,
    /// SPSR_EL1: the user PSTATE (NZCV, DAIF, mode EL0t = 0).
    pub pstate: u64,
    /// TPIDR_EL0: the user thread pointer (Linux's TLS register on arm64).
    pub tpidr: u64,
    /// FPCR (rounding mode, trap enables).
    pub fpcr: u64,
    /// FPSR (cumulative exception flags).
    pub fpsr: u64,
    _pad: u64,
    /// q0..q31: the FP/SIMD registers (user code uses NEON for memcpy, so they are live).
    pub q: [u128; 32],
}

// The asm in trap.s stores/loads these pairs with `stp`/`ldp`; keep them adjacent.
const _: () = {
    assert!(offset_of!(TrapFrame, x) == 0);
    assert!(offset_of!(TrapFrame, sp) == 248);
    assert!(offset_of!(TrapFrame, pc) == offset_of!(TrapFrame, sp) + 8);
    assert!(offset_of!(TrapFrame, tpidr) == offset_of!(TrapFrame, pstate) + 8);
    assert!(offset_of!(TrapFrame, fpsr) == offset_of!(TrapFrame, fpcr) + 8);
    assert!(offset_of!(TrapFrame, q).is_multiple_of(16));
    assert!(core::mem::size_of::<TrapFrame>().is_multiple_of(16));
};

/// SPSR_EL1.M = EL0t with DAIF clear: user mode with interrupts on.
const SPSR_EL0T: u64 = 0;

/// The PSTATE bits EL0 owns and keeps across every exception, as Linux's saved `pstate`
/// does: NZCV, DIT, TCO, SSBS and BTYPE (ARM ARM, SPSR_EL1 for exceptions from AArch64).
/// Everything else (the mode, DAIF, SS, IL, PAN, UAO) is forced by [`run_user`]: EL0t,
/// interrupts unmasked, no pending single step, no illegal-state flag.
const SPSR_USER: u64 = (0xf << 28) | (1 << 25) | (1 << 24) | (1 << 12) | (3 << 10);

impl TrapFrame {
    /// A fresh user context: all registers zero, `pc = entry`, `sp = sp`, EL0 with IRQs on.
    pub fn new_user(entry: u64, sp: u64) -> Self {
        Self {
            pc: entry,
            sp,
            pstate: SPSR_EL0T,
            ..Self::default()
        }
    }

    /// Syscall number: x8 as an `int`, as Linux's `el0_svc_common` takes it.
    pub fn syscall_nr(&self) -> u64 {
        u64::from(self.x[8] as u32)
    }

    /// Raw syscall arguments x0..x5, in Linux order.
    pub fn args(&self) -> [u64; 6] {
        [
            self.x[0], self.x[1], self.x[2], self.x[3], self.x[4], self.x[5],
        ]
    }

    /// Sets the syscall result (x0); `-errno as u64` for errors.
    pub fn set_return(&mut self, value: u64) {
        self.x[0] = value;
    }

    /// User program counter.
    pub fn pc(&self) -> u64 {
        self.pc
    }

    /// User stack pointer (SP_EL0).
    pub fn sp(&self) -> u64 {
        self.sp
    }

    /// Sets the user stack pointer (a clone child's new stack).
    pub fn set_sp(&mut self, sp: u64) {
        self.sp = sp;
    }

    /// User TLS register (TPIDR_EL0).
    pub fn tls(&self) -> u64 {
        self.tpidr
    }

    /// Sets the user TLS register (CLONE_SETTLS).
    pub fn set_tls(&mut self, tls: u64) {
        self.tpidr = tls;
    }
}

global_asm!(
    include_str!("boot.s"),
    kmain = sym crate::kmain,
);

global_asm!(
    include_str!("trap.s"),
    SP = const offset_of!(TrapFrame, sp),
    PSTATE = const offset_of!(TrapFrame, pstate),
    FPCR = const offset_of!(TrapFrame, fpcr),
    Q = const offset_of!(TrapFrame, q),
    kernel_trap = sym kernel_trap,
);

unsafe extern "C" {
    /// Enters EL0 with `frame` and returns at the next exception from EL0 with the frame
    /// updated; the result is the vector kind (0 sync, 1 IRQ, 2 FIQ, 3 SError).
    fn __arch_run_user(frame: *mut TrapFrame) -> u64;
    /// The VBAR_EL1 table (2 KiB aligned, in trap.s).
    static __arch_vectors: u8;
}

/// Sets up the MMU, exception vectors, FP access, console and the preemption timer.
/// Called once by `kmain` before anything else.
pub fn init() {
    // SAFETY: called once at boot on the only core, before any other memory user; the map
    // built by `mmu::enable` maps everything the kernel touches (RAM as identity, the devices at
    // `mmu::MMIO_OFFSET`, which nothing touches before this point).
    unsafe { mmu::enable() };
    VBAR_EL1.set(&raw const __arch_vectors as u64);
    // No FP/SIMD traps at EL0 or EL1: user code uses NEON, and trap.s moves q0..q31.
    CPACR_EL1.write(CPACR_EL1::FPEN::TrapNothing);
    // EL0 may read the counters, as on Linux (the vDSO does); the timers stay EL1-only.
    CNTKCTL_EL1.write(CNTKCTL_EL1::EL0VCTEN::TrappedNone + CNTKCTL_EL1::EL0PCTEN::TrappedNone);
    barrier::isb(barrier::SY);
    // SAFETY: UART_CR is the PL011 control register of QEMU `virt` (Device, at its alias);
    // enabling the UART has no effect besides letting it transmit.
    unsafe { core::ptr::write_volatile(UART_CR as *mut u32, UART_CR_ENABLE) };
    irq::init();
}

/// PL011 data register on `virt` (physical 0x0900_0000), at its `mmu.rs` alias.
const UART_DR: usize = mmu::MMIO_OFFSET + 0x0900_0000;
/// PL011 flag register; bit 5 = transmit FIFO full.
const UART_FR: usize = mmu::MMIO_OFFSET + 0x0900_0018;
const UART_FR_TXFF: u32 = 1 << 5;
/// PL011 control register: UARTEN (bit 0) | TXE (bit 8) | RXE (bit 9). QEMU transmits even
/// while it is 0 but logs every byte as a guest error then.
const UART_CR: usize = mmu::MMIO_OFFSET + 0x0900_0030;
const UART_CR_ENABLE: u32 = (1 << 0) | (1 << 8) | (1 << 9);

/// Writes bytes to the PL011 UART (polling; QEMU's PL011 needs no set-up).
pub fn console_write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: UART_FR/UART_DR are the PL011 registers of QEMU `virt`, mapped as Device
        // memory by `mmu.rs` (`init` turns the MMU on before anything is printed); 32-bit
        // accesses as the PL011 requires. Single core, interrupts off in the kernel: no concurrent writer.
        unsafe {
            while core::ptr::read_volatile(UART_FR as *const u32) & UART_FR_TXFF != 0 {}
            core::ptr::write_volatile(UART_DR as *mut u32, u32::from(b));
        }
    }
}

/// PL011 flag register's receive-FIFO-empty bit.
const UART_FR_RXFE: u32 = 1 << 4;

/// Has the PL011 received a byte not read yet?
pub fn console_pending() -> bool {
    // SAFETY: UART_FR is mapped as Device memory by `mmu.rs`; a 32-bit read of FR has no
    // side effect. Single core, interrupts off in the kernel.
    unsafe { core::ptr::read_volatile(UART_FR as *const u32) & UART_FR_RXFE == 0 }
}

/// Reads the bytes the PL011 has received, up to `buf.len()`, without waiting; how many.
pub fn console_read(buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() && console_pending() {
        // SAFETY: as above; the FIFO is not empty, so reading DR takes one byte (the low 8
        // bits; the error bits above are dropped).
        buf[n] = unsafe { core::ptr::read_volatile(UART_DR as *const u32) } as u8;
        n += 1;
    }
    n
}

/// Runs the user context in `frame` at EL0 until the next exception, and classifies it.
pub fn run_user(frame: &mut TrapFrame) -> TrapCause {
    frame.pstate = (frame.pstate & SPSR_USER) | SPSR_EL0T;
    // SAFETY: `frame` is a valid, 16-byte aligned TrapFrame for the whole call (the asm uses it
    // as SP_EL1 while EL0 runs). EL0 can only reach USER_REGION (mmu.rs), so user code cannot
    // corrupt the kernel; `__arch_run_user` restores every callee-saved register and the
    // kernel stack before it returns.
    let kind = unsafe { __arch_run_user(frame) };
    match kind {
        0 => classify_sync(frame),
        1 => {
            irq::handle();
            TrapCause::Timer
        }
        2 => TrapCause::Fault {
            signal: SIGSEGV,
            pc: frame.pc,
            addr: frame.pc,
            access: None,
            what: "unexpected FIQ",
        },
        _ => TrapCause::Fault {
            signal: SIGBUS,
            pc: frame.pc,
            addr: frame.pc,
            access: None,
            what: "SError (asynchronous abort)",
        },
    }
}

/// Decodes ESR_EL1.EC after a synchronous exception from EL0 (ARM ARM, ESR_EL1 EC values),
/// with the signal Linux sends for it (`arch/arm64/kernel/entry-common.c` `el0t_64_sync_handler`
/// and `arch/arm64/mm/fault.c` `fault_info`: an alignment fault is SIGBUS, other aborts
/// SIGSEGV, an unallocated encoding or trapped system register SIGILL).
fn classify_sync(frame: &TrapFrame) -> TrapCause {
    use ESR_EL1::EC::Value as Ec;
    // ESR_EL1/FAR_EL1 still describe the exception just taken: IRQs are masked in the kernel.
    let far = FAR_EL1.get();
    let pc = frame.pc;
    // Data Fault Status Code 0b100001: alignment fault.
    let alignment = ESR_EL1.get() & 0x3f == 0x21;
    let (signal, addr, what) = match ESR_EL1.read_as_enum(ESR_EL1::EC) {
        Some(Ec::SVC64) => return TrapCause::Syscall,
        Some(Ec::Unknown) => (SIGILL, pc, "undefined instruction"),
        Some(Ec::IllegalExecutionState) => (SIGILL, pc, "illegal execution state"),
        Some(Ec::TrappedMsrMrs) => (SIGILL, pc, "trapped system register access"),
        Some(Ec::InstrAbortLowerEL) => (SIGSEGV, far, "instruction abort"),
        Some(Ec::PCAlignmentFault) => (SIGBUS, far, "pc alignment fault"),
        Some(Ec::DataAbortLowerEL) if alignment => (SIGBUS, far, "alignment fault"),
        Some(Ec::DataAbortLowerEL) => (SIGSEGV, far, "data abort"),
        Some(Ec::SPAlignmentFault) => (SIGBUS, frame.sp, "sp alignment fault"),
        Some(Ec::TrappedFP64) => (SIGFPE, pc, "floating-point exception"),
        Some(Ec::Brk64) => (SIGTRAP, pc, "breakpoint (brk)"),
        _ => (SIGILL, pc, "unexpected synchronous exception"),
    };
    // ISS.WnR (bit 6) of a data abort: the access was a write.
    let access = match ESR_EL1.read_as_enum(ESR_EL1::EC) {
        Some(Ec::InstrAbortLowerEL) => Some(Access::Fetch),
        Some(Ec::DataAbortLowerEL) if !alignment && ESR_EL1.get() & (1 << 6) != 0 => {
            Some(Access::Write)
        }
        Some(Ec::DataAbortLowerEL) if !alignment => Some(Access::Read),
        _ => None,
    };
    TrapCause::Fault {
        signal,
        pc,
        addr,
        access,
        what,
    }
}

/// Takes a timer tick that came due while the kernel ran (IRQs masked): acknowledges and
/// re-arms it, so the next task gets a whole tick. `true` if there was one.
pub fn take_pending_tick() -> bool {
    let pending = irq::timer_pending();
    if pending {
        irq::handle();
    }
    pending
}

/// Waits for an interrupt (nothing runnable). The timer interrupt, if that is what woke the
/// core, is acknowledged and re-armed here; IRQs stay masked in the kernel.
pub fn idle() {
    // With PSTATE.I set, a pending IRQ wakes `wfi` without being taken; it is handled below.
    barrier::dsb(barrier::SY);
    aarch64_cpu::asm::wfi();
    if irq::timer_pending() {
        irq::handle();
    }
}

/// `CLOCK_MONOTONIC`: the generic timer's virtual count (the one the preemption timer uses)
/// in ns since the count started.
pub fn monotonic_ns() -> u64 {
    let hz = u128::from(CNTFRQ_EL0.get().max(1));
    (u128::from(CNTVCT_EL0.get()) * 1_000_000_000 / hz) as u64
}

/// PL031 RTC of `virt` (QEMU `hw/arm/virt.c` `VIRT_RTC`, physical 0x0901_0000): RTCDR,
/// seconds since the epoch.
const PL031_RTCDR: usize = mmu::MMIO_OFFSET + 0x0901_0000;

/// The board's RTC, in ns since the epoch (whole seconds: the PL031 counts seconds).
pub fn rtc_unix_ns() -> u64 {
    // SAFETY: RTCDR is a read-only 32-bit register of the PL031 at its `virt` address, in the
    // Device window at `mmu::MMIO_OFFSET`; reading it has no side effect.
    let secs = unsafe { core::ptr::read_volatile(PL031_RTCDR as *const u32) };
    u64::from(secs) * 1_000_000_000
}

/// Exits QEMU through semihosting `SYS_EXIT`: host status 33 on pass, 65 on failure.
pub fn exit_qemu(pass: bool) -> ! {
    use qemu_exit::QEMUExit;
    qemu_exit::AArch64::new().exit(if pass { 33 } else { 65 })
}

/// arm64 accepts any TLS value: `copy_thread` (arch/arm64/kernel/process.c) stores the
/// CLONE_SETTLS argument into `thread.uw.tp_value` without a check, so neither does the stub.
pub fn check_tls(_tls: u64) -> Result<(), Errno> {
    Ok(())
}

/// Entered from `trap.s` for any exception taken at EL1: a kernel bug. Reports and fails.
extern "C" fn kernel_trap(slot: u64, esr: u64, elr: u64, far: u64) -> ! {
    crate::kprintln!(
        "kernel-stub: kernel exception (vector slot {slot}) esr={esr:#x} elr={elr:#x} far={far:#x}"
    );
    exit_qemu(false)
}
