//! Address spaces: one page table per process, 4 KiB user pages over [`arch::USER_REGION`],
//! frames from [`crate::frames`].
//!
//! An [`AddressSpace`] owns its upper tables, a leaf table for each 2 MiB of the user region where
//! a page was ever mapped (allocated on first use, so a big, sparse region costs only the tables it
//! uses), and one frame reference per present page. The kernel part of every page table is the boot
//! identity map, supervisor-only (`arch::mmu::build_upper`). Tasks hold an `Rc` to their space:
//! `CLONE_VM` shares it, a fork gets [`AddressSpace::fork`] (every writable page becomes read-only
//! copy-on-write in both, each frame gains a reference), and the space is freed, every frame
//! released, when its last task exits or execs.
//!
//! Which addresses are memory is the space's [`Mm`] (`crate::mman`: the ELF segments, stack,
//! break and `mmap` mappings): a page that is not present yet becomes a zeroed frame on first
//! touch (user fault or kernel access) with its mapping's permissions, if a mapping allows the
//! access; anywhere else the access faults. No page is writable and executable at once.
//!
//! The kernel never dereferences a user address: [`AddressSpace::user_page`] walks the table,
//! checks the access as the CPU would (breaking COW for writes, refusing writes to read-only
//! pages with EFAULT), and returns the frame, which the kernel reaches through the identity
//! map.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use clone_core::Errno;

use crate::arch::{self, Perm, mmu};
use crate::frames::{self, FRAME_SIZE};
use crate::mman::{self, Mm};

/// 2 MiB: what one leaf table maps.
const LEAF_SPAN: u64 = 512 * FRAME_SIZE;
/// Leaf tables per address space.
const LEAVES: usize = ((arch::USER_REGION.end - arch::USER_REGION.start) / LEAF_SPAN) as usize;

const _: () = assert!(
    arch::USER_REGION.start.is_multiple_of(LEAF_SPAN)
        && arch::USER_REGION.end.is_multiple_of(LEAF_SPAN)
);

/// Why a page of an ELF segment cannot be mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Outside the user region.
    Outside,
    /// It would be writable and executable (W^X).
    WritableAndExecutable,
    /// No frame left.
    NoFrames,
}

/// One process's page table and the frames it maps.
pub struct AddressSpace {
    root: u64,
    upper: [u64; mmu::UPPER_TABLES],
    /// The leaf table of each 2 MiB slot of the user region, 0 until a page in it is mapped.
    leaves: [Cell<u64>; LEAVES],
    /// The mappings: which pages may exist, and with what permissions.
    pub mm: RefCell<Mm>,
}

/// The space whose table is loaded (what user pointers of the running task refer to).
static mut CURRENT: *const AddressSpace = core::ptr::null();

fn current_ptr() -> *const AddressSpace {
    // SAFETY: single core, no re-entry: a plain read of the pointer.
    unsafe { *core::ptr::addr_of!(CURRENT) }
}

fn set_current(p: *const AddressSpace) {
    // SAFETY: as above, a plain write.
    unsafe { *core::ptr::addr_of_mut!(CURRENT) = p };
}

/// Page tables an empty address space takes (for the frame accounting the docs quote); each
/// 2 MiB slot of the user region where a page is mapped adds one.
pub const TABLE_FRAMES: usize = mmu::UPPER_TABLES;

impl AddressSpace {
    /// An empty user region over the kernel map; `None` when frames run out.
    pub fn new() -> Option<Rc<Self>> {
        let mut upper = [0; mmu::UPPER_TABLES];
        for k in 0..TABLE_FRAMES {
            match frames::alloc() {
                Some(pa) => upper[k] = pa,
                None => {
                    upper[..k].iter().for_each(|&pa| frames::release(pa));
                    return None;
                }
            }
        }
        // SAFETY: all frames are freshly allocated, zeroed and owned by this space.
        let root = unsafe { mmu::build_upper(&upper) };
        Some(Rc::new(Self {
            root,
            upper,
            leaves: core::array::from_fn(|_| Cell::new(0)),
            mm: RefCell::new(Mm::default()),
        }))
    }

    /// Loads this space's table and makes it the one user pointers refer to.
    pub fn activate(self: &Rc<Self>) {
        if current_ptr() != Rc::as_ptr(self) {
            // SAFETY: the root is this space's, whose frames live as long as `self`; `Drop`
            // switches away before freeing them.
            unsafe { mmu::activate(self.root) };
            set_current(Rc::as_ptr(self));
        }
    }

