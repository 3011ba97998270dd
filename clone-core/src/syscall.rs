//! Kernel face: decode raw `clone`/`clone3`/`clone2`/`fork`/`vfork` syscall registers, encode
//! them back, and compute the stack pointer Linux gives the child.
//!
//! A kernel that wants Linux's `clone` reads the syscall number and six argument registers from
//! the trapping thread, puts them in a [`RawSyscall`], and calls [`decode`]. The result is
//! arch-independent: a [`CloneCall`] whose [`LegacyCloneArgs`] has every argument in its named
//! field, whatever order the arch's `CLONE_BACKWARDS*` option put it in. [`encode`] is the
//! inverse (what a user-space trampoline must load), and [`kernel_child_sp`] does the arithmetic
//! of the arch's `copy_thread()` and of `clone3_stack_valid()`.
//!
//! # Registers
//!
//! | Arch | args 0..5 | number | legacy order |
//! |---|---|---|---|
//! | x86_64 | rdi rsi rdx r10 r8 r9 | rax | flags, sp, ptid, ctid, tls |
//! | i386 | ebx ecx edx esi edi ebp | eax | flags, sp, ptid, tls, ctid |
//! | aarch64 | x0–x5 | x8 | flags, sp, ptid, tls, ctid |
//! | arm | r0–r5 | r7 | flags, sp, ptid, tls, ctid |
//! | riscv64 | a0–a5 | a7 | flags, sp, ptid, tls, ctid |
//! | s390x | r2–r7 | r1 (or `svc nr`) | **sp, flags**, ptid, ctid, tls |
//! | powerpc64(le) | r3–r8 | r0 | flags, sp, ptid, tls, ctid |
//! | mips64 n64 | a0–a5 ($4–$9) | v0 | flags, sp, ptid, tls, ctid |
//! | loongarch64 | a0–a5 | a7 | flags, sp, ptid, ctid, tls |
//! | sparc64 | %o0–%o5 | %g1 | flags, sp, ptid, tls, ctid |
//! | hppa | r26 r25 r24 r23 r22 r21 | r20 | flags, sp, ptid, tls, ctid |
//! | ia64 `clone` | out0–out5 | r15 | flags, sp, *(ignored)*, ptid, ctid, tls (5.9–6.6; before 5.9: flags, sp, ptid, ctid, tls — see [`Arch::clone_arg_order`]) |
//! | ia64 `clone2` | out0–out5 | r15 | flags, **base, size**, ptid, ctid, tls |
//! | microblaze | r5–r10 | r12 | flags, sp, **size**, ptid, ctid, tls |
//!
//! `clone3` is `(struct clone_args *uargs, size_t size)` in argument slots 0 and 1 everywhere
//! it exists. `fork` and `vfork` take no arguments (sparc's entry reads the parent's `%fp` as
//! the child's stack, which is the parent's own); they exist where the arch's table has them
//! ([`crate::SyscallNumbers::fork`], [`crate::SyscallNumbers::vfork`]).
//!
//! # 32-bit arches
//!
//! i386, arm, hppa and microblaze registers are 32 bits wide and the kernel's `unsigned long`
//! arguments are 32 bits, so [`decode`] keeps only the low 32 bits of the number and of every
//! argument (a kernel embedding this may have stored registers zero- or sign-extended; either
//! way the kernel sees the low half). [`encode`] refuses values that do not fit instead of
//! silently dropping bits.

use crate::abi::{Arch, ArgOrder, StackGrowth};

/// sparc64 `STACK_BIAS`.
const SPARC64_BIAS: u64 = 2047;

/// A syscall as it arrives in registers: the number and six arguments, in argument order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct RawSyscall {
    /// Syscall number.
    pub nr: u64,
    /// Arguments 0..=5 (see the module table for which register holds which).
    pub args: [u64; 6],
}

/// A decoded clone-family call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CloneCall {
    /// Legacy `clone` (and ia64 `clone2`), normalized.
    Clone(LegacyCloneArgs),
    /// `clone3(uargs, size)`: the `struct clone_args` pointer and its claimed size.
    Clone3 {
        /// User address of `struct clone_args`.
        args: u64,
        /// Size the caller claims (`CLONE_ARGS_SIZE_VER0` = 64 and up).
        size: u64,
    },
    /// `fork()`: `kernel_clone_args` is `{ .exit_signal = SIGCHLD }`
    /// ([`crate::validate::validate_fork`]).
    Fork,
    /// `vfork()`: `{ .flags = CLONE_VFORK | CLONE_VM, .exit_signal = SIGCHLD }`
    /// ([`crate::validate::validate_vfork`]).
    Vfork,
}

/// Legacy `clone` / ia64 `clone2` arguments by meaning, not by register.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct LegacyCloneArgs {
    /// Flags | exit signal, the full register as passed (the kernel later keeps only the low
    /// 32 bits: see [`crate::flags::split_legacy`]).
    pub word: u64,
    /// New stack pointer (`0` = keep the parent's); for `clone2`, the stack *base*.
    pub stack: u64,
    /// `stack_size` argument: only `CLONE_BACKWARDS3` (microblaze; the kernel ignores it) and
    /// ia64 `clone2` have one; 0 otherwise.
    pub stack_size: u64,
    /// `parent_tid` (also where `CLONE_PIDFD` stores the pidfd).
    pub parent_tid: u64,
    /// `child_tid`.
    pub child_tid: u64,
    /// `tls` (i386: a `struct user_desc *`; elsewhere the new thread pointer).
    pub tls: u64,
    /// Came in through ia64 `clone2` rather than `clone`.
    pub via_clone2: bool,
}

