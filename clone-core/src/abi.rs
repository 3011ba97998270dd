//! Per-architecture ABI facts for `clone`, `clone3` and ia64 `__clone2`, as plain `const` data.
//!
//! Everything here is usable on any host: an x86-64 kernel-test machine can ask how an s390x
//! process lays out its `clone` registers. Nothing is `cfg`'d on the target except
//! [`Arch::native`].
//!
//! # The table
//!
//! | Arch | legacy `clone` order (Kconfig) | `clone` | `clone3` | trap | ptr | stack | ABI align | `SIGCHLD` |
//! |---|---|---|---|---|---|---|---|---|
//! | x86_64 | default | 56 | 435 | `syscall` | 64 | down | 16 | 17 |
//! | i386 | `CLONE_BACKWARDS` | 120 | 435 | `int 0x80` | 32 | down | 16 | 17 |
//! | aarch64 | `CLONE_BACKWARDS` | 220 | 435 | `svc 0` | 64 | down | 16 | 17 |
//! | arm (EABI) | `CLONE_BACKWARDS` | 120 | 435 | `svc 0` | 32 | down | 8 | 17 |
//! | riscv64 | `CLONE_BACKWARDS` | 220 | 435 | `ecall` | 64 | down | 16 | 17 |
//! | s390x | `CLONE_BACKWARDS2` | 120 | 435 | `svc 0` | 64 | down | 8 | 17 |
//! | powerpc64 / le | `CLONE_BACKWARDS` | 120 | 435 | `sc` | 64 | down | 16 | 17 |
//! | mips64 (n64) | `CLONE_BACKWARDS` | 5055 | 5435 | `syscall` | 64 | down | 16 | 18 |
//! | loongarch64 | default | 220 | 435 | `syscall 0` | 64 | down | 16 | 17 |
//! | sparc64 | own `sparc_clone` (= BACKWARDS layout) | 217 | — (≤ 6.19) | `ta 0x6d` | 64 | down, bias 2047 | 16 | 20 |
//! | hppa | `CLONE_BACKWARDS` | 120 | 435 | `ble 0x100(%sr2,%r0)` | 32 | **up** | 64 | 18 |
//! | ia64 | own `sys_clone` (BACKWARDS3 layout since 5.9, default before) + `clone2` 1213 | 1128 | — (never in mainline) | `break 0x100000` | 64 | down (+ RSE up) | 16 | 17 |
//! | microblaze | `CLONE_BACKWARDS3` | 120 | 435 | `brki r14,0x8` | 32 | down | 4 | 17 |
//!
//! # Sources
//!
//! * Argument orders: `arch/Kconfig` help texts for `CLONE_BACKWARDS*`, each arch's `Kconfig`
//!   `select`, cross-checked with the register shuffling in glibc's and musl's `clone.S`
//!   (collected in the project's `linux-clone-facts.md` §3.1).
//! * `clone`, `clone3`, `exit`, `exit_group`, `gettid`, `futex`, `set_tid_address`: glibc
//!   `sysdeps/unix/sysv/linux/<arch>/arch-syscall.h` (Linux 6.17 headers; facts §3.2).
//! * The other numbers: `linux-raw-sys` 0.12 `src/<arch>/general.rs` (generated from the uapi
//!   headers) for every arch it covers; the kernel's `syscall.tbl` for hppa
//!   (`arch/parisc/kernel/syscalls/syscall.tbl`), ia64 (`arch/ia64/kernel/syscalls/syscall.tbl`,
//!   numbers + 1024) and microblaze (`arch/microblaze/kernel/syscalls/syscall.tbl`), read at
//!   torvalds/linux commits `00bf25d6`/`dce49103` (parisc), `010e85f9` (ia64), `00bf25d6` and
//!   `fbda16fb` (microblaze). The tests in this file compare every number with a hand-written
//!   table, and `tests/abi_linux_raw_sys.rs` compares them with linux-raw-sys's sources.
//! * `wait4` exists on every arch here: the asm-generic table (`scripts/syscall.tbl`) has
//!   `260 64 wait4`, so 64-bit asm-generic arches (aarch64, riscv64, loongarch64) keep it; only
//!   32-bit asm-generic arches without time32 syscalls (riscv32, …) lack it. The field stays an
//!   `Option` for those.
//! * Stack alignment: facts §5 (psABIs as quoted by glibc/musl comments).

/// A Linux architecture (userland ABI).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Arch {
    /// x86-64 (LP64).
    X86_64,
    /// 32-bit x86.
    I386,
    /// AArch64.
    Aarch64,
    /// 32-bit ARM EABI.
    Arm,
    /// RISC-V 64.
    Riscv64,
    /// s390x (z/Architecture).
    S390x,
    /// 64-bit PowerPC, big-endian (ELFv1).
    Powerpc64,
    /// 64-bit PowerPC, little-endian (ELFv2).
    Powerpc64le,
    /// MIPS64 n64 (either byte order; see [`Arch::big_endian`]).
    Mips64,
    /// LoongArch64.
    Loongarch64,
    /// SPARC64.
    Sparc64,
    /// PA-RISC (hppa, 32-bit userland).
    Hppa,
    /// Itanium (removed from Linux in 6.7).
    Ia64,
    /// MicroBlaze.
    Microblaze,
}

/// `str::parse::<Arch>()` found no arch of that name ([`Arch::from_name`] lists the
/// spellings).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownArch;

impl core::fmt::Display for UnknownArch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("unknown arch name")
    }
}

impl core::error::Error for UnknownArch {}

impl core::str::FromStr for Arch {
    type Err = UnknownArch;

    /// [`Arch::from_name`]: a canonical name or an alias, ignoring ASCII case.
    ///
    /// ```
    /// use clone_core::Arch;
    /// assert_eq!("arm64".parse(), Ok(Arch::Aarch64));
    /// assert_eq!(Arch::S390x.name().parse(), Ok(Arch::S390x));
    /// assert!("vax".parse::<Arch>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::from_name(s).ok_or(UnknownArch)
    }
}

/// The system call numbers clone-core and its tests need, for one [`Arch`].
///
/// `None` means the arch's syscall table has no such entry.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyscallNumbers {
    /// Legacy `clone` (argument order: [`Arch::clone_arg_order`]).
    pub clone: u64,
    /// `clone3(struct clone_args *, size_t)`. `None` on ia64 (never wired: "435 reserved for
    /// clone3") and sparc64 (through 6.19 the table only reserves 435 and the kernel defines
    /// `__ARCH_BROKEN_SYS_CLONE3`; see [`SPARC64_CLONE3_2026`]).
    pub clone3: Option<u64>,
    /// ia64 `clone2(flags, stack_base, stack_size, ptid, ctid, tls)`; `None` elsewhere.
    pub clone2: Option<u64>,
    /// `fork()`: `None` where the table has no entry (arm64, riscv64, loongarch64 and the
    /// other asm-generic arches, ia64).
    pub fork: Option<u64>,
    /// `vfork()`: `None` where the table has no entry (the arches without `fork`, and mips,
    /// whose tables have `fork` but never had `vfork`).
    pub vfork: Option<u64>,
    /// `unshare(flags)`.
    pub unshare: u64,
    /// `setns(fd, nstype)`.
    pub setns: u64,
    /// `exit` (ends the calling thread only).
    pub exit: u64,
    /// `exit_group`.
    pub exit_group: u64,
    /// `gettid`.
    pub gettid: u64,
    /// `getpid`.
    pub getpid: u64,
    /// `getppid`.
    pub getppid: u64,
    /// `getuid` returning the full 32-bit uid: `getuid32` (199) on i386 and arm, whose
    /// `__NR_getuid` (24) is the legacy 16-bit-uid entry; microblaze's 24 and s390x's 199
    /// already enter the full `sys_getuid`.
    pub getuid: u64,
    /// `futex` (on 32-bit arches this is the time32 `futex`; `futex_time64` is 422 there).
    pub futex: u64,
    /// `set_tid_address`.
    pub set_tid_address: u64,
    /// `sched_yield`.
    pub sched_yield: u64,
    /// `write`.
    pub write: u64,
    /// `wait4`, if the arch has it.
    pub wait4: Option<u64>,
    /// `waitid`.
    pub waitid: u64,
    /// The syscall to map anonymous memory with, used as described by [`SyscallNumbers::mmap_kind`].
    pub mmap: u64,
    /// How [`SyscallNumbers::mmap`] takes its arguments.
    pub mmap_kind: MmapKind,
    /// `munmap`.
    pub munmap: u64,
    /// `kill`.
    pub kill: u64,
    /// `tgkill`.
    pub tgkill: u64,
}

