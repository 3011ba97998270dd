//! x86_64 CPU state a libc relies on, as Linux sets it up: OSXSAVE with XCR0 (AVX state is
//! kept across syscalls and switches), FSGSBASE, and `arch_prctl(ARCH_SET_GS / ARCH_GET_GS /
//! ARCH_GET_CPUID)`. What the CPU lacks is not asked for (the CPUID bits decide).

use crate::CaseResult;

#[cfg(target_arch = "x86_64")]
const ARCH_PRCTL: usize = 158;

#[cfg(target_arch = "x86_64")]
fn arch_prctl(code: usize, addr: usize) -> isize {
    // SAFETY: the codes used here read or write one word at `addr` or set a base register.
    unsafe { clone_core::user::syscall2(ARCH_PRCTL, code, addr) }
}

/// OSXSAVE and XCR0 where the CPU has XSAVE (and AVX in XCR0 where it has AVX, with a ymm
/// upper half intact after a yield); `rdfsbase` agrees with `ARCH_GET_FS` and a `wrgsbase`
/// value survives a yield where the CPU has FSGSBASE.
pub fn cpu_features() -> CaseResult {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{__cpuid, __cpuid_count};
        let (l1, l7) = (__cpuid(1), __cpuid_count(7, 0));
        if l1.ecx & (1 << 26) != 0 {
            if l1.ecx & (1 << 27) == 0 {
                fail!("the CPU has XSAVE but CPUID.1:ECX.OSXSAVE is clear");
            }
            let (lo, hi): (u32, u32);
            // SAFETY: `xgetbv(0)` is allowed once OSXSAVE is set (checked above).
            unsafe { core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi) };
            let xcr0 = (u64::from(hi) << 32) | u64::from(lo);
            if xcr0 & 3 != 3 {
                fail!("XCR0 = {xcr0:#x}: x87 or SSE state off");
            }
            if l1.ecx & (1 << 28) != 0 {
                if xcr0 & 4 == 0 {
                    fail!("the CPU has AVX but XCR0 = {xcr0:#x}");
                }
                let upper: u64;
                // SAFETY: AVX is enabled (XCR0 bit 2); ymm0/xmm1 are scratch, sched_yield
                // (24) writes no memory.
                unsafe {
                    core::arch::asm!(
                        "vpcmpeqd ymm0, ymm0, ymm0",
                        "syscall",
                        "vextractf128 xmm1, ymm0, 1",
                        "movq {u}, xmm1",
                        "vzeroupper",
                        u = lateout(reg) upper,
                        inlateout("rax") 24usize => _,
                        lateout("rcx") _, lateout("r11") _,
                        out("xmm0") _, out("xmm1") _,
                    );
                }
                if upper != u64::MAX {
                    fail!("ymm0's upper half is {upper:#x} after a syscall");
                }
            }
        }
        if l7.ebx & 1 != 0 {
            let mut fs: usize = 0;
            let r = arch_prctl(0x1003, &mut fs as *mut usize as usize);
            let rd: usize;
            // SAFETY: FSGSBASE: Linux enables it where the CPU has it; reads the FS base.
            unsafe { core::arch::asm!("rdfsbase {}", out(reg) rd) };
            if r != 0 || rd != fs {
                fail!("rdfsbase = {rd:#x}, ARCH_GET_FS = {fs:#x} ({r})");
            }
            let gs: usize;
            // SAFETY: sets and reads back the GS base (unused by this program); restored to 0.
            unsafe {
                core::arch::asm!(
                    "wrgsbase {v}",
                    "syscall",
                    "rdgsbase {v}",
                    "xor {z:e}, {z:e}",
                    "wrgsbase {z}",
                    v = inout(reg) 0x1234_5000usize => gs,
                    z = out(reg) _,
                    inlateout("rax") 24usize => _,
                    lateout("rcx") _, lateout("r11") _,
                );
            }
            if gs != 0x1234_5000 {
                fail!("wrgsbase 0x12345000, then a syscall: rdgsbase = {gs:#x}");
            }
        }
    }
    Ok(())
}

/// `ARCH_SET_GS` points `gs:` at a word (read through `gs:[0]`, also after a yield),
/// `ARCH_GET_GS` reads the base back (EFAULT for a kernel pointer), a base at or above
/// `TASK_SIZE_MAX` is EPERM, `ARCH_GET_CPUID` is 1, an unknown code EINVAL.
pub fn arch_prctl_gs() -> CaseResult {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::{KERNEL_HIGH, expect};
        let word: u64 = 0x0123_4567_89ab_cdef;
        let at = &word as *const u64 as usize;
        let r = arch_prctl(0x1001, at);
        if r != 0 {
            fail!("ARCH_SET_GS: {r}");
        }
        let (v1, v2): (u64, u64);
        // SAFETY: reads the word GS points at, before and after a sched_yield (24).
        unsafe {
            core::arch::asm!(
                "mov {a}, gs:[0]",
                "syscall",
                "mov {b}, gs:[0]",
                a = out(reg) v1,
                b = out(reg) v2,
                inlateout("rax") 24usize => _,
                lateout("rcx") _, lateout("r11") _,
            );
        }
        let mut got: usize = 0;
        let r = arch_prctl(0x1004, &mut got as *mut usize as usize);
        let _ = arch_prctl(0x1001, 0);
        if v1 != word || v2 != word {
            fail!("gs:[0] = {v1:#x}, then {v2:#x}; expected {word:#x}");
        }
        if r != 0 || got != at {
            fail!("ARCH_GET_GS: {r}, base {got:#x}, expected {at:#x}");
        }
        expect(
            "ARCH_GET_GS(kernel pointer)",
            arch_prctl(0x1004, KERNEL_HIGH),
            14,
        )?;
        expect(
            "ARCH_SET_GS(kernel half)",
            arch_prctl(0x1001, KERNEL_HIGH),
            1,
        )?;
        let r = arch_prctl(0x1011, 0);
        if r != 1 {
            fail!("ARCH_GET_CPUID: {r}, expected 1");
        }
        expect("arch_prctl(0x1fff)", arch_prctl(0x1fff, 0), 22)?;
    }
    Ok(())
}
