//! Differential test for the rest of the `CLONE_*` family: real `unshare`, `setns`, `fork` and
//! `vfork` syscalls on this host's kernel against clone-core's validators, case by case.
//!
//! Every `unshare` and `setns` case runs in its own forked process (it changes the process's
//! namespaces, threads or root), set up as the case says — pthreads started, chrooted, after
//! `unshare(CLONE_NEWPID)` — and reports the syscall's errno as its exit status; the test
//! process itself never unshares or joins anything. Root cases run in a forked worker, the
//! unprivileged ones in another worker that dropped to uid/gid 65534 (and stays dumpable, as
//! an ordinary process is). `fork` and `vfork` are issued raw (`syscall` with the x86_64
//! numbers, `int 0x80` with the i386 ones, both from [`clone_core::syscall::encode`]); their
//! children exit at once without touching memory, and must be reapable without `__WALL`
//! (exit signal `SIGCHLD`).
//!
//! Phases: `unshare` over every combination of the rule-relevant flags (`THREAD SIGHAND VM
//! NEWUSER NEWNS NEWPID NEWNET` and the non-unshare flag `PARENT`) with 1 and 3 threads, as
//! root (plain, chrooted, after `unshare(CLONE_NEWPID)`) and as uid 65534, plus random words
//! and random subsets of the unshare mask, and user namespaces nested until the kernel
//! refuses; `setns` over every fd kind (closed, a regular file,
//! the caller's own `/proc/self/ns/*` of each type, a pidfd of a live child, a pidfd of a
//! non-dumpable child) × every `nstype` class (0, each type, all subsets of the types for
//! pidfds, non-namespace bits, high register bits, random words), with 1 and 3 threads.
//! Set `SEED=<n>` to replay the random cases.
#![allow(missing_docs)]

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn main() {
    println!(
        "family_differential: SKIPPED — needs an x86_64 Linux host: the real kernel is the \
         oracle and fork/vfork are issued with x86_64 inline asm"
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
        CallerTask, KernelCloneArgs, SETNS_FLAGS, SetnsFd, unshare_flags, validate_fork,
        validate_setns, validate_unshare, validate_vfork,
    };
    use clone_core::{Arch, CloneError, Errno, Policy};
    use std::arch::asm;
    use std::time::Instant;

    /// Exit statuses above this are set-up failures of a case process, not errnos.
    const SETUP_FAILED: i32 = 240;
    /// An fd number the case processes never have open.
    const CLOSED_FD: i32 = 777;

    /// The namespace files and their types, in `/proc/self/ns` names.
    const NS_FILES: [(&str, C); 8] = [
        ("mnt", C::NEWNS),
        ("uts", C::NEWUTS),
        ("ipc", C::NEWIPC),
        ("net", C::NEWNET),
        ("pid", C::NEWPID),
        ("user", C::NEWUSER),
        ("cgroup", C::NEWCGROUP),
        ("time", C::NEWTIME),
    ];

    /// The flags whose combinations decide `unshare`'s rules.
    const UNSHARE_DIMS: [C; 8] = [
        C::THREAD,
        C::SIGHAND,
        C::VM,
        C::NEWUSER,
        C::NEWNS,
        C::NEWPID,
        C::NEWNET,
        C::PARENT,
    ];

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*.
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Tally of one phase.
    #[derive(Default)]
    struct Tally {
        ran: u64,
        accepted: u64,
        disagreements: u64,
        rules: Vec<(Rule, u64)>,
    }

    impl Tally {
        fn record<T>(&mut self, what: &str, model: &Result<T, CloneError>, kernel: i32) {
            self.ran += 1;
            let agree = match model {
                Ok(_) => kernel == 0,
                Err(e) => kernel == e.errno.raw(),
            };
            if !agree {
                self.disagreements += 1;
                if self.disagreements <= 10 {
                    let k = if kernel == 0 {
                        "ok".to_string()
                    } else {
                        Errno::from_raw(kernel).map_or(format!("errno {kernel}"), |e| e.to_string())
                    };
                    let m = match model {
                        Ok(_) => "ok".to_string(),
                        Err(e) => format!("{} {}", e.errno, e.rule),
                    };
                    println!("    DISAGREE {what}: kernel {k}, validator {m}");
                }
                return;
            }
            match model {
                Ok(_) => self.accepted += 1,
                Err(e) => match self.rules.iter_mut().find(|(r, _)| *r == e.rule) {
                    Some((_, n)) => *n += 1,
                    None => self.rules.push((e.rule, 1)),
                },
            }
        }

        fn print(&self, who: &str, phase: &str, started: Instant) {
            println!(
                "  [{who}] {phase:<26} {:>6} cases ({:>5} accepted, {:>2} rules hit), {} \
                 disagreements ({:.1}s)",
                self.ran,
                self.accepted,
                self.rules.len(),
                self.disagreements,
                started.elapsed().as_secs_f64()
            );
            let mut rules: Vec<String> =
                self.rules.iter().map(|(r, n)| format!("{r}={n}")).collect();
            rules.sort();
            if !rules.is_empty() {
                println!("  [{who}]     refusals: {}", rules.join(" "));
            }
        }
    }

    fn kernel_version() -> LinuxVersion {
        // SAFETY: uname fills the zeroed struct.
        let mut u: libc::utsname = unsafe { core::mem::zeroed() };
        // SAFETY: valid pointer to a utsname.
        assert_eq!(unsafe { libc::uname(&mut u) }, 0);
        let rel: String = u
            .release
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect();
        let mut it = rel
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty());
        let major = it.next().and_then(|s| s.parse().ok()).expect("uname major");
        let minor = it.next().and_then(|s| s.parse().ok()).expect("uname minor");
        LinuxVersion::new(major, minor)
    }

    /// The worker's policy: version from `uname`, capabilities from the uid, the pid
    /// namespace level from `/proc/self/status`, configured namespaces from `/proc/self/ns`.
    fn host_policy(privileged: bool) -> Policy {
        let mut p = Policy::linux(Arch::X86_64, kernel_version());
        if !privileged {
            p = p.unprivileged();
        }
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let nspid = status
            .lines()
            .find(|l| l.starts_with("NSpid:"))
            .map_or(1, |l| l.split_whitespace().count() - 1);
        p.pid_ns_level = nspid.saturating_sub(1) as u32;
        let mut ns = C::empty();
        for (name, flag) in NS_FILES {
            if std::fs::read_link(format!("/proc/self/ns/{name}")).is_ok() {
                ns |= flag;
            }
        }
        p.namespaces_configured = ns;
        p
    }

    /// How a case process is set up before its syscall.
    #[derive(Copy, Clone)]
    struct Situation {
        threads: u32,
        chroot: bool,
        after_unshare_pid: bool,
        /// A sibling process made with `CLONE_VM` (and maybe `CLONE_SIGHAND`) that shares
        /// the case process's address space (and signal handlers) while it runs.
        sibling: Option<C>,
    }

    impl Situation {
        const PLAIN: Self = Self {
            threads: 1,
            chroot: false,
            after_unshare_pid: false,
            sibling: None,
        };

        fn caller(&self) -> CallerTask {
            let mut c = CallerTask::threads(self.threads);
            if let Some(f) = self.sibling {
                c.mm_shared = true;
                c.sighand_shared |= f.contains(C::SIGHAND);
            }
            c
        }

        fn policy(&self, base: &Policy) -> Policy {
            base.with_user_ns_allowed(base.user_ns_allowed && !self.chroot)
                .with_pid_ns_for_children_differs(self.after_unshare_pid)
        }

        fn name(&self) -> String {
            let mut s = format!(
                "{} thread{}",
                self.threads,
                if self.threads == 1 { "" } else { "s" }
            );
            if self.chroot {
                s.push_str(", chrooted");
            }
            if self.after_unshare_pid {
                s.push_str(", after unshare(NEWPID)");
            }
            if let Some(f) = self.sibling {
                s.push_str(&format!(", {f} sibling"));
            }
            s
        }
    }

    /// Runs `body` in a forked process set up as `sit` says and returns its exit status (the
    /// errno `body` returns, 0 for success).
    fn in_case_process(sit: Situation, chroot_dir: &str, body: impl FnOnce() -> i32) -> i32 {
        // SAFETY: fork from the single-threaded worker.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let code = (|| {
                if sit.chroot {
                    let dir = std::ffi::CString::new(chroot_dir).expect("path");
                    // SAFETY: plain chroot/chdir on NUL-terminated paths.
                    let failed = unsafe {
                        libc::chroot(dir.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0
                    };
                    if failed {
                        return SETUP_FAILED;
                    }
                }
                for _ in 1..sit.threads {
                    std::thread::spawn(|| {
                        loop {
                            std::thread::park();
                        }
                    });
                }
                // SAFETY: raw unshare of this case process only.
                if sit.after_unshare_pid && unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
                    return SETUP_FAILED + 1;
                }
                let sibling = match sit.sibling {
                    Some(f) => {
                        let pid = vm_sibling(f.bits() | 17);
                        if pid <= 0 {
                            return SETUP_FAILED + 4;
                        }
                        pid as i32
                    }
                    None => 0,
                };
                let code = body();
                if sibling > 0 {
                    // SAFETY: our own child.
                    unsafe {
                        libc::kill(sibling, libc::SIGKILL);
                        libc::waitpid(sibling, core::ptr::null_mut(), 0);
                    }
                }
                code
            })();
            // SAFETY: leave at once (exit_group takes the parked threads too).
            unsafe { libc::_exit(code) };
        }
        let mut st = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
        assert!(libc::WIFEXITED(st), "case process died: status {st:#x}");
        let code = libc::WEXITSTATUS(st);
        assert!(code < SETUP_FAILED, "case process set-up failed ({code})");
        code
    }

    /// `clone(flags, 0, …)` whose child loops on `pause` without touching the (shared) stack
    /// or memory until it is killed.
    fn vm_sibling(flags: u64) -> i64 {
        let ret: i64;
        // SAFETY: the child runs only pause syscalls (no stack, no memory); the parent path
        // clobbers rax, rcx, r11.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 3f",
                "2:",
                "mov eax, 34",
                "syscall",
                "jmp 2b",
                "3:",
                inlateout("rax") 56i64 => ret,
                in("rdi") flags,
                in("rsi") 0u64,
                in("rdx") 0u64,
                in("r10") 0u64,
                in("r8") 0u64,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    fn errno_of(ret: libc::c_long) -> i32 {
        if ret == 0 {
            0
        } else {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
        }
    }

    fn unshare_phase(
        who: &str,
        base: &Policy,
        privileged: bool,
        rng: &mut Rng,
        chroot_dir: &str,
    ) -> u64 {
        let mut sits = vec![];
        for threads in [1, 3] {
            let plain = Situation {
                threads,
                ..Situation::PLAIN
            };
            sits.push(plain);
            if privileged {
                sits.push(Situation {
                    chroot: true,
                    ..plain
                });
                sits.push(Situation {
                    after_unshare_pid: true,
                    ..plain
                });
            }
        }
        for sibling in [C::VM, C::VM | C::SIGHAND] {
            sits.push(Situation {
                sibling: Some(sibling),
                ..Situation::PLAIN
            });
        }
        let mut bad = 0;
        for sit in sits {
            let started = Instant::now();
            let mut t = Tally::default();
            let policy = sit.policy(base);
            let caller = sit.caller();
            let mut words: Vec<u64> = (0u32..1 << UNSHARE_DIMS.len())
                .map(|m| {
                    UNSHARE_DIMS
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| m & (1 << i) != 0)
                        .fold(0, |acc, (_, f)| acc | f.bits())
                })
                .collect();
            for _ in 0..48 {
                words.push(rng.next());
                // The mask of this kernel's version (7.1 adds UNSHARE_EMPTY_MNTNS).
                let mask = unshare_flags(base.linux);
                let valid = (mask | C::PARENT | C::from_bits_retain(17)).bits();
                words.push(rng.next() & valid);
            }
            for word in words {
                if !base.user_ns_allowed && !privileged && word & C::NEWUSER.bits() != 0 {
                    continue;
                }
                let model = validate_unshare(word, &caller, &policy);
                let kernel = in_case_process(sit, chroot_dir, || {
                    // SAFETY: unshare in a throw-away case process.
                    errno_of(unsafe { libc::syscall(libc::SYS_unshare, word) })
                });
                let what = format!("unshare({}) [{}]", C::from_bits_retain(word), sit.name());
                t.record(&what, &model, kernel);
            }
            t.print(who, &format!("unshare, {}", sit.name()), started);
            bad += t.disagreements;
        }
        bad
    }

    /// Writes `text` to `path` (a `/proc/self` map file); whether it worked.
    fn write_proc(path: &str, text: &str) -> bool {
        std::fs::write(path, text).is_ok()
    }

    /// Nests user namespaces one `unshare(CLONE_NEWUSER)` at a time in one case process,
    /// mapping the caller's ids at each level (`create_user_ns` wants them mapped in the
    /// parent), until the kernel refuses; every step against the validator with the level as
    /// [`CallerTask::user_ns_level`]. Inside its own user namespace the caller has every
    /// capability there.
    fn user_ns_depth_phase(who: &str, base: &Policy) -> u64 {
        let started = Instant::now();
        let mut t = Tally::default();
        let start_level = std::fs::read_link("/proc/self/ns/user")
            .map(|_| 0u32)
            .unwrap_or(0);
        // The case process reports each step as one byte through a pipe: the errno (0 = ok).
        let mut pipe = [0i32; 2];
        // SAFETY: pipe fills the two fds.
        assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
        let (rd, wr) = (pipe[0], pipe[1]);
        const STEPS: u32 = 36;
        in_case_process(Situation::PLAIN, "", || {
            for _ in 0..STEPS {
                // The ids as the current namespace sees them: mapped to 0 one level down.
                // SAFETY: plain geteuid/getegid.
                let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
                // SAFETY: unshare in a throw-away case process.
                let e = errno_of(unsafe { libc::syscall(libc::SYS_unshare, C::NEWUSER.bits()) });
                let ok = e == 0
                    && write_proc("/proc/self/uid_map", &format!("0 {uid} 1"))
                    && write_proc("/proc/self/setgroups", "deny")
                    && write_proc("/proc/self/gid_map", &format!("0 {gid} 1"));
                let byte = [if e != 0 {
                    e as u8
                } else if ok {
                    0
                } else {
                    255
                }];
                // SAFETY: one byte to our pipe.
                unsafe { libc::write(wr, byte.as_ptr().cast(), 1) };
                if e != 0 || !ok {
                    break;
                }
            }
            0
        });
        // SAFETY: close our write end, then read what the case process wrote.
        unsafe { libc::close(wr) };
        let mut got = [0u8; STEPS as usize];
        // SAFETY: read into our buffer.
        let n = unsafe { libc::read(rd, got.as_mut_ptr().cast(), got.len()) };
        // SAFETY: our fd.
        unsafe { libc::close(rd) };
        let n = usize::try_from(n).unwrap_or(0);
        assert!(
            !got[..n].contains(&255),
            "could not map ids in a new user namespace"
        );
        for (level, &e) in got[..n].iter().enumerate() {
            let level = start_level + level as u32;
            let caller = CallerTask::SINGLE.with_user_ns_level(level);
            // From level 1 on the caller is root in a user namespace it owns.
            let policy = if level > 0 {
                base.with_cap_sys_admin(true)
            } else {
                *base
            };
            let model = validate_unshare(C::NEWUSER.bits(), &caller, &policy);
            t.record(
                &format!("unshare(CLONE_NEWUSER) at user ns level {level}"),
                &model,
                i32::from(e),
            );
        }
        t.print(who, "unshare, nested user ns", started);
        t.disagreements
    }

    /// The fd kinds of the setns phase.
    #[derive(Copy, Clone)]
    enum FdKind {
        Closed,
        File,
        Ns(&'static str, C),
        Pidfd { dumpable: bool },
    }

    impl FdKind {
        fn name(&self) -> String {
            match self {
                FdKind::Closed => "closed fd".into(),
                FdKind::File => "regular file".into(),
                FdKind::Ns(n, _) => format!("ns:{n}"),
                FdKind::Pidfd { dumpable: true } => "pidfd".into(),
                FdKind::Pidfd { dumpable: false } => "pidfd (non-dumpable child)".into(),
            }
        }

        fn model(&self, privileged: bool) -> SetnsFd {
            match *self {
                FdKind::Closed => SetnsFd::Closed,
                FdKind::File => SetnsFd::Other,
                FdKind::Ns(_, t) => SetnsFd::OwnNamespace(t),
                // ptrace_may_access: a non-dumpable target needs CAP_SYS_PTRACE.
                FdKind::Pidfd { dumpable } => SetnsFd::Pidfd {
                    ptrace_readable: dumpable || privileged,
                },
            }
        }
    }

    /// In the case process: opens the fd `kind` names (and its pidfd target), calls setns,
    /// cleans up; returns the errno.
    fn setns_in_case(kind: FdKind, nstype: u64, file: &str) -> i32 {
        let mut target = 0;
        let fd = match kind {
            FdKind::Closed => CLOSED_FD,
            FdKind::File => {
                let p = std::ffi::CString::new(file).expect("path");
                // SAFETY: open of a NUL-terminated path.
                unsafe { libc::open(p.as_ptr(), libc::O_RDONLY) }
            }
            FdKind::Ns(name, _) => {
                let p = std::ffi::CString::new(format!("/proc/self/ns/{name}")).expect("path");
                // SAFETY: as above.
                unsafe { libc::open(p.as_ptr(), libc::O_RDONLY) }
            }
            FdKind::Pidfd { dumpable } => {
                // The child says when it is set up (non-dumpable or not) through a pipe.
                let mut ready = [0i32; 2];
                // SAFETY: pipe fills the two fds.
                if unsafe { libc::pipe(ready.as_mut_ptr()) } != 0 {
                    return SETUP_FAILED + 3;
                }
                // SAFETY: the child only sleeps until killed.
                target = unsafe { libc::fork() };
                if target == 0 {
                    // SAFETY: plain prctl, write and pause in the child.
                    unsafe {
                        if !dumpable {
                            libc::prctl(libc::PR_SET_DUMPABLE, 0);
                        }
                        libc::write(ready[1], [1u8].as_ptr().cast(), 1);
                        loop {
                            libc::pause();
                        }
                    }
                }
                let mut byte = [0u8];
                // SAFETY: read one byte from our pipe, then close both ends.
                unsafe {
                    libc::read(ready[0], byte.as_mut_ptr().cast(), 1);
                    libc::close(ready[0]);
                    libc::close(ready[1]);
                }
                // SAFETY: pidfd_open of our own child.
                unsafe { libc::syscall(libc::SYS_pidfd_open, target, 0) as i32 }
            }
        };
        if fd < 0 && !matches!(kind, FdKind::Closed) {
            return SETUP_FAILED + 2;
        }
        // SAFETY: setns in a throw-away case process; nstype goes in as the full register.
        let r = errno_of(unsafe { libc::syscall(libc::SYS_setns, fd, nstype) });
        if target > 0 {
            // SAFETY: our own child.
            unsafe {
                libc::kill(target, libc::SIGKILL);
                libc::waitpid(target, core::ptr::null_mut(), 0);
            }
        }
        r
    }

    fn setns_phase(who: &str, base: &Policy, privileged: bool, rng: &mut Rng, file: &str) -> u64 {
        let mut kinds = vec![
            FdKind::Closed,
            FdKind::File,
            FdKind::Pidfd { dumpable: true },
            FdKind::Pidfd { dumpable: false },
        ];
        kinds.extend(NS_FILES.iter().map(|&(n, t)| FdKind::Ns(n, t)));
        let mut bad = 0;
        for threads in [1, 3] {
            let sit = Situation {
                threads,
                ..Situation::PLAIN
            };
            let started = Instant::now();
            let mut t = Tally::default();
            let caller = sit.caller();
            for kind in &kinds {
                // nstype classes: 0, each type, bits outside the types, high register bits,
                // random words; for pidfds every subset of the types.
                let mut types: Vec<u64> =
                    vec![0, C::VM.bits(), 1 << 31, (1 << 40) | C::NEWNET.bits()];
                types.extend(NS_FILES.iter().map(|(_, f)| f.bits()));
                if let FdKind::Pidfd { dumpable: true } = kind {
                    let all: Vec<C> = NS_FILES.iter().map(|(_, f)| *f).collect();
                    for m in 0u32..1 << all.len() {
                        let set = all
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| m & (1 << i) != 0)
                            .fold(0, |acc, (_, f)| acc | f.bits());
                        types.push(set);
                    }
                    types.push(SETNS_FLAGS.bits() | C::SIGHAND.bits());
                }
                for _ in 0..4 {
                    types.push(rng.next());
                    types.push(rng.next() & SETNS_FLAGS.bits());
                }
                for nstype in types {
                    let model = validate_setns(kind.model(privileged), nstype, &caller, base);
                    let kernel = in_case_process(sit, "", || setns_in_case(*kind, nstype, file));
                    let what = format!("setns({}, {:#x}) [{}]", kind.name(), nstype, sit.name());
                    t.record(&what, &model, kernel);
                }
            }
            t.print(who, &format!("setns, {}", sit.name()), started);
            bad += t.disagreements;
        }
        bad
    }

    /// `fork`/`vfork` through the x86_64 `syscall` entry; the child exits at once.
    fn raw_syscall0(nr: u64) -> i64 {
        let ret: i64;
        // SAFETY: fork/vfork whose child runs only exit(0), touching neither stack nor memory
        // (a vfork child shares both); the parent path clobbers rax, rcx, r11.
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
                inlateout("rax") nr as i64 => ret,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    /// `fork`/`vfork` through the compat `int 0x80` entry; the child runs the i386 `exit(0)`.
    fn raw_int80_0(nr: u32) -> i64 {
        let ret: i32;
        // SAFETY: as raw_syscall0; rbx is swapped in and out (LLVM reserves it).
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
                b = inout(reg) 0u64 => _,
                inlateout("eax") nr => ret,
                lateout("r8") _,
                lateout("r9") _,
                lateout("r10") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        i64::from(ret)
    }

    fn fork_phase(who: &str, privileged: bool) -> u64 {
        let started = Instant::now();
        let mut t = Tally::default();
        for arch in [Arch::X86_64, Arch::I386] {
            let policy = Policy::linux(arch, kernel_version());
            let policy = if privileged {
                policy
            } else {
                policy.unprivileged()
            };
            for (call, model) in [
                (CloneCall::Fork, validate_fork(&policy)),
                (CloneCall::Vfork, validate_vfork(&policy)),
            ] {
                let raw = encode(arch, &call).expect("x86_64 and i386 have fork and vfork");
                for _ in 0..50 {
                    let ret = match arch {
                        Arch::X86_64 => raw_syscall0(raw.nr),
                        _ => raw_int80_0(raw.nr as u32),
                    };
                    let mut kernel = if ret < 0 { (-ret) as i32 } else { 0 };
                    if ret > 0 {
                        // The exit signal must be SIGCHLD: a plain waitpid (no __WALL)
                        // only reaps such children.
                        let mut st = 0;
                        // SAFETY: waiting for our own child.
                        let got = unsafe { libc::waitpid(ret as i32, &mut st, 0) };
                        if got != ret as i32 || !libc::WIFEXITED(st) {
                            kernel = -1;
                        }
                    }
                    let what = format!("{call:?} via {arch}");
                    let model: &Result<KernelCloneArgs, CloneError> = &model;
                    t.record(&what, model, kernel);
                }
                if let Ok(k) = &model {
                    assert_eq!(k.exit_signal, 17, "{arch} {call:?}: SIGCHLD");
                }
            }
        }
        t.print(who, "fork/vfork (x86_64, i386)", started);
        t.disagreements
    }

    fn worker(who: &str, privileged: bool, seed: u64, chroot_dir: &str, file: &str) -> u64 {
        let mut base = host_policy(privileged);
        if !privileged {
            // Whether this host lets uid 65534 create a user namespace at all (distribution
            // sysctls such as Debian's unprivileged_userns_clone, LSMs) is environment, and
            // such a refusal may come before check_unshare_flags: probe once, and say so.
            let r = in_case_process(Situation::PLAIN, "", || {
                // SAFETY: unshare in a throw-away case process.
                errno_of(unsafe { libc::syscall(libc::SYS_unshare, C::NEWUSER.bits()) })
            });
            if r != 0 {
                base.user_ns_allowed = false;
                println!(
                    "  [{who}] this host refuses unprivileged user namespaces (errno {r}): \
                     unshare cases with CLONE_NEWUSER are skipped"
                );
            }
        }
        println!(
            "  [{who}] policy: linux {} cap_sys_admin={} pid_ns_level={} namespaces={}",
            base.linux, base.cap_sys_admin, base.pid_ns_level, base.namespaces_configured
        );
        let mut rng = Rng(seed | 1);
        unshare_phase(who, &base, privileged, &mut rng, chroot_dir)
            + user_ns_depth_phase(who, &base)
            + setns_phase(who, &base, privileged, &mut rng, file)
            + fork_phase(who, privileged)
    }

    use super::as_init;

    pub fn main() {
        if as_init::is_init() {
            as_init::prepare();
            // A panic (a disagreement) must still end init with a failing status.
            let code = i32::from(std::panic::catch_unwind(run).is_err());
            println!("family_differential: init exits with {code}");
            as_init::exit(code);
        }
        run();
    }

    fn run() {
        // SAFETY: plain getuid.
        if unsafe { libc::geteuid() } != 0 {
            panic!("family_differential needs root (it also runs an unprivileged worker)");
        }
        let seed = std::env::var("SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        println!("family_differential: real unshare/setns/fork/vfork vs clone-core (SEED={seed})");
        let started = Instant::now();
        let dir = std::env::temp_dir().join(format!("family-differential-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("chroot dir");
        let file = dir.join("regular-file");
        std::fs::write(&file, b"not a namespace\n").expect("regular file");
        // Readable by uid 65534 too.
        let _ = std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755));
        let (dir_s, file_s) = (
            dir.to_string_lossy().into_owned(),
            file.to_string_lossy().into_owned(),
        );
        let mut bad = 0;
        for privileged in [true, false] {
            // SAFETY: fork from this single-threaded process (harness = false).
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork");
            if pid == 0 {
                let who = if privileged { "root" } else { "uid 65534" };
                if !privileged {
                    // SAFETY: dropping privileges in the worker; results checked.
                    unsafe {
                        assert_eq!(libc::setgroups(0, core::ptr::null()), 0);
                        assert_eq!(libc::setgid(65534), 0);
                        assert_eq!(libc::setuid(65534), 0);
                        // setuid made the process non-dumpable; an ordinary one is dumpable.
                        assert_eq!(libc::prctl(libc::PR_SET_DUMPABLE, 1), 0);
                    }
                }
                let n = worker(who, privileged, seed, &dir_s, &file_s);
                // SAFETY: leave the worker.
                unsafe { libc::_exit(n.min(200) as i32) };
            }
            let mut st = 0;
            // SAFETY: our own child.
            assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
            assert!(libc::WIFEXITED(st), "worker died: {st:#x}");
            bad += libc::WEXITSTATUS(st) as u64;
        }
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "family_differential: {} ({:.1}s)",
            if bad == 0 {
                "ok, zero disagreements".to_string()
            } else {
                format!("{bad} disagreements")
            },
            started.elapsed().as_secs_f64()
        );
        assert_eq!(bad, 0, "the validator disagrees with the kernel");
    }
}