/// Why [`decode`] did not produce a [`CloneCall`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The (width-truncated) number is not a clone-family syscall on this arch.
    NotClone(u64),
}

/// Why [`encode`] could not produce registers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// `clone3` is not wired on this arch (ia64; sparc64 through 6.19).
    NoClone3(Arch),
    /// `via_clone2` on an arch other than ia64.
    NoClone2(Arch),
    /// A non-zero `stack_size` for an arch/syscall whose registers have no slot for it.
    StackSizeNotEncodable(Arch),
    /// `fork` is not in this arch's syscall table (arm64, riscv64, loongarch64, ia64).
    NoFork(Arch),
    /// `vfork` is not in this arch's syscall table (as for `fork`, plus mips).
    NoVfork(Arch),
    /// A value wider than the arch's registers (32-bit arches).
    TooWide {
        /// The arch.
        arch: Arch,
        /// The offending value.
        value: u64,
    },
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::NotClone(nr) => {
                write!(
                    f,
                    "syscall {nr} is not clone, clone2, clone3, fork or vfork"
                )
            }
        }
    }
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EncodeError::NoClone3(a) => write!(f, "{a} has no clone3 syscall"),
            EncodeError::NoClone2(a) => write!(f, "{a} has no clone2 syscall (ia64 only)"),
            EncodeError::NoFork(a) => write!(f, "{a} has no fork syscall"),
            EncodeError::NoVfork(a) => write!(f, "{a} has no vfork syscall"),
            EncodeError::StackSizeNotEncodable(a) => {
                write!(f, "{a}'s clone has no stack_size argument")
            }
            EncodeError::TooWide { arch, value } => {
                write!(
                    f,
                    "{value:#x} does not fit in a {}-bit register",
                    arch.pointer_bits()
                )
            }
        }
    }
}

impl core::error::Error for DecodeError {}
impl core::error::Error for EncodeError {}

/// Decodes raw registers into a [`CloneCall`].
///
/// Recognises `clone`, `clone3` (where wired), ia64 `clone2`, and `fork`/`vfork` where the
/// arch has them. On 32-bit arches the number and all arguments are truncated to 32 bits
/// first. Unused argument slots are ignored.
///
/// Uses the legacy order of current kernels ([`Arch::clone_arg_order`]); [`decode_for`] takes a
/// kernel version (only ia64 before 5.9 differs).
pub fn decode(arch: Arch, raw: &RawSyscall) -> Result<CloneCall, DecodeError> {
    decode_with(arch, arch.clone_arg_order(), raw)
}

/// [`decode`] as Linux `(major, minor)` does it ([`Arch::clone_arg_order_for`]).
pub fn decode_for(
    arch: Arch,
    linux: (u32, u32),
    raw: &RawSyscall,
) -> Result<CloneCall, DecodeError> {
    decode_with(arch, arch.clone_arg_order_for(linux), raw)
}

fn decode_with(arch: Arch, order: ArgOrder, raw: &RawSyscall) -> Result<CloneCall, DecodeError> {
    let mask = arch.register_mask();
    let nr = raw.nr & mask;
    let a = raw.args.map(|v| v & mask);
    let numbers = arch.syscalls();
    if nr == numbers.clone {
        return Ok(CloneCall::Clone(read_slots(order, &a, false)));
    }
    if let (Some(clone2), Some(order)) = (numbers.clone2, arch.clone2_arg_order()) {
        if nr == clone2 {
            return Ok(CloneCall::Clone(read_slots(order, &a, true)));
        }
    }
    if numbers.clone3 == Some(nr) {
        return Ok(CloneCall::Clone3 {
            args: a[0],
            size: a[1],
        });
    }
    if numbers.fork == Some(nr) {
        return Ok(CloneCall::Fork);
    }
    if numbers.vfork == Some(nr) {
        return Ok(CloneCall::Vfork);
    }
    Err(DecodeError::NotClone(nr))
}

fn read_slots(order: ArgOrder, a: &[u64; 6], via_clone2: bool) -> LegacyCloneArgs {
    let s = order.slots();
    let get = |i: usize| a.get(i).copied().unwrap_or(0);
    LegacyCloneArgs {
        word: get(s.word),
        stack: get(s.stack),
        stack_size: match s.stack_size {
            Some(i) => get(i),
            None => 0,
        },
        parent_tid: get(s.parent_tid),
        child_tid: get(s.child_tid),
        tls: get(s.tls),
        via_clone2,
    }
}

/// Encodes a [`CloneCall`] into the registers the arch's kernel expects. Unused slots are 0.
///
/// Fails rather than lose information: `clone3`/`clone2`/`fork`/`vfork` where absent, a `stack_size` the
/// registers cannot carry, or a value wider than a 32-bit arch's registers. So for every `Ok`,
/// [`decode`] gives the call back unchanged.
pub fn encode(arch: Arch, call: &CloneCall) -> Result<RawSyscall, EncodeError> {
    encode_with(arch, arch.clone_arg_order(), call)
}