/// How an arch's preferred `mmap` syscall takes its arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MmapKind {
    /// Six register arguments, offset in bytes (`sys_mmap`).
    Bytes,
    /// Six register arguments, offset in 4096-byte units (`mmap2`; 32-bit arches without a
    /// six-register `mmap`: i386's `__NR_mmap` is `old_mmap`, arm has no `__NR_mmap`).
    Pages4096,
    /// One argument: a pointer to six words (`old_mmap`). s390x's only `mmap`:
    /// `90 common mmap sys_old_mmap` in `arch/s390/kernel/syscalls/syscall.tbl`.
    ParameterBlock,
}

/// The `clone3` number sparc gets from the January 2026 patch "sparc: Add architecture support
/// for clone3" (Ludwig Rydberg, v2 2026-01-19). Not in any release clone-core knows of, so
/// [`Arch::syscalls`] reports `None` and [`Arch::has_clone3`] `false` for sparc64.
pub const SPARC64_CLONE3_2026: u64 = 435;

/// Register order of the legacy `clone` syscall (`arch/Kconfig`, "ABI hall of shame").
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArgOrder {
    /// `clone(flags, newsp, parent_tid, child_tid, tls)` — no `CLONE_BACKWARDS*` selected.
    Default,
    /// `CLONE_BACKWARDS`: `clone(flags, newsp, parent_tid, tls, child_tid)`.
    Backwards,
    /// `CLONE_BACKWARDS2`: `clone(newsp, flags, parent_tid, child_tid, tls)`.
    Backwards2,
    /// `CLONE_BACKWARDS3`: `clone(flags, newsp, stack_size, parent_tid, child_tid, tls)`
    /// (six arguments; the kernel ignores `stack_size`).
    Backwards3,
}

impl ArgOrder {
    /// Register slots (0-based argument index) of
    /// `(flags word, stack, stack_size, parent_tid, child_tid, tls)`; `None` for an absent slot.
    pub const fn slots(self) -> ArgSlots {
        match self {
            ArgOrder::Default => ArgSlots {
                word: 0,
                stack: 1,
                stack_size: None,
                parent_tid: 2,
                child_tid: 3,
                tls: 4,
            },
            ArgOrder::Backwards => ArgSlots {
                word: 0,
                stack: 1,
                stack_size: None,
                parent_tid: 2,
                child_tid: 4,
                tls: 3,
            },
            ArgOrder::Backwards2 => ArgSlots {
                word: 1,
                stack: 0,
                stack_size: None,
                parent_tid: 2,
                child_tid: 3,
                tls: 4,
            },
            ArgOrder::Backwards3 => ArgSlots {
                word: 0,
                stack: 1,
                stack_size: Some(2),
                parent_tid: 3,
                child_tid: 4,
                tls: 5,
            },
        }
    }
}

/// Which syscall argument (0..=5) carries each legacy-clone value; see [`ArgOrder::slots`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArgSlots {
    /// Flags | exit signal.
    pub word: usize,
    /// New stack pointer (ia64 `clone2`: stack base).
    pub stack: usize,
    /// Stack size, if the order has one.
    pub stack_size: Option<usize>,
    /// `parent_tid` (also the pidfd pointer with `CLONE_PIDFD`).
    pub parent_tid: usize,
    /// `child_tid`.
    pub child_tid: usize,
    /// `tls`.
    pub tls: usize,
}

/// Direction the (memory) stack grows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum StackGrowth {
    /// Towards lower addresses (every arch but PA-RISC).
    Down,
    /// Towards higher addresses (PA-RISC, `config STACK_GROWSUP`).
    Up,
}

/// How a new child learns it is the child after a successful legacy `clone`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChildReturn {
    /// The return register is 0 in the child and the child's tid in the parent.
    ZeroInReturnRegister,
    /// SunOS convention (sparc64 legacy `clone`/`fork`): `%o0` holds the *parent's* pid in the
    /// child and the child's pid in the parent; `%o1` is 1 in the child and 0 in the parent
    /// (`arch/sparc/kernel/process_64.c`; glibc `brnz %o1`). The 2026 sparc `clone3` patch
    /// uses the normal convention for `clone3`.
    SparcSecondRegister,
}

/// Bit `arch as u32` set where [`Arch::syscalls`] has `fork` (or `vfork`): computed from
/// that table at compile time, so the two cannot disagree.
const FORK_ARCHES: u32 = arches_with(false);
const VFORK_ARCHES: u32 = arches_with(true);

const fn arches_with(vfork: bool) -> u32 {
    let mut mask = 0;
    let mut i = 0;
    while i < Arch::ALL.len() {
        let n = Arch::ALL[i].syscalls();
        let present = if vfork { n.vfork } else { n.fork };
        if present.is_some() {
            mask |= 1 << Arch::ALL[i] as u32;
        }
        i += 1;
    }
    mask
}

impl Arch {
    /// Every arch, in declaration order.
    pub const ALL: [Arch; 14] = [
        Arch::X86_64,
        Arch::I386,
        Arch::Aarch64,
        Arch::Arm,
        Arch::Riscv64,
        Arch::S390x,
        Arch::Powerpc64,
        Arch::Powerpc64le,
        Arch::Mips64,
        Arch::Loongarch64,
        Arch::Sparc64,
        Arch::Hppa,
        Arch::Ia64,
        Arch::Microblaze,
    ];

    /// The arch this crate is being compiled for, if it is one of ours.
    ///
    /// Decided by `target_arch` alone (so `x86_64-unknown-none` is [`Arch::X86_64`]); powerpc64
    /// is split by `target_endian`. x32 and MIPS n32 (`target_arch` x86_64/mips64 with 32-bit
    /// pointers) have other syscall numbers and give `None`, as does every arch not listed.
    /// Rust has no hppa, ia64 or microblaze targets, so those are never native.
    pub const fn native() -> Option<Arch> {
        #[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
        return Some(Arch::X86_64);
        #[cfg(target_arch = "x86")]
        return Some(Arch::I386);
        #[cfg(target_arch = "aarch64")]
        return Some(Arch::Aarch64);
        #[cfg(target_arch = "arm")]
        return Some(Arch::Arm);
        #[cfg(target_arch = "riscv64")]
        return Some(Arch::Riscv64);
        #[cfg(target_arch = "s390x")]
        return Some(Arch::S390x);
        #[cfg(all(target_arch = "powerpc64", target_endian = "big"))]
        return Some(Arch::Powerpc64);
        #[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
        return Some(Arch::Powerpc64le);
        #[cfg(all(target_arch = "mips64", target_pointer_width = "64"))]
        return Some(Arch::Mips64);
        #[cfg(target_arch = "loongarch64")]
        return Some(Arch::Loongarch64);
        #[cfg(target_arch = "sparc64")]
        return Some(Arch::Sparc64);
        #[allow(unreachable_code)]
        None
    }

