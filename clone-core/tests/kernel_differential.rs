//! Differential test: real `clone`/`clone3` syscalls on this host's kernel against the
//! validator, case by case, as root and as an unprivileged user.
//!
//! The kernel is the oracle. Each case is issued with inline asm; a child that comes back from
//! the syscall (rax == 0) calls `exit(0)` straight away without touching memory, because it may
//! share the parent's stack and address space. Cases run in a forked worker; the test process
//! reaps everything with `waitpid(-1, __WALL)` (children made with `CLONE_PARENT` become its
//! children). The validator's [`Policy`] describes the worker (kernel version from `uname`,
//! capabilities from the uid, pid namespace and configured namespaces from `/proc`).
//!
//! The root and uid 65534 runs then repeat smaller phases through the i386 compat entry: the
//! same 64-bit process issues `int 0x80` with i386 numbers, its registers laid out by
//! clone-core's own [`clone_core::syscall::encode`] for [`Arch::I386`] (so the
//! `CLONE_BACKWARDS` order is checked by the kernel), against the validator for `Arch::I386`.
//! Findings there: a compat task's `access_ok` uses the 64-bit `TASK_SIZE_MAX` (a `clone3`
//! stack at 3 GiB, at 4 GiB or ending at `TASK_SIZE_MAX` is accepted), so the i386 policy keeps
//! the x86_64 value; `struct clone_args` pointer fields are not truncated to 32 bits on the
//! compat path (a pidfd pointer differing from `parent_tid` only above bit 31 is EFAULT, not
//! the same-slot EINVAL a truncating native i386 kernel would give); and
//! `CLONE_SETTLS` takes a `struct user_desc *`: the broad phases give those cases a valid
//! one, and a separate phase pins the `user_desc` checks and their place in the order down,
//! against both hand-written answers and the validator.
//!
//! The last line is `differential linux-<release>: <N> calls, <D> disagreements` (every call
//! whose answer was compared: validator cases and the i386 `user_desc` facts).
//!
//! The same binary, linked statically, runs as `/init` of Debian's x86_64 kernels in
//! qemu-system (`cargo xtask differential`): as pid 1 it first mounts what it reads (`/proc`,
//! a cgroup2 hierarchy) and makes the `/tmp` it chroots into, so the initramfs holds nothing
//! but the binary, and the [`Policy`] version comes from that kernel's `uname`.
//! `CLONE_DIFFERENTIAL_SAMPLE=small` (for TCG, where each call costs far more) runs the
//! smaller power sets and fewer random cases in every setup; the counts printed say how many.
//!
//! Set `SEED=<n>` to replay the random phases.
#![allow(missing_docs)]

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn main() {
    println!(
        "kernel_differential: SKIPPED — needs an x86_64 Linux host: the real kernel is the \
         oracle and the syscalls are issued with x86_64 inline asm"
    );
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn main() {
    imp::main();
}

/// Running as `/init` of a kernel booted with only this binary in its initramfs.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[path = "support/as_init.rs"]
mod as_init;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod imp {
    use clone_core::error::Rule;
    use clone_core::flags::CloneFlags as C;
    use clone_core::policy::LinuxVersion;
    use clone_core::syscall::{CloneCall, encode};
    use clone_core::validate::{
        CloneArgs, Fault, KernelCloneArgs, LegacyCloneArgs, UserMemory, validate_clone_in,
        validate_clone3,
    };
    use clone_core::{Arch, CloneError, CloneFlags, Errno, Policy};
    use std::arch::asm;
    use std::fmt::Write as _;

    const SYS_CLONE: i64 = 56;
    const SYS_CLONE3: i64 = 435;
    const PAGE: u64 = 4096;
    /// Readable/writable pages in the arena; one PROT_NONE guard page follows.
    const ARENA_PAGES: u64 = 4;

    /// Legacy `clone(flags, newsp, ptid, ctid, tls)`; the child exits at once.
    ///
    /// # Safety
    /// The pointers must be valid for the kernel to write or deliberately invalid; the child
    /// executes only `exit(0)`.
    unsafe fn raw_clone(flags: u64, sp: u64, ptid: u64, ctid: u64, tls: u64) -> i64 {
        let ret: i64;
        // SAFETY: a raw clone whose child runs three instructions (exit syscall) that touch
        // neither the stack nor memory; the parent path only clobbers rax, rcx and r11.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "mov eax, 60",
                "xor edi, edi",
                "syscall",
                "ud2",
                "2:",
                inlateout("rax") SYS_CLONE => ret,
                in("rdi") flags,
                in("rsi") sp,
                in("rdx") ptid,
                in("r10") ctid,
                in("r8") tls,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    /// `clone3(uargs, size)`; the child exits at once.
    ///
    /// # Safety
    /// As for [`raw_clone`].
    unsafe fn raw_clone3(uargs: u64, size: u64) -> i64 {
        let ret: i64;
        // SAFETY: as in raw_clone.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "mov eax, 60",
                "xor edi, edi",
                "syscall",
                "ud2",
                "2:",
                inlateout("rax") SYS_CLONE3 => ret,
                in("rdi") uargs,
                in("rsi") size,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    /// An i386 syscall through the compat `int 0x80` entry of this 64-bit process, with the
    /// i386 register map (`arch/x86/entry/syscalls/syscall_32.tbl` convention): eax = number,
    /// ebx ecx edx esi edi = arguments 0..4, result in eax. A clone child comes back from the
    /// trap at the next instruction, still in 64-bit mode, with eax == 0, and runs the i386
    /// `exit(0)` (eax = 1, ebx = 0) without touching the stack or memory.
    ///
    /// # Safety
    /// As for [`raw_clone`]; every pointer argument is a 32-bit address.
    unsafe fn raw_int80(nr: u32, a: [u32; 5]) -> i32 {
        let ret: i32;
        // SAFETY: as in raw_clone. LLVM reserves rbx, so the first argument goes through a
        // scratch register and is swapped in and out around the trap; the parent path restores
        // rbx. r8-r11 are declared clobbered because older kernels zeroed them on int 0x80.
        unsafe {
            asm!(
                "xchg rbx, {b}",
                "int 0x80",
                "test eax, eax",
                "jnz 2f",
                "mov eax, 1",
                "xor ebx, ebx",
                "int 0x80",
                "ud2",
                "2:",
                "xchg rbx, {b}",
                b = inout(reg) u64::from(a[0]) => _,
                inlateout("eax") nr => ret,
                in("ecx") a[1],
                in("edx") a[2],
                in("esi") a[3],
                in("edi") a[4],
                lateout("r8") _,
                lateout("r9") _,
                lateout("r10") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    /// Issues `call` through `int 0x80` with the registers [`encode`] gives for i386.
    fn i386_trap(call: &CloneCall) -> i64 {
        let raw = encode(Arch::I386, call).expect("i386 cases use 32-bit values only");
        let r32 = |v: u64| u32::try_from(v).expect("encode keeps i386 registers to 32 bits");
        let [a0, a1, a2, a3, a4, _] = raw.args;
        // SAFETY: pointers are low arena slots or deliberately invalid; the child exits at once.
        let ret = unsafe { raw_int80(r32(raw.nr), [a0, a1, a2, a3, a4].map(r32)) };
        i64::from(ret)
    }

    /// The worker's memory: the arena is readable and writable, everything else faults. All
    /// invalid pointers the cases use (NULL, the guard page, kernel addresses) are really
    /// unmapped for the kernel too.
    #[derive(Copy, Clone)]
    struct Arena {
        base: u64,
    }

    impl Arena {
        fn new() -> Self {
            Self::with_flags(0)
        }
        /// An arena below 2 GiB (`MAP_32BIT`), for the i386 compat phases.
        fn new_low() -> Self {
            let a = Self::with_flags(libc::MAP_32BIT);
            assert!(a.end() + PAGE <= 1 << 32, "MAP_32BIT arena above 4 GiB");
            a
        }
        fn with_flags(extra: i32) -> Self {
            let len = (ARENA_PAGES + 1) * PAGE;
            // SAFETY: anonymous private mapping; the result is checked.
            let p = unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    len as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED, "mmap arena");
            let base = p as u64;
            // SAFETY: the last page of our own mapping becomes the guard page.
            let r = unsafe {
                libc::mprotect(
                    (base + ARENA_PAGES * PAGE) as *mut libc::c_void,
                    PAGE as usize,
                    libc::PROT_NONE,
                )
            };
            assert_eq!(r, 0, "mprotect guard");
            Self { base }
        }
        fn end(&self) -> u64 {
            self.base + ARENA_PAGES * PAGE
        }
        fn contains(&self, addr: u64, len: u64) -> bool {
            addr >= self.base && addr.checked_add(len).is_some_and(|e| e <= self.end())
        }
        fn write(&self, addr: u64, bytes: &[u8]) {
            assert!(self.contains(addr, bytes.len() as u64));
            // SAFETY: the range is inside the RW part of the arena (checked above).
            unsafe {
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len());
            }
        }
        fn write_i32(&self, addr: u64, v: i32) {
            self.write(addr, &v.to_ne_bytes());
        }
        fn read_i32(&self, addr: u64) -> i32 {
            let mut b = [0u8; 4];
            self.read(addr, &mut b).expect("arena read");
            i32::from_ne_bytes(b)
        }
        fn zero(&self) {
            self.write(self.base, &vec![0u8; (ARENA_PAGES * PAGE) as usize]);
        }
        fn guard(&self) -> u64 {
            self.end()
        }
        fn ptid(&self) -> u64 {
            self.base
        }
        fn pidfd(&self) -> u64 {
            self.base + 8
        }
        fn ctid(&self) -> u64 {
            self.base + 16
        }
        fn set_tid(&self) -> u64 {
            self.base + 256
        }
        fn tls(&self) -> u64 {
            self.base + 1024
        }
        /// Start of the `clone_args` area (pages 1..4, room for 4097+ bytes).
        fn args(&self) -> u64 {
            self.base + PAGE
        }
        /// A `clone_args` that ends exactly at the guard page.
        fn args_at_end(&self) -> u64 {
            self.end() - 88
        }
    }

    impl UserMemory for Arena {
        fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
            if !self.contains(addr, out.len() as u64) {
                return Err(Fault);
            }
            // SAFETY: inside the RW arena.
            unsafe {
                core::ptr::copy_nonoverlapping(addr as *const u8, out.as_mut_ptr(), out.len());
            }
            Ok(())
        }
        fn writable(&self, addr: u64, len: u64) -> bool {
            self.contains(addr, len)
        }
    }

    /// One clone3 request: where the struct goes, its bytes and what follows them.
    #[derive(Clone)]
    struct Clone3Case {
        at: u64,
        size: u64,
        args: CloneArgs,
        /// Non-zero bytes to put past offset 88, as (offset, value).
        tail: Vec<(u64, u8)>,
        set_tid: Vec<i32>,
    }

    #[derive(Clone)]
    enum Kind {
        Legacy(LegacyCloneArgs),
        Clone3(Clone3Case),
    }

    #[derive(Clone)]
    struct Case {
        kind: Kind,
        /// Overrides `Policy::into_cgroup_error` (for a deliberately bad cgroup fd).
        cgroup_error: Option<Option<Errno>>,
    }

    fn legacy(a: &Arena, word: u64) -> Case {
        Case {
            kind: Kind::Legacy(LegacyCloneArgs {
                word,
                stack: 0,
                stack_size: 0,
                parent_tid: a.ptid(),
                child_tid: a.ctid(),
                tls: a.tls(),
                via_clone2: false,
            }),
            cgroup_error: None,
        }
    }

    fn c3(a: &Arena, flags: u64, exit_signal: u64, cgroup_fd: u64) -> Clone3Case {
        Clone3Case {
            at: a.args(),
            size: 88,
            args: CloneArgs {
                flags,
                pidfd: a.pidfd(),
                child_tid: a.ctid(),
                parent_tid: a.ptid(),
                exit_signal,
                stack: 0,
                stack_size: 0,
                tls: a.tls(),
                set_tid: 0,
                set_tid_size: 0,
                cgroup: cgroup_fd,
            },
            tail: Vec::new(),
            set_tid: Vec::new(),
        }
    }

    fn case3(c: Clone3Case) -> Case {
        Case {
            kind: Kind::Clone3(c),
            cgroup_error: None,
        }
    }

    fn describe(c: &Case) -> String {
        match &c.kind {
            Kind::Legacy(l) => format!(
                "clone(word={:#x} [{}], ptid={:#x}, tls={:#x})",
                l.word,
                clone_core::flags::LegacyWord(l.word),
                l.parent_tid,
                l.tls
            ),
            Kind::Clone3(k) => {
                let mut s = format!(
                    "clone3(at={:#x}, size={}) flags={:#x} [{}] exit_signal={:#x} pidfd={:#x} \
                     ptid={:#x} stack={:#x}/{:#x} tls={:#x} set_tid={:#x}/{} {:?} cgroup={:#x}",
                    k.at,
                    k.size,
                    k.args.flags,
                    CloneFlags::from_bits_retain(k.args.flags),
                    k.args.exit_signal,
                    k.args.pidfd,
                    k.args.parent_tid,
                    k.args.stack,
                    k.args.stack_size,
                    k.args.tls,
                    k.args.set_tid,
                    k.args.set_tid_size,
                    k.set_tid,
                    k.args.cgroup
                );
                if !k.tail.is_empty() {
                    let _ = write!(s, " tail={:?}", k.tail);
                }
                s
            }
        }
    }

    fn show(r: &Result<KernelCloneArgs, CloneError>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => format!("{} {} (fix: {})", e.errno, e.rule, e.fix),
        }
    }

    fn kernel_show(ret: i64) -> String {
        if ret >= 0 {
            "ok".into()
        } else {
            let n = -ret as i32;
            match Errno::from_raw(n) {
                Some(e) => e.to_string(),
                None => format!("errno {n}"),
            }
        }
    }

    struct Phase {
        name: &'static str,
        ran: u64,
        accepted: u64,
        disagreements: u64,
        details: Vec<String>,
        /// How often each rule was the (agreed) answer, indexed like `Rule::ALL`.
        rules: [u64; Rule::ALL.len()],
    }

    struct Worker {
        arena: Arena,
        policy: Policy,
    }

    impl Worker {
        /// Runs one case through the validator and the kernel; returns whether they agree.
        fn run(&self, c: &Case, phase: &mut Phase) {
            let a = self.arena;
            a.zero();
            a.write_i32(a.ptid(), -1);
            a.write_i32(a.pidfd(), -1);
            let i386 = self.policy.arch == Arch::I386;
            if i386 {
                // A valid `struct user_desc` for CLONE_SETTLS: entry_number 12
                // (GDT_ENTRY_TLS_MIN on x86_64), everything else zero ("LDT_zero", accepted
                // by tls_desc_okay as "no segment"). The ctid slot stays all-zero, which
                // do_set_thread_area refuses (entry 0, EINVAL): a tls/ctid mix-up in the
                // register order shows as disagreements.
                a.write_i32(a.tls(), 12);
            }
            let mut policy = self.policy;
            if let Some(e) = c.cgroup_error {
                policy.into_cgroup_error = e;
            }
            let (expected, ret, flags, pidfd_slot) = match &c.kind {
                Kind::Legacy(l) => {
                    let expected = validate_clone_in(l, &a, &policy);
                    let ret = if i386 {
                        i386_trap(&CloneCall::Clone(*l))
                    } else {
                        // SAFETY: pointers are arena slots or deliberately invalid.
                        unsafe { raw_clone(l.word, l.stack, l.parent_tid, l.child_tid, l.tls) }
                    };
                    (expected, ret, l.word & 0xffff_ff00, l.parent_tid)
                }
                Kind::Clone3(k) => {
                    let bytes = k.args.to_bytes(policy.arch);
                    if a.contains(k.at, 1) {
                        let room = a.end() - k.at;
                        let n = k.size.min(88).min(room) as usize;
                        a.write(k.at, &bytes[..n]);
                        for &(off, v) in &k.tail {
                            if a.contains(k.at + off, 1) {
                                a.write(k.at + off, &[v]);
                            }
                        }
                    }
                    if !k.set_tid.is_empty() {
                        let raw: Vec<u8> = k.set_tid.iter().flat_map(|t| t.to_ne_bytes()).collect();
                        a.write(a.set_tid(), &raw);
                    }
                    let expected = validate_clone3(k.at, k.size, &a, &policy);
                    let issue = || {
                        if i386 {
                            i386_trap(&CloneCall::Clone3 {
                                args: k.at,
                                size: k.size,
                            })
                        } else {
                            // SAFETY: the struct and its pointers are arena memory or
                            // deliberately invalid.
                            unsafe { raw_clone3(k.at, k.size) }
                        }
                    };
                    let mut ret = issue();
                    // Whether a set_tid pid is in use is pid-table state, outside the model
                    // (see the exclusions printed at start): on a loaded machine a task of an
                    // earlier case can still hold the pid for a moment (seen once at load 19:
                    // three EEXISTs in the pid-ns init phase that a re-run did not repeat).
                    // EEXIST fails in alloc_pid before anything is written back, so the case
                    // is re-issued a bounded number of times; a lasting EEXIST still counts.
                    let eexist = -i64::from(Errno::EEXIST.raw());
                    let mut tries = 0;
                    while ret == eexist
                        && !k.set_tid.is_empty()
                        && expected.as_ref().err().map(|e| e.errno) != Some(Errno::EEXIST)
                        && tries < 20
                    {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        ret = issue();
                        tries += 1;
                    }
                    (expected, ret, k.args.flags, k.args.pidfd)
                }
            };
            if ret > 0 {
                let f = C::from_bits_retain(flags);
                if f.contains(C::PIDFD) && a.contains(pidfd_slot, 4) {
                    let fd = a.read_i32(pidfd_slot);
                    if fd >= 0 {
                        // SAFETY: the kernel just installed this pidfd for us.
                        unsafe { libc::close(fd) };
                    }
                }
                if !f.intersects(C::THREAD | C::PARENT) {
                    let mut st = 0;
                    // SAFETY: plain waitpid on our own child.
                    unsafe { libc::waitpid(ret as i32, &mut st, libc::__WALL) };
                }
            }
            phase.ran += 1;
            let agree = match (&expected, ret) {
                (Ok(_), r) => r >= 0,
                (Err(e), r) => r < 0 && i64::from(e.errno.raw()) == -r,
            };
            tally().count(agree);
            if agree {
                match &expected {
                    Ok(_) => phase.accepted += 1,
                    Err(e) => {
                        if let Some(i) = Rule::ALL.iter().position(|r| *r == e.rule) {
                            phase.rules[i] += 1;
                        }
                    }
                }
            } else {
                phase.disagreements += 1;
                if phase.details.len() < 8 {
                    phase.details.push(format!(
                        "{}\n      kernel: {}   validator: {}",
                        describe(c),
                        kernel_show(ret),
                        show(&expected)
                    ));
                }
            }
        }
    }

    /// xorshift64*: small, seedable, good enough to spread cases.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
            xs[(self.next() % xs.len() as u64) as usize]
        }
        fn chance(&mut self, one_in: u64) -> bool {
            self.next() % one_in == 0
        }
    }

    /// The running kernel's version with its stable patch level. Debian's 6.1 kernels report
    /// an ABI number as release (`6.1.0-50-amd64`); their real sublevel is in the version
    /// string (`#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (…)`), which is where it is read from
    /// when the release's third number is 0.
    fn kernel_version() -> LinuxVersion {
        // SAFETY: uname fills the zeroed struct.
        let mut u: libc::utsname = unsafe { core::mem::zeroed() };
        // SAFETY: valid pointer to a utsname.
        assert_eq!(unsafe { libc::uname(&mut u) }, 0);
        let text = |f: &[libc::c_char]| -> String {
            f.iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8 as char)
                .collect()
        };
        let numbers = |s: &str| -> Vec<u16> {
            s.split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .take(3)
                .filter_map(|s| s.parse().ok())
                .collect()
        };
        let rel = numbers(&text(&u.release));
        let (major, minor) = (rel[0], rel[1]);
        let mut patch = rel.get(2).copied().unwrap_or(0);
        if patch == 0 {
            let version = text(&u.version);
            if let Some(at) = version.find("Debian ") {
                let v = numbers(&version[at + 7..]);
                if v.len() == 3 && v[0] == major && v[1] == minor {
                    patch = v[2];
                }
            }
        }
        LinuxVersion::new(major, minor).with_patch(patch)
    }

    fn read_trim(path: &str) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// The validator's view of the calling process.
    fn host_policy(privileged: bool) -> Policy {
        let mut p = Policy::linux(Arch::X86_64, kernel_version());
        p.cap_sys_admin = privileged;
        p.cap_checkpoint_restore = privileged;
        // A new pid namespace starts at PID_MAX_LIMIT on 6.14+; the harness read the initial
        // namespace's value before any unshare.
        p.ancestor_pid_max = if p.linux.per_ns_pid_max() && nspid_level() >= 2 {
            4 * 1024 * 1024
        } else {
            INIT_PID_MAX.load(std::sync::atomic::Ordering::Relaxed)
        };
        p.pid_max = read_trim("/proc/sys/kernel/pid_max")
            .parse()
            .expect("pid_max");
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let nspid: Vec<&str> = status
            .lines()
            .find(|l| l.starts_with("NSpid:"))
            .map(|l| l.split_whitespace().skip(1).collect())
            .unwrap_or_default();
        p.pid_ns_level = nspid.len().saturating_sub(1) as u32;
        p.pid_ns_init = nspid.last() == Some(&"1");
        let link = |n: &str| std::fs::read_link(format!("/proc/self/ns/{n}")).ok();
        p.pid_ns_for_children_differs = link("pid") != link("pid_for_children");
        let mut ns = CloneFlags::empty();
        for (name, flag) in [
            ("mnt", C::NEWNS),
            ("uts", C::NEWUTS),
            ("ipc", C::NEWIPC),
            ("pid", C::NEWPID),
            ("net", C::NEWNET),
            ("cgroup", C::NEWCGROUP),
            ("time", C::NEWTIME),
            ("user", C::NEWUSER),
        ] {
            if link(name).is_some() {
                ns |= flag;
            }
        }
        p.namespaces_configured = ns;
        if !privileged {
            // Whether this host lets an unprivileged user create a user namespace (sysctls,
            // LSMs) is environment, not an argument rule: probe it once, and say so.
            // SAFETY: the child exits at once.
            let r = unsafe { raw_clone(C::NEWUSER.bits() | 17, 0, 0, 0, 0) };
            if r > 0 {
                // SAFETY: reaping our own child.
                unsafe { libc::waitpid(r as i32, core::ptr::null_mut(), libc::__WALL) };
            }
            p.user_ns_allowed = r != -i64::from(Errno::EPERM.raw());
        }
        // cgroup_can_fork for our own cgroup2 directory: root may start a child there; an
        // unprivileged uid cannot write its root-owned cgroup.procs (cgroup_may_write → EACCES).
        p.into_cgroup_error = if NO_CGROUP2.load(std::sync::atomic::Ordering::Relaxed) {
            Some(Errno::EBADF)
        } else if privileged {
            None
        } else {
            Some(Errno::EACCES)
        };
        p
    }

    /// `pid_max` of the initial pid namespace, read by the harness before forking.
    static INIT_PID_MAX: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    fn nspid_level() -> usize {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("NSpid:"))
            .map_or(0, |l| l.split_whitespace().count().saturating_sub(2))
    }

    /// A pid likely to be free (no /proc entry), near the top of the range.
    fn free_pid(pid_max: u32) -> i32 {
        (1..2000)
            .map(|k| pid_max as i32 - 100 - k)
            .find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
            .expect("a free pid")
    }

    fn power_set(flags: &[CloneFlags]) -> impl Iterator<Item = u64> + '_ {
        (0u64..1 << flags.len()).map(move |m| {
            flags
                .iter()
                .enumerate()
                .filter(|(i, _)| m >> i & 1 == 1)
                .fold(0u64, |acc, (_, f)| acc | f.bits())
        })
    }

    const LEGACY_DIMS: [CloneFlags; 16] = [
        C::VM,
        C::FS,
        C::SIGHAND,
        C::PIDFD,
        C::VFORK,
        C::PARENT,
        C::THREAD,
        C::NEWNS,
        C::SYSVSEM,
        C::SETTLS,
        C::PARENT_SETTID,
        C::DETACHED,
        C::NEWUSER,
        C::NEWPID,
        C::NEWIPC,
        C::NEWUTS,
    ];

    const CLONE3_DIMS: [CloneFlags; 16] = [
        C::VM,
        C::FS,
        C::SIGHAND,
        C::PIDFD,
        C::PARENT,
        C::THREAD,
        C::NEWNS,
        C::SYSVSEM,
        C::PARENT_SETTID,
        C::DETACHED,
        C::NEWUSER,
        C::NEWPID,
        C::NEWIPC,
        C::CLEAR_SIGHAND,
        C::NEWTIME,
        C::INTO_CGROUP,
    ];

    /// Exit-signal bytes that are safe to really receive (SIGKILL/SIGSTOP cannot be blocked).
    const SAFE_LOW: [u64; 6] = [0, 17, 64, 65, 0x80, 0xff];

    fn special_cases(a: &Arena, cg: u64, pid_max: u32) -> Vec<Case> {
        let mut v = Vec::new();
        let sig = 17;
        let thread = (C::VM | C::SIGHAND | C::THREAD).bits();
        // Sizes and tails.
        for size in [0, 1, 63, 64, 72, 80, 88, 96, 4096, 4097, u64::MAX] {
            let mut k = c3(a, 0, sig, 0);
            k.size = size;
            v.push(case3(k));
        }
        for (size, off) in [(96, 88), (96, 95), (4096, 4095), (4096, 100), (89, 88)] {
            let mut k = c3(a, 0, sig, 0);
            k.size = size;
            k.tail = vec![(off, 1)];
            v.push(case3(k));
        }
        // A struct ending at the guard page: reading a tail faults.
        for size in [64, 80, 88, 89, 96, 4096] {
            let mut k = c3(a, 0, sig, 0);
            k.at = a.args_at_end();
            k.size = size;
            v.push(case3(k));
        }
        for at in [
            0,
            a.guard(),
            a.guard() - 8,
            0xffff_8000_0000_0000,
            u64::MAX - 10,
        ] {
            let mut k = c3(a, 0, sig, 0);
            k.at = at;
            v.push(case3(k));
        }
        // Exit signals.
        for es in [
            0,
            1,
            17,
            64,
            65,
            0x80,
            0xf0,
            0x100,
            0x8000_0000,
            (1 << 32) | 17,
            0xbadc_0ded_0000_0000,
        ] {
            for flags in [
                0,
                thread,
                C::PARENT.bits(),
                (C::PARENT | C::THREAD | C::VM | C::SIGHAND).bits(),
            ] {
                // Valid signals other than 0/17/64 would really be delivered to the worker
                // (all blocked, harmless); 1 (SIGHUP) is blocked too.
                v.push(case3(c3(a, flags, es, 0)));
            }
        }
        // Signal bits, DETACHED and unknown bits in clone3 flags.
        for flags in [
            17,
            0x80,
            0x81,
            0xff,
            C::DETACHED.bits(),
            1 << 37,
            1 << 63,
            C::AUTOREAP.bits(),
            C::NNP.bits(),
            C::PIDFD_AUTOKILL.bits(),
            (C::SIGHAND | C::VM | C::CLEAR_SIGHAND).bits(),
            C::CLEAR_SIGHAND.bits(),
        ] {
            v.push(case3(c3(a, flags, 0, 0)));
        }
        // Stack pairs.
        let top = 0x7fff_ffff_f000u64;
        for (stack, size) in [
            (0, 0),
            (0, 4096),
            (a.args(), 0),
            (a.args(), 4096),
            (top - 0x1000, 0x1000),
            (top - 0x1000, 0x1001),
            (top - 1, 1),
            (top, 1),
            (top - 0x10, 0x20),
            (1, u64::MAX),
            (u64::MAX, 1),
            (0xffff_8000_0000_0000, 0x1000),
        ] {
            for flags in [0, C::VM.bits()] {
                let mut k = c3(a, flags, sig, 0);
                k.args.stack = stack;
                k.args.stack_size = size;
                v.push(case3(k));
            }
        }
        // TLS range (x86_64 copy_thread → do_arch_prctl_64).
        for tls in [a.tls(), 0, top - 1, top, 1 << 47, 1 << 63, u64::MAX] {
            for flags in [C::SETTLS.bits(), thread | C::SETTLS.bits()] {
                let mut k = c3(a, flags, if flags & thread != 0 { 0 } else { sig }, 0);
                k.args.tls = tls;
                v.push(case3(k));
                let mut l = legacy(a, flags | 17);
                if let Kind::Legacy(x) = &mut l.kind {
                    x.tls = tls;
                }
                v.push(l);
            }
        }
        // pidfd slots.
        for (pidfd, ptid, flags) in [
            (a.pidfd(), a.ptid(), C::PIDFD | C::PARENT_SETTID),
            (a.ptid(), a.ptid(), C::PIDFD | C::PARENT_SETTID),
            (0, 0, C::PIDFD | C::PARENT_SETTID),
            (0, a.ptid(), C::PIDFD),
            (a.guard(), a.ptid(), C::PIDFD),
            (0xffff_8000_0000_0000, a.ptid(), C::PIDFD),
            (a.pidfd(), 0, C::PIDFD | C::PARENT_SETTID),
            (a.pidfd(), a.guard(), C::PARENT_SETTID),
        ] {
            let mut k = c3(a, flags.bits(), sig, 0);
            k.args.pidfd = pidfd;
            k.args.parent_tid = ptid;
            v.push(case3(k));
        }
        for ptid in [0, a.guard(), a.ptid()] {
            for flags in [
                C::PIDFD,
                C::PIDFD | C::PARENT_SETTID,
                C::PARENT_SETTID,
                C::PIDFD | C::THREAD | C::SIGHAND | C::VM,
            ] {
                let mut l = legacy(a, flags.bits() | 17);
                if let Kind::Legacy(x) = &mut l.kind {
                    x.parent_tid = ptid;
                }
                v.push(l);
            }
        }
        // Legacy: high bits dropped, the signal byte never checked.
        for word in [
            (1 << 32) | 17,
            (1 << 33) | 17,
            (1 << 63) | 17,
            !0xffff_ffff_u64,
            0x80,
            0xff,
            65,
            thread | 0x80,
            thread | 64,
            (C::DETACHED.bits()) | 17,
            (C::PIDFD | C::DETACHED).bits() | 17,
        ] {
            v.push(legacy(a, word));
        }
        // CLONE_INTO_CGROUP: good fd, struct too small, fd above INT_MAX, closed fd.
        for (size, fd, err) in [
            (88, cg, None),
            (80, cg, None),
            (64, cg, None),
            (88, 1 << 31, None),
            (88, u64::MAX, None),
            (88, 999, Some(Some(Errno::EBADF))),
        ] {
            for flags in [C::INTO_CGROUP.bits(), C::INTO_CGROUP.bits() | thread] {
                let mut k = c3(a, flags, if flags & thread != 0 { 0 } else { sig }, fd);
                k.size = size;
                let mut c = case3(k);
                c.cgroup_error = err;
                v.push(c);
            }
        }
        // set_tid.
        let free = free_pid(pid_max);
        let pm = pid_max as i32;
        let newpid = C::NEWPID.bits();
        let userpid = (C::NEWUSER | C::NEWPID).bits();
        for (flags, tids, ptr_override, size_override) in [
            (0, vec![0], None, None),
            (0, vec![-1], None, None),
            (0, vec![pm], None, None),
            (0, vec![pm - 1], None, None),
            (0, vec![1], None, None),
            (0, vec![free], None, None),
            (0, vec![free, 1], None, None),
            (newpid, vec![1], None, None),
            (newpid, vec![2], None, None),
            (newpid, vec![1, free], None, None),
            (newpid, vec![1, 1], None, None),
            (newpid, vec![1, 0], None, None),
            (newpid, vec![1, free, 1], None, None),
            // Per-namespace pid_max (6.14+): a new namespace starts at 4194304.
            (newpid, vec![40000], None, None),
            (newpid, vec![1, 40000], None, None),
            (0, vec![40000], None, None),
            (0, vec![free, 40000], None, None),
            (0, vec![4_194_304], None, None),
            (userpid, vec![1], None, None),
            (userpid, vec![1, free], None, None),
            (userpid, vec![free], None, None),
            (thread, vec![free], None, None),
            (0, vec![], Some(0), Some(1)),
            (0, vec![], Some(a.set_tid()), Some(0)),
            (0, vec![free], None, Some(33)),
            (0, vec![free], None, Some(u64::MAX)),
            (0, vec![], Some(a.guard()), Some(1)),
            (0, vec![], Some(a.end() - 4), Some(2)),
            (0, vec![], Some(0xffff_8000_0000_0000), Some(1)),
        ] {
            let mut k = c3(a, flags, if flags & thread != 0 { 0 } else { sig }, 0);
            k.args.set_tid = ptr_override.unwrap_or(a.set_tid());
            k.args.set_tid_size = size_override.unwrap_or(tids.len() as u64);
            k.set_tid = tids;
            v.push(case3(k));
        }
        // Namespaces one by one (EPERM ordering unprivileged; NEWNET/NEWCGROUP/NEWTIME are
        // not in the power sets because netns creation is slow).
        for ns in [
            C::NEWNET,
            C::NEWCGROUP,
            C::NEWTIME,
            C::NEWUTS,
            C::NEWIPC,
            C::NEWNS,
            C::NEWPID,
        ] {
            for extra in [
                C::empty(),
                C::NEWUSER,
                C::SYSVSEM,
                C::NEWUSER | C::SYSVSEM,
                C::FS,
                C::VM,
            ] {
                let f = (ns | extra).bits();
                v.push(case3(c3(a, f, sig, 0)));
                if ns != C::NEWTIME {
                    v.push(legacy(a, f | 17));
                }
            }
        }
        v
    }

    fn random_legacy(a: &Arena, rng: &mut Rng) -> Case {
        let mut word = rng.next();
        if rng.chance(2) {
            // Thin the bits so that more words pass and reach the later rules.
            word &= rng.next() & rng.next();
        }
        let low = rng.pick(&SAFE_LOW);
        legacy(a, (word & !0xff) | low)
    }

    fn random_clone3(a: &Arena, rng: &mut Rng, cg: u64, pid_max: u32) -> Case {
        let mut flags = 0u64;
        for bit in 7..37 {
            if rng.chance(4) {
                flags |= 1 << bit;
            }
        }
        if rng.chance(8) {
            flags |= 1 << rng.pick(&[0u64, 4, 37, 40, 63]);
        }
        let es = rng.pick(&[0, 0, 0, 17, 17, 64, 65, 0x100, 1 << 32]);
        let mut k = c3(a, flags, es, rng.pick(&[cg, cg, 999, 1 << 31]));
        k.size = rng.pick(&[64, 80, 88, 88, 88, 96]);
        let (stack, size) = rng.pick(&[
            (0, 0),
            (0, 0),
            (0, 4096),
            (a.args(), 0),
            (a.args(), 4096),
            (0x7fff_ffff_e000, 0x1000),
            (0x7fff_ffff_f000, 0x1000),
        ]);
        k.args.stack = stack;
        k.args.stack_size = size;
        if rng.chance(6) {
            k.args.parent_tid = k.args.pidfd;
        }
        if rng.chance(10) {
            k.args.pidfd = rng.pick(&[0, a.guard()]);
        }
        if rng.chance(10) {
            k.args.tls = 1 << 63;
        }
        if rng.chance(5) {
            // Pid 2 is kthreadd in the initial namespace (EEXIST, runtime state the validator
            // does not model); it is only asked for in a new pid namespace, where it breaks
            // the no-init rule instead.
            let two = if flags & C::NEWPID.bits() != 0 { 2 } else { 1 };
            let tid = rng.pick(&[0, 1, two, pid_max as i32, free_pid(pid_max)]);
            k.set_tid = vec![tid];
            k.args.set_tid = a.set_tid();
            k.args.set_tid_size = 1;
        }
        let mut c = case3(k);
        if c_cgroup(&c) == 999 {
            c.cgroup_error = Some(Some(Errno::EBADF));
        }
        c
    }

    fn c_cgroup(c: &Case) -> u64 {
        match &c.kind {
            Kind::Clone3(k) => k.args.cgroup,
            Kind::Legacy(_) => 0,
        }
    }

    fn print_phase(who: &str, p: &Phase) {
        println!(
            "  [{who}] {:<22} {:>7} cases ({:>6} accepted, {:>2} rules hit), {:>3} disagreements",
            p.name,
            p.ran,
            p.accepted,
            p.rules.iter().filter(|&&n| n > 0).count(),
            p.disagreements
        );
        for d in &p.details {
            println!("    DISAGREE {d}");
        }
    }

    fn block_signals() {
        // Exit signals of children are really delivered to the worker: block them all.
        // SAFETY: plain sigprocmask with a full set.
        unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            libc::sigfillset(&mut set);
            libc::sigprocmask(libc::SIG_BLOCK, &set, core::ptr::null_mut());
        }
    }

    fn print_policy(who: &str, p: &Policy) {
        println!(
            "  [{who}] policy: linux {} cap_sys_admin={} pid_ns_level={} pid_max={} ancestor_pid_max={} user_ns_allowed={} \
             pid_ns_init={} pid_ns_for_children_differs={} namespaces={}",
            p.linux,
            p.cap_sys_admin,
            p.pid_ns_level,
            p.pid_max,
            p.ancestor_pid_max,
            p.user_ns_allowed,
            p.pid_ns_init,
            p.pid_ns_for_children_differs,
            p.namespaces_configured
        );
    }

    fn new_phase(name: &'static str) -> Phase {
        Phase {
            name,
            ran: 0,
            accepted: 0,
            disagreements: 0,
            details: Vec::new(),
            rules: [0; Rule::ALL.len()],
        }
    }

    fn print_rules(who: &str, hit: &[u64]) {
        let mut line = String::new();
        for (r, n) in Rule::ALL.iter().zip(hit) {
            if *n > 0 {
                let _ = write!(line, " {r}={n}");
            }
        }
        println!("  [{who}] agreed refusals per rule:{line}");
    }

    /// Runs every phase in this (worker) process and returns the number of disagreements.
    fn worker(who: &str, policy: Policy, seed: u64, cg: u64, full: bool) -> u64 {
        block_signals();
        let w = Worker {
            arena: Arena::new(),
            policy,
        };
        let a = w.arena;
        print_policy(who, &w.policy);
        let mut total = 0;
        let mut hit = [0u64; Rule::ALL.len()];
        let mut run_phase = |name: &'static str, cases: &mut dyn Iterator<Item = Case>| {
            let start = std::time::Instant::now();
            let mut p = new_phase(name);
            for c in cases {
                w.run(&c, &mut p);
            }
            print_phase(who, &p);
            println!("      ({:.1}s)", start.elapsed().as_secs_f64());
            total += p.disagreements;
            for (h, n) in hit.iter_mut().zip(p.rules) {
                *h += n;
            }
        };

        let (n_dims, n_random) = sample_size(full, 16, 20_000);
        run_phase(
            "legacy power set",
            &mut power_set(&LEGACY_DIMS[..n_dims]).map(|f| legacy(&a, f | 17)),
        );
        let mut rng = Rng(seed);
        run_phase(
            "legacy random words",
            &mut (0..n_random).map(|_| random_legacy(&a, &mut rng)),
        );
        run_phase(
            "clone3 power set",
            &mut power_set(&CLONE3_DIMS[..n_dims]).flat_map(|f| {
                [0u64, 17]
                    .into_iter()
                    .map(move |es| case3(c3(&a, f, es, cg)))
            }),
        );
        let pid_max = w.policy.pid_max;
        run_phase("specials", &mut special_cases(&a, cg, pid_max).into_iter());
        let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        run_phase(
            "clone3 random structs",
            &mut (0..n_random).map(|_| random_clone3(&a, &mut rng, cg, pid_max)),
        );
        print_rules(who, &hit);
        total
    }

    /// The validator's view of this process calling through the i386 compat entry.
    fn compat_policy(privileged: bool) -> Policy {
        let mut p = host_policy(privileged);
        p.arch = Arch::I386;
        // Kept from the x86_64 policy on purpose: a compat syscall runs in the 64-bit kernel,
        // whose access_ok() compares against the 64-bit TASK_SIZE_MAX for every task (the
        // stack specials at 3 GiB, at 4 GiB and ending at TASK_SIZE_MAX check this; with
        // i386's native 0xc000_0000 they disagree).
        p.task_size_max = host_policy(privileged).task_size_max;
        p
    }

    /// Why a case cannot be issued through `int 0x80` as it stands.
    struct I386Filter {
        /// Dropped: a legacy argument or the clone3 `uargs`/`size` wider than 32 bits
        /// (i386 registers cannot carry them; `encode` refuses them).
        too_wide: u64,
        /// `CLONE_SETTLS` cases whose `tls` was pointed at the valid `struct user_desc`.
        settls: u64,
    }

    /// Adapts an x86_64 case to the i386 entry: 32-bit registers only, and `CLONE_SETTLS`
    /// always pointing at the valid `struct user_desc` (an x86_64 `tls` value is no
    /// descriptor; the settls phase covers the descriptor checks).
    fn to_i386(a: &Arena, mut c: Case, f: &mut I386Filter) -> Option<Case> {
        let settls = |flags: u64| flags & C::SETTLS.bits() != 0;
        match &mut c.kind {
            Kind::Legacy(l) => {
                let wide = [l.word, l.stack, l.parent_tid, l.child_tid, l.tls]
                    .iter()
                    .any(|&v| v > u64::from(u32::MAX));
                if wide {
                    f.too_wide += 1;
                    return None;
                }
                if settls(l.word) {
                    l.tls = a.tls();
                    f.settls += 1;
                }
            }
            Kind::Clone3(k) => {
                if k.at > u64::from(u32::MAX) || k.size > u64::from(u32::MAX) {
                    f.too_wide += 1;
                    return None;
                }
                if settls(k.args.flags) {
                    k.args.tls = a.tls();
                    f.settls += 1;
                }
            }
        }
        Some(c)
    }

    /// i386-only specials: addresses around the 3 GiB / 4 GiB marks and clone3 pointer fields
    /// with high bits (a compat task's `struct clone_args` fields are 64-bit and not
    /// truncated; a native i386 kernel would truncate them to `unsigned long`).
    fn i386_special_cases(a: &Arena, cg: u64) -> Vec<Case> {
        let mut v = Vec::new();
        let sig = 17;
        let hi = 1u64 << 32;
        for (stack, size) in [
            (0xbfff_f000, 0x1000),
            (0xc000_0000, 0x1000),
            (0xffff_e000, 0x1000),
            (0xffff_f000, 0x1000),
            (0xffff_ffff, 1),
            (0xffff_ffff, 2),
            (hi, 0x1000),
            (a.args() | hi, 0x1000),
            (a.args(), hi),
        ] {
            for flags in [0, C::VM.bits()] {
                let mut k = c3(a, flags, sig, cg);
                k.args.stack = stack;
                k.args.stack_size = size;
                v.push(case3(k));
            }
        }
        for at in [0xffff_f000u64, 0xffff_ffa8, 0xc000_0000, 0xbfff_fff0] {
            let mut k = c3(a, 0, sig, cg);
            k.at = at;
            v.push(case3(k));
        }
        // pidfd and parent_tid equal only in their low halves: different pointers here.
        for (pidfd, ptid, flags) in [
            (a.pidfd() | hi, a.pidfd(), C::PIDFD | C::PARENT_SETTID),
            (a.pidfd(), a.pidfd() | hi, C::PIDFD | C::PARENT_SETTID),
            (a.pidfd() | hi, a.ptid(), C::PIDFD),
            (0xffff_f000, a.ptid(), C::PIDFD),
        ] {
            let mut k = c3(a, flags.bits(), sig, cg);
            k.args.pidfd = pidfd;
            k.args.parent_tid = ptid;
            v.push(case3(k));
        }
        for ptid in [0xffff_f000u64, 0xc000_0000, 0xffff_fffc] {
            for flags in [C::PIDFD, C::PIDFD | C::PARENT_SETTID, C::PARENT_SETTID] {
                let mut l = legacy(a, flags.bits() | 17);
                if let Kind::Legacy(x) = &mut l.kind {
                    x.parent_tid = ptid;
                }
                v.push(l);
            }
        }
        // set_tid pointer with high bits: EFAULT on compat (no truncation).
        let mut k = c3(a, 0, sig, cg);
        k.args.set_tid = a.set_tid() | hi;
        k.args.set_tid_size = 1;
        k.set_tid = vec![1];
        v.push(case3(k));
        // Legacy newsp (ecx): the kernel takes any value; the child never uses its stack.
        for sp in [a.end(), 0xffff_fff0, 1] {
            let mut l = legacy(a, C::VM.bits() | 17);
            if let Kind::Legacy(x) = &mut l.kind {
                x.stack = sp;
            }
            v.push(l);
        }
        v
    }

    /// `CLONE_SETTLS` through the i386 entry: `tls` is a `struct user_desc *` that
    /// `copy_thread` → `set_new_tls` → `do_set_thread_area(p, -1, tls, 0)` copies (EFAULT) and
    /// checks (`tls_desc_okay`, then `entry_number` in `GDT_ENTRY_TLS_MIN..=MAX` = 12..=14 on
    /// an x86_64 kernel; EINVAL). This phase holds the kernel to answers written by hand from
    /// `arch/x86/kernel/tls.c` and `asm/desc.h` (`LDT_empty`, `LDT_zero`), including where the
    /// check sits among the others: after the flag and namespace checks, before `alloc_pid`,
    /// the pidfd `put_user` and `cgroup_can_fork`; and it holds the validator
    /// (`validate/user_desc.rs`) to the kernel. Returns the mismatches of either.
    fn i386_settls_facts(who: &str, a: &Arena, policy: &Policy, cg: u64) -> u64 {
        let privileged = policy.cap_sys_admin;
        // user_desc flag bits (uapi asm/ldt.h bitfields, LSB first).
        const SEG32: u32 = 1;
        const CODE: u32 = 2 << 1;
        const EXPAND_DOWN: u32 = 1 << 1;
        const RO: u32 = 1 << 3;
        const PAGES: u32 = 1 << 4;
        const ABSENT: u32 = 1 << 5;
        const USEABLE: u32 = 1 << 6;
        const LM: u32 = 1 << 7;
        #[derive(Copy, Clone)]
        enum Ptr {
            Desc,
            Null,
            Guard,
            Straddle,
            Unmapped,
        }
        struct T {
            what: &'static str,
            desc: [u32; 4],
            ptr: Ptr,
            extra: CloneFlags,
            /// clone3 only (a struct field the legacy entry lacks).
            set_tid_1: bool,
            bad_cgroup: bool,
            pidfd_guard: bool,
            want: Option<Errno>,
        }
        let t = |what, desc, ptr, want| T {
            what,
            desc,
            ptr,
            extra: CloneFlags::empty(),
            set_tid_1: false,
            bad_cgroup: false,
            pidfd_guard: false,
            want,
        };
        let einval = Some(Errno::EINVAL);
        let efault = Some(Errno::EFAULT);
        let zero12 = [12, 0, 0, 0];
        let mut cases = vec![
            t("LDT_zero, entry 12", zero12, Ptr::Desc, None),
            t("LDT_zero, entry 14", [14, 0, 0, 0], Ptr::Desc, None),
            t("entry 11 (below TLS_MIN)", [11, 0, 0, 0], Ptr::Desc, einval),
            t("entry 15 (above TLS_MAX)", [15, 0, 0, 0], Ptr::Desc, einval),
            t("entry 0", [0, 0, 0, 0], Ptr::Desc, einval),
            t(
                "entry -1 (no allocation in clone)",
                [u32::MAX, 0, 0, 0],
                Ptr::Desc,
                einval,
            ),
            t(
                "flat 32-bit data",
                [12, 0x1000, 0xfffff, SEG32 | PAGES],
                Ptr::Desc,
                None,
            ),
            t(
                "expand-down data",
                [13, 0x1000, 0xfff, SEG32 | EXPAND_DOWN],
                Ptr::Desc,
                None,
            ),
            t(
                "16-bit data",
                [12, 0x1000, 0xfffff, PAGES],
                Ptr::Desc,
                einval,
            ),
            t(
                "code segment",
                [12, 0, 0xfff, SEG32 | CODE],
                Ptr::Desc,
                einval,
            ),
            t(
                "not present",
                [12, 0x1000, 0xfff, SEG32 | ABSENT],
                Ptr::Desc,
                einval,
            ),
            t(
                "LDT_empty, entry 13",
                [13, 0, 0, RO | ABSENT],
                Ptr::Desc,
                None,
            ),
            // LDT_empty ignores lm on purpose ("32-bit apps don't have that field"; fill_ldt
            // clears the L bit): an older reading (lm must be 0) was refuted on 6.18.
            t(
                "LDT_empty with lm",
                [12, 0, 0, RO | ABSENT | LM],
                Ptr::Desc,
                None,
            ),
            t("zero but useable", [12, 0, 0, USEABLE], Ptr::Desc, einval),
            t("NULL pointer", zero12, Ptr::Null, efault),
            t("guard page", zero12, Ptr::Guard, efault),
            t("straddles the guard page", zero12, Ptr::Straddle, efault),
            t("unmapped 0xffff0000", zero12, Ptr::Unmapped, efault),
        ];
        let after = |what, ptr, extra: CloneFlags, want| {
            let mut c = t(what, [0, 0, 0, 0], ptr, want);
            c.extra = extra;
            c
        };
        // Order against the modelled checks.
        let early = after(
            "NULL + NEWNS|FS: flag check first",
            Ptr::Null,
            C::NEWNS | C::FS,
            einval,
        );
        let ns_want = if privileged {
            efault
        } else {
            Some(Errno::EPERM)
        };
        let ns = after(
            "NULL + NEWUTS: copy_namespaces first",
            Ptr::Null,
            C::NEWUTS,
            ns_want,
        );
        let mut pidfd = after(
            "entry 0 + PIDFD at guard: tls first",
            Ptr::Desc,
            C::PIDFD,
            einval,
        );
        pidfd.pidfd_guard = true;
        let mut tid = after(
            "NULL + set_tid [1]: tls first",
            Ptr::Null,
            C::empty(),
            efault,
        );
        tid.set_tid_1 = true;
        let mut cgr = after(
            "NULL + bad cgroup fd: tls first",
            Ptr::Null,
            C::INTO_CGROUP,
            efault,
        );
        cgr.bad_cgroup = true;
        cases.extend([early, ns, pidfd, tid, cgr]);

        let (mut ran, mut accepted, mut bad, mut disagree) = (0u64, 0u64, 0u64, 0u64);
        for c in &cases {
            for via3 in [false, true] {
                if !via3 && (c.set_tid_1 || c.bad_cgroup) {
                    continue;
                }
                a.zero();
                a.write(a.tls(), &c.desc.map(u32::to_ne_bytes).concat());
                let tls = match c.ptr {
                    Ptr::Desc => a.tls(),
                    Ptr::Null => 0,
                    Ptr::Guard => a.guard(),
                    Ptr::Straddle => a.guard() - 8,
                    Ptr::Unmapped => 0xffff_0000,
                };
                let slot = if c.pidfd_guard { a.guard() } else { a.ptid() };
                let flags = (C::SETTLS | c.extra).bits();
                let call = if via3 {
                    let mut k = c3(a, flags, 17, if c.bad_cgroup { 999 } else { cg });
                    k.args.tls = tls;
                    k.args.pidfd = slot;
                    if c.set_tid_1 {
                        a.write_i32(a.set_tid(), 1);
                        k.args.set_tid = a.set_tid();
                        k.args.set_tid_size = 1;
                    }
                    a.write(k.at, &k.args.to_bytes(Arch::I386));
                    CloneCall::Clone3 {
                        args: k.at,
                        size: k.size,
                    }
                } else {
                    CloneCall::Clone(LegacyCloneArgs {
                        word: flags | 17,
                        stack: 0,
                        stack_size: 0,
                        parent_tid: slot,
                        child_tid: a.ctid(),
                        tls,
                        via_clone2: false,
                    })
                };
                let mut p = *policy;
                if c.bad_cgroup {
                    p.into_cgroup_error = Some(Errno::EBADF);
                }
                let model = match &call {
                    CloneCall::Clone(l) => validate_clone_in(l, a, &p),
                    CloneCall::Clone3 { args, size } => validate_clone3(*args, *size, a, &p),
                    _ => unreachable!("only clone and clone3 here"),
                };
                let ret = i386_trap(&call);
                let model_agrees = match &model {
                    Ok(_) => ret >= 0,
                    Err(e) => ret == -i64::from(e.errno.raw()),
                };
                if !model_agrees {
                    disagree += 1;
                    println!(
                        "    DISAGREE {} via {}: kernel {} validator {}",
                        c.what,
                        if via3 { "clone3" } else { "clone" },
                        kernel_show(ret),
                        show(&model)
                    );
                }
                if ret > 0 {
                    accepted += 1;
                    if c.extra.contains(C::PIDFD) && !c.pidfd_guard {
                        // SAFETY: the kernel just installed this pidfd for us.
                        unsafe { libc::close(a.read_i32(slot)) };
                    }
                    // SAFETY: plain waitpid on our own child.
                    unsafe { libc::waitpid(ret as i32, core::ptr::null_mut(), libc::__WALL) };
                }
                ran += 1;
                let ok = match c.want {
                    None => ret >= 0,
                    Some(e) => ret == -i64::from(e.raw()),
                };
                tally().count(ok);
                if !ok {
                    bad += 1;
                    println!(
                        "    UNEXPECTED {} via {}: kernel {} want {}",
                        c.what,
                        if via3 { "clone3" } else { "clone" },
                        kernel_show(ret),
                        c.want.map_or("ok".into(), |e| e.to_string())
                    );
                }
            }
        }
        println!(
            "  [{who}] {:<22} {:>7} cases ({:>6} accepted), {:>3} unexpected against the \
             errnos written from arch/x86/kernel/tls.c, {} disagreements with the validator",
            "settls user_desc", ran, accepted, bad, disagree
        );
        bad + disagree
    }

    /// The i386 compat phases (smaller power sets: the x86_64 phases already cover the
    /// arch-independent rules; these check the compat entry, the register order and the
    /// i386 policy).
    fn worker_i386(who: &str, policy: Policy, seed: u64, cg: u64, full: bool) -> u64 {
        block_signals();
        let w = Worker {
            arena: Arena::new_low(),
            policy,
        };
        let a = w.arena;
        print_policy(who, &w.policy);
        println!(
            "  [{who}] arena at {:#x} (MAP_32BIT), task_size_max={:#x}",
            a.base, w.policy.task_size_max
        );
        let mut f = I386Filter {
            too_wide: 0,
            settls: 0,
        };
        let mut total = 0;
        let mut hit = [0u64; Rule::ALL.len()];
        // Cases are made just before they run, as in the x86_64 phases: a "free" set_tid pid
        // picked long before could be taken by then (the pid counter wraps during a phase).
        let mut run_phase = |name: &'static str, cases: &mut dyn Iterator<Item = Case>| {
            let start = std::time::Instant::now();
            let mut p = new_phase(name);
            for c in cases {
                if let Some(c) = to_i386(&a, c, &mut f) {
                    w.run(&c, &mut p);
                }
            }
            print_phase(who, &p);
            println!("      ({:.1}s)", start.elapsed().as_secs_f64());
            total += p.disagreements;
            for (h, n) in hit.iter_mut().zip(p.rules) {
                *h += n;
            }
        };
        let (n_dims, n_random) = sample_size(full, 14, 8_000);
        run_phase(
            "legacy power set",
            &mut power_set(&LEGACY_DIMS[..n_dims]).map(|x| legacy(&a, x | 17)),
        );
        let mut rng = Rng(seed ^ 0x1386);
        run_phase(
            "legacy random words",
            &mut (0..n_random).map(|_| {
                let mut c = random_legacy(&a, &mut rng);
                if let Kind::Legacy(l) = &mut c.kind {
                    l.word &= u64::from(u32::MAX);
                }
                c
            }),
        );
        run_phase(
            "clone3 power set",
            &mut power_set(&CLONE3_DIMS[..n_dims]).flat_map(|x| {
                [0u64, 17]
                    .into_iter()
                    .map(move |es| case3(c3(&a, x, es, cg)))
            }),
        );
        let pid_max = w.policy.pid_max;
        run_phase(
            "specials",
            &mut special_cases(&a, cg, pid_max)
                .into_iter()
                .chain(i386_special_cases(&a, cg)),
        );
        let mut rng = Rng(seed ^ 0x1386_0003);
        run_phase(
            "clone3 random structs",
            &mut (0..n_random).map(|_| random_clone3(&a, &mut rng, cg, pid_max)),
        );
        print_rules(who, &hit);
        println!(
            "  [{who}] not issued: {} cases with a value wider than 32 bits in a register; \
             {} CLONE_SETTLS cases given a valid struct user_desc (the settls phase checks \
             the descriptor rules)",
            f.too_wide, f.settls
        );
        total + i386_settls_facts(who, &a, &w.policy, cg)
    }

    /// Flags that take part in the pid-namespace rules, for the per-case phase.
    const PIDNS_DIMS: [CloneFlags; 10] = [
        C::VM,
        C::FS,
        C::SIGHAND,
        C::THREAD,
        C::PARENT,
        C::PIDFD,
        C::NEWPID,
        C::NEWUSER,
        C::NEWNS,
        C::SETTLS,
    ];

    /// After `unshare(CLONE_NEWPID)` the first child becomes the new namespace's init, and once
    /// it exits the namespace refuses new pids (ENOMEM), so every case gets a fresh process
    /// that unshares and issues that one case.
    fn after_unshare_worker(who: &str, seed: u64, cg: u64) -> u64 {
        block_signals();
        let arena = Arena::new();
        let a = arena;
        let pid_max = host_policy(true).pid_max;
        // Two processes per case: the small sample keeps the first 6 dimensions (the
        // VM/FS/SIGHAND/THREAD/PARENT/PIDFD mix) and fewer random structs.
        let (dims, n_random) = if small_sample() {
            (&PIDNS_DIMS[..6], 100)
        } else {
            (&PIDNS_DIMS[..], 1000)
        };
        let mut cases: Vec<Case> = power_set(dims).map(|f| legacy(&a, f | 17)).collect();
        cases.extend(power_set(dims).flat_map(|f| [0u64, 17].map(|es| case3(c3(&a, f, es, cg)))));
        cases.extend(special_cases(&a, cg, pid_max));
        let mut rng = Rng(seed ^ 0x5151);
        cases.extend((0..n_random).map(|_| random_clone3(&a, &mut rng, cg, pid_max)));
        let mut p = new_phase("fresh pid ns per case");
        let start = std::time::Instant::now();
        for (i, c) in cases.iter().enumerate() {
            let first = i == 0;
            // SAFETY: fork; the child runs one case and _exits.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork");
            if pid == 0 {
                // SAFETY: unshare in the single-threaded child.
                assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWPID) }, 0);
                let w = Worker {
                    arena,
                    policy: host_policy(true),
                };
                if first {
                    print_policy(who, &w.policy);
                }
                let mut one = new_phase("one");
                w.run(c, &mut one);
                for d in &one.details {
                    println!("    DISAGREE {d}");
                }
                let code = if one.disagreements > 0 {
                    2
                } else if one.accepted > 0 {
                    0
                } else {
                    10 + one.rules.iter().position(|&n| n > 0).unwrap_or(0) as i32
                };
                // SAFETY: leave the per-case child.
                unsafe { libc::_exit(code) };
            }
            loop {
                let mut st = 0;
                // SAFETY: waitpid on our own children (the case process and any CLONE_PARENT
                // child it made).
                let r = unsafe { libc::waitpid(-1, &mut st, libc::__WALL) };
                assert!(r > 0, "waitpid");
                if r != pid {
                    continue;
                }
                p.ran += 1;
                match libc::WIFEXITED(st).then(|| libc::WEXITSTATUS(st)) {
                    Some(0) => p.accepted += 1,
                    Some(n) if n >= 10 => {
                        if let Some(slot) = p.rules.get_mut(n as usize - 10) {
                            *slot += 1;
                        }
                    }
                    _ => p.disagreements += 1,
                }
                break;
            }
        }
        // Drain CLONE_PARENT children still exiting.
        // SAFETY: waitpid on our own children.
        while unsafe { libc::waitpid(-1, core::ptr::null_mut(), libc::__WALL) } > 0 {}
        print_phase(who, &p);
        println!("      ({:.1}s)", start.elapsed().as_secs_f64());
        print_rules(who, &p.rules);
        p.disagreements
    }

    #[derive(Copy, Clone, PartialEq, Eq)]
    enum Setup {
        Root,
        Unprivileged,
        PidNsInit,
        AfterUnsharePid,
        Chrooted,
        DeepestPidNs,
    }

    impl Setup {
        fn who(self) -> &'static str {
            match self {
                Setup::Root => "root",
                Setup::Unprivileged => "uid 65534",
                Setup::PidNsInit => "root, pid-ns init",
                Setup::AfterUnsharePid => "root, after unshare(NEWPID)",
                Setup::Chrooted => "root, chrooted",
                Setup::DeepestPidNs => "root, pid ns level 32",
            }
        }
    }

    /// Runs `f` in a forked child, reaps it (and any other child), returns 1 if it failed.
    fn in_child(f: impl FnOnce() -> u64) -> u64 {
        // SAFETY: fork in a single-threaded process.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let bad = f();
            // SAFETY: leave the child.
            unsafe { libc::_exit(if bad == 0 { 0 } else { 1 }) };
        }
        let mut status = 1;
        loop {
            let mut st = 0;
            // SAFETY: waitpid on our own children.
            let r = unsafe { libc::waitpid(-1, &mut st, libc::__WALL) };
            if r < 0 {
                break;
            }
            if r == child {
                status = st;
            }
        }
        u64::from(!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0))
    }

    /// Runs `setup`'s cases in a child of this process (the child's own children made with
    /// `CLONE_PARENT` are ours to reap); returns whether everything agreed.
    fn run_setup(setup: Setup, seed: u64, cg: u64) -> bool {
        let who = setup.who();
        // SAFETY: fork in a single-threaded test binary (harness = false).
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let bad = match setup {
                Setup::Root => {
                    worker(who, host_policy(true), seed, cg, true)
                        + worker_i386("i386 compat, root", compat_policy(true), seed, cg, true)
                }
                Setup::Unprivileged => {
                    // SAFETY: dropping privileges in the child; results checked.
                    unsafe {
                        assert_eq!(libc::setgroups(0, core::ptr::null()), 0);
                        assert_eq!(libc::setgid(65534), 0);
                        assert_eq!(libc::setuid(65534), 0);
                    }
                    worker(who, host_policy(false), seed, cg, true)
                        + worker_i386(
                            "i386 compat, uid 65534",
                            compat_policy(false),
                            seed,
                            cg,
                            false,
                        )
                }
                Setup::PidNsInit => {
                    // SAFETY: unshare, then fork: the grandchild is pid 1 of the new namespace.
                    assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWPID) }, 0);
                    // SAFETY: as above.
                    in_child(|| worker(who, host_policy(true), seed, cg, true))
                }
                Setup::AfterUnsharePid => after_unshare_worker(who, seed, cg),
                Setup::Chrooted => {
                    // create_user_ns refuses a chrooted caller (current_chrooted) with EPERM,
                    // root included. /proc is read before the chroot.
                    let mut policy = host_policy(true);
                    policy.user_ns_allowed = false;
                    let dir = c"/tmp";
                    // SAFETY: chroot in the worker child.
                    assert_eq!(unsafe { libc::chroot(dir.as_ptr()) }, 0);
                    worker(who, policy, seed, cg, false)
                }
                Setup::DeepestPidNs => {
                    // Nest pid namespaces down to MAX_PID_NS_LEVEL (32): one more
                    // CLONE_NEWPID is ENOSPC (create_pid_namespace).
                    fn descend(who: &str, seed: u64, cg: u64) -> u64 {
                        let policy = host_policy(true);
                        if policy.pid_ns_level >= 32 {
                            return worker(who, policy, seed, cg, false);
                        }
                        // SAFETY: unshare in a single-threaded process.
                        assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWPID) }, 0);
                        in_child(|| descend(who, seed, cg))
                    }
                    descend(who, seed, cg)
                }
            };
            // SAFETY: leave the worker without running the parent's atexit handlers.
            unsafe { libc::_exit(if bad == 0 { 0 } else { 1 }) };
        }
        // Reap the worker and everything re-parented to us (CLONE_PARENT children).
        let mut worker_status = None;
        let mut reaped_others = 0u64;
        loop {
            let mut st = 0;
            // SAFETY: waitpid on our own children.
            let r = unsafe { libc::waitpid(-1, &mut st, libc::__WALL) };
            if r < 0 {
                break;
            }
            if r == pid {
                worker_status = Some(st);
            } else {
                reaped_others += 1;
            }
        }
        println!("  [{who}] reaped {reaped_others} CLONE_PARENT children");
        match worker_status {
            Some(st) if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0 => true,
            Some(st) => {
                println!("  [{who}] worker failed (status {st:#x})");
                false
            }
            None => {
                println!("  [{who}] worker vanished");
                false
            }
        }
    }

    pub fn main() {
        let seed = std::env::var("SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64 | 1)
                    .unwrap_or(1)
            });
        println!("kernel_differential: real clone/clone3 vs clone-core's validator (SEED={seed})");
        if as_init::is_init() {
            as_init::prepare();
        }
        if small_sample() {
            println!(
                "  sample: small (CLONE_DIFFERENTIAL_SAMPLE=small): 10 power-set dimensions, \
                 500 random cases per phase, 6 pid-ns dimensions and 100 random cases"
            );
        }
        TALLY.get_or_init(Tally::new_shared);
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            println!(
                "kernel_differential: SKIPPED — must run as root (the root phase needs \
                 CAP_SYS_ADMIN and the unprivileged phase drops to uid 65534)"
            );
            return;
        }
        let cg = own_cgroup2_fd();
        match cg {
            Some(_) => {}
            None => println!(
                "  note: no cgroup2 mount: CLONE_INTO_CGROUP cases use a closed fd (EBADF)"
            ),
        }
        NO_CGROUP2.store(cg.is_none(), std::sync::atomic::Ordering::Relaxed);
        let cg = cg.unwrap_or(999);
        println!(
            "  excluded by construction: set_tid pids in use other than an existing init \
             (EEXIST depends on the pid table), and SIGKILL/SIGSTOP as a legacy exit-signal \
             byte (the worker could not block them; Linux never validates that byte)"
        );
        INIT_PID_MAX.store(
            read_trim("/proc/sys/kernel/pid_max")
                .parse()
                .expect("pid_max"),
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut failed = false;
        for setup in [
            Setup::Root,
            Setup::Unprivileged,
            Setup::PidNsInit,
            Setup::AfterUnsharePid,
            Setup::Chrooted,
            Setup::DeepestPidNs,
        ] {
            failed |= !run_setup(setup, seed, cg);
        }
        let t = tally();
        let (calls, disagreements) = (t.calls.load(SeqCst), t.disagreements.load(SeqCst));
        println!(
            "differential linux-{}: {calls} calls, {disagreements} disagreements",
            kernel_release()
        );
        // A worker that died before counting its disagreements fails the run all the same.
        let code = if failed || disagreements > 0 {
            println!("kernel_differential: FAILED (disagreements above)");
            1
        } else {
            println!("kernel_differential: ok, zero disagreements");
            0
        };
        if as_init::is_init() {
            as_init::exit(code);
        }
        std::process::exit(code);
    }

    /// Power-set dimensions and random cases per phase: `(full_dims, full_random)` for a full
    /// phase, 12 and 2,000 otherwise, 10 and 500 in the small sample.
    fn sample_size(full: bool, full_dims: usize, full_random: u64) -> (usize, u64) {
        if small_sample() {
            (10, 500)
        } else if full {
            (full_dims, full_random)
        } else {
            (12, 2_000)
        }
    }

    /// Whether `CLONE_DIFFERENTIAL_SAMPLE=small` asks for the smaller sample (TCG runs).
    fn small_sample() -> bool {
        std::env::var("CLONE_DIFFERENTIAL_SAMPLE").is_ok_and(|v| v == "small")
    }

    /// The kernel's release string (`uname -r`).
    fn kernel_release() -> String {
        // SAFETY: uname fills the zeroed struct.
        let mut u: libc::utsname = unsafe { core::mem::zeroed() };
        // SAFETY: valid pointer to a utsname.
        assert_eq!(unsafe { libc::uname(&mut u) }, 0);
        u.release
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect()
    }

    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

    /// Calls compared and disagreements, over every process of the run: the counters live in
    /// a `MAP_SHARED` page mapped before the first fork, so workers and per-case children
    /// all add to the same two words.
    struct Tally {
        calls: AtomicU64,
        disagreements: AtomicU64,
    }

    impl Tally {
        fn new_shared() -> &'static Tally {
            // SAFETY: a fresh anonymous shared mapping; the result is checked.
            let p = unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    PAGE as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED, "mmap tally");
            // SAFETY: the page is zeroed (two zero AtomicU64s), page-aligned, never unmapped,
            // and only ever accessed through these atomics.
            unsafe { &*p.cast::<Tally>() }
        }
        fn count(&self, agree: bool) {
            self.calls.fetch_add(1, SeqCst);
            if !agree {
                self.disagreements.fetch_add(1, SeqCst);
            }
        }
    }

    static TALLY: std::sync::OnceLock<&'static Tally> = std::sync::OnceLock::new();

    fn tally() -> &'static Tally {
        TALLY
            .get()
            .expect("the tally is mapped before any case runs")
    }

    use super::as_init;

    static NO_CGROUP2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// An fd on this process's own cgroup2 directory (so CLONE_THREAD|CLONE_INTO_CGROUP stays
    /// in the same domain), from /proc/self/cgroup and /proc/self/mountinfo.
    fn own_cgroup2_fd() -> Option<u64> {
        let rel = std::fs::read_to_string("/proc/self/cgroup")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_string))?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let mount = mountinfo.lines().find_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            (post.split_whitespace().next()? == "cgroup2")
                .then(|| pre.split_whitespace().nth(4).map(str::to_string))?
        })?;
        let path = format!("{mount}{}", rel.trim_end_matches('/'));
        let c = std::ffi::CString::new(path).ok()?;
        // SAFETY: opening a directory read-only.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
        (fd >= 0 && is_cgroup2(fd)).then_some(fd as u64)
    }

    fn is_cgroup2(fd: i32) -> bool {
        // SAFETY: fstatfs into a zeroed struct.
        let mut s: libc::statfs = unsafe { core::mem::zeroed() };
        // SAFETY: valid fd and pointer.
        (unsafe { libc::fstatfs(fd, &mut s) } == 0) && s.f_type == libc::CGROUP2_SUPER_MAGIC
    }
}