/// [`encode`] for Linux `(major, minor)` ([`Arch::clone_arg_order_for`]).
pub fn encode_for(
    arch: Arch,
    linux: (u32, u32),
    call: &CloneCall,
) -> Result<RawSyscall, EncodeError> {
    encode_with(arch, arch.clone_arg_order_for(linux), call)
}

fn encode_with(arch: Arch, order: ArgOrder, call: &CloneCall) -> Result<RawSyscall, EncodeError> {
    let mask = arch.register_mask();
    let fit = |v: u64| {
        if v & !mask == 0 {
            Ok(v)
        } else {
            Err(EncodeError::TooWide { arch, value: v })
        }
    };
    let numbers = arch.syscalls();
    let no_args =
        |nr: Option<u64>, err: EncodeError| nr.map(|nr| RawSyscall { nr, args: [0; 6] }).ok_or(err);
    match call {
        CloneCall::Fork => no_args(numbers.fork, EncodeError::NoFork(arch)),
        CloneCall::Vfork => no_args(numbers.vfork, EncodeError::NoVfork(arch)),
        CloneCall::Clone3 { args, size } => {
            let nr = numbers.clone3.ok_or(EncodeError::NoClone3(arch))?;
            Ok(RawSyscall {
                nr,
                args: [fit(*args)?, fit(*size)?, 0, 0, 0, 0],
            })
        }
        CloneCall::Clone(l) => {
            let (nr, order) = if l.via_clone2 {
                match (numbers.clone2, arch.clone2_arg_order()) {
                    (Some(nr), Some(order)) => (nr, order),
                    _ => return Err(EncodeError::NoClone2(arch)),
                }
            } else {
                (numbers.clone, order)
            };
            let s = order.slots();
            let mut args = [0u64; 6];
            let mut put = |i: usize, v: u64| -> Result<(), EncodeError> {
                if let Some(slot) = args.get_mut(i) {
                    *slot = fit(v)?;
                }
                Ok(())
            };
            put(s.word, l.word)?;
            put(s.stack, l.stack)?;
            match s.stack_size {
                Some(i) => put(i, l.stack_size)?,
                None if l.stack_size != 0 => return Err(EncodeError::StackSizeNotEncodable(arch)),
                None => {}
            }
            put(s.parent_tid, l.parent_tid)?;
            put(s.child_tid, l.child_tid)?;
            put(s.tls, l.tls)?;
            Ok(RawSyscall { nr, args })
        }
    }
}

/// The stack part of a clone-family request, as the kernel's `copy_thread()` sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum KernelStackRequest {
    /// Legacy `clone`: `newsp` register value (0 = keep the parent's SP).
    Clone {
        /// The new stack pointer.
        newsp: u64,
    },
    /// ia64 `clone2`: base and size of the memory area.
    Clone2 {
        /// Lowest address of the area.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// `clone3`: `clone_args.stack` (always the lowest address) and `clone_args.stack_size`.
    Clone3 {
        /// `clone_args.stack`.
        stack: u64,
        /// `clone_args.stack_size`.
        stack_size: u64,
    },
}

impl From<&LegacyCloneArgs> for KernelStackRequest {
    fn from(l: &LegacyCloneArgs) -> Self {
        if l.via_clone2 {
            KernelStackRequest::Clone2 {
                base: l.stack,
                size: l.stack_size,
            }
        } else {
            KernelStackRequest::Clone { newsp: l.stack }
        }
    }
}

/// Where the child starts: its stack pointer and, on ia64, the register backing store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChildSp {
    /// The child's user stack-pointer register (sparc64: the biased `%sp` value passed in,
    /// see [`kernel_child_sp`]).
    pub sp: u64,
    /// ia64 only: `ar.bspstore`, the start of the register backing store (grows up).
    pub ia64_bspstore: Option<u64>,
}

/// Why [`kernel_child_sp`] has no answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KernelStackError {
    /// `clone2` on an arch other than ia64.
    NoClone2(Arch),
    /// `clone3` on an arch without it.
    NoClone3(Arch),
    /// `clone3` with `stack == 0` but `stack_size != 0`, or `stack != 0` with
    /// `stack_size == 0` — `clone3_stack_valid()` says EINVAL.
    Clone3StackInvalid,
    /// `clone3` `stack + stack_size` beyond the arch's address width: `access_ok()` fails,
    /// EINVAL.
    Clone3StackOutOfRange,
}

impl core::fmt::Display for KernelStackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KernelStackError::NoClone2(a) => write!(f, "{a} has no clone2 syscall (ia64 only)"),
            KernelStackError::NoClone3(a) => write!(f, "{a} has no clone3 syscall"),
            KernelStackError::Clone3StackInvalid => {
                f.write_str("clone3 stack and stack_size must both be zero or both non-zero")
            }
            KernelStackError::Clone3StackOutOfRange => {
                f.write_str("clone3 stack + stack_size runs past the address space")
            }
        }
    }
}

impl core::error::Error for KernelStackError {}

