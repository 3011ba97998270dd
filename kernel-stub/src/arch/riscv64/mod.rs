//! riscv64 (QEMU `virt` + OpenSBI) arch module of the kernel stub: boot, U-mode entry and
//! traps, 16550 console, SBI timer preemption, Sv39 identity map and sifive_test exit.
//!
//! # Orientation
//!
//! This file is `crate::arch::imp` (selected by `src/arch/mod.rs` with `cfg_attr(path)`); it
//! provides exactly the items listed in `kernel-stub/src/arch/mod.rs`. Files beside it:
//! `boot.s` (`_start`: stack, `.bss`, `kmain`), `trap.s` (`__arch_run_user`, the user and
//! kernel trap entries), `mmu.rs` (Sv39 identity map with a U-only user window) and `linker.ld`
//! (link address 0x8020_0000, picked up by `build.rs`).
//!
//! QEMU command line this module is written for (the xtask must pass all of it):
//!
//! ```text
//! qemu-system-riscv64 -machine virt -m 512M -nographic -bios default -kernel <kernel-stub ELF>
//! ```
//!
//! * `-bios default` is OpenSBI (fw_dynamic): it starts `_start` in S-mode and serves the SBI
//!   TIME extension used for the tick.
//! * `-m 512M`: RAM is 0x8000_0000..0xa000_0000, [`FRAME_POOL`] its upper 256 MiB;
//!   [`USER_REGION`] (0..0x4000_0000, which holds 0x1_0000, where static Linux programs are
//!   linked) is virtual only, backed by frames of the pool.
//! * [`exit_qemu`] writes `virt`'s sifive_test device at 0x10_0000 (qemu-exit's RISCV64
//!   backend). OpenSBI keeps it reachable from S-mode: QEMU 10.0's bundled OpenSBI v1.5 lists
//!   `0x100000-0x100fff ... S/U: (R,W)` as Domain0 Region00 in its boot banner, and the stub's
//!   pass/fail exits were checked to give host status 33/65 there.
//!
//! Memory model: Sv39 paging with an identity map of RAM and the devices at
//! `mmu::MMIO_OFFSET` (see `mmu.rs`) so that U-mode can reach only [`USER_REGION`]; with satp = bare, OpenSBI's PMP would let user code write the kernel.
//! The kernel runs with sstatus.SUM = 1 to copy to and from user memory.
//!
//! FP: the user target (riscv64gc Linux) has F and D, so sstatus.FS is never Off while a task
//! runs and `trap.s` saves f0..f31 and fcsr in every [`TrapFrame`]. The kernel target is
//! lp64d as well, so FS stays enabled in S-mode too.
//!
//! Instruction fetch: the kernel writes user programs with ordinary stores, so every entry to
//! U-mode executes `fence.i` (enough on a single hart; QEMU's TCG would not need it).

pub mod mmu;
pub mod sigframe;

use super::signal::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};
use super::{Access, TrapCause};
use core::arch::{asm, global_asm};
use core::mem::offset_of;
use core::ops::Range;

use clone_core::{Arch, Errno};
use riscv::register::{scause, scounteren, sie, sip, sstatus, stval, stvec, time};
use spin::Mutex;
use uart_16550::Uart16550;
use uart_16550::backend::MmioBackend;

/// The architecture the kernel serves.
pub const ARCH: Arch = Arch::Riscv64;

/// User-accessible memory: the first GiB of VA, so a static program at the usual riscv64
/// link address (0x1_0000, GNU ld's default for non-PIE) loads as it is, with its break,
/// `mmap` area and stack above it; pages are mapped U by `crate::addrspace` through `mmu.rs`.
/// It starts at 0 because it must be 2 MiB aligned (leaf tables) and hold 0x1_0000; nothing is
/// mapped below `mmap_min_addr` (64 KiB, `crate::mman`), so a NULL pointer still faults and
/// is EFAULT in the kernel.
pub const USER_REGION: Range<u64> = 0x0..0x4000_0000;

