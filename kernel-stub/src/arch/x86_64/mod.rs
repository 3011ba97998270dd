//! x86_64 arch of the kernel stub: PVH boot, 16550 serial console, GDT/TSS/IDT, `syscall` entry,
//! 8259 PIC + 8254 PIT timer, isa-debug-exit.
//!
//! # Orientation
//!
//! * `boot.rs`: the 32-bit PVH entry and the switch to long mode (identity-mapped low 1 GiB).
//! * `trap.rs`: the asm that enters ring 3 with `iretq` and comes back on `syscall`, an
//!   interrupt or an exception, saving every user register into a [`TrapFrame`].
//! * this file: the arch interface (listed in `kernel-stub/src/arch/mod.rs`) on top of those,
//!   plus the one-time hardware setup in [`init`].
//!
//! Memory: the kernel is linked at 1 MiB; each address space (`mmu.rs`, `crate::addrspace`)
//! maps only [`USER_REGION`] (4 MiB..1 GiB) with the U bit, in 4 KiB pages backed by frames
//! of [`FRAME_POOL`], so a user access anywhere else faults (SIGSEGV to the task). The kernel
//! never dereferences a user address: `uaccess.rs` translates it through the task's page
//! table and copies through the identity map of the frame.
//!
//! QEMU: `qemu-system-x86_64 -machine q35 -cpu max -m 512M -nographic -no-reboot
//! -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel <elf>`.

mod boot;
mod clock;
pub mod mmu;
pub mod sigframe;
mod trap;
mod umip;

pub use clock::{monotonic_ns, rtc_unix_ns};

use super::{Access, TrapCause};
use core::arch::x86_64::{__cpuid, __cpuid_count};
use core::ops::Range;
use core::sync::atomic::{AtomicU8, Ordering};

use clone_core::{Arch, Errno};
use qemu_exit::QEMUExit;
use spin::{LazyLock as Lazy, Mutex};
use uart_16550::Uart16550;
use uart_16550::backend::PioBackend;
use x86_64::instructions::port::Port;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::model_specific::Msr;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::idt::InterruptDescriptorTable;
use x86_64::structures::tss::TaskStateSegment;
use x86_64::{PrivilegeLevel, VirtAddr};

/// This arch, for clone-core's decoder and errno values.
pub const ARCH: Arch = Arch::X86_64;

/// User memory: 4 MiB..1 GiB (2 MiB aligned: one page-directory entry per 2 MiB, the whole
/// first page directory but the kernel's first 4 MiB). It starts at 4 MiB so a static
/// executable at the usual link address (0x400000) loads as it is (the kernel image must end
/// below it: `linker.ld` checks), and is big enough for glibc's 8 MiB thread stacks.
pub const USER_REGION: Range<u64> = 0x0040_0000..0x4000_0000;

/// The kernel reaches physical memory (frames) through a supervisor-only alias of the boot
/// identity map at 1 GiB (`PDPT[1]` → the boot page directory), since the user region covers
/// the identity addresses of [`FRAME_POOL`].
pub const DIRECT_MAP_OFFSET: u64 = 1 << 30;

/// Link address of the stub's own user programs (conformance, hostile): 32 MiB, so the
/// region below them (from 0x400000, where a standard static executable is linked) is not
/// theirs.
pub const USER_IMAGE_BASE: u64 = 0x0200_0000;

/// Physical frames for user pages and page tables: 96 MiB..512 MiB of `-m 512M`, above the
/// physical range that shares the user region's addresses (the kernel reaches frames through
/// the identity map, so they must not sit under the user window).
pub const FRAME_POOL: Range<u64> = 0x0600_0000..0x2000_0000;

/// `AT_HWCAP` as Linux reports it on x86_64: CPUID leaf 1's EDX feature bits.
pub fn hwcap() -> u64 {
    u64::from(core::arch::x86_64::__cpuid(1).edx)
}

/// Linux's `TASK_SIZE_MAX` for 4-level paging (`arch/x86/include/asm/page_64_types.h`):
/// `(1 << 47) - PAGE_SIZE`. `ARCH_SET_FS`/`CLONE_SETTLS` at or above it → `EPERM`.
pub const TASK_SIZE_MAX: u64 = (1 << 47) - 4096;