    /// Canonical name (the Linux/`uname -m`-style spelling used throughout clone-core).
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
            Arch::Powerpc64 => "powerpc64",
            Arch::Powerpc64le => "powerpc64le",
            Arch::Mips64 => "mips64",
            Arch::Loongarch64 => "loongarch64",
            Arch::Sparc64 => "sparc64",
            Arch::Hppa => "hppa",
            Arch::Ia64 => "ia64",
            Arch::Microblaze => "microblaze",
        }
    }

    /// Parses a canonical [`Arch::name`] or a common alias (ASCII case-insensitive): `amd64`,
    /// `x64`, `i686`/`i586`/`i486`/`x86`, `arm64`, `armv7`/`armv7l`/`armhf`/`armel`/`armv6l`,
    /// `riscv64gc`/`rv64`, `s390`-less `systemz`, `ppc64`/`ppc64be`, `ppc64le`/`ppc64el`,
    /// `mips64el`/`mipsel64`, `loong64`/`loongarch`, `sparcv9`, `parisc`/`hppa1.1`/`hppa2.0`,
    /// `itanium`, `microblazeel`/`mb`.
    pub fn from_name(name: &str) -> Option<Arch> {
        const ALIASES: &[(&str, Arch)] = &[
            ("amd64", Arch::X86_64),
            ("x64", Arch::X86_64),
            ("x86-64", Arch::X86_64),
            ("i686", Arch::I386),
            ("i586", Arch::I386),
            ("i486", Arch::I386),
            ("i86", Arch::I386),
            ("x86", Arch::I386),
            ("ia32", Arch::I386),
            ("arm64", Arch::Aarch64),
            ("armv8", Arch::Aarch64),
            ("armv7", Arch::Arm),
            ("armv7l", Arch::Arm),
            ("armv7a", Arch::Arm),
            ("armv6l", Arch::Arm),
            ("armhf", Arch::Arm),
            ("armel", Arch::Arm),
            ("armeabi", Arch::Arm),
            ("riscv64gc", Arch::Riscv64),
            ("riscv64imac", Arch::Riscv64),
            ("rv64", Arch::Riscv64),
            ("riscv", Arch::Riscv64),
            ("systemz", Arch::S390x),
            ("ppc64", Arch::Powerpc64),
            ("ppc64be", Arch::Powerpc64),
            ("powerpc64be", Arch::Powerpc64),
            ("ppc64le", Arch::Powerpc64le),
            ("ppc64el", Arch::Powerpc64le),
            ("powerpc64el", Arch::Powerpc64le),
            ("mips64el", Arch::Mips64),
            ("mipsel64", Arch::Mips64),
            ("mips64be", Arch::Mips64),
            ("loong64", Arch::Loongarch64),
            ("loongarch", Arch::Loongarch64),
            ("la64", Arch::Loongarch64),
            ("sparcv9", Arch::Sparc64),
            ("sparc", Arch::Sparc64),
            ("parisc", Arch::Hppa),
            ("parisc32", Arch::Hppa),
            ("pa-risc", Arch::Hppa),
            ("hppa1.1", Arch::Hppa),
            ("hppa2.0", Arch::Hppa),
            ("itanium", Arch::Ia64),
            ("microblazeel", Arch::Microblaze),
            ("mb", Arch::Microblaze),
        ];
        for arch in Arch::ALL {
            if arch.name().eq_ignore_ascii_case(name) {
                return Some(arch);
            }
        }
        for (alias, arch) in ALIASES {
            if alias.eq_ignore_ascii_case(name) {
                return Some(*arch);
            }
        }
        None
    }

    /// Whether the arch's table has `fork` ([`SyscallNumbers::fork`]): one bit test, so code
    /// that asks only this links no copy of [`Arch::syscalls`].
    #[must_use]
    pub const fn has_fork(self) -> bool {
        (FORK_ARCHES >> self as u32) & 1 != 0
    }

    /// Whether the arch's table has `vfork` ([`SyscallNumbers::vfork`]), as [`Arch::has_fork`].
    #[must_use]
    pub const fn has_vfork(self) -> bool {
        (VFORK_ARCHES >> self as u32) & 1 != 0
    }

    /// The arch's syscall numbers (see the module docs for sources).
    pub const fn syscalls(self) -> SyscallNumbers {
        match self {
            Arch::X86_64 => SyscallNumbers {
                clone: 56,
                clone3: Some(435),
                clone2: None,
                fork: Some(57),
                vfork: Some(58),
                unshare: 272,
                setns: 308,
                exit: 60,
                exit_group: 231,
                gettid: 186,
                getpid: 39,
                getppid: 110,
                getuid: 102,
                futex: 202,
                set_tid_address: 218,
                sched_yield: 24,
                write: 1,
                wait4: Some(61),
                waitid: 247,
                mmap: 9,
                mmap_kind: MmapKind::Bytes,
                munmap: 11,
                kill: 62,
                tgkill: 234,
            },
            Arch::I386 => SyscallNumbers {
                clone: 120,
                clone3: Some(435),
                clone2: None,
                fork: Some(2),
                vfork: Some(190),
                unshare: 310,
                setns: 346,
                exit: 1,
                exit_group: 252,
                gettid: 224,
                getpid: 20,
                getppid: 64,
                // getuid32: full 32-bit uid (linux-raw-sys __NR_getuid32 = 199).
                getuid: 199,
                futex: 240,
                set_tid_address: 258,
                sched_yield: 158,
                write: 4,
                wait4: Some(114),
                waitid: 284,
                mmap: 192,
                mmap_kind: MmapKind::Pages4096,
                munmap: 91,
                kill: 37,
                tgkill: 270,
            },
            Arch::Aarch64 | Arch::Riscv64 | Arch::Loongarch64 => SyscallNumbers {
                // The asm-generic table (include/uapi/asm-generic/unistd.h, scripts/syscall.tbl).
                clone: 220,
                clone3: Some(435),
                clone2: None,
                fork: None,
                vfork: None,
                unshare: 97,
                setns: 268,
                exit: 93,
                exit_group: 94,
                gettid: 178,
                getpid: 172,
                getppid: 173,
                getuid: 174,
                futex: 98,
                set_tid_address: 96,
                sched_yield: 124,
                write: 64,
                wait4: Some(260),
                waitid: 95,
                mmap: 222,
                mmap_kind: MmapKind::Bytes,
                munmap: 215,
                kill: 129,
                tgkill: 131,
            },
            Arch::Arm => SyscallNumbers {
                clone: 120,
                clone3: Some(435),
                clone2: None,
                fork: Some(2),
                vfork: Some(190),
                unshare: 337,
                setns: 375,
                exit: 1,
                exit_group: 248,
                gettid: 224,
                getpid: 20,
                getppid: 64,
                // getuid32 (linux-raw-sys arm __NR_getuid32 = 199).
                getuid: 199,
                futex: 240,
                set_tid_address: 256,
                sched_yield: 158,
                write: 4,
                wait4: Some(114),
                waitid: 280,
                mmap: 192,
                mmap_kind: MmapKind::Pages4096,
                munmap: 91,
                kill: 37,
                tgkill: 268,
            },
            Arch::S390x => SyscallNumbers {
                clone: 120,
                clone3: Some(435),
                clone2: None,
                fork: Some(2),
                vfork: Some(190),
                unshare: 303,
                setns: 339,
                exit: 1,
                exit_group: 248,
                gettid: 236,
                getpid: 20,
                getppid: 64,
                getuid: 199,
                futex: 238,
                set_tid_address: 252,
                sched_yield: 158,
                write: 4,
                wait4: Some(114),
                waitid: 281,
                mmap: 90,
                mmap_kind: MmapKind::ParameterBlock,
                munmap: 91,
                kill: 37,
                tgkill: 241,
            },
            Arch::Powerpc64 | Arch::Powerpc64le => SyscallNumbers {
                clone: 120,
                clone3: Some(435),
                clone2: None,
                fork: Some(2),
                vfork: Some(189),
                unshare: 282,
                setns: 350,
                exit: 1,
                exit_group: 234,
                gettid: 207,
                getpid: 20,
                getppid: 64,
                getuid: 24,
                futex: 221,
                set_tid_address: 232,
                sched_yield: 158,
                write: 4,
                wait4: Some(114),
                waitid: 272,
                mmap: 90,
                mmap_kind: MmapKind::Bytes,
                munmap: 91,
                kill: 37,
                tgkill: 250,
            },
            Arch::Mips64 => SyscallNumbers {
                // n64: table entry + 5000.
                clone: 5055,
                clone3: Some(5435),
                clone2: None,
                fork: Some(5056),
                vfork: None,
                unshare: 5262,
                setns: 5303,
                exit: 5058,
                exit_group: 5205,
                gettid: 5178,
                getpid: 5038,
                getppid: 5108,
                getuid: 5100,
                futex: 5194,
                set_tid_address: 5212,
                sched_yield: 5023,
                write: 5001,
                wait4: Some(5059),
                waitid: 5237,
                mmap: 5009,
                mmap_kind: MmapKind::Bytes,
                munmap: 5011,
                kill: 5060,
                tgkill: 5225,
            },
            Arch::Sparc64 => SyscallNumbers {
                clone: 217,
                clone3: None,
                clone2: None,
                fork: Some(2),
                vfork: Some(66),
                unshare: 299,
                setns: 337,
                exit: 1,
                exit_group: 188,
                gettid: 143,
                getpid: 20,
                getppid: 197,
                getuid: 24,
                futex: 142,
                set_tid_address: 166,
                sched_yield: 245,
                write: 4,
                wait4: Some(7),
                waitid: 279,
                mmap: 71,
                mmap_kind: MmapKind::Bytes,
                munmap: 73,
                kill: 37,
                tgkill: 211,
            },
            Arch::Hppa => SyscallNumbers {
                // arch/parisc/kernel/syscalls/syscall.tbl.
                clone: 120,
                clone3: Some(435),
                clone2: None,
                fork: Some(2),
                vfork: Some(113),
                unshare: 288,
                setns: 328,
                exit: 1,
                exit_group: 222,
                gettid: 206,
                getpid: 20,
                getppid: 64,
                getuid: 24,
                futex: 210,
                set_tid_address: 237,
                sched_yield: 158,
                write: 4,
                wait4: Some(114),
                waitid: 235,
                mmap: 90,
                mmap_kind: MmapKind::Bytes,
                munmap: 91,
                kill: 37,
                tgkill: 259,
            },
            Arch::Ia64 => SyscallNumbers {
                // arch/ia64/kernel/syscalls/syscall.tbl entry + 1024.
                clone: 1128,
                clone3: None,
                clone2: Some(1213),
                fork: None,
                vfork: None,
                unshare: 1296,
                setns: 1330,
                exit: 1025,
                exit_group: 1236,
                gettid: 1105,
                getpid: 1041,
                getppid: 1042,
                getuid: 1046,
                futex: 1230,
                set_tid_address: 1233,
                sched_yield: 1164,
                write: 1027,
                wait4: Some(1126),
                waitid: 1270,
                mmap: 1151,
                mmap_kind: MmapKind::Bytes,
                munmap: 1152,
                kill: 1053,
                tgkill: 1235,
            },
            Arch::Microblaze => SyscallNumbers {
                // arch/microblaze/kernel/syscalls/syscall.tbl (i386-derived numbering).
                clone: 120,
                clone3: Some(435),
                clone2: None,
                fork: Some(2),
                vfork: Some(190),
                unshare: 310,
                setns: 375,
                exit: 1,
                exit_group: 252,
                gettid: 224,
                getpid: 20,
                getppid: 64,
                // 24 and getuid32 (199) both enter sys_getuid on microblaze.
                getuid: 24,
                futex: 240,
                set_tid_address: 258,
                sched_yield: 158,
                write: 4,
                wait4: Some(114),
                waitid: 284,
                mmap: 90,
                mmap_kind: MmapKind::Bytes,
                munmap: 91,
                kill: 37,
                tgkill: 270,
            },
        }
    }

    /// Register order of the legacy `clone` syscall.
    ///
    /// | Arch | Order | Source |
    /// |---|---|---|
    /// | x86_64 | Default | `arch/x86/Kconfig`: `select CLONE_BACKWARDS if X86_32` |
    /// | i386 | Backwards | same line |
    /// | aarch64 | Backwards | `arch/arm64/Kconfig` `select CLONE_BACKWARDS` |
    /// | arm | Backwards | `arch/arm/Kconfig`; glibc/musl r3 = tls, r4 = ctid |
    /// | riscv64 | Backwards | `arch/riscv/Kconfig` |
    /// | s390x | Backwards2 | `arch/s390/Kconfig` `select CLONE_BACKWARDS2` |
    /// | powerpc64(le) | Backwards | `arch/powerpc/Kconfig` |
    /// | mips64 | Backwards | `arch/mips/Kconfig` |
    /// | loongarch64 | Default | `arch/loongarch/Kconfig` selects none |
    /// | sparc64 | Backwards | own `sparc_clone()` with the same layout (`%i3` tls, `%i4` ctid) |
    /// | hppa | Backwards | `arch/parisc/Kconfig` |
    /// | ia64 | Backwards3 layout (5.9–6.6) | own `sys_clone` in `entry.S`, see below |
    /// | microblaze | Backwards3 | `arch/microblaze/Kconfig` `select CLONE_BACKWARDS3` |
    ///
    /// QEMU's linux-user emulation (`print_clone` in `linux-user/strace.c`) decodes the same
    /// four layouts from its own `TARGET_CLONE_BACKWARDS*` defines, an independent check of the
    /// register positions (not of which arch selects which).
    ///
    /// **ia64** never used `CLONE_BACKWARDS*`; its `sys_clone` stub in `arch/ia64/kernel/entry.S`
    /// is documented as `sys_clone(flags, ustack_base, parent_tidptr, child_tidptr, tls)` and
    /// passes an implied stack size of 16. Up to Linux 5.8 the stub read the arguments in that
    /// order ([`ArgOrder::Default`]). The fork-v5.9 series ("ia64: enable HAVE_COPY_THREAD_TLS,
    /// switch to kernel_clone_args", Christian Brauner, 2020) rewrote it to call
    /// `ia64_clone(in0, in1, 16, in3, in4, in5)`: argument 2 is ignored and parent_tid,
    /// child_tid and tls come from arguments 3, 4, 5 — the [`ArgOrder::Backwards3`] layout,
    /// still documented with the old comment. That is what every kernel from 5.9 until ia64's
    /// removal in 6.7 does (and the out-of-tree linux-ia64 tree still does), so it is what this
    /// returns; [`Arch::clone_arg_order_for`] gives the pre-5.9 order. glibc never used
    /// `__NR_clone` on ia64 (only `__clone2`), which is how the shift went unnoticed.
    pub const fn clone_arg_order(self) -> ArgOrder {
        match self {
            Arch::X86_64 | Arch::Loongarch64 => ArgOrder::Default,
            Arch::S390x => ArgOrder::Backwards2,
            Arch::Microblaze | Arch::Ia64 => ArgOrder::Backwards3,
            Arch::I386
            | Arch::Aarch64
            | Arch::Arm
            | Arch::Riscv64
            | Arch::Powerpc64
            | Arch::Powerpc64le
            | Arch::Mips64
            | Arch::Sparc64
            | Arch::Hppa => ArgOrder::Backwards,
        }
    }

    /// [`Arch::clone_arg_order`] for a given Linux version `(major, minor)`: the same except
    /// ia64 before 5.9, whose legacy `clone` read `(flags, sp, ptid, ctid, tls)`.
    pub const fn clone_arg_order_for(self, linux: (u32, u32)) -> ArgOrder {
        match self {
            Arch::Ia64 if linux.0 < 5 || (linux.0 == 5 && linux.1 < 9) => ArgOrder::Default,
            _ => self.clone_arg_order(),
        }
    }

    /// Register order of ia64's `clone2`: `(flags, stack_base, stack_size, parent_tid,
    /// child_tid, tls)` (`arch/ia64/kernel/entry.S`; glibc `ia64/clone2.S` out0..out5). The
    /// slots coincide with [`ArgOrder::Backwards3`], but slot 1 is the stack *base* and the
    /// size is used. `None` on every other arch.
    pub const fn clone2_arg_order(self) -> Option<ArgOrder> {
        match self {
            Arch::Ia64 => Some(ArgOrder::Backwards3),
            _ => None,
        }
    }

    /// Direction the memory stack grows (`config STACK_GROWSUP` only on parisc).
    pub const fn stack_growth(self) -> StackGrowth {
        match self {
            Arch::Hppa => StackGrowth::Up,
            _ => StackGrowth::Down,
        }
    }

    /// Stack-pointer alignment the psABI requires at a call (facts §5).
    ///
    /// x86_64 16 (`rsp` 16-aligned before `call`), i386 16 (the modern SysV i386 ABI, as glibc
    /// and gcc assume), aarch64 16, arm 8 (AAPCS at public interfaces), riscv64 16, s390x 8,
    /// powerpc64 16, mips64 n64 16, loongarch64 16, sparc64 16 (of the unbiased address),
    /// hppa 64 (frames are multiples of 64), ia64 16. microblaze 4: word-aligned stack
    /// **\[unverified: no psABI text read\]**; glibc's microblaze `clone.S` does not align the
    /// child stack at all (it only subtracts 8), which is consistent with a word requirement.
    pub const fn stack_alignment(self) -> u64 {
        match self {
            Arch::Arm | Arch::S390x => 8,
            Arch::Hppa => 64,
            Arch::Microblaze => 4,
            _ => 16,
        }
    }

    /// Width of a pointer / general register in the userland ABI.
    pub const fn pointer_bits(self) -> u32 {
        match self {
            Arch::I386 | Arch::Arm | Arch::Hppa | Arch::Microblaze => 32,
            _ => 64,
        }
    }

    /// Mask of the bits a register (and so a syscall argument) holds: `u32::MAX` on 32-bit
    /// arches.
    pub const fn register_mask(self) -> u64 {
        if self.pointer_bits() == 32 {
            0xffff_ffff
        } else {
            u64::MAX
        }
    }

    /// Whether the arch's canonical name means big-endian. s390x, powerpc64, sparc64 and hppa
    /// are big-endian only; powerpc64le little. mips64 and microblaze exist in both orders; the
    /// un-suffixed names (`mips64`, `microblaze`) are the big-endian ones, so they report
    /// `true` ([`Arch::bi_endian`] says which arches this applies to). Nothing in the clone ABI
    /// depends on byte order except how `struct clone_args` is written to memory.
    pub const fn big_endian(self) -> bool {
        matches!(
            self,
            Arch::S390x
                | Arch::Powerpc64
                | Arch::Sparc64
                | Arch::Hppa
                | Arch::Mips64
                | Arch::Microblaze
        )
    }

    /// Whether Linux supports this arch in both byte orders (mips64, microblaze; also
    /// aarch64/arm, whose big-endian variants are rare and which default to little-endian).
    pub const fn bi_endian(self) -> bool {
        matches!(
            self,
            Arch::Mips64 | Arch::Microblaze | Arch::Aarch64 | Arch::Arm
        )
    }

    /// How a child recognises itself after legacy `clone`.
    pub const fn child_return(self) -> ChildReturn {
        match self {
            Arch::Sparc64 => ChildReturn::SparcSecondRegister,
            _ => ChildReturn::ZeroInReturnRegister,
        }
    }

    /// `SIGCHLD` in this arch's signal numbering: 17 generic, 18 on mips and parisc, 20 on sparc
    /// (linux-raw-sys `SIGCHLD` for mips64/sparc64; `arch/parisc/include/uapi/asm/signal.h`).
    pub const fn sigchld(self) -> u8 {
        match self {
            Arch::Mips64 | Arch::Hppa => 18,
            Arch::Sparc64 => 20,
            _ => 17,
        }
    }

    /// `_NSIG`, the highest signal number `valid_signal()` accepts (so `clone3` takes an
    /// `exit_signal` of `0..=nsig`): 128 on mips (`arch/mips/include/uapi/asm/signal.h`), 64
    /// everywhere else here (asm-generic and the parisc, sparc, ia64, x86, powerpc, s390 and
    /// arm headers).
    pub const fn nsig(self) -> u64 {
        match self {
            Arch::Mips64 => 128,
            _ => 64,
        }
    }

    /// First Linux version whose syscall table wires `clone3` for this arch, if any.
    ///
    /// `clone3` appeared in 5.3 ("fork: add clone3", wired up by "arch: wire-up clone3()
    /// syscall"). ia64 never got it (its table only says "435 reserved for clone3"), sparc64 not
    /// through 6.19 (see [`SPARC64_CLONE3_2026`]), loongarch64 has had it since the arch was
    /// merged (5.19). Arches that needed an entry wrapper were wired separately in the same
    /// cycle (powerpc: "powerpc: Wire up clone3 syscall", with a `ppc_clone3` wrapper, posted
    /// 2019-07-24); that each of those landed before 5.3 final is **\[unverified\]** — a kernel
    /// between 5.3 and 5.4 may lack `clone3` on powerpc, parisc or mips.
    pub const fn clone3_since(self) -> Option<(u32, u32)> {
        match self {
            Arch::Ia64 | Arch::Sparc64 => None,
            Arch::Loongarch64 => Some((5, 19)),
            _ => Some((5, 3)),
        }
    }

    /// Whether Linux `linux = (major, minor)` has `clone3` on this arch ([`Arch::clone3_since`]).
    pub const fn has_clone3(self, linux: (u32, u32)) -> bool {
        match self.clone3_since() {
            None => false,
            Some((maj, min)) => linux.0 > maj || (linux.0 == maj && linux.1 >= min),
        }
    }

    /// One past the highest user address under the configuration named below (the kernel's
    /// `TASK_SIZE` for a native process); informational. clone-core's own range checks only use
    /// [`Arch::pointer_bits`], since the real limit depends on kernel config and CPU.
    ///
    /// | Arch | Value | Configuration assumed | Source |
    /// |---|---|---|---|
    /// | x86_64 | `0x7fff_ffff_f000` | 4-level paging (`(1 << 47) - PAGE_SIZE`) | facts/brief |
    /// | i386 | `0xc000_0000` | `VMSPLIT_3G` (`PAGE_OFFSET`) | facts/brief |
    /// | aarch64 | `1 << 48` | `VA_BITS = 48` (`TASK_SIZE_64 = 1 << VA_BITS`) | `arch/arm64/include/asm/memory.h` (older copy) |
    /// | arm | `0xbf00_0000` | `VMSPLIT_3G`, no KASAN: `PAGE_OFFSET - SZ_16M` | `arch/arm/include/asm/memory.h` |
    /// | riscv64 | `1 << 38` | Sv39 (`PGDIR_SIZE * PTRS_PER_PGD / 2`); Sv48 gives `1 << 47` | \[unverified\] |
    /// | s390x | `1 << 53` | `mm->context.asce_limit` after growing to 4 levels; a new mm starts at 3 levels (`1 << 42`) | \[unverified\] |
    /// | powerpc64 | `1 << 52` | `TASK_SIZE_4PB` (64K pages); default mmap window `1 << 47` | \[unverified\] |
    /// | mips64 | `1 << 40` | `TASK_SIZE64 = 0x10000000000` without `MIPS_VA_BITS_48` | `arch/mips/include/asm/processor.h` |
    /// | loongarch64 | `1 << 48` | `VA_BITS_48` on a 48-bit-VA CPU: `1 << min(cpu_vabits, 48)` | `arch/loongarch/include/asm/processor.h` |
    /// | sparc64 | `0xffff_fffc_0000_0000` | `-VPTE_SIZE`, `VA_BITS` 44, 8K pages; user space also spans both sides of the VA hole | `arch/sparc/include/asm/processor_64.h` (older copy) |
    /// | hppa | `0xfff0_0000` | `DEFAULT_TASK_SIZE32` | `arch/parisc/include/asm/processor.h` |
    /// | ia64 | `0xa000_0000_0000_0000` | regions 0–4 (`DEFAULT_TASK_SIZE`) | \[unverified\] |
    /// | microblaze | `0x8000_0000` | `CONFIG_TASK_SIZE` default | \[unverified\] |
    pub const fn user_address_limit(self) -> u64 {
        match self {
            Arch::X86_64 => 0x7fff_ffff_f000,
            Arch::I386 => 0xc000_0000,
            Arch::Aarch64 => 1 << 48,
            Arch::Arm => 0xbf00_0000,
            Arch::Riscv64 => 1 << 38,
            Arch::S390x => 1 << 53,
            Arch::Powerpc64 | Arch::Powerpc64le => 1 << 52,
            Arch::Mips64 => 1 << 40,
            Arch::Loongarch64 => 1 << 48,
            Arch::Sparc64 => 0xffff_fffc_0000_0000,
            Arch::Hppa => 0xfff0_0000,
            Arch::Ia64 => 0xa000_0000_0000_0000,
            Arch::Microblaze => 0x8000_0000,
        }
    }

    /// Whether the kernel selects `ALTERNATE_USER_ADDRESS_SPACE` (s390, parisc and sparc64 do,
    /// in their `Kconfig`): user pointers live in an address space of their own, so
    /// `access_ok()` is constant true (`include/asm-generic/access_ok.h`: "On architectures with
    /// separate user address space (m68k, s390, parisc, sparc64) ... this should always return
    /// true") and only the access itself can fault. [`Arch::user_address_limit`] then bounds
    /// no range check. (Kernels before the 5.18 `access_ok` consolidation are
    /// **\[unverified\]** here.)
    pub const fn separate_user_address_space(self) -> bool {
        matches!(self, Arch::S390x | Arch::Hppa | Arch::Sparc64)
    }

    /// The instruction that enters the kernel (for documentation and disassembly checks).
    pub const fn syscall_instruction(self) -> &'static str {
        match self {
            Arch::X86_64 => "syscall",
            Arch::I386 => "int 0x80",
            Arch::Aarch64 => "svc 0",
            Arch::Arm => "svc 0",
            Arch::Riscv64 => "ecall",
            Arch::S390x => "svc 0",
            Arch::Powerpc64 | Arch::Powerpc64le => "sc",
            Arch::Mips64 => "syscall",
            Arch::Loongarch64 => "syscall 0",
            Arch::Sparc64 => "ta 0x6d",
            Arch::Hppa => "ble 0x100(%sr2,%r0)",
            Arch::Ia64 => "break 0x100000",
            Arch::Microblaze => "brki r14,0x8",
        }
    }

    /// Registers holding syscall arguments 0..=5, then the number register, then the result
    /// register (documentation strings).
    pub const fn syscall_registers(self) -> SyscallRegisterNames {
        const fn r(
            args: [&'static str; 6],
            number: &'static str,
            result: &'static str,
        ) -> SyscallRegisterNames {
            SyscallRegisterNames {
                args,
                number,
                result,
            }
        }
        match self {
            Arch::X86_64 => r(["rdi", "rsi", "rdx", "r10", "r8", "r9"], "rax", "rax"),
            Arch::I386 => r(["ebx", "ecx", "edx", "esi", "edi", "ebp"], "eax", "eax"),
            Arch::Aarch64 => r(["x0", "x1", "x2", "x3", "x4", "x5"], "x8", "x0"),
            Arch::Arm => r(["r0", "r1", "r2", "r3", "r4", "r5"], "r7", "r0"),
            Arch::Riscv64 | Arch::Loongarch64 => {
                r(["a0", "a1", "a2", "a3", "a4", "a5"], "a7", "a0")
            }
            Arch::S390x => r(["r2", "r3", "r4", "r5", "r6", "r7"], "r1", "r2"),
            Arch::Powerpc64 | Arch::Powerpc64le => {
                r(["r3", "r4", "r5", "r6", "r7", "r8"], "r0", "r3")
            }
            Arch::Mips64 => r(["a0", "a1", "a2", "a3", "a4", "a5"], "v0", "v0"),
            Arch::Sparc64 => r(["o0", "o1", "o2", "o3", "o4", "o5"], "g1", "o0"),
            Arch::Hppa => r(["r26", "r25", "r24", "r23", "r22", "r21"], "r20", "r28"),
            Arch::Ia64 => r(
                ["out0", "out1", "out2", "out3", "out4", "out5"],
                "r15",
                "r8",
            ),
            Arch::Microblaze => r(["r5", "r6", "r7", "r8", "r9", "r10"], "r12", "r3"),
        }
    }
}