/// End of the user half as Linux's riscv `access_ok` sees it for the stub's Sv39:
/// `TASK_SIZE` = 1 << 38 (`arch/riscv/include/asm/pgtable.h`, `TASK_SIZE_64` for Sv39).
pub const TASK_SIZE_MAX: u64 = 1 << 38;

/// Link address of the stub's own user programs (conformance, hostile): 32 MiB, as on x86_64,
/// clear of the usual static link address below it.
pub const USER_IMAGE_BASE: u64 = 0x0200_0000;

/// Physical frames for user pages and page tables: the upper 256 MiB of `-m 512M`, above the
/// kernel image (`linker.ld` checks the image ends below).
pub const FRAME_POOL: Range<u64> = 0x9000_0000..0xa000_0000;

/// The kernel reaches frames through the boot identity map.
pub const DIRECT_MAP_OFFSET: u64 = 0;

/// `AT_HWCAP` as Linux reports it: one bit per single-letter ISA extension (`'a' - 'a'` …),
/// here the rv64gc base QEMU's `virt` CPU has: I, M, A, F, D, C.
pub fn hwcap() -> u64 {
    b"imafdc".iter().fold(0, |bits, &c| bits | 1 << (c - b'a'))
}

/// Every user register of one task, saved by `trap.s` on each trap from U-mode and restored
/// by [`run_user`]. The layout is shared with `trap.s` (offsets checked below).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// x0..x31 by register number; `x[0]` is unused (x0 is hard-wired to zero).
    pub x: [u64; 32],
    /// sepc: where the user resumes.
    pub pc: u64,
    /// sstatus at the last trap (informational: `run_user` sets SPP/SPIE/FS itself).
    pub sstatus: u64,
    /// f0..f31 (raw 64-bit contents).
    pub f: [u64; 32],
    /// fcsr (rounding mode and accrued exception flags).
    pub fcsr: u64,
}

const _: () = {
    assert!(offset_of!(TrapFrame, x) == 0);
    assert!(offset_of!(TrapFrame, pc) == 256);
    assert!(offset_of!(TrapFrame, sstatus) == 264);
    assert!(offset_of!(TrapFrame, f) == 272);
    assert!(offset_of!(TrapFrame, fcsr) == 528);
};

/// Register numbers used by the accessors.
const SP: usize = 2;
const TP: usize = 4;
const A0: usize = 10;
const A7: usize = 17;

impl TrapFrame {
    /// A fresh user context: all registers zero, `pc = entry`, `sp = sp`.
    pub fn new_user(entry: u64, sp: u64) -> Self {
        let mut frame = Self {
            pc: entry,
            ..Self::default()
        };
        frame.x[SP] = sp;
        frame
    }

    /// Syscall number: all of a7 (Linux's `do_trap_ecall_u` takes it as a `long`, so, unlike
    /// x86_64 and arm64, riscv64 does not cut it to an `int`).
    pub fn syscall_nr(&self) -> u64 {
        self.x[A7]
    }

    /// Raw syscall arguments a0..a5, in Linux order.
    pub fn args(&self) -> [u64; 6] {
        [
            self.x[A0],
            self.x[A0 + 1],
            self.x[A0 + 2],
            self.x[A0 + 3],
            self.x[A0 + 4],
            self.x[A0 + 5],
        ]
    }

    /// Sets the syscall result (a0); `-errno as u64` for errors.
    pub fn set_return(&mut self, value: u64) {
        self.x[A0] = value;
    }

    /// User program counter.
    pub fn pc(&self) -> u64 {
        self.pc
    }

    /// User stack pointer (x2).
    pub fn sp(&self) -> u64 {
        self.x[SP]
    }

    /// Sets the user stack pointer (a clone child's new stack).
    pub fn set_sp(&mut self, sp: u64) {
        self.x[SP] = sp;
    }

    /// User TLS register (tp = x4).
    pub fn tls(&self) -> u64 {
        self.x[TP]
    }