    /// Runs `f` with `other` active, then switches back (a write into a fork child's memory,
    /// such as its `CLONE_CHILD_SETTID` slot).
    pub fn with_active<R>(other: &Rc<Self>, f: impl FnOnce() -> R) -> R {
        let before = current_ptr();
        other.activate();
        let r = f();
        if !before.is_null() && before != Rc::as_ptr(other) {
            // SAFETY: `before` was the active space and is still alive (only `Drop` clears
            // CURRENT, and nothing was dropped by `f` that was active before it).
            unsafe { mmu::activate((*before).root) };
            set_current(before);
        }
        r
    }

    /// Where the leaf entry for `va` (inside the user region) lives, if its slot has a table.
    fn slot(&self, va: u64) -> Option<*mut u64> {
        let off = va - arch::USER_REGION.start;
        let leaf = self.leaves[(off / LEAF_SPAN) as usize].get();
        // The frame is one of this space's leaf tables, mapped for the kernel at `ptr`.
        (leaf != 0).then(|| {
            (frames::ptr(leaf) as *mut u64).wrapping_add(((off % LEAF_SPAN) / FRAME_SIZE) as usize)
        })
    }

    /// The leaf entry for `va` (inside the user region); 0 where no table is.
    fn entry(&self, va: u64) -> u64 {
        // SAFETY: `slot` points into one of this space's leaf tables, a live, aligned frame;
        // single core and no re-entry, so nothing writes it concurrently.
        self.slot(va).map_or(0, |p| unsafe { p.read() })
    }

    /// Sets the leaf entry for `va` (inside the user region), whose table exists (the page is
    /// or was present; clearing an entry without a table is nothing to do).
    fn set_entry(&self, va: u64, e: u64) {
        match self.slot(va) {
            // SAFETY: as in `entry`; the table belongs to this space, which the caller changes.
            Some(p) => unsafe { p.write(e) },
            None => debug_assert!(e == 0, "entry for {va:#x} without a leaf table"),
        }
    }

    /// The leaf table of `va`'s slot, allocated and installed if it has none yet (`ENOMEM`
    /// without frames).
    fn leaf_for(&self, va: u64) -> Result<(), Errno> {
        let index = ((va - arch::USER_REGION.start) / LEAF_SPAN) as usize;
        if self.leaves[index].get() != 0 {
            return Ok(());
        }
        let leaf = frames::alloc().ok_or(Errno::ENOMEM)?;
        // SAFETY: the upper tables are this space's (from `build_upper`); `leaf` is a fresh,
        // zeroed frame that now belongs to it.
        unsafe { mmu::install_leaf(&self.upper, index, leaf) };
        self.leaves[index].set(leaf);
        if self.is_active() {
            mmu::flush_all();
        }
        Ok(())
    }

    /// Maps a zeroed frame at page `va` with `perm`; `ENOMEM` without frames.
    fn map_new(&self, va: u64, perm: Perm) -> Result<u64, Errno> {
        self.leaf_for(va)?;
        let pa = frames::alloc().ok_or(Errno::ENOMEM)?;
        self.set_entry(va, mmu::leaf_entry(pa, perm));
        Ok(pa)
    }

    /// Is this the active space (so its TLB entries may be cached)?
    fn is_active(&self) -> bool {
        core::ptr::eq(current_ptr(), self)
    }

    /// A copy-on-write copy: the child gets new tables pointing at the same frames; every
    /// writable page becomes read-only COW in both. `ENOMEM` when the tables cannot be had.
    pub fn fork(&self) -> Result<Rc<Self>, Errno> {
        let child = Self::new().ok_or(Errno::ENOMEM)?;
        let mut mm = self.mm.borrow_mut();
        for (li, leaf) in self.leaves.iter().enumerate() {
            let mine = leaf.get();
            if mine == 0 {
                continue;
            }
            // On failure the child is dropped, releasing what it took so far.
            child.leaf_for(arch::USER_REGION.start + li as u64 * LEAF_SPAN)?;
            let theirs = child.leaves[li].get();
            // SAFETY: two distinct leaf-table frames, one of each space, used only here.
            let (mine, theirs) = unsafe { (frames::table_at(mine), frames::table_at(theirs)) };
            for (ei, (e, c)) in mine.iter_mut().zip(theirs.iter_mut()).enumerate() {
                let Some((pa, mut perm)) = mmu::decode_leaf(*e) else {
                    continue;
                };
                let va = arch::USER_REGION.start + li as u64 * LEAF_SPAN + ei as u64 * FRAME_SIZE;
                // A shared mapping's frames are the same memory in both.
                if (perm.write || perm.cow) && !mm.shared(va) {
                    perm.write = false;
                    perm.cow = true;
                    *e = mmu::leaf_entry(pa, perm);
                }
                frames::share(pa);
                *c = mmu::leaf_entry(pa, perm);
            }
        }
        // Frames of PROT_NONE pages: shared too, copy-on-write in both unless shared.
        let shared: alloc::vec::Vec<bool> = mm.parked.keys().map(|&va| mm.shared(va)).collect();
        for ((_, (pa, cow)), shared) in mm.parked.iter_mut().zip(shared) {
            frames::share(*pa);
            *cow |= !shared;
        }
        *child.mm.borrow_mut() = mm.clone();
        drop(mm);
        if self.is_active() {
            mmu::flush_all();
        }
        Ok(child)
    }

