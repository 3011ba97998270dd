//! A ready-made [`UserMemory`] for kernels' tests and tools: several mapped ranges of user
//! memory (each readable, some writable), plus the two per-call answers the validator asks of
//! a kernel (`set_tid` pids already taken, the `CLONE_INTO_CGROUP` fd answer).
//!
//! ```
//! use clone_core::memory::{Region, Regions};
//! use clone_core::validate::{UserMemory, validate_clone3};
//! use clone_core::{Arch, Errno, Policy, policy::LinuxVersion};
//!
//! let policy = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
//! let mut args = clone_core::validate::CloneArgs::default();
//! args.flags = clone_core::CloneFlags::PIDFD.bits();
//! args.exit_signal = 17;
//! args.pidfd = 0x2000; // in the read-only page: the pidfd put_user faults
//! let bytes = args.to_bytes(Arch::X86_64);
//! let ro = [0u8; 16];
//! let regions = [Region::read_write(0x1000, &bytes), Region::read_only(0x2000, &ro)];
//! let mem = Regions::new(&regions);
//! let err = validate_clone3(0x1000, 88, &mem, &policy).unwrap_err();
//! assert_eq!(err.errno, Errno::EFAULT);
//! ```

use crate::validate::{Fault, UserMemory};
use crate::{Errno, Policy};

/// One mapped range of user memory.
#[derive(Copy, Clone, Debug)]
pub struct Region<'a> {
    /// User address of `bytes[0]`.
    pub base: u64,
    /// Its contents (readable).
    pub bytes: &'a [u8],
    /// Whether `put_user` into it succeeds.
    pub writable: bool,
}

impl<'a> Region<'a> {
    /// A readable, not writable range.
    #[must_use]
    pub const fn read_only(base: u64, bytes: &'a [u8]) -> Self {
        Self {
            base,
            bytes,
            writable: false,
        }
    }

    /// A readable and writable range.
    #[must_use]
    pub const fn read_write(base: u64, bytes: &'a [u8]) -> Self {
        Self {
            base,
            bytes,
            writable: true,
        }
    }

    /// The offset of `addr` in this range and the bytes left from there, if it is inside.
    fn at(&self, addr: u64) -> Option<&'a [u8]> {
        let off = usize::try_from(addr.checked_sub(self.base)?).ok()?;
        self.bytes.get(off..).filter(|rest| !rest.is_empty())
    }
}

/// User memory made of [`Region`]s; every address outside them faults. An access may span
/// adjacent regions, as a `copy_from_user` may span two mappings.
#[derive(Copy, Clone, Debug, Default)]
pub struct Regions<'a> {
    regions: &'a [Region<'a>],
    taken: &'a [(usize, i32)],
    cgroup_errors: &'a [(u64, Errno)],
}

impl<'a> Regions<'a> {
    /// The mapped ranges; no pid taken, every cgroup fd answered by the policy.
    #[must_use]
    pub const fn new(regions: &'a [Region<'a>]) -> Self {
        Self {
            regions,
            taken: &[],
            cgroup_errors: &[],
        }
    }

    /// `(level, pid)` pairs already in use, for `set_tid` ([`UserMemory::set_tid_taken`]).
    #[must_use]
    pub const fn with_taken_pids(mut self, taken: &'a [(usize, i32)]) -> Self {
        self.taken = taken;
        self
    }

    /// `(fd, errno)` pairs: `cgroup_can_fork`'s refusal for those `cgroup` fds; other fds get
    /// [`Policy::into_cgroup_error`] ([`UserMemory::cgroup_can_fork`]).
    #[must_use]
    pub const fn with_cgroup_errors(mut self, errors: &'a [(u64, Errno)]) -> Self {
        self.cgroup_errors = errors;
        self
    }

    /// Calls `visit` with each mapped piece of `[addr, addr + len)` in order, or faults if a
    /// byte of it is outside every region.
    fn walk(
        &self,
        addr: u64,
        len: usize,
        mut visit: impl FnMut(&Region<'a>, &'a [u8]) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        let mut at = addr;
        let mut left = len;
        while left > 0 {
            let (region, rest) = self
                .regions
                .iter()
                .find_map(|r| r.at(at).map(|rest| (r, rest)))
                .ok_or(Fault)?;
            let n = rest.len().min(left);
            visit(region, &rest[..n])?;
            left -= n;
            at = at.checked_add(n as u64).ok_or(Fault)?;
        }
        Ok(())
    }
}

impl UserMemory for Regions<'_> {
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        let mut done = 0;
        self.walk(addr, out.len(), |_, piece| {
            out[done..done + piece.len()].copy_from_slice(piece);
            done += piece.len();
            Ok(())
        })
    }

    fn writable(&self, addr: u64, len: u64) -> bool {
        let Ok(len) = usize::try_from(len) else {
            return false;
        };
        self.walk(
            addr,
            len,
            |r, _| if r.writable { Ok(()) } else { Err(Fault) },
        )
        .is_ok()
    }

    fn set_tid_taken(&self, level: usize, pid: i32) -> bool {
        self.taken.contains(&(level, pid))
    }

    fn cgroup_can_fork(&self, fd: u64, policy: &Policy) -> Option<Errno> {
        match self.cgroup_errors.iter().find(|(f, _)| *f == fd) {
            Some((_, e)) => Some(*e),
            None => policy.into_cgroup_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_span_adjacent_regions_and_fault_in_gaps() {
        let a = [1u8, 2, 3, 4];
        let b = [5u8, 6];
        let regions = [Region::read_write(0x100, &a), Region::read_only(0x104, &b)];
        let m = Regions::new(&regions);
        let mut out = [0u8; 4];
        m.read(0x102, &mut out).unwrap();
        assert_eq!(out, [3, 4, 5, 6]);
        assert_eq!(m.read(0x103, &mut out), Err(Fault), "one byte past the end");
        assert_eq!(m.read(0xff, &mut [0u8; 1]), Err(Fault));
        m.read(0x200, &mut []).unwrap();
        assert!(m.writable(0x100, 4));
        assert!(!m.writable(0x102, 4), "crosses into the read-only region");
        assert!(!m.writable(0x106, 1));
    }

    #[test]
    fn hooks_answer_per_call() {
        use crate::{Arch, policy::LinuxVersion};
        let p = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
        let m = Regions::new(&[])
            .with_taken_pids(&[(0, 300)])
            .with_cgroup_errors(&[(7, Errno::EACCES)]);
        assert!(m.set_tid_taken(0, 300));
        assert!(!m.set_tid_taken(1, 300));
        assert_eq!(m.cgroup_can_fork(7, &p), Some(Errno::EACCES));
        assert_eq!(m.cgroup_can_fork(8, &p), None);
        let p = p.with_into_cgroup_error(Some(Errno::EBADF));
        assert_eq!(m.cgroup_can_fork(8, &p), Some(Errno::EBADF));
    }
}