    /// Sets the user TLS register (CLONE_SETTLS).
    pub fn set_tls(&mut self, tls: u64) {
        self.x[TP] = tls;
    }
}

global_asm!(
    include_str!("boot.s"),
    kmain = sym crate::kmain,
);

global_asm!(
    include_str!("trap.s"),
    PC = const offset_of!(TrapFrame, pc),
    SSTATUS = const offset_of!(TrapFrame, sstatus),
    F = const offset_of!(TrapFrame, f),
    FCSR = const offset_of!(TrapFrame, fcsr),
    kernel_trap = sym kernel_trap,
);

unsafe extern "C" {
    /// Enters U-mode with `frame` and returns at the next trap from U-mode with the frame
    /// updated (scause/stval describe the trap).
    fn __arch_run_user(frame: *mut TrapFrame);
    /// The S-mode trap entry used while the kernel runs (4-byte aligned, in trap.s).
    static __arch_kernel_trap: u8;
}

/// scause code of the supervisor timer interrupt.
const IRQ_S_TIMER: usize = 5;

/// `virt`'s timebase (the `timebase-frequency` of its device tree, QEMU `hw/riscv/virt.c`).
const TIMEBASE_HZ: u64 = 10_000_000;
/// Preemption ticks per second.
const TICK_HZ: u64 = 100;

/// Sets up paging, the kernel trap vector, FP access and the preemption timer.
/// Called once by `kmain` before anything else.
pub fn init() {
    // SAFETY: called once at boot on the only hart, before any other memory user; the map
    // built by `mmu::enable` maps everything the kernel touches (RAM as identity, the devices
    // at `mmu::MMIO_OFFSET`, which nothing touches before this point).
    unsafe { mmu::enable() };
    // SAFETY: `__arch_kernel_trap` is the 4-byte aligned S-mode trap entry in trap.s (direct
    // mode). sstatus.FS = Initial makes FP usable in S-mode (trap.s saves the user's f-regs);
    // SUM lets the kernel copy to and from U pages; STIE only enables the timer source, which
    // cannot fire in the kernel because sstatus.SIE stays 0; scounteren.TM alone lets U-mode
    // read `time` but not cycle/instret, the value Linux writes in `pmu_sbi_starting_cpu`
    // (drivers/perf/riscv_pmu_sbi.c).
    unsafe {
        stvec::write(stvec::Stvec::new(
            &raw const __arch_kernel_trap as usize,
            stvec::TrapMode::Direct,
        ));
        sstatus::set_fs(sstatus::FS::Initial);
        sstatus::set_sum();
        sie::set_stimer();
        scounteren::set_tm();
    }
    arm_timer();
}

/// 16550 UART of `virt` (QEMU `hw/riscv/virt.c` `VIRT_UART0`, physical 0x1000_0000), at its
/// `mmu.rs` alias: byte registers, stride 1.
const UART_BASE: usize = mmu::MMIO_OFFSET + 0x1000_0000;

/// The console UART through uart_16550's MMIO backend, set up on first use.
struct Console(Uart16550<MmioBackend>);
// SAFETY: the UART registers are MMIO at a fixed address, used only through `CONSOLE`'s lock
// (one hart, interrupts off in the kernel).
unsafe impl Send for Console {}

static CONSOLE: Mutex<Option<Console>> = Mutex::new(None);

/// Writes bytes to the 16550 UART (uart_16550's MMIO backend; FIFO mode after `init`).
pub fn console_write(bytes: &[u8]) {
    let mut console = CONSOLE.lock();
    if console.is_none() {
        let base = core::ptr::NonNull::new(UART_BASE as *mut u8).expect("UART_BASE is not 0");
        // SAFETY: UART_BASE is `virt`'s 16550, mapped for S-mode by `mmu.rs` with all eight
        // byte registers (`init` turns paging on before anything is printed); nothing else drives it.
        let uart = unsafe { Uart16550::new_mmio(base, 1) };
        if let Ok(mut uart) = uart {
            let _ = uart.init(uart_16550::Config::default());
            *console = Some(Console(uart));
        }
    }
    if let Some(Console(uart)) = console.as_mut() {
        uart.send_bytes_exact(bytes);
    }
}