    /// Resolves a user fault at `va` the way Linux's `handle_mm_fault` would for this memory:
    /// a missing page becomes a zeroed RW page, a write to a COW page gets its own copy.
    /// `Err` when the access is not allowed (a real fault, the task dies) or frames ran out.
    pub fn fault(&self, va: u64, write: bool) -> Result<(), Errno> {
        if !arch::USER_REGION.contains(&va) {
            return Err(Errno::EFAULT);
        }
        let page = va & !(FRAME_SIZE - 1);
        match mmu::decode_leaf(self.entry(page)) {
            None => self.user_page(va, write).map(|_| ()),
            Some((pa, perm)) if write && perm.cow && self.mm.borrow().writable(page) => {
                self.break_cow(page, pa, perm).map(|_| ())
            }
            // Present and still refused: a write to read-only memory, a fetch from NX memory.
            Some(_) => Err(Errno::EFAULT),
        }
    }

    /// The frame address (plus offset) behind user address `va` for an access of this kind:
    /// what the kernel copies through, after the checks the CPU would make for the user.
    pub fn user_page(&self, va: u64, write: bool) -> Result<u64, Errno> {
        if !arch::USER_REGION.contains(&va) {
            return Err(Errno::EFAULT);
        }
        let page = va & !(FRAME_SIZE - 1);
        let offset = va - page;
        let Some((pa, perm)) = mmu::decode_leaf(self.entry(page)) else {
            let perm = self
                .mm
                .borrow()
                .demand(page, write)
                .map_err(|()| Errno::EFAULT)?;
            return self.map_new(page, perm).map(|pa| pa + offset);
        };
        if !write || perm.write {
            return Ok(pa + offset);
        }
        if !perm.cow || !self.mm.borrow().writable(page) {
            return Err(Errno::EFAULT);
        }
        self.break_cow(page, pa, perm).map(|pa| pa + offset)
    }

    /// A write to COW page `page` (frame `pa`): the last mapping takes the frame back, any
    /// other gets a copy.
    fn break_cow(&self, page: u64, pa: u64, perm: Perm) -> Result<u64, Errno> {
        let own = Perm {
            write: true,
            cow: false,
            ..perm
        };
        let new = if frames::refs(pa) == 1 {
            pa
        } else {
            let new = frames::alloc().ok_or(Errno::ENOMEM)?;
            // SAFETY: both are whole, distinct, allocated frames reached through the identity
            // map; `pa` stays allocated (this space still holds its reference).
            unsafe {
                core::ptr::copy_nonoverlapping(
                    frames::ptr(pa),
                    frames::ptr(new),
                    FRAME_SIZE as usize,
                )
            };
            frames::release(pa);
            new
        };
        self.set_entry(page, mmu::leaf_entry(new, own));
        if self.is_active() {
            mmu::flush_all();
        }
        Ok(new)
    }

    /// Maps page `va` for an ELF segment with `perm` (merging with what an earlier segment
    /// put on a shared page) and returns its frame.
    pub fn map_segment_page(&self, va: u64, perm: Perm) -> Result<u64, MapError> {
        if !arch::USER_REGION.contains(&va) {
            return Err(MapError::Outside);
        }
        match mmu::decode_leaf(self.entry(va)) {
            None => {
                if perm.write && perm.exec {
                    return Err(MapError::WritableAndExecutable);
                }
                self.map_new(va, perm).map_err(|_| MapError::NoFrames)
            }
            Some((pa, old)) => {
                let merged = Perm {
                    write: old.write || perm.write,
                    exec: old.exec || perm.exec,
                    cow: false,
                };
                if merged.write && merged.exec {
                    return Err(MapError::WritableAndExecutable);
                }
                self.set_entry(va, mmu::leaf_entry(pa, merged));
                Ok(pa)
            }
        }
    }
}

