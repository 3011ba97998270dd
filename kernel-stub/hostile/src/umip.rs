//! x86_64 UMIP: with CR4.UMIP on (Linux sets it where the CPU has it), `sgdt`, `sidt`,
//! `smsw`, `sldt` and `str` in ring 3 raise #GP and Linux's `arch/x86/kernel/umip.c` writes
//! dummy results; what it cannot decode or emulate stays SIGSEGV, and a store that fails is
//! SIGSEGV too. Each encoding runs in a `CLONE_VM` process child (`entry::child_status`), so
//! a wrong answer fails the case instead of ending the program.
//!
//! The expectations are what Linux 6.18 answered on this project's x86_64 host (a C program
//! running each encoding, catching the signal); `cargo xtask qemu` compares them with the
//! host again. On a CPU without UMIP (CPUID.7.0:ECX bit 2) there is nothing to check.

use crate::CaseResult;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::sync::atomic::{AtomicU64, Ordering};

    use crate::entry::child_status;
    use crate::{CaseResult, KERNEL_HIGH, NULLISH};

    /// What a register destination holds before the instruction: the bytes Linux does not
    /// write stay visible.
    const FILL: u64 = 0x1111_1111_2222_2222;
    /// A byte a memory destination holds before the instruction.
    const UNTOUCHED: u8 = 0xcc;

    /// A memory destination below 4 GiB (the image's `.bss`, on the stub and on Linux, where
    /// this static program is linked at the stub's address), so an address-size prefix can
    /// reach it.
    static mut BUF: [u8; 32] = [0; 32];
    /// The register result a child reports.
    static OUT: AtomicU64 = AtomicU64::new(0);
    /// Read-only memory: a store there fails.
    static RO: [u8; 16] = [0; 16];

    fn buf() -> usize {
        (&raw mut BUF) as usize
    }

    fn fill_buf() {
        for i in 0..32 {
            // SAFETY: BUF is 32 bytes; the only other user is a child that has been reaped.
            unsafe { ((&raw mut BUF) as *mut u8).add(i).write_volatile(UNTOUCHED) };
        }
    }

    fn read_buf() -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, v) in b.iter_mut().enumerate() {
            // SAFETY: as in `fill_buf`.
            *v = unsafe { ((&raw const BUF) as *const u8).add(i).read_volatile() };
        }
        b
    }

    /// A child that runs the bytes with `rax` = its argument (a memory operand's address).
    macro_rules! mem_probe {
        ($name:ident, $bytes:literal) => {
            extern "C" fn $name(addr: usize) -> i32 {
                // SAFETY: one of the five UMIP instructions (or a refused encoding, which
                // kills this child); it writes at most 10 bytes at the address in rax.
                unsafe {
                    core::arch::asm!(concat!(".byte ", $bytes), inout("rax") addr => _,
                        options(nostack))
                };
                0
            }
        };
    }

    /// A child that runs the bytes with `rax` = [`FILL`] and reports `rax` in [`OUT`].
    macro_rules! reg_probe {
        ($name:ident, $bytes:literal) => {
            extern "C" fn $name(_: usize) -> i32 {
                let mut v = FILL;
                // SAFETY: writes only rax (or kills this child).
                unsafe {
                    core::arch::asm!(concat!(".byte ", $bytes), inout("rax") v,
                        options(nostack, nomem))
                };
                OUT.store(v, Ordering::Relaxed);
                0
            }
        };
    }

    mem_probe!(sgdt_m, "0x0f,0x01,0x00");
    mem_probe!(sidt_m, "0x0f,0x01,0x08");
    mem_probe!(smsw_m, "0x0f,0x01,0x20");
    mem_probe!(sldt_m, "0x0f,0x00,0x00");
    mem_probe!(str_m, "0x0f,0x00,0x08");
    // rex.w sldt [rax]: a memory destination is 2 bytes whatever the operand size.
    mem_probe!(sldt_m_w, "0x48,0x0f,0x00,0x00");
    // addr32 sgdt [eax]: the upper half of rax is ignored.
    mem_probe!(sgdt_addr32, "0x67,0x0f,0x01,0x00");
    // gs sgdt [rax], gs gs sgdt [rax] (a repeated prefix counts once).
    mem_probe!(sgdt_gs, "0x65,0x0f,0x01,0x00");
    mem_probe!(sgdt_gs_gs, "0x65,0x65,0x0f,0x01,0x00");
    // fs gs sgdt [rax]: two segment overrides, Linux gives up.
    mem_probe!(sgdt_fs_gs, "0x64,0x65,0x0f,0x01,0x00");
    // repne rep ds sgdt: three distinct prefixes, the last (ds) counted twice: SIGSEGV.
    mem_probe!(sgdt_f2_f3_ds, "0xf2,0xf3,0x3e,0x0f,0x01,0x00");
    // repne ds ds rep sgdt: three distinct, the last (rep) is no segment: emulated.
    mem_probe!(sgdt_f2_ds_ds_f3, "0xf2,0x3e,0x3e,0xf3,0x0f,0x01,0x00");
    // repne rep data16 ds sgdt: four distinct prefixes: emulated.
    mem_probe!(sgdt_four_prefixes, "0xf2,0xf3,0x66,0x3e,0x0f,0x01,0x00");
    // 12 ds prefixes + sgdt [rax]: 15 bytes, emulated; 13: 16 bytes, a #GP Linux leaves.
    mem_probe!(
        sgdt_15_bytes,
        "0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x0f,0x01,0x00"
    );
    mem_probe!(
        sgdt_16_bytes,
        "0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x0f,0x01,0x00"
    );
    // lgdt [rax], lldt [rax]: privileged, not emulated.
    mem_probe!(lgdt_m, "0x0f,0x01,0x10");
    mem_probe!(lldt_m, "0x0f,0x00,0x10");

    reg_probe!(smsw_eax, "0x0f,0x01,0xe0");
    reg_probe!(smsw_ax, "0x66,0x0f,0x01,0xe0");
    reg_probe!(smsw_rax, "0x48,0x0f,0x01,0xe0");
    reg_probe!(smsw_66_rex_w, "0x66,0x48,0x0f,0x01,0xe0");
    reg_probe!(smsw_addr32, "0x67,0x0f,0x01,0xe0");
    reg_probe!(smsw_fs_gs, "0x64,0x65,0x0f,0x01,0xe0");
    reg_probe!(sldt_eax, "0x0f,0x00,0xc0");
    reg_probe!(sldt_rax, "0x48,0x0f,0x00,0xc0");
    reg_probe!(str_eax, "0x0f,0x00,0xc8");
    reg_probe!(str_ax, "0x66,0x0f,0x00,0xc8");
    // rex.w data16 smsw: a REX prefix must come last; Linux gives up.
    reg_probe!(smsw_rex_66, "0x48,0x66,0x0f,0x01,0xe0");
    // rex rex smsw: only one REX is decoded, the second reads as the opcode.
    reg_probe!(smsw_rex_rex, "0x48,0x48,0x0f,0x01,0xe0");
    // Five distinct legacy prefixes: the fifth ends the prefixes and reads as the opcode.
    reg_probe!(
        smsw_five_prefixes,
        "0xf2,0xf3,0x66,0x2e,0x3e,0x0f,0x01,0xe0"
    );
    // 0f 01 c8 is MONITOR (the register form of /1), lock smsw: #UD on the CPU.
    reg_probe!(monitor, "0x0f,0x01,0xc8");
    reg_probe!(lock_smsw, "0xf0,0x0f,0x01,0xe0");

    /// rex.b smsw r9d: REX.B selects r9, whose upper half stays.
    extern "C" fn smsw_r9d(_: usize) -> i32 {
        let mut v = FILL;
        // SAFETY: writes only r9.
        unsafe {
            core::arch::asm!(".byte 0x41,0x0f,0x01,0xe1", inout("r9") v, options(nostack, nomem))
        };
        OUT.store(v, Ordering::Relaxed);
        0
    }

    /// sgdt [rax + rdx*4 + 8] with rax = addr - 16, rdx = 2 (a SIB byte and a disp8).
    extern "C" fn sgdt_sib(addr: usize) -> i32 {
        // SAFETY: stores 10 bytes at `addr`.
        unsafe {
            core::arch::asm!(".byte 0x0f,0x01,0x44,0x90,0x08",
                inout("rax") addr - 16 => _, in("rdx") 2usize, options(nostack))
        };
        0
    }

    /// sgdt [rip + BUF]: a RIP-relative destination.
    extern "C" fn sgdt_rip(_: usize) -> i32 {
        // SAFETY: stores 10 bytes at BUF.
        unsafe { core::arch::asm!("sgdt [rip + {b}]", b = sym BUF, options(nostack)) };
        0
    }

    /// What a probe must give.
    #[derive(Clone, Copy)]
    enum Want {
        /// Emulated: these bytes at the start of BUF (the rest untouched).
        Mem(&'static [u8]),
        /// Emulated: this value in the register.
        Reg(u64),
        /// Killed by this signal.
        Signal(i32),
    }

    const SIGILL: i32 = 4;
    const SIGSEGV: i32 = 11;
    const GDT: &[u8] = &[0, 0, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff];
    const IDT: &[u8] = &[0, 0, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    /// Where the probe points its memory operand.
    #[derive(Clone, Copy)]
    enum At {
        Buf,
        /// `buf | 0xffff_ffff_0000_0000` (only the low half may count).
        BufHigh,
        /// 0x100, with the GS base at `buf - 0x100`.
        GsBuf,
        Addr(usize),
        Ro,
    }

    type Probe = (&'static str, extern "C" fn(usize) -> i32, At, Want);

    fn probes() -> &'static [Probe] {
        &[
            ("sgdt [rax]", sgdt_m, At::Buf, Want::Mem(GDT)),
            ("sidt [rax]", sidt_m, At::Buf, Want::Mem(IDT)),
            ("smsw [rax]", smsw_m, At::Buf, Want::Mem(&[0x33, 0x00])),
            ("sldt [rax]", sldt_m, At::Buf, Want::Mem(&[0, 0])),
            ("str [rax]", str_m, At::Buf, Want::Mem(&[0x40, 0])),
            ("rex.w sldt [rax]", sldt_m_w, At::Buf, Want::Mem(&[0, 0])),
            (
                "addr32 sgdt [eax]",
                sgdt_addr32,
                At::BufHigh,
                Want::Mem(GDT),
            ),
            ("gs sgdt [rax]", sgdt_gs, At::GsBuf, Want::Mem(GDT)),
            ("gs gs sgdt [rax]", sgdt_gs_gs, At::GsBuf, Want::Mem(GDT)),
            ("sgdt [rax+rdx*4+8]", sgdt_sib, At::Buf, Want::Mem(GDT)),
            ("sgdt [rip+BUF]", sgdt_rip, At::Buf, Want::Mem(GDT)),
            (
                "repne ds ds rep sgdt",
                sgdt_f2_ds_ds_f3,
                At::Buf,
                Want::Mem(GDT),
            ),
            (
                "repne rep data16 ds sgdt",
                sgdt_four_prefixes,
                At::Buf,
                Want::Mem(GDT),
            ),
            ("15-byte sgdt", sgdt_15_bytes, At::Buf, Want::Mem(GDT)),
            (
                "smsw eax",
                smsw_eax,
                At::Buf,
                Want::Reg(0x1111_1111_8005_0033),
            ),
            (
                "smsw ax",
                smsw_ax,
                At::Buf,
                Want::Reg(0x1111_1111_2222_0033),
            ),
            ("smsw rax", smsw_rax, At::Buf, Want::Reg(0x8005_0033)),
            (
                "data16 rex.w smsw",
                smsw_66_rex_w,
                At::Buf,
                Want::Reg(0x8005_0033),
            ),
            (
                "addr32 smsw eax",
                smsw_addr32,
                At::Buf,
                Want::Reg(0x1111_1111_8005_0033),
            ),
            (
                "fs gs smsw eax",
                smsw_fs_gs,
                At::Buf,
                Want::Reg(0x1111_1111_8005_0033),
            ),
            (
                "smsw r9d",
                smsw_r9d,
                At::Buf,
                Want::Reg(0x1111_1111_8005_0033),
            ),
            (
                "sldt eax",
                sldt_eax,
                At::Buf,
                Want::Reg(0x1111_1111_0000_0000),
            ),
            ("sldt rax", sldt_rax, At::Buf, Want::Reg(0)),
            (
                "str eax",
                str_eax,
                At::Buf,
                Want::Reg(0x1111_1111_0000_0040),
            ),
            ("str ax", str_ax, At::Buf, Want::Reg(0x1111_1111_2222_0040)),
            (
                "sgdt [kernel half]",
                sgdt_m,
                At::Addr(KERNEL_HIGH),
                Want::Signal(SIGSEGV),
            ),
            (
                "sgdt [page 0]",
                sgdt_m,
                At::Addr(NULLISH),
                Want::Signal(SIGSEGV),
            ),
            (
                "smsw [non-canonical]",
                smsw_m,
                At::Addr(0x8000_0000_0000_0000),
                Want::Signal(SIGSEGV),
            ),
            (
                "str [kernel half]",
                str_m,
                At::Addr(KERNEL_HIGH),
                Want::Signal(SIGSEGV),
            ),
            ("sidt [read-only]", sidt_m, At::Ro, Want::Signal(SIGSEGV)),
            (
                "fs gs sgdt [rax]",
                sgdt_fs_gs,
                At::Buf,
                Want::Signal(SIGSEGV),
            ),
            (
                "repne rep ds sgdt",
                sgdt_f2_f3_ds,
                At::Buf,
                Want::Signal(SIGSEGV),
            ),
            (
                "16-byte sgdt",
                sgdt_16_bytes,
                At::Buf,
                Want::Signal(SIGSEGV),
            ),
            ("lgdt [rax]", lgdt_m, At::Buf, Want::Signal(SIGSEGV)),
            ("lldt [rax]", lldt_m, At::Buf, Want::Signal(SIGSEGV)),
            (
                "rex.w data16 smsw",
                smsw_rex_66,
                At::Buf,
                Want::Signal(SIGSEGV),
            ),
            ("rex rex smsw", smsw_rex_rex, At::Buf, Want::Signal(SIGSEGV)),
            (
                "five-prefix smsw",
                smsw_five_prefixes,
                At::Buf,
                Want::Signal(SIGSEGV),
            ),
            ("monitor (0f 01 c8)", monitor, At::Buf, Want::Signal(SIGILL)),
            ("lock smsw", lock_smsw, At::Buf, Want::Signal(SIGILL)),
        ]
    }

    /// The child of a GS probe: GS base = `buf - 0x100`, then probe number `i` at 0x100.
    extern "C" fn with_gs(i: usize) -> i32 {
        // SAFETY: ARCH_SET_GS (158, 0x1001) sets this child's GS base only.
        let r = unsafe { clone_core::user::syscall2(158, 0x1001, buf() - 0x100) };
        if r != 0 {
            return 100;
        }
        (probes()[i].1)(0x100)
    }

    pub fn umip_dummies() -> CaseResult {
        if core::arch::x86_64::__cpuid_count(7, 0).ecx & (1 << 2) == 0 {
            return Ok(());
        }
        for (i, &(name, probe, at, want)) in probes().iter().enumerate() {
            fill_buf();
            OUT.store(0, Ordering::Relaxed);
            let status = match at {
                At::GsBuf => child_status(with_gs, i)?,
                At::Buf => child_status(probe, buf())?,
                At::BufHigh => child_status(probe, buf() | 0xffff_ffff_0000_0000)?,
                At::Addr(a) => child_status(probe, a)?,
                At::Ro => child_status(probe, RO.as_ptr() as usize)?,
            };
            let got = read_buf();
            match want {
                Want::Signal(sig) => {
                    if status & 0x7f != sig {
                        fail!("{name}: wait status {status:#x}, expected death by signal {sig}");
                    }
                    if got.iter().any(|&b| b != UNTOUCHED) {
                        fail!(
                            "{name}: killed, but the buffer was written: {:02x?}",
                            &got[..12]
                        );
                    }
                }
                _ if status != 0 => {
                    fail!("{name}: wait status {status:#x}, expected exit 0 (emulated)")
                }
                Want::Mem(bytes) => {
                    let n = bytes.len();
                    if got[..n] != *bytes || got[n..].iter().any(|&b| b != UNTOUCHED) {
                        fail!("{name}: wrote {:02x?}, expected {bytes:02x?}", &got[..12]);
                    }
                }
                Want::Reg(v) => {
                    let r = OUT.load(Ordering::Relaxed);
                    if r != v {
                        fail!("{name}: register {r:#x}, expected {v:#x}");
                    }
                    if got.iter().any(|&b| b != UNTOUCHED) {
                        fail!("{name}: memory written: {:02x?}", &got[..12]);
                    }
                }
            }
        }
        // SAFETY: reads the 16 bytes of RO (volatile: the compiler must not assume them).
        let ro: [u8; 16] = unsafe { core::ptr::read_volatile(&RO) };
        if ro != [0; 16] {
            fail!("read-only memory was written: {ro:02x?}");
        }
        Ok(())
    }
}

/// Every UMIP encoding above gives Linux's result (x86_64; nothing to check elsewhere).
pub fn umip_dummies() -> CaseResult {
    #[cfg(target_arch = "x86_64")]
    x86::umip_dummies()?;
    Ok(())
}
