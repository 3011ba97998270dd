//! Memory mappings of one address space, and the calls that change them: `mmap`, `munmap`,
//! `mprotect`, `brk` and `madvise`, with Linux's argument checks in Linux's order
//! (`mm/mmap.c`, `mm/mprotect.c`, `mm/madvise.c`, x86's `sys_mmap`).
//!
//! [`Mm`] is the list of mappings (Linux's VMAs: start, end, protection, shared or private),
//! the program break and the `membarrier` registrations. `crate::addrspace` consults it when a
//! page that is not present is touched: inside a mapping whose protection allows the access
//! the page becomes a zeroed frame with the mapping's permissions, anywhere else the access
//! faults (EFAULT for the kernel, SIGSEGV for the user). That is how `PROT_NONE` guard pages
//! and unmapped holes fault as they do on Linux.
//!
//! Layout, set up by [`Mm::for_image`] when a program is loaded:
//!
//! * a program linked at the usual static address (x86_64: 0x400000, below the stub's own
//!   `USER_IMAGE_BASE`) gets Linux's layout: its `PT_LOAD` segments, the break right after
//!   the last one, an 8 MiB stack at the top of [`arch::USER_REGION`] (demand-paged, like
//!   `RLIMIT_STACK`), and `mmap` placing new mappings top-down below the stack's guard gap;
//! * the stub's own libc-free programs (linked at or above `USER_IMAGE_BASE`, written for the
//!   stub's original model) get one private read-write mapping over the rest of the region
//!   above `USER_IMAGE_BASE`, which they use for thread stacks without asking.
//!
//! Shared anonymous mappings are populated when they are created (every page gets its frame),
//! so a fork child shares the frames themselves rather than copy-on-write copies.
//!
//! What differs from Linux, on purpose: the address space is [`arch::USER_REGION`] only (a
//! mapping that would not fit, or a `MAP_FIXED` outside it, is ENOMEM, as beyond
//! `TASK_SIZE`); a mapping or protection that is writable and executable at once is EACCES
//! (the stub keeps W^X, as a kernel whose security module denies `execmem` answers); file
//! mappings are ENODEV (the console and pidfds have no `mmap`); `MAP_HUGETLB` is ENOMEM (no
//! huge pages reserved).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::arch::{self, Perm};
use crate::files::FdKind;
use crate::frames::FRAME_SIZE;
use crate::syscall::{EBADF, EINVAL, SysResult};
use crate::task::Kernel;

pub const PROT_READ: u64 = 1;
pub const PROT_WRITE: u64 = 2;
pub const PROT_EXEC: u64 = 4;
const PROT_SEM: u64 = 8;
const PROT_GROWSDOWN: u64 = 0x0100_0000;
const PROT_GROWSUP: u64 = 0x0200_0000;

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_TYPE: u64 = 0x0f;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_HUGETLB: u64 = 0x4_0000;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

const EACCES: i32 = 13;
const ENOMEM: i32 = 12;
const ENODEV: i32 = 19;
const EEXIST: i32 = 17;

/// The stack Linux lets a program grow to by default (`RLIMIT_STACK`, 8 MiB).
pub const STACK_SIZE: u64 = 8 << 20;
/// Linux's `stack_guard_gap` (256 pages): no mapping is placed this close below the stack.
const STACK_GUARD_GAP: u64 = 256 * FRAME_SIZE;
/// Linux's default `mmap_min_addr`: a hint below it is raised to it.
const MMAP_MIN_ADDR: u64 = 0x1_0000;

/// One mapping: `[start, end)`, page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    /// `PROT_READ | PROT_WRITE | PROT_EXEC` bits.
    pub prot: u64,
    /// `MAP_SHARED`: a fork shares the frames (populated at creation).
    pub shared: bool,
}

/// The mappings of one address space, its break and its `membarrier` registrations.
#[derive(Clone, Default)]
pub struct Mm {
    /// Sorted by `start`, disjoint.
    vmas: Vec<Vma>,
    /// The break's lowest value (`mm->start_brk`) and current value (`mm->brk`).
    pub start_brk: u64,
    pub brk: u64,
    /// New mappings go top-down below this.
    mmap_base: u64,
    /// Frames of present pages made `PROT_NONE`: kept (with their copy-on-write mark) so a
    /// later `mprotect` gives the same contents back.
    pub parked: BTreeMap<u64, (u64, bool)>,
    /// `MEMBARRIER_CMD_REGISTER_*` bits seen.
    pub membarrier: u64,
}

