//! Robust futexes at thread exit (`exit_robust_list` and `handle_futex_death`,
//! `kernel/futex/core.c`): the kernel walks the list the thread registered with
//! `set_robust_list`, and every futex word still holding the thread's tid gets
//! `FUTEX_OWNER_DIED` (keeping `FUTEX_WAITERS`) and one waiter woken, so the next locker of a
//! robust mutex whose owner died sees EOWNERDEAD. The `list_op_pending` entry is handled last
//! (a zero word there wakes one waiter: the lock was being released). At most
//! `ROBUST_LIST_LIMIT` entries are walked; an unreadable entry ends the walk, as in Linux. PI
//! entries get the owner-died bit but no wake (the stub has no PI futexes).

use alloc::vec::Vec;

use crate::addrspace::AddressSpace;
use crate::task::{Kernel, Task};
use crate::{futex, uaccess};

const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const ROBUST_LIST_LIMIT: usize = 2048;

/// Walks exiting task `t`'s robust list (in its own address space) and wakes what it must.
pub fn exit_robust_list(k: &mut Kernel, t: &Task) {
    let head = t.sig.robust_list;
    if head == 0 {
        return;
    }
    let tid = t.tid;
    let wakes = AddressSpace::with_active(t.space(), || walk(head, tid));
    let mm = futex::mm_of(t);
    for uaddr in wakes {
        futex::wake(k, mm, uaddr, 1, futex::MATCH_ANY);
    }
}

/// The same for task `i`, still in the table, at `execve` (`exec_mm_release`): the walk runs
/// in its old address space, before the new one replaces it.
pub fn exec_robust_list(k: &mut Kernel, i: usize) {
    let t = k.task(i);
    let (head, tid, space, mm) = (t.sig.robust_list, t.tid, t.space().clone(), futex::mm_of(t));
    if head == 0 {
        return;
    }
    let wakes = AddressSpace::with_active(&space, || walk(head, tid));
    for uaddr in wakes {
        futex::wake(k, mm, uaddr, 1, futex::MATCH_ANY);
    }
}

/// A list pointer: the address, and the PI flag in bit 0 (`fetch_robust_entry`).
fn fetch(at: u64) -> Option<(u64, bool)> {
    let p = uaccess::read_u64(at).ok()?;
    Some((p & !1, p & 1 != 0))
}

/// The words to wake, after marking the dead owner's futexes.
fn walk(head: u64, tid: u32) -> Vec<u64> {
    let mut wakes = Vec::new();
    let Some((mut entry, mut pi)) = fetch(head) else {
        return wakes;
    };
    let Ok(offset) = uaccess::read_u64(head.wrapping_add(8)) else {
        return wakes;
    };
    let Some((pending, pending_pi)) = fetch(head.wrapping_add(16)) else {
        return wakes;
    };
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let next = fetch(entry);
        if entry != pending {
            death(entry.wrapping_add(offset), tid, pi, false, &mut wakes);
        }
        let Some((n, npi)) = next else {
            return wakes;
        };
        entry = n;
        pi = npi;
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        death(
            pending.wrapping_add(offset),
            tid,
            pending_pi,
            true,
            &mut wakes,
        );
    }
    wakes
}

/// `handle_futex_death` for the word at `uaddr`.
fn death(uaddr: u64, tid: u32, pi: bool, pending_op: bool, wakes: &mut Vec<u64>) {
    if !uaddr.is_multiple_of(4) {
        return;
    }
    let Ok(uval) = uaccess::read_u32(uaddr) else {
        return;
    };
    if pending_op && !pi && uval == 0 {
        wakes.push(uaddr);
        return;
    }
    if uval & FUTEX_TID_MASK != tid {
        return;
    }
    let mval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    if uaccess::write_u32(uaddr, mval).is_err() {
        return;
    }
    if !pi && uval & FUTEX_WAITERS != 0 {
        wakes.push(uaddr);
    }
}
