//! `raw_syscalls!`: the seven plain syscall wrappers (`syscall0` … `syscall6`) for arches whose
//! trap takes the number in one register and the arguments in six others, and hands back the
//! kernel's value in the first argument register (aarch64, arm, riscv64, loongarch64, s390x).
//!
//! Each of those arch files invokes the macro with its trap instruction, its registers, the
//! registers its kernel clobbers beyond the return value, and its asm options; the registers
//! and their sources are in that file's header. Arches with another convention (x86_64 returns
//! in the number register, i386 cannot name `ebx`/`esi`/`ebp`, powerpc64 and mips64 flag errors
//! out of band, sparc64 in the carry bit) write their wrappers out by hand. The clone
//! trampolines are never generated: the child path must stay in its own `asm!` block.

/// Generates `pub unsafe fn syscall0(nr)` … `syscall6(nr, a0, …, a5)`, each returning the raw
/// kernel value (`-4095..=-1` is `-errno` in the arch's numbering).
macro_rules! raw_syscalls {
    (
        trap: $trap:literal,
        nr: $nr:tt,
        args: [$r0:tt, $r1:tt, $r2:tt, $r3:tt, $r4:tt, $r5:tt],
        clobbers: [$($c:tt),* $(,)?],
        options: ($($opt:ident),* $(,)?) $(,)?
    ) => {
        /// Raw syscall with no arguments. Returns the kernel's value: `-4095..=-1` is `-errno`
        /// in this arch's numbering.
        ///
        /// # Safety
        ///
        /// `nr` and the arguments must form a syscall that is sound to make here (it may not,
        /// for example, unmap memory Rust still uses or start a thread on a shared stack).
        #[inline]
        pub unsafe fn syscall0(nr: usize) -> isize {
            let ret: isize;
            // SAFETY: the caller vouches for the syscall; the trap itself touches no user
            // memory and the kernel preserves every register not listed as an output.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, lateout($r0) ret,
                    $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }

        /// Raw syscall with one argument; see [`syscall0`].
        ///
        /// # Safety
        ///
        /// As for [`syscall0`].
        #[inline]
        pub unsafe fn syscall1(nr: usize, a0: usize) -> isize {
            let ret: isize;
            // SAFETY: as in `syscall0`.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, inlateout($r0) a0 => ret,
                    $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }

        /// Raw syscall with two arguments; see [`syscall0`].
        ///
        /// # Safety
        ///
        /// As for [`syscall0`].
        #[inline]
        pub unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> isize {
            let ret: isize;
            // SAFETY: as in `syscall0`.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, inlateout($r0) a0 => ret, in($r1) a1,
                    $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }

        /// Raw syscall with three arguments; see [`syscall0`].
        ///
        /// # Safety
        ///
        /// As for [`syscall0`].
        #[inline]
        pub unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
            let ret: isize;
            // SAFETY: as in `syscall0`.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, inlateout($r0) a0 => ret, in($r1) a1,
                    in($r2) a2, $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }

        /// Raw syscall with four arguments; see [`syscall0`].
        ///
        /// # Safety
        ///
        /// As for [`syscall0`].
        #[inline]
        pub unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
            let ret: isize;
            // SAFETY: as in `syscall0`.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, inlateout($r0) a0 => ret, in($r1) a1,
                    in($r2) a2, in($r3) a3, $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }

        /// Raw syscall with five arguments; see [`syscall0`].
        ///
        /// # Safety
        ///
        /// As for [`syscall0`].
        #[inline]
        pub unsafe fn syscall5(
            nr: usize,
            a0: usize,
            a1: usize,
            a2: usize,
            a3: usize,
            a4: usize,
        ) -> isize {
            let ret: isize;
            // SAFETY: as in `syscall0`.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, inlateout($r0) a0 => ret, in($r1) a1,
                    in($r2) a2, in($r3) a3, in($r4) a4, $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }

        /// Raw syscall with six arguments; see [`syscall0`].
        ///
        /// # Safety
        ///
        /// As for [`syscall0`].
        #[inline]
        pub unsafe fn syscall6(
            nr: usize,
            a0: usize,
            a1: usize,
            a2: usize,
            a3: usize,
            a4: usize,
            a5: usize,
        ) -> isize {
            let ret: isize;
            // SAFETY: as in `syscall0`.
            unsafe {
                core::arch::asm!($trap, in($nr) nr, inlateout($r0) a0 => ret, in($r1) a1,
                    in($r2) a2, in($r3) a3, in($r4) a4, in($r5) a5,
                    $(lateout($c) _,)* options($($opt),*));
            }
            ret
        }
    };
}
