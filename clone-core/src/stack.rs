//! User memory region → the stack values `clone`, `clone3` and `__clone2` want, per arch.
//!
//! A runtime allocates a region `[base, base + size)` for the child's stack and calls
//! [`layout`]. The result says what to pass to the syscall ([`StackLayout::syscall_stack`] for
//! legacy `clone`/`clone2`, [`StackLayout::clone3_stack`] / [`StackLayout::clone3_stack_size`]
//! for `struct clone_args`) and what stack pointer the child's entry function is called with
//! ([`StackLayout::child_sp`]). Both syscall forms make the kernel start the child at the same
//! SP, so a trampoline can use either.
//!
//! # Per arch
//!
//! `end = base + size`; `top = end` rounded **down** to [`Arch::stack_alignment`]; `reserved`
//! is [`reserved_frame`].
//!
//! | Arch | legacy `newsp` | `child_sp` | reserved, and why |
//! |---|---|---|---|
//! | x86_64 | `top` | `top` | 0. The trampoline's `call` pushes the return address, so `entry` sees `(rsp + 8) % 16 == 0` as the psABI wants; the 128-byte red zone is below `rsp` and needs no reservation |
//! | i386 | `top - 16` | `top - 16` | 16: cdecl passes `arg` on the stack, at `child_sp`; 16 keeps `esp` 16-aligned at the `call` (musl: `and $-16; sub $16`) |
//! | aarch64, riscv64, mips64 n64, loongarch64 | `top` | `top` | 0 (arguments in registers; no home area in these ABIs) |
//! | arm | `top` (8-aligned) | `top` | 0 |
//! | s390x | `top - 160` | `top - 160` | 160: the callee saves r6–r15 into the **caller's** 160-byte register save area at `0(%r15)`; the back chain at `child_sp` must be zeroed (glibc's child does `aghi %r15,-160`; musl's parent pre-allocates it) |
//! | powerpc64 (ELFv1) | `top - 112` | `top - 112` | 112: minimum frame 48 + 64-byte parameter save area (glibc `FRAME_MIN_SIZE_PARM`); NULL back chain at `child_sp` |
//! | powerpc64le (ELFv2) | `top - 32` | `top - 32` | 32: ELFv2 minimum frame (back chain, CR, LR, TOC save); musl `stdu 0,-32`. glibc uses 112 for both ABIs, which is also valid but larger |
//! | sparc64 | `top - 176 - 2047` | same (biased) | 176: the 64-bit minimum frame (16 × 8-byte register-window save area + hidden/argument words) that must exist at `%sp + 2047`; glibc rounds it to 192. `%sp` values are **biased** by 2047 (`STACK_BIAS`) |
//! | hppa | `Low(align_up(base, 64) + 64)` | same | 64: the stack grows **up**; the 64-byte frame marker / fixed argument area sits just below the SP (callee stores RP at SP-20, previous SP at SP-4) |
//! | ia64 | `BaseSize { base', size' }` | `base' + size' - 16` | 16: the kernel sets `r12 = base + size - 16` (the psABI 16-byte scratch area) and `ar.bspstore = base`. `base'`/`end'` are `base`/`end` rounded in to 16 |
//! | microblaze | `top - 28` | `top - 28` | 28: the caller provides the return-address word at `0(r1)` and six parameter words at `4..28(r1)` (glibc's `clone.S` reads the seventh argument at `28(r1)`) |
//!
//! For `clone3`, `clone_args.stack` is always the lowest address and the kernel adds
//! `stack_size` on grows-down arches (`clone3_stack_valid()`), so [`layout`] gives
//! `clone3_stack = base` and `clone3_stack_size = newsp - base`: the kernel then starts the child
//! at exactly `newsp`. On hppa (`CONFIG_STACK_GROWSUP`) the kernel uses `stack` itself as the SP,
//! so `clone3_stack = child_sp` and `clone3_stack_size = end - child_sp`. sparc64 has no `clone3`
//! through 6.19; its fields are filled as `stack + stack_size = newsp + 2047` (the unbiased
//! frame address), which is unverified against the 2026 sparc `clone3` patch. ia64 never had
//! `clone3`; its fields repeat the `__clone2` base and size.
//!
//! # Where the arithmetic comes from
//!
//! * Kernel (`copy_thread()` / `clone3_stack_valid()`; see [`crate::syscall::kernel_child_sp`]):
//!   legacy `newsp` is used unchanged (hppa: rounded up to 4; sparc64: `(newsp + 2047) & ~15`
//!   is the child's frame pointer and a copy of the trampoline's own frame goes below it);
//!   ia64 `clone2` gives `r12 = base + size - 16`, `bspstore = base`; `clone3` gives
//!   `stack + stack_size` (grows down) or `stack` (grows up).
//! * glibc/musl `clone.S` (facts §5): the alignment masks and the reserved frames above.
//!
//! # Errors
//!
//! Checked in this order: [`StackError::ZeroSize`], [`StackError::NullBase`],
//! [`StackError::Overflow`] (`base + size` wraps or passes `2^pointer_bits`), then
//! [`StackError::TooSmall`]. Misalignment is never an error by itself: [`layout`] rounds the
//! ends inwards, and only if what is left is smaller than [`min_stack_size`] does it fail.
//! Nothing here panics, for any input.