/// Register names for [`Arch::syscall_registers`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyscallRegisterNames {
    /// Arguments 0..=5.
    pub args: [&'static str; 6],
    /// The syscall number.
    pub number: &'static str,
    /// The return value.
    pub result: &'static str,
}

impl core::fmt::Display for Arch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One hand-written row: expected values copied from the facts file §3.2 (clone .. set_tid)
    /// and from the kernel `syscall.tbl` / linux-raw-sys sources for the rest. Not derived from
    /// the code under test.
    struct Row {
        arch: Arch,
        clone: u64,
        clone3: Option<u64>,
        exit: u64,
        exit_group: u64,
        gettid: u64,
        futex: u64,
        set_tid_address: u64,
        // getpid, getppid, sched_yield, write, wait4, waitid, munmap, kill, tgkill
        more: [u64; 9],
    }

    const ROWS: [Row; 14] = [
        Row {
            arch: Arch::X86_64,
            clone: 56,
            clone3: Some(435),
            exit: 60,
            exit_group: 231,
            gettid: 186,
            futex: 202,
            set_tid_address: 218,
            more: [39, 110, 24, 1, 61, 247, 11, 62, 234],
        },
        Row {
            arch: Arch::I386,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 252,
            gettid: 224,
            futex: 240,
            set_tid_address: 258,
            more: [20, 64, 158, 4, 114, 284, 91, 37, 270],
        },
        Row {
            arch: Arch::Aarch64,
            clone: 220,
            clone3: Some(435),
            exit: 93,
            exit_group: 94,
            gettid: 178,
            futex: 98,
            set_tid_address: 96,
            more: [172, 173, 124, 64, 260, 95, 215, 129, 131],
        },
        Row {
            arch: Arch::Arm,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 248,
            gettid: 224,
            futex: 240,
            set_tid_address: 256,
            more: [20, 64, 158, 4, 114, 280, 91, 37, 268],
        },
        Row {
            arch: Arch::Riscv64,
            clone: 220,
            clone3: Some(435),
            exit: 93,
            exit_group: 94,
            gettid: 178,
            futex: 98,
            set_tid_address: 96,
            more: [172, 173, 124, 64, 260, 95, 215, 129, 131],
        },
        Row {
            arch: Arch::S390x,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 248,
            gettid: 236,
            futex: 238,
            set_tid_address: 252,
            more: [20, 64, 158, 4, 114, 281, 91, 37, 241],
        },
        Row {
            arch: Arch::Powerpc64,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 234,
            gettid: 207,
            futex: 221,
            set_tid_address: 232,
            more: [20, 64, 158, 4, 114, 272, 91, 37, 250],
        },
        Row {
            arch: Arch::Powerpc64le,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 234,
            gettid: 207,
            futex: 221,
            set_tid_address: 232,
            more: [20, 64, 158, 4, 114, 272, 91, 37, 250],
        },
        Row {
            arch: Arch::Mips64,
            clone: 5055,
            clone3: Some(5435),
            exit: 5058,
            exit_group: 5205,
            gettid: 5178,
            futex: 5194,
            set_tid_address: 5212,
            more: [5038, 5108, 5023, 5001, 5059, 5237, 5011, 5060, 5225],
        },
        Row {
            arch: Arch::Loongarch64,
            clone: 220,
            clone3: Some(435),
            exit: 93,
            exit_group: 94,
            gettid: 178,
            futex: 98,
            set_tid_address: 96,
            more: [172, 173, 124, 64, 260, 95, 215, 129, 131],
        },
        Row {
            arch: Arch::Sparc64,
            clone: 217,
            clone3: None,
            exit: 1,
            exit_group: 188,
            gettid: 143,
            futex: 142,
            set_tid_address: 166,
            more: [20, 197, 245, 4, 7, 279, 73, 37, 211],
        },
        Row {
            arch: Arch::Hppa,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 222,
            gettid: 206,
            futex: 210,
            set_tid_address: 237,
            more: [20, 64, 158, 4, 114, 235, 91, 37, 259],
        },
        // ia64: syscall.tbl entry + 1024 (getpid 17, getppid 18, sched_yield 140, write 3,
        // wait4 102, waitid 246, munmap 128, kill 29, tgkill 211).
        Row {
            arch: Arch::Ia64,
            clone: 1128,
            clone3: None,
            exit: 1025,
            exit_group: 1236,
            gettid: 1105,
            futex: 1230,
            set_tid_address: 1233,
            more: [1041, 1042, 1164, 1027, 1126, 1270, 1152, 1053, 1235],
        },
        Row {
            arch: Arch::Microblaze,
            clone: 120,
            clone3: Some(435),
            exit: 1,
            exit_group: 252,
            gettid: 224,
            futex: 240,
            set_tid_address: 258,
            more: [20, 64, 158, 4, 114, 284, 91, 37, 270],
        },
    ];

    #[test]
    fn syscall_numbers_match_hand_table() {
        for (row, arch) in ROWS.iter().zip(Arch::ALL) {
            assert_eq!(row.arch, arch, "ROWS must follow Arch::ALL order");
            let n = arch.syscalls();
            assert_eq!(n.clone, row.clone, "{arch} clone");
            assert_eq!(n.clone3, row.clone3, "{arch} clone3");
            assert_eq!(n.exit, row.exit, "{arch} exit");
            assert_eq!(n.exit_group, row.exit_group, "{arch} exit_group");
            assert_eq!(n.gettid, row.gettid, "{arch} gettid");
            assert_eq!(n.futex, row.futex, "{arch} futex");
            assert_eq!(
                n.set_tid_address, row.set_tid_address,
                "{arch} set_tid_address"
            );
            let got = [
                n.getpid,
                n.getppid,
                n.sched_yield,
                n.write,
                n.wait4.unwrap_or(u64::MAX),
                n.waitid,
                n.munmap,
                n.kill,
                n.tgkill,
            ];
            assert_eq!(got, row.more, "{arch} getpid..tgkill");
        }
    }

    /// `(fork, vfork, unshare, setns)` per arch, in `Arch::ALL` order, from each arch's
    /// `syscall.tbl` (Linux 6.12; ia64 from its last tree, 6.6; entry + 1024 there, + 5000 on
    /// mips n64).
    type FamilyRow = (Arch, Option<u64>, Option<u64>, u64, u64);
    const FAMILY: [FamilyRow; 14] = [
        (Arch::X86_64, Some(57), Some(58), 272, 308),
        (Arch::I386, Some(2), Some(190), 310, 346),
        (Arch::Aarch64, None, None, 97, 268),
        (Arch::Arm, Some(2), Some(190), 337, 375),
        (Arch::Riscv64, None, None, 97, 268),
        (Arch::S390x, Some(2), Some(190), 303, 339),
        (Arch::Powerpc64, Some(2), Some(189), 282, 350),
        (Arch::Powerpc64le, Some(2), Some(189), 282, 350),
        (Arch::Mips64, Some(5056), None, 5262, 5303),
        (Arch::Loongarch64, None, None, 97, 268),
        (Arch::Sparc64, Some(2), Some(66), 299, 337),
        (Arch::Hppa, Some(2), Some(113), 288, 328),
        (Arch::Ia64, None, None, 1296, 1330),
        (Arch::Microblaze, Some(2), Some(190), 310, 375),
    ];

    #[test]
    fn fork_family_numbers_match_hand_table() {
        for (row, arch) in FAMILY.iter().zip(Arch::ALL) {
            assert_eq!(row.0, arch, "FAMILY must follow Arch::ALL order");
            let n = arch.syscalls();
            assert_eq!((n.fork, n.vfork), (row.1, row.2), "{arch} fork/vfork");
            assert_eq!((n.unshare, n.setns), (row.3, row.4), "{arch} unshare/setns");
        }
    }

    #[test]
    fn clone2_only_on_ia64() {
        for arch in Arch::ALL {
            let expected = if arch == Arch::Ia64 { Some(1213) } else { None };
            assert_eq!(arch.syscalls().clone2, expected, "{arch}");
            assert_eq!(
                arch.clone2_arg_order().is_some(),
                arch == Arch::Ia64,
                "{arch}"
            );
        }
    }

    #[test]
    fn mmap_choice() {
        use MmapKind::*;
        let expected = [
            (Arch::X86_64, 9, Bytes),
            (Arch::I386, 192, Pages4096),
            (Arch::Aarch64, 222, Bytes),
            (Arch::Arm, 192, Pages4096),
            (Arch::Riscv64, 222, Bytes),
            (Arch::S390x, 90, ParameterBlock),
            (Arch::Powerpc64, 90, Bytes),
            (Arch::Powerpc64le, 90, Bytes),
            (Arch::Mips64, 5009, Bytes),
            (Arch::Loongarch64, 222, Bytes),
            (Arch::Sparc64, 71, Bytes),
            (Arch::Hppa, 90, Bytes),
            (Arch::Ia64, 1151, Bytes),
            (Arch::Microblaze, 90, Bytes),
        ];
        for (arch, nr, kind) in expected {
            assert_eq!(
                (arch.syscalls().mmap, arch.syscalls().mmap_kind),
                (nr, kind),
                "{arch}"
            );
        }
    }

    #[test]
    fn arg_orders_per_kconfig() {
        use ArgOrder::*;
        let expected = [
            (Arch::X86_64, Default),
            (Arch::I386, Backwards),
            (Arch::Aarch64, Backwards),
            (Arch::Arm, Backwards),
            (Arch::Riscv64, Backwards),
            (Arch::S390x, Backwards2),
            (Arch::Powerpc64, Backwards),
            (Arch::Powerpc64le, Backwards),
            (Arch::Mips64, Backwards),
            (Arch::Loongarch64, Default),
            (Arch::Sparc64, Backwards),
            (Arch::Hppa, Backwards),
            (Arch::Ia64, Backwards3),
            (Arch::Microblaze, Backwards3),
        ];
        for (arch, order) in expected {
            assert_eq!(arch.clone_arg_order(), order, "{arch}");
            assert_eq!(arch.clone_arg_order_for((6, 6)), order, "{arch} 6.6");
            assert_eq!(arch.clone_arg_order_for((5, 9)), order, "{arch} 5.9");
            if arch != Arch::Ia64 {
                assert_eq!(arch.clone_arg_order_for((4, 19)), order, "{arch} 4.19");
            }
        }
        // ia64's sys_clone stub read (flags, sp, ptid, ctid, tls) until the fork-v5.9 rework.
        assert_eq!(Arch::Ia64.clone_arg_order_for((5, 8)), Default);
        assert_eq!(Arch::Ia64.clone_arg_order_for((4, 19)), Default);
    }

    #[test]
    fn arg_slots_follow_arch_kconfig_help() {
        // (word, stack, stack_size, ptid, ctid, tls) straight from the arch/Kconfig prototypes.
        let slots = |o: ArgOrder| {
            let s = o.slots();
            (
                s.word,
                s.stack,
                s.stack_size,
                s.parent_tid,
                s.child_tid,
                s.tls,
            )
        };
        assert_eq!(slots(ArgOrder::Default), (0, 1, None, 2, 3, 4));
        assert_eq!(slots(ArgOrder::Backwards), (0, 1, None, 2, 4, 3));
        assert_eq!(slots(ArgOrder::Backwards2), (1, 0, None, 2, 3, 4));
        assert_eq!(slots(ArgOrder::Backwards3), (0, 1, Some(2), 3, 4, 5));
    }

    #[test]
    fn abi_properties() {
        // (arch, growth up?, alignment, pointer bits, big endian, sigchld, sparc return)
        let expected = [
            (Arch::X86_64, false, 16, 64, false, 17, false),
            (Arch::I386, false, 16, 32, false, 17, false),
            (Arch::Aarch64, false, 16, 64, false, 17, false),
            (Arch::Arm, false, 8, 32, false, 17, false),
            (Arch::Riscv64, false, 16, 64, false, 17, false),
            (Arch::S390x, false, 8, 64, true, 17, false),
            (Arch::Powerpc64, false, 16, 64, true, 17, false),
            (Arch::Powerpc64le, false, 16, 64, false, 17, false),
            (Arch::Mips64, false, 16, 64, true, 18, false),
            (Arch::Loongarch64, false, 16, 64, false, 17, false),
            (Arch::Sparc64, false, 16, 64, true, 20, true),
            (Arch::Hppa, true, 64, 32, true, 18, false),
            (Arch::Ia64, false, 16, 64, false, 17, false),
            (Arch::Microblaze, false, 4, 32, true, 17, false),
        ];
        for (arch, up, align, bits, be, sigchld, sparc) in expected {
            assert_eq!(arch.stack_growth() == StackGrowth::Up, up, "{arch} growth");
            assert_eq!(arch.stack_alignment(), align, "{arch} alignment");
            assert!(align.is_power_of_two(), "{arch} alignment power of two");
            assert_eq!(arch.pointer_bits(), bits, "{arch} bits");
            assert_eq!(arch.big_endian(), be, "{arch} endian");
            assert_eq!(arch.sigchld(), sigchld, "{arch} SIGCHLD");
            assert_eq!(
                arch.child_return() == ChildReturn::SparcSecondRegister,
                sparc,
                "{arch} child return"
            );
        }
        assert_eq!(Arch::I386.register_mask(), 0xffff_ffff);
        assert_eq!(Arch::X86_64.register_mask(), u64::MAX);
    }

    #[test]
    fn clone3_availability() {
        for arch in Arch::ALL {
            let has_number = arch.syscalls().clone3.is_some();
            let never = matches!(arch, Arch::Ia64 | Arch::Sparc64);
            assert_eq!(has_number, !never, "{arch}");
            assert!(
                !arch.has_clone3((5, 2)),
                "{arch}: nobody had clone3 before 5.3"
            );
            assert_eq!(arch.has_clone3((6, 19)), !never, "{arch} 6.19");
            assert_eq!(arch.has_clone3((7, 0)), !never, "{arch} 7.0");
        }
        assert!(Arch::X86_64.has_clone3((5, 3)));
        assert!(Arch::X86_64.has_clone3((6, 0)));
        assert!(!Arch::Loongarch64.has_clone3((5, 18)));
        assert!(Arch::Loongarch64.has_clone3((5, 19)));
    }

    #[test]
    fn names_round_trip_and_aliases() {
        let canonical = [
            "x86_64",
            "i386",
            "aarch64",
            "arm",
            "riscv64",
            "s390x",
            "powerpc64",
            "powerpc64le",
            "mips64",
            "loongarch64",
            "sparc64",
            "hppa",
            "ia64",
            "microblaze",
        ];
        for (arch, name) in Arch::ALL.into_iter().zip(canonical) {
            assert_eq!(arch.name(), name);
            assert_eq!(Arch::from_name(name), Some(arch));
            assert_eq!(Arch::from_name(&name.to_uppercase()), Some(arch));
        }
        let aliases = [
            ("amd64", Arch::X86_64),
            ("i686", Arch::I386),
            ("x86", Arch::I386),
            ("arm64", Arch::Aarch64),
            ("armv7", Arch::Arm),
            ("armhf", Arch::Arm),
            ("ppc64", Arch::Powerpc64),
            ("ppc64le", Arch::Powerpc64le),
            ("mips64el", Arch::Mips64),
            ("loong64", Arch::Loongarch64),
            ("parisc", Arch::Hppa),
            ("riscv64gc", Arch::Riscv64),
            ("microblazeel", Arch::Microblaze),
        ];
        for (alias, arch) in aliases {
            assert_eq!(Arch::from_name(alias), Some(arch), "{alias}");
        }
        for bad in ["", "x86_65", "powerpc", "mips", "riscv32", "s390"] {
            assert_eq!(Arch::from_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn native_matches_build_target() {
        let native = Arch::native();
        #[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
        assert_eq!(native, Some(Arch::X86_64));
        #[cfg(target_arch = "aarch64")]
        assert_eq!(native, Some(Arch::Aarch64));
        if let Some(arch) = native {
            assert_eq!(arch.pointer_bits() as usize, usize::BITS as usize);
            assert_eq!(
                arch.big_endian(),
                cfg!(target_endian = "big") || arch.bi_endian()
            );
        }
    }

    #[test]
    fn documentation_strings() {
        assert_eq!(Arch::X86_64.syscall_instruction(), "syscall");
        assert_eq!(Arch::I386.syscall_instruction(), "int 0x80");
        assert_eq!(Arch::Sparc64.syscall_instruction(), "ta 0x6d");
        assert_eq!(Arch::Hppa.syscall_instruction(), "ble 0x100(%sr2,%r0)");
        assert_eq!(Arch::Ia64.syscall_instruction(), "break 0x100000");
        assert_eq!(Arch::Microblaze.syscall_instruction(), "brki r14,0x8");
        let r = Arch::X86_64.syscall_registers();
        assert_eq!(r.args, ["rdi", "rsi", "rdx", "r10", "r8", "r9"]);
        assert_eq!(r.number, "rax");
        let r = Arch::S390x.syscall_registers();
        assert_eq!((r.args[0], r.args[5], r.number), ("r2", "r7", "r1"));
        let r = Arch::Hppa.syscall_registers();
        assert_eq!((r.args[0], r.args[5], r.number), ("r26", "r21", "r20"));
        let r = Arch::Microblaze.syscall_registers();
        assert_eq!((r.args[0], r.args[5], r.number), ("r5", "r10", "r12"));
    }

    #[test]
    fn user_limits() {
        assert_eq!(Arch::X86_64.user_address_limit(), 0x7fff_ffff_f000);
        assert_eq!(Arch::I386.user_address_limit(), 0xc000_0000);
        assert_eq!(Arch::Aarch64.user_address_limit(), 0x1_0000_0000_0000);
        assert_eq!(Arch::Riscv64.user_address_limit(), 0x40_0000_0000);
        assert_eq!(Arch::Arm.user_address_limit(), 0xc000_0000 - 0x100_0000);
        assert_eq!(Arch::Hppa.user_address_limit(), 0xfff0_0000);
        assert_eq!(Arch::Mips64.user_address_limit(), 0x100_0000_0000);
        assert_eq!(
            Arch::Sparc64.user_address_limit(),
            0u64.wrapping_sub(1 << (44 - 13 + 3))
        );
        for arch in Arch::ALL {
            if arch.pointer_bits() == 32 {
                assert!(arch.user_address_limit() <= 1 << 32, "{arch}");
            }
        }
    }
}
