//! The caller's situation that decides Linux's answer: kernel version, arch, capabilities,
//! pid namespace and configured namespaces.
//!
//! The validator in [`crate::validate`] is a pure function of the arguments and a [`Policy`].
//! Every runtime fact a rule reads (`ns_capable(..., CAP_SYS_ADMIN)`, `SIGNAL_UNKILLABLE`,
//! `pid_ns_for_children`, `CONFIG_*_NS`, `PAGE_SIZE`, `TASK_SIZE_MAX`…) is a field here, named
//! after the kernel rule it feeds. Version-dependent behaviour is derived from
//! [`Policy::linux`] through the predicates on [`LinuxVersion`]; each threshold says where it
//! comes from (`shared/reference/linux-clone-facts.md` §1.11, or **\[unverified\]**).

use crate::flags::{CloneFlags, NAMESPACE_FLAGS};
use crate::{Arch, Errno};

/// A Linux release as `(major, minor, patch)`. The patch level (the stable sublevel, `176` in
/// 6.1.176) matters where a fix was backported to stable series (see
/// [`LinuxVersion::clone3_accepts_newtime`]); [`LinuxVersion::new`] leaves it 0, the series'
/// first release.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinuxVersion {
    /// Major number (`6` in 6.18).
    pub major: u16,
    /// Minor number (`18` in 6.18).
    pub minor: u16,
    /// Stable patch level (`176` in 6.1.176; 0 for the series' first release).
    pub patch: u16,
}

impl LinuxVersion {
    /// `major.minor`, patch level 0.
    #[must_use]
    pub const fn new(major: u16, minor: u16) -> Self {
        Self {
            major,
            minor,
            patch: 0,
        }
    }

    /// The same series at stable patch level `patch` (`LinuxVersion::V6_1.with_patch(176)` is
    /// 6.1.176).
    #[must_use]
    pub const fn with_patch(mut self, patch: u16) -> Self {
        self.patch = patch;
        self
    }

    /// The version as one number ordered as the versions are: one compare per threshold.
    const fn key(self) -> u64 {
        (self.major as u64) << 32 | (self.minor as u64) << 16 | self.patch as u64
    }

    /// 5.2: `CLONE_PIDFD`.
    pub const V5_2: Self = Self::new(5, 2);
    /// 5.3: the `clone3` syscall (struct size 64, `CLONE_ARGS_SIZE_VER0`).
    pub const V5_3: Self = Self::new(5, 3);
    /// 5.5: `set_tid`/`set_tid_size` (size 80) and `CLONE_CLEAR_SIGHAND`.
    pub const V5_5: Self = Self::new(5, 5);
    /// 5.7: `CLONE_INTO_CGROUP` and the `cgroup` field (size 88).
    pub const V5_7: Self = Self::new(5, 7);
    /// 5.9: `CAP_CHECKPOINT_RESTORE` [unverified version].
    pub const V5_9: Self = Self::new(5, 9);
    /// 5.10 LTS.
    pub const V5_10: Self = Self::new(5, 10);
    /// 6.1 LTS (`kernel/fork.c` read at the K-6.1 commit of the facts file).
    pub const V6_1: Self = Self::new(6, 1);
    /// 6.3: `clone3` accepts `CLONE_NEWTIME` [unverified: mainline release of the 2023 fix].
    pub const V6_3: Self = Self::new(6, 3);
    /// 6.6 LTS.
    pub const V6_6: Self = Self::new(6, 6);
    /// 6.9: `CLONE_PIDFD | CLONE_THREAD` allowed (`PIDFD_THREAD`).
    pub const V6_9: Self = Self::new(6, 9);
    /// 6.12 LTS.
    pub const V6_12: Self = Self::new(6, 12);
    /// 6.18 (the kernel the differential test ran on).
    pub const V6_18: Self = Self::new(6, 18);
    /// Linux mainline as of 2026 (the K-new `fork.c` with `CLONE_AUTOREAP`, `CLONE_NNP` and
    /// `CLONE_PIDFD_AUTOKILL`). The release number 7.1 is **\[unverified\]**: only the tree was
    /// read, not a tag.
    pub const MAINLINE_2026: Self = Self::new(7, 1);
    /// 7.1: `clone3(CLONE_EMPTY_MNTNS)` and `kernel_clone`'s `valid_signal(exit_signal)`
    /// check, both seen in Debian's 7.2.13. Both reached mainline during 7.1's cycle, by
    /// kernel.org's push notices for `torvalds/linux` master: "namespace: allow creating empty
    /// mount namespaces" with the `vfs-7.1-rc1.mount.v2` pull on 15 April 2026 (the merge
    /// window), and 09e7827e7857 with `mm-hotfixes-stable-2026-05-25-16-22`, merged after
    /// 7.1-rc6's kunit fixes (26 May 2026). No 7.0 or 7.1 kernel was booted.
    pub const V7_1: Self = Self::new(7, 1);