use crate::abi::{Arch, StackGrowth};

/// The memory a runtime allocated for the child's stack: `[base, base + size)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct StackRegion {
    /// Lowest address.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

/// What to put in the legacy `clone` / `__clone2` stack argument(s).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChildStack {
    /// Grows-down arches: the `newsp` value (sparc64: biased by 2047).
    Top(u64),
    /// hppa (grows up): the `newsp` value, near the low end of the region.
    Low(u64),
    /// ia64 `__clone2`: the `(stack_base, stack_size)` pair.
    BaseSize {
        /// `stack_base` (also the RSE backing store start).
        base: u64,
        /// `stack_size`.
        size: u64,
    },
}

impl ChildStack {
    /// The value of the `newsp` / `stack_base` register.
    pub const fn register_value(self) -> u64 {
        match self {
            ChildStack::Top(v) | ChildStack::Low(v) => v,
            ChildStack::BaseSize { base, .. } => base,
        }
    }
}

/// The stack values for one region on one arch; see the module docs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct StackLayout {
    /// Legacy `clone` / `__clone2` stack argument(s).
    pub syscall_stack: ChildStack,
    /// The SP the child calls `entry` with (sparc64: the biased `%sp`/`%fp` value). The
    /// reserved frame lies at `[child_sp, child_sp + reserved)` (grows down; sparc64 at
    /// `child_sp + 2047`) or `[child_sp - reserved, child_sp)` (hppa).
    pub child_sp: u64,
    /// `clone_args.stack`.
    pub clone3_stack: u64,
    /// `clone_args.stack_size`.
    pub clone3_stack_size: u64,
    /// Bytes reserved for the ABI's caller-provided frame ([`reserved_frame`]).
    pub reserved: u64,
}

/// Why a region cannot be a child stack.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StackError {
    /// `size == 0`.
    ZeroSize,
    /// `base == 0` (clone3 would read a zero `stack` as "no stack").
    NullBase,
    /// `base + size` wraps or lies beyond `2^pointer_bits`.
    Overflow,
    /// After rounding the ends in to the alignment, fewer than `min` bytes are left.
    TooSmall {
        /// Usable bytes after alignment.
        size: u64,
        /// [`min_stack_size`] for the arch.
        min: u64,
    },
}

impl core::fmt::Display for StackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StackError::ZeroSize => f.write_str("stack region has size 0"),
            StackError::NullBase => f.write_str("stack region starts at address 0"),
            StackError::Overflow => {
                f.write_str("stack region runs past the end of the address space")
            }
            StackError::TooSmall { size, min } => {
                write!(
                    f,
                    "stack region has {size} usable bytes, needs at least {min}"
                )
            }
        }
    }
}