fn page_up(x: u64) -> Option<u64> {
    x.checked_add(FRAME_SIZE - 1).map(|v| v & !(FRAME_SIZE - 1))
}

/// The page permissions for a protection, `None` for no access (`PROT_NONE`).
pub fn perm_for(prot: u64) -> Option<Perm> {
    (prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0).then_some(Perm {
        write: prot & PROT_WRITE != 0,
        exec: prot & PROT_EXEC != 0 && prot & PROT_WRITE == 0,
        cow: false,
    })
}

impl Mm {
    /// The layout for a program whose `PT_LOAD` segments cover `segments` (page-aligned
    /// ranges with their `PROT_*` bits; pages two segments share get both protections).
    pub fn for_image(segments: &[(u64, u64, u64)]) -> Self {
        let mut mm = Mm::default();
        let region = arch::USER_REGION;
        for &(start, end, prot) in segments {
            let mut page = start;
            while page < end {
                let merged = prot | mm.find(page).map_or(0, |v| v.prot);
                mm.remove(page, page + FRAME_SIZE);
                mm.insert(Vma {
                    start: page,
                    end: page + FRAME_SIZE,
                    prot: merged,
                    shared: false,
                });
                page += FRAME_SIZE;
            }
        }
        let lowest = segments.iter().map(|s| s.0).min().unwrap_or(region.start);
        let top = segments.iter().map(|s| s.1).max().unwrap_or(region.start);
        // The stub's own programs: everything above USER_IMAGE_BASE is theirs; any other
        // program gets Linux's stack.
        let anon_from = if lowest >= arch::USER_IMAGE_BASE {
            arch::USER_IMAGE_BASE
        } else {
            region.end - STACK_SIZE
        };
        mm.fill_gaps(anon_from, region.end, PROT_READ | PROT_WRITE);
        mm.mmap_base = region.end - STACK_SIZE - STACK_GUARD_GAP;
        mm.start_brk = top;
        mm.brk = top;
        mm
    }

    /// Maps every unmapped part of `[start, end)` private with `prot`.
    fn fill_gaps(&mut self, start: u64, end: u64, prot: u64) {
        let mut at = start;
        for v in self.pieces(start, end) {
            if v.start > at {
                self.insert(Vma {
                    start: at,
                    end: v.start,
                    prot,
                    shared: false,
                });
            }
            at = v.end;
        }
        if at < end {
            self.insert(Vma {
                start: at,
                end,
                prot,
                shared: false,
            });
        }
    }

    /// `[start, end)` is no longer mapped (the caller released its frames).
    pub fn unmap(&mut self, start: u64, end: u64) {
        self.remove(start, end);
    }

    /// The mapping holding `va`.
    pub fn find(&self, va: u64) -> Option<&Vma> {
        let i = self.vmas.partition_point(|v| v.end <= va);
        self.vmas.get(i).filter(|v| v.start <= va)
    }