/// The 16550's line status register (`LSR`, byte register 5) and its data-ready bit.
const UART_LSR: usize = UART_BASE + 5;
const LSR_DATA_READY: u8 = 1;

/// Has the UART received a byte not read yet?
pub fn console_pending() -> bool {
    // SAFETY: UART_BASE's byte registers are mapped for S-mode by `mmu.rs`; reading LSR has
    // no side effect on the transmit path. Single core, interrupts off in the kernel.
    unsafe { core::ptr::read_volatile(UART_LSR as *const u8) & LSR_DATA_READY != 0 }
}

/// Reads the bytes the UART has received, up to `buf.len()`, without waiting; how many.
pub fn console_read(buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() && console_pending() {
        // SAFETY: as above; data is ready, so reading RBR (register 0) takes that byte.
        buf[n] = unsafe { core::ptr::read_volatile(UART_BASE as *const u8) };
        n += 1;
    }
    n
}

/// Runs the user context in `frame` in U-mode until the next trap, and classifies it.
pub fn run_user(frame: &mut TrapFrame) -> TrapCause {
    // SAFETY: `frame` is a valid TrapFrame for the whole call (trap.s reaches it through
    // sscratch while U-mode runs). U-mode can only touch USER_REGION (mmu.rs), so user code
    // cannot corrupt the kernel; `__arch_run_user` restores ra, sp, gp, tp and s0..s11 before
    // it returns.
    unsafe { __arch_run_user(frame) };
    // scause/stval still describe the trap just taken: sstatus.SIE is 0 in the kernel.
    let scause = scause::read();
    let stval = stval::read() as u64;
    let pc = frame.pc;
    if scause.is_interrupt() {
        if scause.code() == IRQ_S_TIMER {
            arm_timer();
            return TrapCause::Timer;
        }
        return TrapCause::Fault {
            signal: SIGSEGV,
            pc,
            addr: pc,
            access: None,
            what: "unexpected interrupt",
        };
    }
    // Exception codes: RISC-V privileged spec, Table "Supervisor cause register values"; the
    // signals are Linux's (`arch/riscv/kernel/traps.c`: misaligned SIGBUS, access and page
    // faults SIGSEGV, illegal instruction SIGILL, ebreak SIGTRAP, anything else SIGILL).
    let (signal, addr, what) = match scause.code() {
        8 => {
            // `ecall` is always 4 bytes (there is no compressed form).
            frame.pc = pc.wrapping_add(4);
            return TrapCause::Syscall;
        }
        0 => (SIGBUS, stval, "instruction address misaligned"),
        1 => (SIGSEGV, stval, "instruction access fault"),
        2 => (SIGILL, pc, "illegal instruction"),
        3 => (SIGTRAP, pc, "breakpoint (ebreak)"),
        4 => (SIGBUS, stval, "load address misaligned"),
        5 => (SIGSEGV, stval, "load access fault"),
        6 => (SIGBUS, stval, "store/AMO address misaligned"),
        7 => (SIGSEGV, stval, "store/AMO access fault"),
        12 => (SIGSEGV, stval, "instruction page fault"),
        13 => (SIGSEGV, stval, "load page fault"),
        15 => (SIGSEGV, stval, "store/AMO page fault"),
        _ => (SIGILL, pc, "unexpected exception"),
    };
    let access = match scause.code() {
        12 => Some(Access::Fetch),
        13 => Some(Access::Read),
        15 => Some(Access::Write),
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

/// `CLOCK_MONOTONIC`: the `time` CSR in ns since it started (100 ns per count at
/// [`TIMEBASE_HZ`]).
pub fn monotonic_ns() -> u64 {
    now().saturating_mul(1_000_000_000 / TIMEBASE_HZ)
}

/// Goldfish RTC of `virt` (QEMU `hw/riscv/virt.c` `VIRT_RTC`, `hw/rtc/goldfish_rtc.c`):
/// TIME_LOW then TIME_HIGH, ns since the epoch; reading TIME_LOW latches TIME_HIGH.
/// Physical 0x0010_1000 and 0x0010_1004, at their `mmu.rs` alias.
const GOLDFISH_RTC_TIME_LOW: usize = mmu::MMIO_OFFSET + 0x0010_1000;
const GOLDFISH_RTC_TIME_HIGH: usize = mmu::MMIO_OFFSET + 0x0010_1004;

/// The board's RTC, in ns since the epoch.
pub fn rtc_unix_ns() -> u64 {
    // SAFETY: the two 32-bit registers of the goldfish RTC at its `virt` address, in the
    // device window `mmu.rs` maps for S-mode at `mmu::MMIO_OFFSET`; the low word is read first, as the device requires.
    unsafe {
        let low = core::ptr::read_volatile(GOLDFISH_RTC_TIME_LOW as *const u32);
        let high = core::ptr::read_volatile(GOLDFISH_RTC_TIME_HIGH as *const u32);
        (u64::from(high) << 32) | u64::from(low)
    }
}

/// Reads the `time` CSR (mcounteren.TM is set by OpenSBI).
fn now() -> u64 {
    time::read() as u64
}

/// Programs the next tick through SBI TIME `sbi_set_timer` (EID 0x54494D45, FID 0), which
/// also clears the pending supervisor timer interrupt (SBI spec v2.0, chapter 6).
fn arm_timer() {
    let deadline = now().wrapping_add(TIMEBASE_HZ / TICK_HZ);
    // SAFETY: an SBI call into OpenSBI (M-mode); it clobbers only a0/a1 (error, value) per the
    // SBI calling convention and touches no kernel memory.
    unsafe {
        asm!(
            "ecall",
            inlateout("a0") deadline => _,
            lateout("a1") _,
            in("a6") 0u64,
            in("a7") 0x5449_4D45u64,
            options(nostack, preserves_flags),
        );
    }
}

/// Takes a timer tick that came due while the kernel ran (sstatus.SIE = 0): re-arms it, so
/// the next task gets a whole tick. `true` if there was one.
pub fn take_pending_tick() -> bool {
    let pending = sip::read().stimer();
    if pending {
        arm_timer();
    }
    pending
}

/// Waits for an interrupt (nothing runnable). A pending timer interrupt wakes `wfi` even with
/// sstatus.SIE = 0; it is re-armed here so the next `idle` waits a full tick again.
pub fn idle() {
    riscv::asm::wfi();
    if sip::read().stimer() {
        arm_timer();
    }
}

/// Exits QEMU through `virt`'s sifive_test device: host status 33 on pass, 65 on failure.
pub fn exit_qemu(pass: bool) -> ! {
    use qemu_exit::QEMUExit;
    // SAFETY: physical 0x10_0000 is the sifive_test device of QEMU `virt` (`VIRT_TEST`),
    // mapped for S-mode by `mmu.rs` at `mmu::MMIO_OFFSET` above it.
    let device = unsafe { qemu_exit::RISCV64::new((mmu::MMIO_OFFSET + 0x10_0000) as u64) };
    device.exit(if pass { 33 } else { 65 })
}

/// riscv accepts any TLS value: `copy_thread` (arch/riscv/kernel/process.c) stores the
/// CLONE_SETTLS argument into the child's `tp` without a check, so neither does the stub.
pub fn check_tls(_tls: u64) -> Result<(), Errno> {
    Ok(())
}

/// Entered from `trap.s` for any trap taken in S-mode: a kernel bug. Reports and fails.
extern "C" fn kernel_trap(scause: u64, sepc: u64, stval: u64) -> ! {
    crate::kprintln!("kernel-stub: kernel trap scause={scause:#x} sepc={sepc:#x} stval={stval:#x}");
    exit_qemu(false)
}