impl core::error::Error for StackError {}

/// sparc64's `STACK_BIAS`: `%sp`/`%fp` hold the real address minus 2047.
pub const SPARC64_STACK_BIAS: u64 = 2047;

/// Largest trampoline frame (`save %sp, -N, %sp`) [`min_stack_size`] leaves room for on sparc64,
/// where the kernel copies the trapping function's frame below the new `%fp`
/// (`clone_stackframe()` in `arch/sparc/kernel/process_64.c`). glibc's `__clone` uses 192.
pub const SPARC64_TRAP_FRAME_MAX: u64 = 192;

/// Bytes of the ABI's caller-provided frame that [`layout`] reserves at the child's SP
/// (see the module table for each value's source).
pub const fn reserved_frame(arch: Arch) -> u64 {
    match arch {
        Arch::X86_64
        | Arch::Aarch64
        | Arch::Arm
        | Arch::Riscv64
        | Arch::Mips64
        | Arch::Loongarch64 => 0,
        Arch::I386 => 16,
        Arch::S390x => 160,
        Arch::Powerpc64 => 112,
        Arch::Powerpc64le => 32,
        Arch::Sparc64 => 176,
        Arch::Hppa => 64,
        Arch::Ia64 => 16,
        Arch::Microblaze => 28,
    }
}

/// Headroom beyond the reserved frame that [`min_stack_size`] asks for: enough for the
/// trampoline to call `entry` and for `entry`'s first frame on every arch here (the largest
/// minimum frame is sparc64's 176). It is a floor against nonsense regions, not a promise that
/// `entry` fits — real threads need kilobytes.
pub const MIN_HEADROOM: u64 = 256;

/// Smallest usable region (after alignment) [`layout`] accepts:
/// `reserved_frame + MIN_HEADROOM`, plus [`SPARC64_TRAP_FRAME_MAX`] on sparc64.
pub const fn min_stack_size(arch: Arch) -> u64 {
    let extra = match arch {
        Arch::Sparc64 => SPARC64_TRAP_FRAME_MAX,
        _ => 0,
    };
    reserved_frame(arch) + MIN_HEADROOM + extra
}

/// Computes the stack values for `region` on `arch` (module docs give the per-arch rules).
pub fn layout(arch: Arch, region: StackRegion) -> Result<StackLayout, StackError> {
    let StackRegion { base, size } = region;
    if size == 0 {
        return Err(StackError::ZeroSize);
    }
    if base == 0 {
        return Err(StackError::NullBase);
    }
    let end = base.checked_add(size).ok_or(StackError::Overflow)?;
    if arch.pointer_bits() < 64 && end > 1u64 << arch.pointer_bits() {
        return Err(StackError::Overflow);
    }
    let align = arch.stack_alignment();
    let reserved = reserved_frame(arch);
    let min = min_stack_size(arch);
    // Highest address a register can hold (the region may end exactly at 2^32 on 32-bit).
    let reg_max = arch.register_mask();
    let low = align_up(base, align);
    let top = align_down(if end > reg_max { reg_max } else { end }, align);
    let usable = match low {
        Some(low) if top > low => top - low,
        _ => 0,
    };
    if usable < min {
        return Err(StackError::TooSmall { size: usable, min });
    }
    // From here `low` exists and `top - low >= min > reserved`, so the subtractions below
    // cannot wrap; they still use checked forms so a future table change cannot panic.
    let low = low.ok_or(StackError::TooSmall { size: 0, min })?;
    let too_small = StackError::TooSmall { size: usable, min };
    match (arch, arch.stack_growth()) {
        (Arch::Ia64, _) => {
            let size = top - low;
            let child_sp = top.checked_sub(reserved).ok_or(too_small)?;
            Ok(StackLayout {
                syscall_stack: ChildStack::BaseSize { base: low, size },
                child_sp,
                clone3_stack: low,
                clone3_stack_size: size,
                reserved,
            })
        }
        (_, StackGrowth::Up) => {
            let child_sp = low.checked_add(reserved).ok_or(too_small)?;
            Ok(StackLayout {
                syscall_stack: ChildStack::Low(child_sp),
                child_sp,
                clone3_stack: child_sp,
                clone3_stack_size: end - child_sp,
                reserved,
            })
        }
        (_, StackGrowth::Down) => {
            let frame = top.checked_sub(reserved).ok_or(too_small)?;
            let child_sp = match arch {
                // Register arithmetic mod 2^64: the kernel adds the bias back with the same
                // wrap (`csp += STACK_BIAS`), so a frame below 2047 still round-trips.
                Arch::Sparc64 => frame.wrapping_sub(SPARC64_STACK_BIAS),
                _ => frame,
            };
            Ok(StackLayout {
                syscall_stack: ChildStack::Top(child_sp),
                child_sp,
                clone3_stack: base,
                // sparc64 (no clone3 through 6.19): measured to the unbiased frame address,
                // since a biased value can lie below `base`. [unverified against the 2026 patch]
                clone3_stack_size: frame.checked_sub(base).ok_or(too_small)?,
                reserved,
            })
        }
    }
}