    /// Does any mapping overlap `[start, end)`?
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas.iter().any(|v| v.start < end && start < v.end)
    }

    /// Adds `vma` (the range must be free), merging with equal neighbours.
    fn insert(&mut self, vma: Vma) {
        let i = self.vmas.partition_point(|v| v.start < vma.start);
        self.vmas.insert(i, vma);
        // Merge with the next, then with the previous.
        if i + 1 < self.vmas.len() {
            let (a, b) = (self.vmas[i], self.vmas[i + 1]);
            if a.end == b.start && a.prot == b.prot && a.shared == b.shared {
                self.vmas[i].end = b.end;
                self.vmas.remove(i + 1);
            }
        }
        if i > 0 {
            let (a, b) = (self.vmas[i - 1], self.vmas[i]);
            if a.end == b.start && a.prot == b.prot && a.shared == b.shared {
                self.vmas[i - 1].end = b.end;
                self.vmas.remove(i);
            }
        }
    }

    /// Removes `[start, end)` from every mapping (splitting the ones it cuts).
    fn remove(&mut self, start: u64, end: u64) {
        let mut out = Vec::with_capacity(self.vmas.len() + 1);
        for v in self.vmas.drain(..) {
            if v.end <= start || end <= v.start {
                out.push(v);
                continue;
            }
            if v.start < start {
                out.push(Vma { end: start, ..v });
            }
            if end < v.end {
                out.push(Vma { start: end, ..v });
            }
        }
        self.vmas = out;
    }

    /// Every mapping overlapping `[start, end)`, clipped to it.
    fn pieces(&self, start: u64, end: u64) -> Vec<Vma> {
        self.vmas
            .iter()
            .filter(|v| v.start < end && start < v.end)
            .map(|v| Vma {
                start: v.start.max(start),
                end: v.end.min(end),
                ..*v
            })
            .collect()
    }

    /// The highest free range of `len` bytes below `mmap_base` (Linux's top-down
    /// `unmapped_area_topdown`).
    fn free_area(&self, len: u64) -> Option<u64> {
        let floor = arch::USER_REGION.start.max(MMAP_MIN_ADDR);
        let mut hi = self.mmap_base;
        for v in self.vmas.iter().rev() {
            if v.start >= hi {
                continue;
            }
            if v.end <= hi && hi - v.end >= len {
                return Some(hi - len);
            }
            hi = hi.min(v.start);
        }
        (hi >= floor && hi - floor >= len).then(|| hi - len)
    }

    /// What a not-yet-present page at `va` may become, for an access that writes or not:
    /// `Err` when no mapping allows it.
    pub fn demand(&self, va: u64, write: bool) -> Result<Perm, ()> {
        let vma = self.find(va).ok_or(())?;
        let perm = perm_for(vma.prot).ok_or(())?;
        if write && !perm.write {
            return Err(());
        }
        Ok(perm)
    }

    /// May a write to `va` break copy-on-write (is its mapping writable)?
    pub fn writable(&self, va: u64) -> bool {
        self.find(va).is_some_and(|v| v.prot & PROT_WRITE != 0)
    }

    /// Is `va` in a shared mapping?
    pub fn shared(&self, va: u64) -> bool {
        self.find(va).is_some_and(|v| v.shared)
    }
}

/// The task's fd for a file mapping: the console and pidfds have no `mmap` (ENODEV), a closed
/// fd is EBADF.
fn file_for_mmap(k: &Kernel, fd: u64) -> Result<(), i32> {
    match k.fd_kind(fd as u32) {
        FdKind::Free => Err(EBADF),
        // The tree's files are not mappable yet (see the README); its directories,
        // `/dev/null` and the console have no `mmap` on Linux either.
        FdKind::Console | FdKind::Pidfd(_) | FdKind::Pipe { .. } | FdKind::File(_) => Err(ENODEV),
    }
}

