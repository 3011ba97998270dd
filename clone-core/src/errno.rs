//! Error numbers clone can return, by name, with their per-arch values.
//!
//! Most of these are the classic 1–34 numbers shared by every Linux arch. `ENOSYS`,
//! `EOPNOTSUPP` and `EUSERS` differ on MIPS, SPARC and PA-RISC (`arch/*/include/uapi/asm/errno.h`), so the
//! numeric value is asked for with an [`Arch`](crate::Arch): [`Errno::raw_for`].

use core::fmt;

/// A Linux error number that `clone`/`clone3` can produce, by name.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Errno {
    /// Operation not permitted (1): missing capability.
    EPERM,
    /// No such file or directory (2): offline cgroup for `CLONE_INTO_CGROUP`.
    ENOENT,
    /// Interrupted system call (4): fatal signal during fork.
    EINTR,
    /// Argument list too long (7): `clone3` size above a page or non-zero tail.
    E2BIG,
    /// Bad file descriptor (9): `CLONE_INTO_CGROUP` fd.
    EBADF,
    /// Try again (11): process limits, task table full.
    EAGAIN,
    /// Out of memory (12).
    ENOMEM,
    /// Permission denied (13): cgroup write permission.
    EACCES,
    /// Bad address (14): unreadable `clone_args`, `set_tid`, unwritable tid slots.
    EFAULT,
    /// File exists (17): a `set_tid` pid already in use.
    EEXIST,
    /// No such device (19): dead cgroup.
    ENODEV,
    /// Invalid argument (22): almost every rule.
    EINVAL,
    /// No space left on device (28): namespace nesting or count limits.
    ENOSPC,
    /// Function not implemented: no `clone3` on this arch/kernel.
    ENOSYS,
    /// Operation not supported: cgroup in "domain invalid" state.
    EOPNOTSUPP,
    /// Too many users (87): `setns` into a time namespace from a multi-threaded caller.
    EUSERS,
}

impl Errno {
    /// Every variant, for tables and tests.
    pub const ALL: [Errno; 16] = [
        Self::EPERM,
        Self::ENOENT,
        Self::EINTR,
        Self::E2BIG,
        Self::EBADF,
        Self::EAGAIN,
        Self::ENOMEM,
        Self::EACCES,
        Self::EFAULT,
        Self::EEXIST,
        Self::ENODEV,
        Self::EINVAL,
        Self::ENOSPC,
        Self::ENOSYS,
        Self::EOPNOTSUPP,
        Self::EUSERS,
    ];

    /// The value in the generic (asm-generic) numbering, used by x86, arm, aarch64, riscv,
    /// s390, powerpc, loongarch and ia64.
    #[must_use]
    pub const fn raw(self) -> i32 {
        match self {
            Self::EPERM => 1,
            Self::ENOENT => 2,
            Self::EINTR => 4,
            Self::E2BIG => 7,
            Self::EBADF => 9,
            Self::EAGAIN => 11,
            Self::ENOMEM => 12,
            Self::EACCES => 13,
            Self::EFAULT => 14,
            Self::EEXIST => 17,
            Self::ENODEV => 19,
            Self::EINVAL => 22,
            Self::ENOSPC => 28,
            Self::ENOSYS => 38,
            Self::EOPNOTSUPP => 95,
            Self::EUSERS => 87,
        }
    }

    /// The value on `arch` (`arch/{mips,sparc,parisc}/include/uapi/asm/errno.h`).
    #[must_use]
    pub const fn raw_for(self, arch: crate::Arch) -> i32 {
        use crate::Arch;
        match (self, arch) {
            (Self::ENOSYS, Arch::Mips64) => 89,
            (Self::ENOSYS, Arch::Sparc64) => 90,
            (Self::ENOSYS, Arch::Hppa) => 251,
            (Self::EOPNOTSUPP, Arch::Mips64) => 122,
            (Self::EOPNOTSUPP, Arch::Sparc64) => 45,
            (Self::EOPNOTSUPP, Arch::Hppa) => 223,
            (Self::EUSERS, Arch::Mips64) => 94,
            (Self::EUSERS, Arch::Sparc64 | Arch::Hppa) => 68,
            _ => self.raw(),
        }
    }

    /// The errno for a generic-numbered value, if it is one clone can return.
    #[must_use]
    pub fn from_raw(raw: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.raw() == raw)
    }

    /// The errno for a value in `arch`'s numbering.
    #[must_use]
    pub fn from_raw_for(raw: i32, arch: crate::Arch) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.raw_for(arch) == raw)
    }

    /// The symbolic name, e.g. `"EINVAL"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EPERM => "EPERM",
            Self::ENOENT => "ENOENT",
            Self::EINTR => "EINTR",
            Self::E2BIG => "E2BIG",
            Self::EBADF => "EBADF",
            Self::EAGAIN => "EAGAIN",
            Self::ENOMEM => "ENOMEM",
            Self::EACCES => "EACCES",
            Self::EFAULT => "EFAULT",
            Self::EEXIST => "EEXIST",
            Self::ENODEV => "ENODEV",
            Self::EINVAL => "EINVAL",
            Self::ENOSPC => "ENOSPC",
            Self::ENOSYS => "ENOSYS",
            Self::EOPNOTSUPP => "EOPNOTSUPP",
            Self::EUSERS => "EUSERS",
        }
    }
}

impl core::error::Error for Errno {}

/// `Errno::try_from(n)` found no errno clone can return with that generic number.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownErrno(pub i32);

impl fmt::Display for UnknownErrno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {} is not one clone returns", self.0)
    }
}

impl core::error::Error for UnknownErrno {}

impl TryFrom<i32> for Errno {
    type Error = UnknownErrno;

    /// [`Errno::from_raw`]: the generic (asm-generic) numbering; for mips, sparc and hppa use
    /// [`Errno::from_raw_for`].
    ///
    /// ```
    /// use clone_core::Errno;
    /// assert_eq!(Errno::try_from(22), Ok(Errno::EINVAL));
    /// assert!(Errno::try_from(-22).is_err());
    /// ```
    fn try_from(raw: i32) -> Result<Self, Self::Error> {
        Errno::from_raw(raw).ok_or(UnknownErrno(raw))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