    /// Whether the `clone3` syscall exists at all (5.3).
    #[must_use]
    pub const fn has_clone3(self) -> bool {
        self.at_least(Self::V5_3)
    }

    /// `sizeof(struct clone_args)` the kernel knows: 64 (5.3), 80 (5.5), 88 (5.7+). Bytes past
    /// it must be zero (`copy_struct_from_user`).
    #[must_use]
    pub const fn clone_args_size(self) -> u64 {
        if self.at_least(Self::V5_7) {
            88
        } else if self.at_least(Self::V5_5) {
            80
        } else {
            64
        }
    }

    /// Flags above the legacy 32 bits that `clone3_args_valid` accepts.
    #[must_use]
    pub const fn clone3_extra_flags(self) -> CloneFlags {
        let mut f = CloneFlags::empty();
        if self.at_least(Self::V5_5) {
            f = f.union(CloneFlags::CLEAR_SIGHAND);
        }
        if self.at_least(Self::V5_7) {
            f = f.union(CloneFlags::INTO_CGROUP);
        }
        if self.has_autoreap() {
            f = f
                .union(CloneFlags::AUTOREAP)
                .union(CloneFlags::NNP)
                .union(CloneFlags::PIDFD_AUTOKILL);
        }
        if self.has_empty_mntns() {
            f = f.union(CloneFlags::EMPTY_MNTNS);
        }
        f
    }

    /// Whether `clone3` knows `CLONE_EMPTY_MNTNS`, which `kernel_clone` turns into
    /// `CLONE_NEWNS` before every other check (threshold [`Self::V7_1`]: merged for 7.1-rc1).
    #[must_use]
    pub const fn has_empty_mntns(self) -> bool {
        self.at_least(Self::V7_1)
    }

    /// Whether `kernel_clone` refuses an exit signal above `_NSIG` (`valid_signal`), for the
    /// legacy `clone` too, instead of `copy_clone_args_from_user` for `clone3` only
    /// ("kernel/fork: validate exit_signal in kernel_clone()", upstream 09e7827e7857; threshold
    /// [`Self::V7_1`]: merged during 7.1-rc6's week). 7.0- and 6.12-stable review series of
    /// 7 June 2026 carried it, and Oleg Nesterov asked to drop it from every stable queue;
    /// Debian's 6.12.95 still ignores the byte, and no stable release is modelled.
    #[must_use]
    pub const fn kernel_clone_checks_exit_signal(self) -> bool {
        self.at_least(Self::V7_1)
    }