/// `mmap(addr, len, prot, flags, fd, off)` for the task in slot `i`.
pub fn sys_mmap(k: &mut Kernel, i: usize, a: [u64; 6]) -> SysResult {
    let [addr, len, prot, flags, fd, off] = a;
    // x86_64 `sys_mmap` and arm64/riscv `sys_mmap`: the offset must be page aligned.
    if off & (FRAME_SIZE - 1) != 0 {
        return Err(EINVAL);
    }
    // `ksys_mmap_pgoff`: a file mapping needs an open file.
    if flags & MAP_ANONYMOUS == 0 {
        file_for_mmap(k, fd)?;
    } else if flags & MAP_HUGETLB != 0 {
        return Err(ENOMEM);
    }
    // `do_mmap`.
    if len == 0 {
        return Err(EINVAL);
    }
    let len = page_up(len).filter(|&l| l != 0).ok_or(ENOMEM)?;
    if (off >> 12).checked_add(len >> 12).is_none() {
        return Err(75); // EOVERFLOW
    }
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let space = k.task(i).space().clone();
    let mm = space.mm.borrow_mut();
    // `get_unmapped_area`.
    if len > arch::TASK_SIZE_MAX {
        return Err(ENOMEM);
    }
    let start = if fixed {
        if addr & (FRAME_SIZE - 1) != 0 {
            return Err(EINVAL);
        }
        if addr > arch::TASK_SIZE_MAX - len {
            return Err(ENOMEM);
        }
        addr
    } else {
        let hint = page_up(addr.max(MMAP_MIN_ADDR)).unwrap_or(0);
        let hint_ok = addr != 0
            && hint >= arch::USER_REGION.start
            && hint
                .checked_add(len)
                .is_some_and(|e| e <= arch::USER_REGION.end && !mm.overlaps(hint, e));
        if hint_ok {
            hint
        } else {
            mm.free_area(len).ok_or(ENOMEM)?
        }
    };
    let end = start + len;
    if flags & MAP_FIXED_NOREPLACE != 0 && mm.overlaps(start, end) {
        return Err(EEXIST);
    }
    let shared = match flags & MAP_TYPE {
        MAP_SHARED => true,
        MAP_PRIVATE => false,
        _ => return Err(EINVAL),
    };
    if prot & PROT_WRITE != 0 && prot & PROT_EXEC != 0 {
        return Err(EACCES);
    }
    // The stub's address space is the user region only.
    if start < arch::USER_REGION.start || end > arch::USER_REGION.end {
        return Err(ENOMEM);
    }
    // MAP_FIXED replaces what was there.
    drop(mm);
    space.unmap_range(start, end);
    let mut mm = space.mm.borrow_mut();
    mm.insert(Vma {
        start,
        end,
        prot: prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
        shared,
    });
    drop(mm);
    if shared && let Err(e) = space.populate(start, end) {
        space.unmap_range(start, end);
        return Err(crate::syscall::errno(e));
    }
    Ok(start)
}

/// `munmap(addr, len)` (`do_vmi_munmap`).
pub fn sys_munmap(k: &mut Kernel, i: usize, addr: u64, len: u64) -> SysResult {
    if addr & (FRAME_SIZE - 1) != 0
        || addr > arch::TASK_SIZE_MAX
        || len > arch::TASK_SIZE_MAX - addr
    {
        return Err(EINVAL);
    }
    let end = page_up(addr + len).ok_or(EINVAL)?;
    if end == addr {
        return Err(EINVAL);
    }
    let space = k.task(i).space().clone();
    space.unmap_range(addr, end);
    Ok(0)
}