/// The child's initial stack pointer as Linux computes it, or `Ok(None)` when the child keeps
/// (a copy-on-write copy of) the parent's SP.
///
/// * Legacy `clone`: `newsp` is used as-is (`0` → `None`), truncated to the register width on
///   32-bit arches. Exceptions (each arch's `copy_thread()`):
///   * hppa: `if (usp) { usp = ALIGN(usp, 4); if (usp) gr[30] = usp; }` — rounded up to 4,
///     in 32-bit arithmetic (a value that wraps to 0 keeps the parent's SP);
///   * ia64: the legacy `sys_clone` passes `stack_size = 16`, so `r12 = sp + 16 - 16 = sp` and
///     `ar.bspstore = sp` (facts §4.1);
///   * sparc64 (`clone_stackframe()` in `arch/sparc/kernel/process_64.c`): the value is a
///     biased `%sp`; the kernel realigns it (`csp = (newsp + 2047) & ~15`), copies the trapping
///     function's register-window frame to just below `csp`, and the child resumes with
///     `%fp = csp - 2047` and `%sp` lower by that frame's size. The frame size lives in user
///     memory, so this returns the child's **`%fp`**; see
///     [`crate::stack::sparc64_child_sp`] for the `%sp` given the frame size.
/// * ia64 `clone2`: `base == 0` → `None`; else `r12 = base + size - 16` (the 16-byte scratch
///   area) and `ar.bspstore = base`, in wrapping 64-bit `unsigned long` arithmetic as the
///   kernel does (it does not check the sum).
/// * `clone3` (`clone3_stack_valid()`): `stack == 0` needs `stack_size == 0` → `None`; else
///   `stack_size != 0` and `access_ok(stack, stack_size)` (checked here only against the
///   arch's address width, and not at all on s390x, hppa and sparc64, where it is constant
///   true: [`Arch::separate_user_address_space`]), then on grows-down arches `sp = stack + stack_size`, on hppa
///   `sp = stack` (then `ALIGN(sp, 4)` in `copy_thread`). On 32-bit arches this models the
///   arch's own (native 32-bit) kernel, where `copy_clone_args_from_user()` stores the u64
///   `stack`/`stack_size` in 32-bit `unsigned long`s, so the high halves are dropped first; a
///   64-bit kernel running the same task as compat would instead fail `access_ok()` (EINVAL)
///   for values of 2^32 and up.
pub fn kernel_child_sp(
    arch: Arch,
    req: &KernelStackRequest,
) -> Result<Option<ChildSp>, KernelStackError> {
    let mask = arch.register_mask();
    let plain = |sp: u64| {
        Some(ChildSp {
            sp,
            ia64_bspstore: None,
        })
    };
    match *req {
        KernelStackRequest::Clone { newsp } => {
            let newsp = newsp & mask;
            if newsp == 0 {
                return Ok(None);
            }
            Ok(match arch {
                Arch::Hppa => hppa_align(newsp).and_then(plain),
                // clone_stackframe(): `csp = (newsp + STACK_BIAS) & ~15`; the child's %fp is
                // `csp - STACK_BIAS` (its %sp is lower by the copied frame, not modelled).
                Arch::Sparc64 => {
                    plain((newsp.wrapping_add(SPARC64_BIAS) & !15).wrapping_sub(SPARC64_BIAS))
                }
                Arch::Ia64 => Some(ChildSp {
                    sp: newsp.wrapping_add(16).wrapping_sub(16),
                    ia64_bspstore: Some(newsp),
                }),
                _ => plain(newsp),
            })
        }
        KernelStackRequest::Clone2 { base, size } => {
            if arch != Arch::Ia64 {
                return Err(KernelStackError::NoClone2(arch));
            }
            if base == 0 {
                return Ok(None);
            }
            Ok(Some(ChildSp {
                sp: base.wrapping_add(size).wrapping_sub(16),
                ia64_bspstore: Some(base),
            }))
        }
        KernelStackRequest::Clone3 { stack, stack_size } => {
            if arch.syscalls().clone3.is_none() {
                return Err(KernelStackError::NoClone3(arch));
            }
            // copy_clone_args_from_user() assigns the u64 fields to `unsigned long`, which a
            // native 32-bit kernel truncates. (A 64-bit kernel running a compat task keeps the
            // full value and access_ok() rejects it instead: see the function docs.)
            let (stack, stack_size) = (stack & mask, stack_size & mask);
            if stack == 0 {
                return if stack_size == 0 {
                    Ok(None)
                } else {
                    Err(KernelStackError::Clone3StackInvalid)
                };
            }
            if stack_size == 0 {
                return Err(KernelStackError::Clone3StackInvalid);
            }
            // access_ok(): the whole range must lie below the top of the address space --
            // except where access_ok() is constant true (s390x, hppa, sparc64).
            if !arch.separate_user_address_space() {
                let end = stack
                    .checked_add(stack_size)
                    .ok_or(KernelStackError::Clone3StackOutOfRange)?;
                // A 32-bit task's SP register cannot hold 2^32, and every 32-bit TASK_SIZE is
                // below it, so access_ok() already fails there.
                if end > mask {
                    return Err(KernelStackError::Clone3StackOutOfRange);
                }
            }
            Ok(match arch.stack_growth() {
                // `stack += stack_size` in unsigned long. It can only wrap where access_ok()
                // did not check (s390x), and copy_thread keeps the parent's SP for 0.
                StackGrowth::Down => match stack.wrapping_add(stack_size) & mask {
                    0 => None,
                    sp => plain(sp),
                },
                StackGrowth::Up => match arch {
                    Arch::Hppa => hppa_align(stack).and_then(plain),
                    _ => plain(stack),
                },
            })
        }
    }
}

