//! What `unshare` and `setns` read about the calling task that a [`crate::Policy`] does not
//! say: which of its resources other tasks share, and how deep its user namespace is.
//!
//! `clone` never looks at these (its child gets fresh copies or shares them by its own flags),
//! but `check_unshare_flags`, `userns_install`, `mntns_install` and `timens_install` refuse
//! when the caller shares its thread group, signal handlers, address space or `fs_struct`.

use crate::error::{Change, Fix, Reach};

/// The calling task's sharing situation for [`super::validate_unshare`] and
/// [`super::validate_setns`]. Each field names the kernel expression it stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallerTask {
    /// `!thread_group_empty(current)`: the thread group has other threads.
    pub other_threads: bool,
    /// `refcount_read(&current->sighand->count) > 1`: another task shares the signal
    /// handlers (every thread; also a `CLONE_SIGHAND` child outside the thread group).
    pub sighand_shared: bool,
    /// `!current_is_single_threaded()`: another task uses the same `mm` (threads, a
    /// `CLONE_VM` child, a `vfork` parent).
    pub mm_shared: bool,
    /// `current->fs->users > 1`: another task shares the root and working directory (threads,
    /// a `CLONE_FS` child).
    pub fs_shared: bool,
    /// `current_user_ns()->level` (0 = the initial user namespace): `create_user_ns` refuses
    /// a parent deeper than 32 with **ENOSPC**.
    pub user_ns_level: u32,
}

impl CallerTask {
    /// A single-threaded task that shares nothing, in the initial user namespace.
    pub const SINGLE: Self = Self::threads(1);

    /// A process of `n` ordinary pthreads (`CLONE_VM | CLONE_FS | CLONE_FILES |
    /// CLONE_SIGHAND | CLONE_THREAD`); `n <= 1` is a single-threaded process.
    #[must_use]
    pub const fn threads(n: u32) -> Self {
        let shared = n > 1;
        Self {
            other_threads: shared,
            sighand_shared: shared,
            mm_shared: shared,
            fs_shared: shared,
            user_ns_level: 0,
        }
    }

    /// Sets [`Self::user_ns_level`].
    #[must_use]
    pub const fn with_user_ns_level(mut self, level: u32) -> Self {
        self.user_ns_level = level;
        self
    }
}

impl Default for CallerTask {
    fn default() -> Self {
        Self::SINGLE
    }
}

/// The fix for an `unshare`/`setns` refusal, found along the chain of failures: the first
/// candidate for the failed rule that passes, or else that moves the call to another rule,
/// whose candidates are then tried on top (up to [`Fix::MAX_CHANGES`] changes). A chain that
/// ends in a pass is [`Reach::Arguments`] ([`Reach::Outside`] if it needs a privilege);
/// otherwise the first candidate is returned as unverified advice ([`Reach::Unknown`]), and
/// no candidate at all gives [`Fix::NONE`].
///
/// `revalidate` applies a whole fix and returns the failure that remains (`Ok` = passes,
/// `None` = a change it cannot apply); `candidates` lists the changes for a failure.
pub(super) fn search_fix<F: Copy + PartialEq>(
    failed: F,
    candidates: impl Fn(F) -> [Option<Change>; 3],
    revalidate: impl Fn(&Fix) -> Option<Result<(), F>>,
) -> Fix {
    let first = candidates(failed)[0];
    let mut fix = Fix::NONE;
    let mut at = failed;
    for _ in 0..Fix::MAX_CHANGES {
        let mut next = None;
        for c in candidates(at).into_iter().flatten() {
            let Some(tried) = fix.and(c) else { continue };
            match revalidate(&tried) {
                Some(Ok(())) => {
                    let outside = tried.changes().any(|c| !c.in_arguments());
                    let reach = if outside {
                        Reach::Outside
                    } else {
                        Reach::Arguments
                    };
                    return tried.with_reach(reach);
                }
                Some(Err(other)) if other != at && next.is_none() => next = Some((tried, other)),
                _ => {}
            }
        }
        match next {
            Some((f, other)) => (fix, at) = (f, other),
            None => break,
        }
    }
    match first {
        Some(c) => Fix::one(c, Reach::Unknown),
        None => Fix::NONE,
    }
}