/// Bytes of the frame's x87/SSE/AVX save area: the 512-byte `fxsave` layout, the 64-byte
/// XSAVE header, then the extended components `XSAVE_FEATURES` allows (AVX: 832 in all).
pub const XSAVE_AREA: usize = 1024;

/// Every user register. `repr(C)` because `trap.rs` addresses fields by offset; 64-byte
/// aligned for `xsave64` (the save area is the first field, checked below).
#[repr(C, align(64))]
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub struct TrapFrame {
    /// x87/SSE/AVX state (`xsave64` standard layout, or just the `fxsave64` part without
    /// XSAVE); first, so it is 64-byte aligned as `xsave64` requires.
    pub fx: [u8; XSAVE_AREA],
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    /// `IA32_FS_BASE`, the x86_64 TLS register.
    pub fs_base: u64,
    /// `IA32_GS_BASE` (`ARCH_SET_GS`, or `wrgsbase` with FSGSBASE).
    pub gs_base: u64,
}

const _: () = assert!(core::mem::offset_of!(TrapFrame, fx) == 0);

impl Default for TrapFrame {
    fn default() -> Self {
        let mut fx = [0u8; XSAVE_AREA];
        // The state `fninit` + reset MXCSR give: x87 control word 0x037f, MXCSR 0x1f80.
        fx[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        fx[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        Self {
            rax: 0,
            rbx: 0,
            rcx: 0,
            rdx: 0,
            rsi: 0,
            rdi: 0,
            rbp: 0,
            r8: 0,
            r9: 0,
            r10: 0,
            r11: 0,
            r12: 0,
            r13: 0,
            r14: 0,
            r15: 0,
            rip: 0,
            rsp: 0,
            rflags: RFLAGS_IF | RFLAGS_RESERVED1,
            fs_base: 0,
            gs_base: 0,
            fx,
        }
    }
}

const RFLAGS_CF: u64 = 1 << 0;
const RFLAGS_RESERVED1: u64 = 1 << 1;
const RFLAGS_PF: u64 = 1 << 2;
const RFLAGS_AF: u64 = 1 << 4;
const RFLAGS_ZF: u64 = 1 << 6;
const RFLAGS_SF: u64 = 1 << 7;
const RFLAGS_TF: u64 = 1 << 8;
const RFLAGS_IF: u64 = 1 << 9;
const RFLAGS_DF: u64 = 1 << 10;
const RFLAGS_OF: u64 = 1 << 11;
const RFLAGS_IOPL: u64 = 3 << 12;
const RFLAGS_NT: u64 = 1 << 14;
const RFLAGS_RF: u64 = 1 << 16;
const RFLAGS_AC: u64 = 1 << 18;
const RFLAGS_ID: u64 = 1 << 21;

/// The flags a ring-3 task owns and keeps across every kernel entry, as on Linux: all that
/// `popfq` lets CPL 3 with IOPL 0 change (arithmetic flags, TF, DF, NT, AC, ID; Linux's
/// `syscall_nt` selftest checks that NT and AC survive a syscall). IF is always forced on,
/// IOPL to 0; RF, VM, VIF and VIP never reach user mode.
const RFLAGS_USER: u64 = RFLAGS_CF
    | RFLAGS_PF
    | RFLAGS_AF
    | RFLAGS_ZF
    | RFLAGS_SF
    | RFLAGS_TF
    | RFLAGS_DF
    | RFLAGS_OF
    | RFLAGS_NT
    | RFLAGS_AC
    | RFLAGS_ID;

/// `IA32_FMASK`: Linux's `SYSCALL_MASK` (`syscall_init`, `arch/x86/kernel/cpu/common.c`).
/// Every flag user code can set is cleared on `syscall`, so the kernel never runs with the
/// user's NT (an `iretq` with NT set faults in ring 0), TF (a single-step trap in the kernel),
/// AC, DF or ID, and with interrupts off.
const SYSCALL_MASK: u64 = RFLAGS_CF
    | RFLAGS_PF
    | RFLAGS_AF
    | RFLAGS_ZF
    | RFLAGS_SF
    | RFLAGS_TF
    | RFLAGS_IF
    | RFLAGS_DF
    | RFLAGS_OF
    | RFLAGS_IOPL
    | RFLAGS_NT
    | RFLAGS_RF
    | RFLAGS_AC
    | RFLAGS_ID;

impl TrapFrame {
    /// A fresh ring-3 frame.
    pub fn new_user(entry: u64, sp: u64) -> Self {
        Self {
            rip: entry,
            rsp: sp,
            ..Self::default()
        }
    }
    /// `rax` as an `int`, as Linux's `do_syscall_64` takes it: the upper half is ignored.
    pub fn syscall_nr(&self) -> u64 {
        u64::from(self.rax as u32)
    }
    /// `rdi, rsi, rdx, r10, r8, r9`.
    pub fn args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
    /// `rax`.
    pub fn set_return(&mut self, value: u64) {
        self.rax = value;
    }
    /// `rip`.
    pub fn pc(&self) -> u64 {
        self.rip
    }
    /// `rsp`.
    pub fn sp(&self) -> u64 {
        self.rsp
    }
    /// Sets `rsp`.
    pub fn set_sp(&mut self, sp: u64) {
        self.rsp = sp;
    }
    /// The FS base.
    pub fn tls(&self) -> u64 {
        self.fs_base
    }
    /// Sets the FS base; callers check it with [`check_tls`] first.
    pub fn set_tls(&mut self, tls: u64) {
        self.fs_base = tls;
    }
    /// The GS base (`ARCH_GET_GS`).
    pub fn gs(&self) -> u64 {
        self.gs_base
    }
    /// Sets the GS base (`ARCH_SET_GS`); callers check it with [`check_tls`] first (the same
    /// `TASK_SIZE_MAX` rule).
    pub fn set_gs(&mut self, gs: u64) {
        self.gs_base = gs;
    }
}

/// `ARCH_SET_FS`/`CLONE_SETTLS` check of `do_arch_prctl_64` (Linux
/// `arch/x86/kernel/process_64.c`): an FS base at or above `TASK_SIZE_MAX` is `EPERM`. That
/// also covers every non-canonical value, which `wrmsr` would refuse with #GP.
pub fn check_tls(tls: u64) -> Result<(), Errno> {
    if tls >= TASK_SIZE_MAX {
        Err(Errno::EPERM)
    } else {
        Ok(())
    }
}

static SERIAL: Mutex<Option<Uart16550<PioBackend>>> = Mutex::new(None);

/// Writes to COM1.
pub fn console_write(bytes: &[u8]) {
    if let Some(uart) = SERIAL.lock().as_mut() {
        uart.send_bytes_exact(bytes);
    }
}

/// COM1's line status register (`LSR`) and its data-ready bit, and the receive buffer.
const COM1_LSR: u16 = 0x3fd;
const COM1_RBR: u16 = 0x3f8;
const LSR_DATA_READY: u8 = 1;

/// Has COM1 received a byte not read yet?
pub fn console_pending() -> bool {
    // SAFETY: reading COM1's LSR has no side effect the transmit path depends on; single
    // core, interrupts off in the kernel.
    unsafe { Port::<u8>::new(COM1_LSR).read() & LSR_DATA_READY != 0 }
}

/// Reads the bytes COM1 has received, up to `buf.len()`, without waiting; how many.
pub fn console_read(buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() && console_pending() {
        // SAFETY: data is ready (LSR), so reading RBR takes that byte; nothing else reads it.
        buf[n] = unsafe { Port::<u8>::new(COM1_RBR).read() };
        n += 1;
    }
    n
}

/// Exits QEMU through isa-debug-exit: 0x10 → host status 33 (pass), 0x20 → 65 (fail). Never
/// 0, whose status 1 is what QEMU itself returns when it fails.
pub fn exit_qemu(pass: bool) -> ! {
    // SAFETY: the isa-debug-exit device is at port 0xf4 on the QEMU command line the xtask
    // uses; writing it ends the VM. 33 is odd as `X86::new` requires.
    let exit = unsafe { qemu_exit::X86::new(0xf4, 33) };
    exit.exit(if pass { 0x10 } else { 0x20 })
}

/// Takes a timer tick that came due while the kernel ran (interrupts off): if the master
/// PIC's IRR shows IRQ0, interrupts go on for one instruction so the ring-0 timer path
/// acknowledges it, and the next task gets a whole tick. `true` if there was one.
pub fn take_pending_tick() -> bool {
    // SAFETY: OCW3 0x0a selects the IRR for the next read of port 0x20 (no other effect);
    // `sti; nop; cli` lets only the pending IRQ in, whose ring-0 path (trap.rs) just sends
    // the EOI and returns; interrupts are off again afterwards.
    unsafe {
        Port::<u8>::new(0x20).write(0x0a);
        let pending = Port::<u8>::new(0x20).read() & 1 != 0;
        if pending {
            core::arch::asm!("sti", "nop", "cli", options(nomem, nostack));
        }
        pending
    }
}

/// Waits for the next interrupt (the timer) with interrupts briefly on.
pub fn idle() {
    // SAFETY: `sti; hlt` is atomic (the interrupt shadow of `sti`), so the wake-up interrupt
    // cannot slip in before `hlt`; the ring-0 timer path only acknowledges the PIC and
    // returns. Interrupts are off again afterwards, as the kernel requires.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}

/// Stack the CPU switches to (TSS.rsp0) for interrupts and exceptions from ring 3.
#[repr(C, align(16))]
struct TrapStack([u8; 16384]);
static mut TRAP_STACK: TrapStack = TrapStack([0; 16384]);

static TSS: Lazy<TaskStateSegment> = Lazy::new(|| {
    let mut tss = TaskStateSegment::new();
    let top = core::ptr::addr_of!(TRAP_STACK) as u64 + core::mem::size_of::<TrapStack>() as u64;
    tss.privilege_stack_table[0] = VirtAddr::new(top);
    tss
});

struct Selectors {
    kernel_code: SegmentSelector,
    kernel_data: SegmentSelector,
    tss: SegmentSelector,
}

/// Order fixed by `syscall`/`sysret` (`IA32_STAR`): kernel code, kernel data; then user data,
/// user code (sysret base 0x10: SS = 0x18|3, CS = 0x20|3; `trap.rs` uses those values).
static GDT: Lazy<(GlobalDescriptorTable, Selectors)> = Lazy::new(|| {
    let mut gdt = GlobalDescriptorTable::new();
    let kernel_code = gdt.append(Descriptor::kernel_code_segment());
    let kernel_data = gdt.append(Descriptor::kernel_data_segment());
    let user_data = gdt.append(Descriptor::user_data_segment());
    let user_code = gdt.append(Descriptor::user_code_segment());
    let tss = gdt.append(Descriptor::tss_segment(&TSS));
    assert_eq!(
        (kernel_code.0, kernel_data.0, user_data.0, user_code.0),
        (0x08, 0x10, 0x1b, 0x23)
    );
    (
        gdt,
        Selectors {
            kernel_code,
            kernel_data,
            tss,
        },
    )
});

/// The IDT: every exception vector, the timer and the spurious IRQ7 point at the stubs of
/// `trap.rs` (64-bit interrupt gates in the kernel code segment, so IF is clear on entry).
/// DPL 0 except `int3` and `into` (vectors 3 and 4), which user code may raise with an
/// instruction, as Linux's `SYSG` gates allow; every other `int n` from ring 3 is a #GP.
/// Built on first use, after `init` loaded the kernel CS the gates capture.
static IDT: Lazy<InterruptDescriptorTable> = Lazy::new(|| {
    let mut idt = InterruptDescriptorTable::new();
    // SAFETY: reading the 'static table of stub addresses that trap.rs defines.
    let stubs = unsafe { &*core::ptr::addr_of!(trap::X86_TRAP_STUBS) };
    let stub = |vector: usize| VirtAddr::new(stubs[vector]);
    // SAFETY: each `set_handler_addr` below gets the trap.rs stub for exactly its vector,
    // which follows the CPU's frame layout for that vector (with or without an error code)
    // and never returns into the interrupted code in a way the entry type would not allow.
    unsafe {
        idt.divide_error.set_handler_addr(stub(0));
        idt.debug.set_handler_addr(stub(1));
        idt.non_maskable_interrupt.set_handler_addr(stub(2));
        idt.breakpoint
            .set_handler_addr(stub(3))
            .set_privilege_level(PrivilegeLevel::Ring3);
        idt.overflow
            .set_handler_addr(stub(4))
            .set_privilege_level(PrivilegeLevel::Ring3);
        idt.bound_range_exceeded.set_handler_addr(stub(5));
        idt.invalid_opcode.set_handler_addr(stub(6));
        idt.device_not_available.set_handler_addr(stub(7));
        idt.double_fault.set_handler_addr(stub(8));
        idt[9].set_handler_addr(stub(9));
        idt.invalid_tss.set_handler_addr(stub(10));
        idt.segment_not_present.set_handler_addr(stub(11));
        idt.stack_segment_fault.set_handler_addr(stub(12));
        idt.general_protection_fault.set_handler_addr(stub(13));
        idt.page_fault.set_handler_addr(stub(14));
        idt.x87_floating_point.set_handler_addr(stub(16));
        idt.alignment_check.set_handler_addr(stub(17));
        idt.machine_check.set_handler_addr(stub(18));
        idt.simd_floating_point.set_handler_addr(stub(19));
        idt.virtualization.set_handler_addr(stub(20));
        idt.cp_protection_exception.set_handler_addr(stub(21));
        idt.hv_injection_exception.set_handler_addr(stub(28));
        idt.vmm_communication_exception.set_handler_addr(stub(29));
        idt.security_exception.set_handler_addr(stub(30));
        idt[VEC_TIMER].set_handler_addr(stub(32));
        idt[VEC_SPURIOUS].set_handler_addr(stub(33));
    }
    idt
});

const IA32_EFER: u32 = 0xC000_0080;
const IA32_STAR: u32 = 0xC000_0081;
const IA32_LSTAR: u32 = 0xC000_0082;
const IA32_FMASK: u32 = 0xC000_0084;
const IA32_FS_BASE: u32 = 0xC000_0100;
const IA32_GS_BASE: u32 = 0xC000_0101;

/// Set by [`init`] when XSAVE is on: the trap paths use `xsave64`/`xrstor64` instead of
/// `fxsave64`/`fxrstor64` (read by the asm in trap.rs).
static XSAVE_ON: AtomicU8 = AtomicU8::new(0);

/// Set by [`init`] when CR4.UMIP is on: a user #GP first goes to [`umip::fixup`].
static UMIP_ON: AtomicU8 = AtomicU8::new(0);

/// The XCR0 components the stub enables where the CPU has them: x87, SSE and AVX (bits
/// 0..=2), whose standard-format area (832 bytes) fits [`XSAVE_AREA`]. Linux enables every
/// user component the CPU has; AVX-512 and AMX, which need more room, stay off here.
const XSAVE_FEATURES: u64 = 0b111;

/// Timer vector (IRQ0 after remapping the master PIC to 0x20).
const VEC_TIMER: u8 = 32;
/// Spurious IRQ7 of the master PIC.
const VEC_SPURIOUS: u8 = 39;
/// PIT input clock (Hz) and the 100 Hz tick the futex timeouts assume.
const PIT_HZ: u32 = 1_193_182;
const TICK_HZ: u32 = 100;

/// One-time setup: serial, user pages, GDT/TSS, IDT, FPU, syscall MSRs, PIC and PIT.
pub fn init() {
    // SAFETY: 0x3f8 is COM1 on every PC QEMU emulates, used only through `SERIAL`.
    if let Ok(mut uart) = unsafe { Uart16550::new_port(0x3f8) } {
        let _ = uart.init(uart_16550::Config::default());
        *SERIAL.lock() = Some(uart);
    }

    mmu::init();

    let (gdt, sel) = &*GDT;
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded; the TSS descriptor points at a 'static
    // TSS whose rsp0 is a dedicated stack.
    unsafe {
        CS::set_reg(sel.kernel_code);
        SS::set_reg(sel.kernel_data);
        DS::set_reg(SegmentSelector::new(0, PrivilegeLevel::Ring0));
        ES::set_reg(SegmentSelector::new(0, PrivilegeLevel::Ring0));
        load_tss(sel.tss);
    }

    IDT.load();

    // SAFETY: control-register set-up as Linux's (`CR0_STATE` in
    // `arch/x86/include/asm/processor-flags.h`, `cr4_init`): CR0.NE (x87 errors raise #MF,
    // not IRQ13), CR0.WP (ring 0 honours read-only pages), CR0.AM (a user AC flag enables
    // alignment checks), CR0.MP on and CR0.EM off; CR4.OSFXSR and OSXMMEXCPT so user code
    // may use SSE (SIMD errors raise #XM) and the kernel can fxsave/fxrstor it. The kernel
    // itself is soft-float and never touches these registers.
    unsafe {
        core::arch::asm!(
            "mov rax, cr0",
            "and rax, ~(1 << 2)",
            "or rax, (1 << 1) | (1 << 5) | (1 << 16) | (1 << 18)",
            "mov cr0, rax",
            "mov rax, cr4",
            "or rax, (1 << 9) | (1 << 10)",
            "mov cr4, rax",
            out("rax") _,
            options(nostack)
        );
    }

    enable_cpu_features();

    // SAFETY: architectural MSRs. EFER.SCE was set at boot and is re-asserted; STAR holds the
    // kernel CS (0x08) for `syscall` and the sysret base 0x10; LSTAR is the entry stub; FMASK
    // is Linux's SYSCALL_MASK, so the kernel runs with interrupts off and no user flag.
    unsafe {
        let mut efer = Msr::new(IA32_EFER);
        efer.write(efer.read() | 1);
        Msr::new(IA32_STAR).write((0x10u64 << 48) | (0x08u64 << 32));
        Msr::new(IA32_LSTAR).write(trap::x86_syscall_entry as *const () as u64);
        Msr::new(IA32_FMASK).write(SYSCALL_MASK);
    }

    // SAFETY: the legacy 8259 pair and the 8254 PIT at their fixed ports. The PICs are
    // remapped to vectors 0x20/0x28 (away from the exceptions) with only IRQ0 unmasked; PIT
    // channel 0 runs in mode 3 at TICK_HZ.
    unsafe {
        let mut cmd1: Port<u8> = Port::new(0x20);
        let mut data1: Port<u8> = Port::new(0x21);
        let mut cmd2: Port<u8> = Port::new(0xa0);
        let mut data2: Port<u8> = Port::new(0xa1);
        cmd1.write(0x11); // ICW1: init, ICW4 follows
        cmd2.write(0x11);
        data1.write(0x20); // ICW2: vector base
        data2.write(0x28);
        data1.write(4); // ICW3: slave on IRQ2
        data2.write(2);
        data1.write(1); // ICW4: 8086 mode
        data2.write(1);
        data1.write(0xfe); // mask all but IRQ0
        data2.write(0xff);

        let divisor = (PIT_HZ / TICK_HZ) as u16;
        Port::<u8>::new(0x43).write(0x36); // channel 0, lo/hi byte, mode 3
        let mut ch0: Port<u8> = Port::new(0x40);
        ch0.write(divisor as u8);
        ch0.write((divisor >> 8) as u8);
    }
    clock::calibrate();
}

/// The CR4 features Linux turns on where the CPU has them (`cr4_init`, `fpu__init_cpu_xstate`,
/// `identify_cpu`, `setup_umip`): OSXSAVE with XCR0 = x87|SSE|AVX (so CPUID's OSXSAVE bit
/// and XGETBV tell user code, e.g. glibc's memcpy selection, that AVX state is saved),
/// FSGSBASE (user `rdfsbase`/`wrgsbase`; the trap paths read both bases back), and UMIP
/// (user `sgdt`/`sidt`/`smsw`/`sldt`/`str` raise #GP and get Linux's dummy results from
/// `umip.rs`, so no kernel address leaks to user code).
fn enable_cpu_features() {
    let (leaf1, leaf7) = (__cpuid(1), __cpuid_count(7, 0));
    let mut cr4_set: u64 = 0;
    if leaf1.ecx & (1 << 26) != 0 {
        cr4_set |= 1 << 18; // OSXSAVE
    }
    if leaf7.ebx & 1 != 0 {
        cr4_set |= 1 << 16; // FSGSBASE
    }
    if leaf7.ecx & (1 << 2) != 0 {
        cr4_set |= 1 << 11; // UMIP
        UMIP_ON.store(1, Ordering::Relaxed);
    }
    // SAFETY: sets only CR4 bits whose CPUID feature bit is present.
    unsafe {
        core::arch::asm!(
            "mov rax, cr4",
            "or rax, {set}",
            "mov cr4, rax",
            set = in(reg) cr4_set,
            out("rax") _,
            options(nostack)
        );
    }
    if cr4_set & (1 << 18) != 0 {
        // SAFETY: CPUID leaf 0xd exists when XSAVE does; XCR0 gets only components the CPU
        // reports (bit 0, x87, is always among them), so `xsetbv` cannot fault.
        let size = unsafe {
            let d = __cpuid_count(0xd, 0);
            let xcr0 = ((u64::from(d.edx) << 32) | u64::from(d.eax)) & XSAVE_FEATURES;
            core::arch::asm!(
                "xsetbv",
                in("ecx") 0,
                in("eax") xcr0 as u32,
                in("edx") (xcr0 >> 32) as u32,
                options(nostack)
            );
            __cpuid_count(0xd, 0).ebx as usize
        };
        if size <= XSAVE_AREA {
            XSAVE_ON.store(1, Ordering::Relaxed);
        }
    }
}

/// The signal Linux sends for a user exception (`arch/x86/kernel/traps.c`: `do_error_trap`
/// callers, `exc_int3`, `exc_debug_user`, `math_error`, `exc_alignment_check`).
fn vector_signal(vector: u32) -> u8 {
    use super::signal::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    match vector {
        0 | 9 | 16 | 19 => SIGFPE, // divide error, coprocessor overrun, x87, SIMD
        1 | 3 => SIGTRAP,          // single step, int3
        6 => SIGILL,               // invalid opcode
        11 | 12 | 17 => SIGBUS,    // segment not present, stack segment, alignment check
        _ => SIGSEGV,              // #GP (also `int n` through a DPL-0 gate), #PF, ...
    }
}

/// Exception names for fault reports.
fn vector_name(vector: u32) -> &'static str {
    match vector {
        0 => "divide error (#DE)",
        1 => "debug (#DB)",
        2 => "NMI",
        3 => "breakpoint (#BP)",
        4 => "overflow (#OF)",
        5 => "bound range (#BR)",
        6 => "invalid opcode (#UD)",
        7 => "device not available (#NM)",
        8 => "double fault (#DF)",
        10 => "invalid TSS (#TS)",
        11 => "segment not present (#NP)",
        12 => "stack fault (#SS)",
        13 => "general protection (#GP)",
        14 => "page fault (#PF)",
        16 => "x87 error (#MF)",
        17 => "alignment check (#AC)",
        18 => "machine check (#MC)",
        19 => "SIMD error (#XM)",
        _ => "exception",
    }
}

/// Page-fault error code bits: the page was present; the access was a write; it came from
/// CPL 3.
const PF_PRESENT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_USER: u64 = 1 << 2;
/// ... and it was an instruction fetch.
const PF_FETCH: u64 = 1 << 4;

/// Did a `syscall` arrive at [`trap::x86_syscall_entry`] still in ring 3?
///
/// That is what `/dev/kvm` does on hosts where it is PVM (`kvm_pvm`, the page-table based
/// hypervisor some cloud VMs offer instead of nested VT-x; the guest runs in hardware ring 3
/// and the hypervisor emulates privilege): a `syscall` from guest user mode gets rip = LSTAR,
/// rcx/r11 = user rip/rflags and FMASK applied, but CS stays 0x23 and CPL 3, so the fetch of
/// the (supervisor-only) entry page faults in user mode (error code 5, CR2 = rip = LSTAR).
/// On a CPU or TCG this fault only comes from a user jump to the kernel's entry address;
/// treating that as the syscall it imitates (registers from rcx/r11) harms nothing.
fn is_syscall_left_in_user_mode(frame: &TrapFrame, cr2: u64, error: u64) -> bool {
    let entry = trap::x86_syscall_entry as *const () as u64;
    frame.rip == entry
        && cr2 == entry
        && error & (PF_PRESENT | PF_WRITE | PF_USER) == PF_PRESENT | PF_USER
}

/// Enters ring 3 with `frame`, returns at the next trap with `frame` updated.
pub fn run_user(frame: &mut TrapFrame) -> TrapCause {
    loop {
        let cause = enter_user(frame);
        // A user #GP under UMIP: Linux's `exc_general_protection` tries the emulation first.
        if cause as u32 == 13 && UMIP_ON.load(Ordering::Relaxed) != 0 {
            match umip::fixup(frame) {
                umip::Umip::Emulated => continue,
                umip::Umip::StoreFault(addr) => {
                    return TrapCause::Fault {
                        signal: super::signal::SIGSEGV,
                        pc: frame.rip,
                        addr,
                        access: None,
                        what: "UMIP emulation: store failed (SEGV_MAPERR)",
                    };
                }
                umip::Umip::NotEmulated => {}
            }
        }
        return trap_cause(frame, cause);
    }
}

/// Enters ring 3 once; returns the raw cause code (`vector | error << 32`).
fn enter_user(frame: &mut TrapFrame) -> u64 {
    frame.rflags = (frame.rflags & RFLAGS_USER) | RFLAGS_IF | RFLAGS_RESERVED1;
    // SAFETY: `fs_base`/`gs_base` only hold values that passed `check_tls`, 0, or what the
    // MSRs held after the last trap, so they are canonical and `wrmsr` cannot fault; the frame is valid, aligned (`align(16)`) and its
    // flags were just sanitised; `init` set up the GDT, TSS, IDT and MSRs.
    let cause = unsafe {
        Msr::new(IA32_FS_BASE).write(frame.fs_base);
        Msr::new(IA32_GS_BASE).write(frame.gs_base);
        trap::x86_enter_user(frame)
    };
    // SAFETY: reading the two base MSRs has no side effects. With FSGSBASE the task may have
    // changed them (`wrfsbase`/`wrgsbase`; the CPU only accepts canonical values), so they
    // are part of its state.
    unsafe {
        frame.fs_base = Msr::new(IA32_FS_BASE).read();
        frame.gs_base = Msr::new(IA32_GS_BASE).read();
    }
    cause
}

/// The arch-neutral [`TrapCause`] for a raw cause code of [`enter_user`].
fn trap_cause(frame: &mut TrapFrame, cause: u64) -> TrapCause {
    let vector = cause as u32;
    let error = cause >> 32;
    match vector {
        trap::CAUSE_SYSCALL => TrapCause::Syscall,
        v if v == u32::from(VEC_TIMER) => {
            // SAFETY: end-of-interrupt to the master PIC for IRQ0.
            unsafe { Port::<u8>::new(0x20).write(0x20) };
            TrapCause::Timer
        }
        v if v == u32::from(VEC_SPURIOUS) => TrapCause::Timer,
        14 => {
            let cr2: u64;
            // SAFETY: reading CR2 has no side effects.
            unsafe { core::arch::asm!("mov {}, cr2", out(reg) cr2, options(nomem, nostack)) };
            if is_syscall_left_in_user_mode(frame, cr2, error) {
                // Finish what `syscall` should have done: the user rip and rflags are in
                // rcx/r11, exactly as the `syscall` entry would have saved them.
                frame.rip = frame.rcx;
                frame.rflags = frame.r11;
                return TrapCause::Syscall;
            }
            let access = if error & PF_FETCH != 0 {
                Access::Fetch
            } else if error & PF_WRITE != 0 {
                Access::Write
            } else {
                Access::Read
            };
            TrapCause::Fault {
                signal: vector_signal(14),
                pc: frame.rip,
                addr: cr2,
                access: Some(access),
                what: "page fault (#PF)",
            }
        }
        v => TrapCause::Fault {
            signal: vector_signal(v),
            pc: frame.rip,
            addr: 0,
            access: None,
            what: vector_name(v),
        },
    }
}