/// `mprotect(addr, len, prot)` (`do_mprotect_pkey`): the mappings up to the first hole change,
/// then a hole is ENOMEM, as in Linux.
pub fn sys_mprotect(k: &mut Kernel, i: usize, addr: u64, len: u64, prot: u64) -> SysResult {
    let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    if grows == PROT_GROWSDOWN | PROT_GROWSUP {
        return Err(EINVAL);
    }
    let prot = prot & !grows;
    if addr & (FRAME_SIZE - 1) != 0 {
        return Err(EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let len = page_up(len).ok_or(ENOMEM)?;
    let end = addr.checked_add(len).ok_or(ENOMEM)?;
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
        return Err(EINVAL);
    }
    let space = k.task(i).space().clone();
    let pieces = space.mm.borrow().pieces(addr, end);
    if pieces.first().is_none_or(|v| v.start > addr) {
        return Err(ENOMEM);
    }
    if prot & PROT_WRITE != 0 && prot & PROT_EXEC != 0 {
        return Err(EACCES);
    }
    let prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
    let mut at = addr;
    for v in pieces {
        if v.start != at {
            return Err(ENOMEM);
        }
        {
            let mut mm = space.mm.borrow_mut();
            mm.remove(v.start, v.end);
            mm.insert(Vma { prot, ..v });
        }
        space.protect_range(v.start, v.end);
        at = v.end;
    }
    if at < end {
        return Err(ENOMEM);
    }
    Ok(0)
}

/// `brk(addr)` (`mm/mmap.c`): below the start, or into another mapping, leaves the break
/// where it was; the return value is the break.
pub fn sys_brk(k: &mut Kernel, i: usize, addr: u64) -> SysResult {
    let space = k.task(i).space().clone();
    let (start_brk, old) = {
        let mm = space.mm.borrow();
        (mm.start_brk, mm.brk)
    };
    if addr < start_brk || addr > arch::USER_REGION.end {
        return Ok(old);
    }
    let (Some(new_page), Some(old_page)) = (page_up(addr), page_up(old)) else {
        return Ok(old);
    };
    if new_page == old_page {
        space.mm.borrow_mut().brk = addr;
        return Ok(addr);
    }
    if addr <= old {
        space.unmap_range(new_page, old_page);
        space.mm.borrow_mut().brk = addr;
        return Ok(addr);
    }
    let mut mm = space.mm.borrow_mut();
    // The new pages, one page of gap and the stack's guard gap must all be free.
    let clear = mm.vmas.iter().filter(|v| v.start >= old_page).all(|v| {
        let gap = if v.end == arch::USER_REGION.end {
            STACK_GUARD_GAP
        } else {
            0
        };
        new_page + FRAME_SIZE <= v.start.saturating_sub(gap)
    });
    if !clear || new_page > arch::USER_REGION.end {
        return Ok(old);
    }
    mm.insert(Vma {
        start: old_page,
        end: new_page,
        prot: PROT_READ | PROT_WRITE,
        shared: false,
    });
    mm.brk = addr;
    Ok(addr)
}

/// `madvise(addr, len, advice)`: the hints are accepted (and have nothing to do here);
/// `MADV_DONTNEED`, `MADV_DONTNEED_LOCKED` and `MADV_FREE` drop the pages of private
/// mappings, so they read as zero next time; `MADV_POPULATE_READ`/`_WRITE` fault the pages
/// in (see [`populate`]); advice that needs a feature the stub's kernel
/// is built without (KSM, transparent huge pages, memory failure, shared-memory hole
/// punching) is EINVAL as on such a kernel. A range with holes is ENOMEM after the mapped
/// parts are done.
pub fn sys_madvise(k: &mut Kernel, i: usize, addr: u64, len: u64, advice: u64) -> SysResult {
    const MADV_DONTNEED: u64 = 4;
    const MADV_FREE: u64 = 8;
    const MADV_DONTNEED_LOCKED: u64 = 24;
    const MADV_POPULATE_READ: u64 = 22;
    const MADV_POPULATE_WRITE: u64 = 23;
    let valid = matches!(advice, 0..=4 | 8 | 10 | 11 | 16..=24);
    if addr & (FRAME_SIZE - 1) != 0 || !valid {
        return Err(EINVAL);
    }
    let len = page_up(len).ok_or(EINVAL)?;
    let end = addr.checked_add(len).ok_or(EINVAL)?;
    if len == 0 {
        return Ok(0);
    }
    if matches!(advice, MADV_POPULATE_READ | MADV_POPULATE_WRITE) {
        return populate(k, i, addr, end, advice == MADV_POPULATE_WRITE);
    }
    let space = k.task(i).space().clone();
    let pieces = space.mm.borrow().pieces(addr, end);
    let drop_pages = matches!(advice, MADV_DONTNEED | MADV_FREE | MADV_DONTNEED_LOCKED);
    let mut covered = 0;
    for v in &pieces {
        covered += v.end - v.start;
        if drop_pages && !v.shared {
            space.drop_pages(v.start, v.end);
        }
    }
    if covered != len {
        return Err(ENOMEM);
    }
    Ok(0)
}

/// `MADV_POPULATE_READ`/`MADV_POPULATE_WRITE` over `[start, end)` (Linux's
/// `madvise_populate`): front to back, each page is faulted in as a user access of that kind
/// would fault it (a write gets a zeroed frame or breaks copy-on-write), so a later access
/// needs no frame. It stops at the first page that cannot be done, keeping what was done
/// before: a hole is ENOMEM, a mapping without the access's permission (`PROT_NONE`, a
/// read-only mapping for a write) EINVAL (`faultin_page_range` turns the permission EFAULT
/// into EINVAL), no frame left ENOMEM.
fn populate(k: &mut Kernel, i: usize, start: u64, end: u64, write: bool) -> SysResult {
    let space = k.task(i).space().clone();
    let needed = if write { PROT_WRITE } else { PROT_READ };
    for page in (start..end).step_by(FRAME_SIZE as usize) {
        let prot = space.mm.borrow().find(page).map(|v| v.prot).ok_or(ENOMEM)?;
        if prot & needed == 0 {
            return Err(EINVAL);
        }
        space
            .user_page(page, write)
            .map_err(crate::syscall::errno)?;
    }
    Ok(0)
}