/// parisc `copy_thread`: `ALIGN(usp, 4)` in 32-bit `unsigned long`; 0 after wrapping means the
/// parent's SP is kept.
fn hppa_align(usp: u64) -> Option<u64> {
    // The 64-bit parisc kernel does the same in 64 bits for a 32-bit task; there 0xffff_fffd
    // becomes 0x1_0000_0000 instead of 0. Only the native 32-bit kernel is modelled.
    let aligned = (usp as u32).wrapping_add(3) & !3;
    if aligned == 0 {
        None
    } else {
        Some(u64::from(aligned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: u64 = 0x003d_0f00 | 17;
    const SP: u64 = 0x7f00_0000_1000;
    const PTID: u64 = 0x5000_0010;
    const CTID: u64 = 0x5000_0020;
    const TLS: u64 = 0x5000_0030;

    fn raw(nr: u64, args: [u64; 6]) -> RawSyscall {
        RawSyscall { nr, args }
    }

    fn legacy(word: u64, stack: u64, size: u64, ptid: u64, ctid: u64, tls: u64) -> CloneCall {
        CloneCall::Clone(LegacyCloneArgs {
            word,
            stack,
            stack_size: size,
            parent_tid: ptid,
            child_tid: ctid,
            tls,
            via_clone2: false,
        })
    }

    #[test]
    fn decode_default_order_x86_64_and_loongarch64() {
        // rdi rsi rdx r10 r8 = flags, sp, ptid, ctid, tls.
        let r = raw(56, [FLAGS, SP, PTID, CTID, TLS, 0xdead]);
        assert_eq!(
            decode(Arch::X86_64, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        // LoongArch selects no CLONE_BACKWARDS: a3 = ctid, a4 = tls (glibc loongarch clone.S).
        let r = raw(220, [FLAGS, SP, PTID, CTID, TLS, 0]);
        assert_eq!(
            decode(Arch::Loongarch64, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
    }

    #[test]
    fn decode_backwards_riscv64_aarch64_ppc_mips_sparc_hppa() {
        // CLONE_BACKWARDS: arg 3 = tls, arg 4 = ctid.
        let r = raw(220, [FLAGS, SP, PTID, TLS, CTID, 0]);
        assert_eq!(
            decode(Arch::Riscv64, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        assert_eq!(
            decode(Arch::Aarch64, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        let r = raw(120, [FLAGS, SP, PTID, TLS, CTID, 0]);
        assert_eq!(
            decode(Arch::Powerpc64le, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        let r = raw(5055, [FLAGS, SP, PTID, TLS, CTID, 0]);
        assert_eq!(
            decode(Arch::Mips64, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        let r = raw(217, [FLAGS, SP, PTID, TLS, CTID, 0]);
        assert_eq!(
            decode(Arch::Sparc64, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        let r = raw(120, [FLAGS, 0x4000_0000, 0x10, 0x20, 0x30, 0]);
        assert_eq!(
            decode(Arch::Hppa, &r),
            Ok(legacy(FLAGS, 0x4000_0000, 0, 0x10, 0x30, 0x20))
        );
    }

    #[test]
    fn decode_backwards2_s390x_swaps_first_two() {
        let r = raw(120, [SP, FLAGS, PTID, CTID, TLS, 0]);
        assert_eq!(
            decode(Arch::S390x, &r),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
    }

    #[test]
    fn decode_backwards3_microblaze_has_stack_size() {
        let r = raw(120, [0x111, 0x8000_0000, 0x4000, 0x10, 0x20, 0x30]);
        assert_eq!(
            decode(Arch::Microblaze, &r),
            Ok(legacy(0x111, 0x8000_0000, 0x4000, 0x10, 0x20, 0x30))
        );
    }

    #[test]
    fn decode_ia64_clone_and_clone2() {
        // 5.9+ sys_clone stub: ia64_clone(in0, in1, 16, in3, in4, in5); in2 is ignored.
        let r = raw(1128, [FLAGS, SP, 0x77, PTID, CTID, TLS]);
        assert_eq!(
            decode(Arch::Ia64, &r),
            Ok(legacy(FLAGS, SP, 0x77, PTID, CTID, TLS))
        );
        assert_eq!(decode_for(Arch::Ia64, (6, 6), &r), decode(Arch::Ia64, &r));
        // Up to 5.8: (flags, sp, ptid, ctid, tls).
        let old = raw(1128, [FLAGS, SP, PTID, CTID, TLS, 0]);
        assert_eq!(
            decode_for(Arch::Ia64, (5, 8), &old),
            Ok(legacy(FLAGS, SP, 0, PTID, CTID, TLS))
        );
        assert_eq!(
            encode_for(Arch::Ia64, (5, 8), &legacy(FLAGS, SP, 0, PTID, CTID, TLS)),
            Ok(old)
        );
        assert_eq!(
            encode_for(Arch::Ia64, (5, 8), &legacy(FLAGS, SP, 16, PTID, CTID, TLS)),
            Err(EncodeError::StackSizeNotEncodable(Arch::Ia64))
        );
        // Other arches do not depend on the version.
        let r = raw(220, [FLAGS, SP, PTID, TLS, CTID, 0]);
        assert_eq!(
            decode_for(Arch::Riscv64, (5, 8), &r),
            decode(Arch::Riscv64, &r)
        );
        // out0 flags, out1 base, out2 size, out3 ptid, out4 ctid, out5 tls.
        let r = raw(1213, [FLAGS, 0x6000_0000, 0x10_0000, PTID, CTID, TLS]);
        assert_eq!(
            decode(Arch::Ia64, &r),
            Ok(CloneCall::Clone(LegacyCloneArgs {
                word: FLAGS,
                stack: 0x6000_0000,
                stack_size: 0x10_0000,
                parent_tid: PTID,
                child_tid: CTID,
                tls: TLS,
                via_clone2: true,
            }))
        );
    }

    #[test]
    fn decode_clone3() {
        let r = raw(435, [0x7fff_0000, 88, 9, 9, 9, 9]);
        let want = CloneCall::Clone3 {
            args: 0x7fff_0000,
            size: 88,
        };
        assert_eq!(decode(Arch::X86_64, &r), Ok(want));
        assert_eq!(decode(Arch::Hppa, &r), Ok(want));
        let r = raw(5435, [0x7fff_0000, 88, 0, 0, 0, 0]);
        assert_eq!(decode(Arch::Mips64, &r), Ok(want));
        // Not wired: ia64 never, sparc64 through 6.19.
        assert_eq!(
            decode(Arch::Ia64, &raw(435, [0; 6])),
            Err(DecodeError::NotClone(435))
        );
        assert_eq!(
            decode(Arch::Sparc64, &raw(435, [0; 6])),
            Err(DecodeError::NotClone(435))
        );
        // 1024 + 435 is not clone3 on ia64 either.
        assert_eq!(
            decode(Arch::Ia64, &raw(1459, [0; 6])),
            Err(DecodeError::NotClone(1459))
        );
    }

    #[test]
    fn fork_and_vfork_where_the_table_has_them() {
        // x86_64 57/58, i386 2/190, mips n64 fork 5056 and no vfork, arm64 neither.
        assert_eq!(decode(Arch::X86_64, &raw(57, [9; 6])), Ok(CloneCall::Fork));
        assert_eq!(decode(Arch::X86_64, &raw(58, [0; 6])), Ok(CloneCall::Vfork));
        assert_eq!(decode(Arch::I386, &raw(2, [0; 6])), Ok(CloneCall::Fork));
        assert_eq!(
            decode(Arch::I386, &raw(0xffff_0000_0000_00be, [0; 6])),
            Ok(CloneCall::Vfork)
        );
        assert_eq!(
            decode(Arch::Mips64, &raw(5056, [0; 6])),
            Ok(CloneCall::Fork)
        );
        assert_eq!(
            decode(Arch::Aarch64, &raw(57, [0; 6])),
            Err(DecodeError::NotClone(57))
        );
        assert_eq!(encode(Arch::X86_64, &CloneCall::Vfork), Ok(raw(58, [0; 6])));
        assert_eq!(
            encode(Arch::Riscv64, &CloneCall::Fork),
            Err(EncodeError::NoFork(Arch::Riscv64))
        );
        assert_eq!(
            encode(Arch::Mips64, &CloneCall::Vfork),
            Err(EncodeError::NoVfork(Arch::Mips64))
        );
        assert_eq!(
            encode(Arch::Sparc64, &CloneCall::Vfork).map(|r| r.nr),
            Ok(66)
        );
    }

    #[test]
    fn decode_rejects_other_numbers() {
        // 59 is execve (57 and 58 are fork and vfork).
        assert_eq!(
            decode(Arch::X86_64, &raw(59, [0; 6])),
            Err(DecodeError::NotClone(59))
        );
        // mips64: 55 is not clone in n64 (5055 is).
        assert_eq!(
            decode(Arch::Mips64, &raw(55, [0; 6])),
            Err(DecodeError::NotClone(55))
        );
        // clone2 is ia64 only.
        assert_eq!(
            decode(Arch::X86_64, &raw(1213, [0; 6])),
            Err(DecodeError::NotClone(1213))
        );
    }

    #[test]
    fn decode_truncates_on_32_bit_only() {
        let hi = 0xabcd_0000_0000_0000;
        let r = raw(
            hi | 120,
            [hi | 0x111, hi | 0x2000, hi | 3, hi | 4, hi | 5, hi | 6],
        );
        // i386 CLONE_BACKWARDS: ebx flags, ecx sp, edx ptid, esi tls, edi ctid.
        assert_eq!(
            decode(Arch::I386, &r),
            Ok(legacy(0x111, 0x2000, 0, 3, 5, 4))
        );
        assert_eq!(decode(Arch::Arm, &r), Ok(legacy(0x111, 0x2000, 0, 3, 5, 4)));
        assert_eq!(
            decode(Arch::Microblaze, &r),
            Ok(legacy(0x111, 0x2000, 3, 4, 5, 6))
        );
        // 64-bit: the number with high bits is simply another number.
        assert_eq!(
            decode(Arch::S390x, &r),
            Err(DecodeError::NotClone(hi | 120))
        );
        let r = raw(120, [hi | 0x111, 0x2000, 0, 0, 0, 0]);
        assert_eq!(
            decode(Arch::Powerpc64, &r),
            Ok(legacy(hi | 0x111, 0x2000, 0, 0, 0, 0))
        );
    }

    #[test]
    fn encode_places_registers() {
        let call = legacy(FLAGS, SP, 0, PTID, CTID, TLS);
        assert_eq!(
            encode(Arch::S390x, &call),
            Ok(raw(120, [SP, FLAGS, PTID, CTID, TLS, 0]))
        );
        assert_eq!(
            encode(Arch::Aarch64, &call),
            Ok(raw(220, [FLAGS, SP, PTID, TLS, CTID, 0]))
        );
        assert_eq!(
            encode(Arch::X86_64, &call),
            Ok(raw(56, [FLAGS, SP, PTID, CTID, TLS, 0]))
        );
        assert_eq!(
            encode(Arch::Microblaze, &legacy(1, 2, 3, 4, 5, 6)),
            Ok(raw(120, [1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(
            encode(
                Arch::Powerpc64,
                &CloneCall::Clone3 {
                    args: 0x1000,
                    size: 64
                }
            ),
            Ok(raw(435, [0x1000, 64, 0, 0, 0, 0]))
        );
    }

    #[test]
    fn encode_errors() {
        let c3 = CloneCall::Clone3 { args: 1, size: 64 };
        assert_eq!(
            encode(Arch::Ia64, &c3),
            Err(EncodeError::NoClone3(Arch::Ia64))
        );
        assert_eq!(
            encode(Arch::Sparc64, &c3),
            Err(EncodeError::NoClone3(Arch::Sparc64))
        );
        let c2 = CloneCall::Clone(LegacyCloneArgs {
            via_clone2: true,
            stack: 0x1000,
            stack_size: 0x1000,
            ..LegacyCloneArgs::default()
        });
        assert_eq!(
            encode(Arch::X86_64, &c2),
            Err(EncodeError::NoClone2(Arch::X86_64))
        );
        assert_eq!(encode(Arch::Ia64, &c2).map(|r| r.nr), Ok(1213));
        assert_eq!(
            encode(Arch::X86_64, &legacy(0, 0, 16, 0, 0, 0)),
            Err(EncodeError::StackSizeNotEncodable(Arch::X86_64))
        );
        assert_eq!(
            encode(Arch::I386, &legacy(0, 1 << 32, 0, 0, 0, 0)),
            Err(EncodeError::TooWide {
                arch: Arch::I386,
                value: 1 << 32
            })
        );
        assert_eq!(
            encode(
                Arch::Hppa,
                &CloneCall::Clone3 {
                    args: 1 << 40,
                    size: 64
                }
            ),
            Err(EncodeError::TooWide {
                arch: Arch::Hppa,
                value: 1 << 40
            })
        );
    }

    fn sp(sp: u64) -> Result<Option<ChildSp>, KernelStackError> {
        Ok(Some(ChildSp {
            sp,
            ia64_bspstore: None,
        }))
    }

    #[test]
    fn child_sp_legacy() {
        let clone = |newsp| KernelStackRequest::Clone { newsp };
        assert_eq!(kernel_child_sp(Arch::X86_64, &clone(0x7000)), sp(0x7000));
        // Unaligned values are not fixed up by the kernel (except on parisc).
        assert_eq!(kernel_child_sp(Arch::Aarch64, &clone(0x7001)), sp(0x7001));
        assert_eq!(kernel_child_sp(Arch::X86_64, &clone(0)), Ok(None));
        // 32-bit: the high half never reaches the kernel; 2^32 is therefore "no stack".
        assert_eq!(
            kernel_child_sp(Arch::Arm, &clone(0x1_0000_8000)),
            sp(0x8000)
        );
        assert_eq!(kernel_child_sp(Arch::I386, &clone(1 << 32)), Ok(None));
        // parisc: ALIGN(usp, 4), and a wrap to 0 keeps the parent's SP.
        assert_eq!(kernel_child_sp(Arch::Hppa, &clone(0x1001)), sp(0x1004));
        assert_eq!(kernel_child_sp(Arch::Hppa, &clone(0x1004)), sp(0x1004));
        assert_eq!(kernel_child_sp(Arch::Hppa, &clone(0xffff_fffd)), Ok(None));
        // ia64 legacy clone: stack size 16 implied, so r12 = sp and bspstore = sp.
        assert_eq!(
            kernel_child_sp(Arch::Ia64, &clone(0x8000)),
            Ok(Some(ChildSp {
                sp: 0x8000,
                ia64_bspstore: Some(0x8000)
            }))
        );
    }

    #[test]
    fn child_sp_clone2() {
        let req = KernelStackRequest::Clone2 {
            base: 0x10000,
            size: 0x4000,
        };
        // r12 = base + size - 16, bspstore = base.
        assert_eq!(
            kernel_child_sp(Arch::Ia64, &req),
            Ok(Some(ChildSp {
                sp: 0x13ff0,
                ia64_bspstore: Some(0x10000)
            }))
        );
        let none = KernelStackRequest::Clone2 {
            base: 0,
            size: 0x4000,
        };
        assert_eq!(kernel_child_sp(Arch::Ia64, &none), Ok(None));
        // The kernel does not check the sum; neither do we (no panic either).
        let wrap = KernelStackRequest::Clone2 {
            base: u64::MAX,
            size: 1,
        };
        assert_eq!(
            kernel_child_sp(Arch::Ia64, &wrap),
            Ok(Some(ChildSp {
                sp: u64::MAX - 15,
                ia64_bspstore: Some(u64::MAX)
            }))
        );
        assert_eq!(
            kernel_child_sp(Arch::X86_64, &req),
            Err(KernelStackError::NoClone2(Arch::X86_64))
        );
        let args = LegacyCloneArgs {
            stack: 0x10000,
            stack_size: 0x4000,
            via_clone2: true,
            ..LegacyCloneArgs::default()
        };
        assert_eq!(KernelStackRequest::from(&args), req);
    }

    #[test]
    fn child_sp_clone3() {
        let c3 = |stack, stack_size| KernelStackRequest::Clone3 { stack, stack_size };
        assert_eq!(
            kernel_child_sp(Arch::X86_64, &c3(0x10000, 0x4000)),
            sp(0x14000)
        );
        assert_eq!(
            kernel_child_sp(Arch::S390x, &c3(0x10000, 0x4000)),
            sp(0x14000)
        );
        assert_eq!(kernel_child_sp(Arch::X86_64, &c3(0, 0)), Ok(None));
        assert_eq!(
            kernel_child_sp(Arch::X86_64, &c3(0, 0x4000)),
            Err(KernelStackError::Clone3StackInvalid)
        );
        assert_eq!(
            kernel_child_sp(Arch::X86_64, &c3(0x10000, 0)),
            Err(KernelStackError::Clone3StackInvalid)
        );
        assert_eq!(
            kernel_child_sp(Arch::X86_64, &c3(u64::MAX - 1, 2)),
            Err(KernelStackError::Clone3StackOutOfRange)
        );
        assert_eq!(
            kernel_child_sp(Arch::Arm, &c3(0xffff_f000, 0x1000)),
            Err(KernelStackError::Clone3StackOutOfRange)
        );
        assert_eq!(
            kernel_child_sp(Arch::Arm, &c3(0xffff_e000, 0x1000)),
            sp(0xffff_f000)
        );
        // Native 32-bit kernel: the u64 fields are truncated to unsigned long first.
        assert_eq!(
            kernel_child_sp(Arch::I386, &c3(0x1_0001_0000, 0x1_0000_4000)),
            sp(0x14000)
        );
        // parisc grows up: the lowest address is the SP, aligned up to 4.
        assert_eq!(
            kernel_child_sp(Arch::Hppa, &c3(0x10002, 0x4000)),
            sp(0x10004)
        );
        // access_ok() is constant true on parisc and s390 (ALTERNATE_USER_ADDRESS_SPACE): a
        // region ending at 2^32 is no error on hppa, which never adds the size, and s390x's
        // `stack += stack_size` wraps like the kernel's unsigned long (0: parent's SP kept).
        assert_eq!(
            kernel_child_sp(Arch::Hppa, &c3(0xffff_0040, 0xffc0)),
            sp(0xffff_0040)
        );
        assert_eq!(
            kernel_child_sp(Arch::S390x, &c3(u64::MAX - 0xfff, 0x2000)),
            sp(0x1000)
        );
        assert_eq!(
            kernel_child_sp(Arch::S390x, &c3(u64::MAX - 0xfff, 0x1000)),
            Ok(None)
        );
        assert_eq!(
            kernel_child_sp(Arch::Ia64, &c3(0x10000, 0x4000)),
            Err(KernelStackError::NoClone3(Arch::Ia64))
        );
        assert_eq!(
            kernel_child_sp(Arch::Sparc64, &c3(0x10000, 0x4000)),
            Err(KernelStackError::NoClone3(Arch::Sparc64))
        );
    }
}

#[cfg(test)]
mod sparc_tests {
    use super::*;

    #[test]
    fn sparc64_legacy_realigns_frame() {
        let clone = |newsp| KernelStackRequest::Clone { newsp };
        // (0x13751 + 2047) & ~15 = 0x13f50 → %fp 0x13751 (already aligned).
        let fp = |v| {
            Ok(Some(ChildSp {
                sp: v,
                ia64_bspstore: None,
            }))
        };
        assert_eq!(kernel_child_sp(Arch::Sparc64, &clone(0x13751)), fp(0x13751));
        // (0x13758 + 2047) = 0x13f57 → & ~15 = 0x13f50 → 0x13751.
        assert_eq!(kernel_child_sp(Arch::Sparc64, &clone(0x13758)), fp(0x13751));
        assert_eq!(kernel_child_sp(Arch::Sparc64, &clone(0)), Ok(None));
    }
}