    /// Whether `clone3` accepts `CLONE_NEWTIME` (0x80) in `flags`: `clone3_args_valid` masks it
    /// out of `CSIGNAL` since the 2023 fix "fork: allow CLONE_NEWTIME in clone3 flags" (pulled
    /// for 6.3-rc2, so mainline 6.3). It was backported to the stable series in the releases of
    /// 17 March 2023 (their announcements list it): 5.10.175, 5.15.103, 6.1.20 and 6.2.7.
    /// Debian's 6.1.176 accepts the flag (`cargo xtask differential`); before this the
    /// threshold was 6.3 for every series.
    #[must_use]
    pub const fn clone3_accepts_newtime(self) -> bool {
        // Key ranges [from, from + len): 6.3 and later, and each stable series from the
        // release that took the fix up to the next series' first release.
        const fn series(major: u16, minor: u16, patch: u16) -> (u64, u64) {
            let from = LinuxVersion {
                major,
                minor,
                patch,
            }
            .key();
            (from, LinuxVersion::new(major, minor + 1).key() - from)
        }
        const RANGES: [(u64, u64); 5] = [
            (
                LinuxVersion::V6_3.key(),
                u64::MAX - LinuxVersion::V6_3.key(),
            ),
            series(6, 2, 7),
            series(6, 1, 20),
            series(5, 15, 103),
            series(5, 10, 175),
        ];
        let key = self.key();
        let mut i = 0;
        while i < RANGES.len() {
            if key.wrapping_sub(RANGES[i].0) < RANGES[i].1 {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Whether `CLONE_PIDFD | CLONE_THREAD` is allowed (`PIDFD_THREAD`, 6.9).
    #[must_use]
    pub const fn pidfd_thread(self) -> bool {
        self.at_least(Self::V6_9)
    }

    /// Whether `CLONE_AUTOREAP`, `CLONE_NNP` and `CLONE_PIDFD_AUTOKILL` exist (2026 mainline;
    /// threshold [`Self::MAINLINE_2026`] is **\[unverified\]**).
    #[must_use]
    pub const fn has_autoreap(self) -> bool {
        self.at_least(Self::MAINLINE_2026)
    }

    /// Whether `CAP_CHECKPOINT_RESTORE` also permits `set_tid` (5.9; before it only
    /// `CAP_SYS_ADMIN`).
    #[must_use]
    pub const fn has_cap_checkpoint_restore(self) -> bool {
        self.at_least(Self::V5_9)
    }

    /// Whether each pid namespace has its own `pid_max`, a new one starting at
    /// `PID_MAX_LIMIT` (6.14 **[unverified version]**; behaviour observed on 6.18).
    #[must_use]
    pub const fn per_ns_pid_max(self) -> bool {
        self.at_least(Self::new(6, 14))
    }

    /// `self >= other`, usable in `const` context.
    #[must_use]
    pub const fn at_least(self, other: Self) -> bool {
        self.key() >= other.key()
    }
}

impl core::fmt::Display for LinuxVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// Whether `arch` has a working `clone3` entry on `linux` (else **ENOSYS**).
///
/// Per-arch first versions come from [`Arch::has_clone3`]. ia64 never wired syscall 435
/// ("reserved for clone3"). sparc had it reserved, then defined
/// `__ARCH_BROKEN_SYS_CLONE3`, until the January 2026 patch "sparc: Add architecture support
/// for clone3"; its first release is taken as [`LinuxVersion::MAINLINE_2026`] **\[unverified\]**.
#[must_use]
pub const fn clone3_available(arch: Arch, linux: LinuxVersion) -> bool {
    if !linux.has_clone3() {
        return false;
    }
    match arch {
        Arch::Sparc64 => linux.at_least(LinuxVersion::MAINLINE_2026),
        _ => arch.has_clone3((linux.major as u32, linux.minor as u32)),
    }
}

/// `TASK_SIZE_MAX` for a native task on `arch` ([`Arch::user_address_limit`], which says
/// which configuration each value assumes; only x86_64 is verified, by the differential test).
#[must_use]
pub const fn default_task_size_max(arch: Arch) -> u64 {
    arch.user_address_limit()
}

/// The caller's situation. Each field names the kernel check it feeds.
///
/// Build one with [`Policy::linux`] (a privileged caller on a kernel with every namespace
/// configured) and adjust with the `with_*` methods.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Kernel release: picks the known `clone3` flags and size, `CLONE_NEWTIME` in `clone3`,
    /// `PIDFD_THREAD`, the AUTOREAP family and whether `clone3` exists at all.
    pub linux: LinuxVersion,
    /// Architecture: `__ARCH_BROKEN_SYS_CLONE3` (ENOSYS), `CONFIG_STACK_GROWSUP` (hppa: the
    /// `clone3` stack is not moved to its top) and x86_64's TLS range check in `copy_thread`.
    pub arch: Arch,
    /// `PAGE_SIZE`: `copy_clone_args_from_user` returns **E2BIG** for a bigger `size`.
    pub page_size: u64,
    /// `TASK_SIZE_MAX`: `access_ok(stack, stack_size)` in `clone3_stack_valid` (not on s390x,
    /// hppa and sparc64, where `access_ok` is constant true: [`Policy::access_ok`]) and, on
    /// x86_64, `CLONE_SETTLS` with `tls >= TASK_SIZE_MAX` (**EPERM**, `do_arch_prctl_64`).
    ///
    /// For an i386 caller on an x86_64 kernel (compat) this is the 64-bit kernel's value
    /// (`0x7fff_ffff_f000`), not i386's [`Arch::user_address_limit`]: x86_64's `access_ok`
    /// does not depend on the caller's ABI. Observed on Linux 6.18 by the differential test
    /// (`clone3` through `int 0x80` accepts stacks at 3 GiB, at 4 GiB and ending at
    /// `0x7fff_ffff_f000`, and refuses one byte more).
    pub task_size_max: u64,
    /// `ns_capable(current_user_ns(), CAP_SYS_ADMIN)`: needed by `copy_namespaces` for any
    /// `CLONE_NEW*` except `CLONE_NEWUSER` (unless `CLONE_NEWUSER` is also given: then the
    /// check runs in the new user namespace, which the caller owns), by `alloc_pid` for
    /// `set_tid`, and (2026) by `CLONE_PIDFD_AUTOKILL` without `CLONE_NNP`.
    pub cap_sys_admin: bool,
    /// `CAP_CHECKPOINT_RESTORE` in the user namespace owning the caller's pid namespace
    /// (`checkpoint_restore_ns_capable` in `alloc_pid`, 5.9+).
    pub cap_checkpoint_restore: bool,
    /// Whether `copy_creds` → `create_user_ns` lets this caller make a user namespace.
    /// `false` models its **EPERM** cases (caller chrooted, uid/gid without a mapping in
    /// the parent namespace, an LSM or distro sysctl refusing unprivileged user namespaces).
    pub user_ns_allowed: bool,
    /// `current->signal->flags & SIGNAL_UNKILLABLE`: the caller is the init of its pid
    /// namespace (global init or a container init), so `CLONE_PARENT` is **EINVAL**.
    pub pid_ns_init: bool,
    /// `task_active_pid_ns(current) != nsproxy->pid_ns_for_children`, i.e. the caller ran
    /// `unshare(CLONE_NEWPID)`: its children go to a fresh child namespace that has no init
    /// yet. Then `CLONE_THREAD` is **EINVAL** (`copy_process`), `CLONE_NEWPID` is **EINVAL**
    /// (`copy_pid_ns`), and `set_tid[0]` must be 1 (`alloc_pid`).
    pub pid_ns_for_children_differs: bool,
    /// Level of the caller's active pid namespace (0 = initial). `alloc_pid` limits
    /// `set_tid_size` to the target level + 1, and `create_pid_namespace` refuses a level
    /// above `MAX_PID_NS_LEVEL` (32) with **ENOSPC**.
    pub pid_ns_level: u32,
    /// `pid_max` of the caller's active pid namespace: `alloc_pid` refuses a `set_tid` entry
    /// `>= pid_max` for that level. Since 6.14 each pid namespace has its own `pid_max` and a
    /// new one starts at `PID_MAX_LIMIT` (4194304 on 64-bit; observed on 6.18), whatever its
    /// parent's value; before, one global value applies to every level.
    pub pid_max: u32,
    /// `pid_max` of the caller's ancestor pid namespaces (one value for all of them), for
    /// `set_tid` entries beyond the caller's level. Only read on 6.14+.
    pub ancestor_pid_max: u32,
    /// The namespace types the kernel was built with (`CONFIG_*_NS`, `CONFIG_CGROUPS`). A
    /// `CLONE_NEW*` outside this set is **EINVAL** (`create_new_namespaces`, or
    /// `create_user_ns`'s stub for `CLONE_NEWUSER`).
    pub namespaces_configured: CloneFlags,
    /// `current->signal->autoreap` (2026 mainline): the caller was itself created with
    /// `CLONE_AUTOREAP`, so `CLONE_PARENT` is **EINVAL**.
    pub autoreap_parent: bool,
    /// What `cgroup_can_fork` returns for `CLONE_INTO_CGROUP` with the `cgroup` fd the caller
    /// passes (`None` = accepted). The fd's validity, cgroup version and permissions are
    /// runtime state; the caller supplies the outcome and the validator places it in Linux's
    /// order (after `alloc_pid` and the pidfd).
    pub into_cgroup_error: Option<Errno>,
}

/// Every namespace flag, including `CLONE_NEWUSER`.
const ALL_NAMESPACES: CloneFlags = NAMESPACE_FLAGS.union(CloneFlags::NEWUSER);

impl Policy {
    /// A privileged caller (CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE, not init) in the initial
    /// pid namespace, on `linux` built with every namespace type, 4 KiB pages, the default
    /// `pid_max` (32768) and the arch's usual `TASK_SIZE_MAX`.
    #[must_use]
    pub const fn linux(arch: Arch, linux: LinuxVersion) -> Self {
        Self {
            linux,
            arch,
            page_size: 4096,
            task_size_max: default_task_size_max(arch),
            cap_sys_admin: true,
            cap_checkpoint_restore: true,
            user_ns_allowed: true,
            pid_ns_init: false,
            pid_ns_for_children_differs: false,
            pid_ns_level: 0,
            pid_max: 32768,
            ancestor_pid_max: 32768,
            namespaces_configured: ALL_NAMESPACES,
            autoreap_parent: false,
            into_cgroup_error: None,
        }
    }

    /// The same caller without `CAP_SYS_ADMIN` and `CAP_CHECKPOINT_RESTORE` (user namespaces
    /// still allowed, as on most distributions).
    #[must_use]
    pub const fn unprivileged(self) -> Self {
        self.with_cap_sys_admin(false)
            .with_cap_checkpoint_restore(false)
    }

    /// Sets [`Self::linux`].
    #[must_use]
    pub const fn with_linux(mut self, v: LinuxVersion) -> Self {
        self.linux = v;
        self
    }
    /// Sets [`Self::arch`] (and resets [`Self::task_size_max`] to the arch default).
    #[must_use]
    pub const fn with_arch(mut self, arch: Arch) -> Self {
        self.arch = arch;
        self.task_size_max = default_task_size_max(arch);
        self
    }
    /// Sets [`Self::page_size`].
    #[must_use]
    pub const fn with_page_size(mut self, v: u64) -> Self {
        self.page_size = v;
        self
    }
    /// Sets [`Self::task_size_max`].
    #[must_use]
    pub const fn with_task_size_max(mut self, v: u64) -> Self {
        self.task_size_max = v;
        self
    }
    /// Sets [`Self::cap_sys_admin`].
    #[must_use]
    pub const fn with_cap_sys_admin(mut self, v: bool) -> Self {
        self.cap_sys_admin = v;
        self
    }
    /// Sets [`Self::cap_checkpoint_restore`].
    #[must_use]
    pub const fn with_cap_checkpoint_restore(mut self, v: bool) -> Self {
        self.cap_checkpoint_restore = v;
        self
    }
    /// Sets [`Self::user_ns_allowed`].
    #[must_use]
    pub const fn with_user_ns_allowed(mut self, v: bool) -> Self {
        self.user_ns_allowed = v;
        self
    }
    /// Sets [`Self::pid_ns_init`].
    #[must_use]
    pub const fn with_pid_ns_init(mut self, v: bool) -> Self {
        self.pid_ns_init = v;
        self
    }
    /// Sets [`Self::pid_ns_for_children_differs`].
    #[must_use]
    pub const fn with_pid_ns_for_children_differs(mut self, v: bool) -> Self {
        self.pid_ns_for_children_differs = v;
        self
    }
    /// Sets [`Self::pid_ns_level`].
    #[must_use]
    pub const fn with_pid_ns_level(mut self, v: u32) -> Self {
        self.pid_ns_level = v;
        self
    }
    /// Sets [`Self::pid_max`].
    #[must_use]
    pub const fn with_pid_max(mut self, v: u32) -> Self {
        self.pid_max = v;
        self
    }
    /// Sets [`Self::ancestor_pid_max`].
    #[must_use]
    pub const fn with_ancestor_pid_max(mut self, v: u32) -> Self {
        self.ancestor_pid_max = v;
        self
    }
    /// Sets [`Self::namespaces_configured`].
    #[must_use]
    pub const fn with_namespaces_configured(mut self, v: CloneFlags) -> Self {
        self.namespaces_configured = v;
        self
    }
    /// Sets [`Self::autoreap_parent`].
    #[must_use]
    pub const fn with_autoreap_parent(mut self, v: bool) -> Self {
        self.autoreap_parent = v;
        self
    }
    /// Sets [`Self::into_cgroup_error`].
    #[must_use]
    pub const fn with_into_cgroup_error(mut self, v: Option<Errno>) -> Self {
        self.into_cgroup_error = v;
        self
    }

    /// Whether `clone3` exists for this arch and version (else **ENOSYS**).
    #[must_use]
    pub const fn has_clone3(&self) -> bool {
        clone3_available(self.arch, self.linux)
    }

    /// `access_ok(addr, len)` for a non-constant `len`: the range must not wrap and must end
    /// at or below [`Self::task_size_max`]. Always true on s390x, hppa and sparc64, whose
    /// kernels have a separate user address space ([`Arch::separate_user_address_space`]).
    #[must_use]
    pub const fn access_ok(&self, addr: u64, len: u64) -> bool {
        // The range first: the arch is asked only about ranges outside it.
        match addr.checked_add(len) {
            Some(end) if end <= self.task_size_max => true,
            _ => self.arch.separate_user_address_space(),
        }
    }

    /// `checkpoint_restore_ns_capable()` for a namespace owned by the caller's user namespace.
    #[must_use]
    pub const fn checkpoint_restore_capable(&self) -> bool {
        self.cap_sys_admin
            || (self.cap_checkpoint_restore && self.linux.has_cap_checkpoint_restore())
    }

    /// `pid_max` for the `i`-th `set_tid` entry (0 = innermost), where `fresh` says the
    /// innermost level is a pid namespace made by this call or by `unshare(CLONE_NEWPID)`.
    #[must_use]
    pub const fn set_tid_pid_max(&self, i: usize, fresh: bool) -> u32 {
        if !self.linux.per_ns_pid_max() {
            return self.pid_max;
        }
        match (fresh, i) {
            (true, 0) => {
                // PID_MAX_LIMIT: 4 Mi where long is 64-bit, PID_MAX_DEFAULT otherwise.
                if self.arch.pointer_bits() == 64 {
                    4 * 1024 * 1024
                } else {
                    32768
                }
            }
            (true, 1) | (false, 0) => self.pid_max,
            _ => self.ancestor_pid_max,
        }
    }

    /// `SIGCHLD` on this arch.
    #[must_use]
    pub const fn sigchld(&self) -> u8 {
        self.arch.sigchld()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_thresholds() {
        assert!(!LinuxVersion::V6_1.clone3_accepts_newtime());
        assert!(LinuxVersion::V6_12.clone3_accepts_newtime());
        // The stable backports, from the 17 March 2023 stable announcements.
        assert!(!LinuxVersion::V6_1.with_patch(19).clone3_accepts_newtime());
        assert!(LinuxVersion::V6_1.with_patch(20).clone3_accepts_newtime());
        assert!(LinuxVersion::V6_1.with_patch(176).clone3_accepts_newtime());
        assert!(
            !LinuxVersion::new(5, 10)
                .with_patch(174)
                .clone3_accepts_newtime()
        );
        assert!(
            LinuxVersion::new(5, 10)
                .with_patch(175)
                .clone3_accepts_newtime()
        );
        assert!(
            LinuxVersion::new(5, 15)
                .with_patch(103)
                .clone3_accepts_newtime()
        );
        assert!(
            !LinuxVersion::new(6, 2)
                .with_patch(6)
                .clone3_accepts_newtime()
        );
        assert!(
            LinuxVersion::new(6, 2)
                .with_patch(7)
                .clone3_accepts_newtime()
        );
        assert!(LinuxVersion::V6_1.with_patch(176) < LinuxVersion::V6_3);
        assert!(
            LinuxVersion::V6_1
                .with_patch(176)
                .at_least(LinuxVersion::V6_1)
        );
        assert!(!LinuxVersion::new(6, 8).pidfd_thread());
        assert!(LinuxVersion::V6_9.pidfd_thread());
        assert!(!LinuxVersion::V6_18.has_autoreap());
        assert!(LinuxVersion::MAINLINE_2026.has_autoreap());
        assert_eq!(LinuxVersion::new(5, 4).clone_args_size(), 64);
        assert_eq!(LinuxVersion::new(5, 6).clone_args_size(), 80);
        assert_eq!(LinuxVersion::V6_1.clone_args_size(), 88);
        assert!(LinuxVersion::new(7, 0) > LinuxVersion::V6_18);
    }

    #[test]
    fn clone3_availability() {
        let v = LinuxVersion::V6_18;
        assert!(clone3_available(Arch::X86_64, v));
        assert!(!clone3_available(Arch::Ia64, LinuxVersion::V6_1));
        assert!(!clone3_available(Arch::Sparc64, v));
        assert!(clone3_available(Arch::Sparc64, LinuxVersion::MAINLINE_2026));
        assert!(!clone3_available(Arch::X86_64, LinuxVersion::new(5, 2)));
    }

    #[test]
    fn access_ok_bounds() {
        let p = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
        assert!(p.access_ok(0x1000, 0x1000));
        assert!(p.access_ok(0x7fff_ffff_e000, 0x1000));
        assert!(!p.access_ok(0x7fff_ffff_f000, 1));
        assert!(!p.access_ok(u64::MAX, 2));
    }
}