impl AddressSpace {
    /// The user pages of `[start, end)` (clipped to the user region).
    fn pages(start: u64, end: u64) -> impl Iterator<Item = u64> {
        let lo = start.max(arch::USER_REGION.start);
        let hi = end.min(arch::USER_REGION.end);
        (lo..hi.max(lo)).step_by(FRAME_SIZE as usize)
    }

    /// Releases the frames of `[start, end)` (present or parked) and clears their entries;
    /// the mappings stay.
    pub fn drop_pages(&self, start: u64, end: u64) {
        let mut mm = self.mm.borrow_mut();
        for page in Self::pages(start, end) {
            if let Some((pa, _)) = mmu::decode_leaf(self.entry(page)) {
                self.set_entry(page, 0);
                frames::release(pa);
            }
            if let Some((pa, _)) = mm.parked.remove(&page) {
                frames::release(pa);
            }
        }
        if self.is_active() {
            mmu::flush_all();
        }
    }

    /// `munmap`: the frames of `[start, end)` are released and the range is no longer mapped.
    pub fn unmap_range(&self, start: u64, end: u64) {
        self.drop_pages(start, end);
        self.mm.borrow_mut().unmap(start, end);
    }

    /// Gives the present and parked pages of `[start, end)` the permissions of their (just
    /// changed) mapping: `PROT_NONE` parks a present page's frame, any other protection
    /// brings a parked one back; a frame still shared with another space stays copy-on-write.
    pub fn protect_range(&self, start: u64, end: u64) {
        let mut mm = self.mm.borrow_mut();
        for page in Self::pages(start, end) {
            let (prot, shared) = mm.find(page).map_or((0, false), |v| (v.prot, v.shared));
            let old = match mmu::decode_leaf(self.entry(page)) {
                Some((pa, perm)) => Some((pa, perm.cow)),
                None => mm.parked.remove(&page),
            };
            let Some((pa, cow)) = old else { continue };
            match mman::perm_for(prot) {
                None => {
                    self.set_entry(page, 0);
                    mm.parked.insert(page, (pa, cow));
                }
                Some(p) => {
                    let cow = !shared && (cow || (p.write && frames::refs(pa) > 1));
                    let perm = Perm {
                        write: p.write && !cow,
                        exec: p.exec,
                        cow,
                    };
                    self.set_entry(page, mmu::leaf_entry(pa, perm));
                }
            }
        }
        if self.is_active() {
            mmu::flush_all();
        }
    }

    /// Gives every page of `[start, end)` its frame now (a shared mapping: a fork must share
    /// the frames themselves). ENOMEM when frames run out (the caller unmaps the range).
    pub fn populate(&self, start: u64, end: u64) -> Result<(), Errno> {
        let mut mm = self.mm.borrow_mut();
        for page in Self::pages(start, end) {
            if mmu::decode_leaf(self.entry(page)).is_some() || mm.parked.contains_key(&page) {
                continue;
            }
            let prot = mm.find(page).map_or(0, |v| v.prot);
            match mman::perm_for(prot) {
                Some(perm) => {
                    self.map_new(page, perm)?;
                }
                None => {
                    let pa = frames::alloc().ok_or(Errno::ENOMEM)?;
                    mm.parked.insert(page, (pa, false));
                }
            }
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        if self.is_active() {
            // SAFETY: the boot tables map the kernel as every space does.
            unsafe { mmu::activate(mmu::boot_root()) };
            set_current(core::ptr::null());
        }
        for leaf in self.leaves.iter().map(Cell::get).filter(|&l| l != 0) {
            // SAFETY: this space's leaf table, about to be freed; nothing else uses it.
            let table = unsafe { frames::table_at(leaf) };
            for e in table.iter() {
                if let Some((pa, _)) = mmu::decode_leaf(*e) {
                    frames::release(pa);
                }
            }
            frames::release(leaf);
        }
        self.upper.iter().for_each(|&pa| frames::release(pa));
        for &(pa, _) in self.mm.get_mut().parked.values() {
            frames::release(pa);
        }
    }
}

/// The active space's frame behind `va` for an access of this kind (`EFAULT` when no space is
/// active).
pub fn current_user_page(va: u64, write: bool) -> Result<u64, Errno> {
    let p = current_ptr();
    if p.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: CURRENT always points at a live space (`Drop` clears it).
    unsafe { (*p).user_page(va, write) }
}