/// `v` rounded up to a multiple of the power of two `align`, or `None` if that overflows.
const fn align_up(v: u64, align: u64) -> Option<u64> {
    match v.checked_add(align - 1) {
        Some(x) => Some(x & !(align - 1)),
        None => None,
    }
}

/// `v` rounded down to a multiple of the power of two `align`.
const fn align_down(v: u64, align: u64) -> u64 {
    v & !(align - 1)
}

/// The biased `%sp` a sparc64 child resumes with after legacy `clone(newsp)`, given the size of
/// the frame the clone trap ran in (`%fp - %sp` of the trampoline), as
/// `clone_stackframe()` computes it: `csp = (newsp + 2047) & ~15`, the frame is copied to
/// `csp - frame`, and `%sp = csp - frame - 2047`. Wrapping arithmetic, as the kernel's.
pub const fn sparc64_child_sp(newsp: u64, trap_frame: u64) -> u64 {
    let csp = newsp.wrapping_add(SPARC64_STACK_BIAS) & !15;
    csp.wrapping_sub(trap_frame)
        .wrapping_sub(SPARC64_STACK_BIAS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::{ChildSp, KernelStackRequest, kernel_child_sp};

    /// `[0x10000, 0x1400c)`: the end is 4- but not 8/16/64-aligned, so each arch's rounding
    /// shows. Expected values computed by hand from the module table.
    const REGION: StackRegion = StackRegion {
        base: 0x10000,
        size: 0x400c,
    };

    fn down(child_sp: u64, reserved: u64) -> StackLayout {
        StackLayout {
            syscall_stack: ChildStack::Top(child_sp),
            child_sp,
            clone3_stack: 0x10000,
            clone3_stack_size: child_sp - 0x10000,
            reserved,
        }
    }

    #[test]
    fn layout_per_arch_by_hand() {
        let cases = [
            (Arch::X86_64, down(0x14000, 0)),
            (Arch::I386, down(0x13ff0, 16)),
            (Arch::Aarch64, down(0x14000, 0)),
            (Arch::Arm, down(0x14008, 0)),
            (Arch::Riscv64, down(0x14000, 0)),
            // 8-aligned top 0x14008, minus the 160-byte register save area.
            (Arch::S390x, down(0x13f68, 160)),
            (Arch::Powerpc64, down(0x13f90, 112)),
            (Arch::Powerpc64le, down(0x13fe0, 32)),
            (Arch::Mips64, down(0x14000, 0)),
            (Arch::Loongarch64, down(0x14000, 0)),
            (Arch::Microblaze, down(0x13ff0, 28)),
        ];
        for (arch, want) in cases {
            assert_eq!(layout(arch, REGION), Ok(want), "{arch}");
        }
        // sparc64: 0x14000 - 176 = 0x13f50 is the frame; %sp is biased by 2047 (0x7ff).
        assert_eq!(
            layout(Arch::Sparc64, REGION),
            Ok(StackLayout {
                syscall_stack: ChildStack::Top(0x13751),
                child_sp: 0x13751,
                clone3_stack: 0x10000,
                clone3_stack_size: 0x3f50,
                reserved: 176,
            })
        );
        // hppa grows up: 64-aligned low end 0x10000, plus the 64-byte frame marker area.
        assert_eq!(
            layout(Arch::Hppa, REGION),
            Ok(StackLayout {
                syscall_stack: ChildStack::Low(0x10040),
                child_sp: 0x10040,
                clone3_stack: 0x10040,
                clone3_stack_size: 0x1400c - 0x10040,
                reserved: 64,
            })
        );
        // ia64: base and end rounded in to 16; r12 = base + size - 16.
        assert_eq!(
            layout(Arch::Ia64, REGION),
            Ok(StackLayout {
                syscall_stack: ChildStack::BaseSize {
                    base: 0x10000,
                    size: 0x4000,
                },
                child_sp: 0x13ff0,
                clone3_stack: 0x10000,
                clone3_stack_size: 0x4000,
                reserved: 16,
            })
        );
    }

    #[test]
    fn unaligned_base() {
        let r = StackRegion {
            base: 0x10001,
            size: 0x4000,
        };
        let hppa = layout(Arch::Hppa, r).unwrap();
        assert_eq!(hppa.child_sp, 0x10080);
        assert_eq!(hppa.clone3_stack_size, 0x14001 - 0x10080);
        let ia64 = layout(Arch::Ia64, r).unwrap();
        assert_eq!(
            ia64.syscall_stack,
            ChildStack::BaseSize {
                base: 0x10010,
                size: 0x3ff0
            }
        );
        assert_eq!(ia64.child_sp, 0x13ff0);
        // Grows-down arches pass the unaligned base to clone3 unchanged: only the top matters.
        let x = layout(Arch::X86_64, r).unwrap();
        assert_eq!((x.clone3_stack, x.clone3_stack_size), (0x10001, 0x3fff));
    }

    #[test]
    fn errors_in_order() {
        let l = |base, size| layout(Arch::X86_64, StackRegion { base, size });
        assert_eq!(l(0, 0), Err(StackError::ZeroSize));
        assert_eq!(l(0x1000, 0), Err(StackError::ZeroSize));
        assert_eq!(l(0, 0x1000), Err(StackError::NullBase));
        assert_eq!(l(u64::MAX - 10, 100), Err(StackError::Overflow));
        assert_eq!(l(1, u64::MAX), Err(StackError::Overflow));
        // 0x100ff rounds down to 0x100f0: 240 usable bytes < 256.
        assert_eq!(
            l(0x10000, 0xff),
            Err(StackError::TooSmall {
                size: 0xf0,
                min: 256
            })
        );
        assert_eq!(l(0x10000, 0x100).map(|s| s.child_sp), Ok(0x10100));
        // Alignment can eat a tiny region entirely.
        assert_eq!(
            l(0x10001, 14),
            Err(StackError::TooSmall { size: 0, min: 256 })
        );
    }

    #[test]
    fn thirty_two_bit_address_space_end() {
        // A region may end exactly at 2^32; the top is then the highest aligned 32-bit value.
        let r = StackRegion {
            base: 0xffff_0000,
            size: 0x1_0000,
        };
        assert_eq!(layout(Arch::I386, r).map(|s| s.child_sp), Ok(0xffff_ffe0));
        assert_eq!(layout(Arch::Arm, r).map(|s| s.child_sp), Ok(0xffff_fff8));
        assert_eq!(layout(Arch::Hppa, r).map(|s| s.child_sp), Ok(0xffff_0040));
        let past = StackRegion {
            base: 0xffff_0000,
            size: 0x1_0001,
        };
        for arch in [Arch::I386, Arch::Arm, Arch::Hppa, Arch::Microblaze] {
            assert_eq!(layout(arch, past), Err(StackError::Overflow), "{arch}");
        }
        // The same region is fine on a 64-bit arch.
        assert_eq!(
            layout(Arch::X86_64, past).map(|s| s.child_sp),
            Ok(0x1_0000_0000)
        );
    }

    #[test]
    fn minimum_sizes() {
        let expected = [
            (Arch::X86_64, 256),
            (Arch::I386, 272),
            (Arch::Aarch64, 256),
            (Arch::Arm, 256),
            (Arch::Riscv64, 256),
            (Arch::S390x, 416),
            (Arch::Powerpc64, 368),
            (Arch::Powerpc64le, 288),
            (Arch::Mips64, 256),
            (Arch::Loongarch64, 256),
            (Arch::Sparc64, 624),
            (Arch::Hppa, 320),
            (Arch::Ia64, 272),
            (Arch::Microblaze, 284),
        ];
        for (arch, min) in expected {
            assert_eq!(min_stack_size(arch), min, "{arch}");
            // An aligned region of exactly `min` bytes is accepted, one alignment step less is not.
            let a = arch.stack_alignment();
            let base = 0x40_0000;
            let rounded = (min + a - 1) & !(a - 1);
            assert!(
                layout(
                    arch,
                    StackRegion {
                        base,
                        size: rounded
                    }
                )
                .is_ok(),
                "{arch}"
            );
            assert!(
                matches!(
                    layout(
                        arch,
                        StackRegion {
                            base,
                            size: rounded - a
                        }
                    ),
                    Err(StackError::TooSmall { .. })
                ),
                "{arch}"
            );
        }
    }

    #[test]
    fn kernel_agrees_with_layout() {
        // Whatever form the runtime uses, Linux's arithmetic lands the child on `child_sp`.
        for arch in Arch::ALL {
            let l = layout(arch, REGION).unwrap();
            let legacy = match l.syscall_stack {
                ChildStack::Top(v) | ChildStack::Low(v) => KernelStackRequest::Clone { newsp: v },
                ChildStack::BaseSize { base, size } => KernelStackRequest::Clone2 { base, size },
            };
            let got = kernel_child_sp(arch, &legacy).unwrap().unwrap();
            assert_eq!(got.sp, l.child_sp, "{arch} legacy");
            if arch == Arch::Ia64 {
                assert_eq!(got.ia64_bspstore, Some(0x10000));
            }
            let c3 = KernelStackRequest::Clone3 {
                stack: l.clone3_stack,
                stack_size: l.clone3_stack_size,
            };
            match kernel_child_sp(arch, &c3) {
                Ok(Some(ChildSp { sp, .. })) => assert_eq!(sp, l.child_sp, "{arch} clone3"),
                other => assert!(
                    matches!(arch, Arch::Ia64 | Arch::Sparc64),
                    "{arch}: {other:?}"
                ),
            }
        }
    }

    #[test]
    fn sparc64_kernel_frame_copy() {
        // csp = (newsp + 2047) & ~15 = 0x13f50; a 192-byte trap frame is copied below it.
        let newsp = layout(Arch::Sparc64, REGION).unwrap().child_sp;
        assert_eq!(sparc64_child_sp(newsp, 192), 0x13f50 - 192 - 2047);
        // The kernel realigns an unaligned biased value.
        assert_eq!(sparc64_child_sp(0x13751 + 5, 0), 0x13f50 - 2047);
        assert!(sparc64_child_sp(newsp, SPARC64_TRAP_FRAME_MAX) + SPARC64_STACK_BIAS >= 0x10000);
    }
}
