//! The fast accept path: a few mask tests that accept the calls which break no rule, before
//! (and instead of) the ordered rule walk in [`crate::validate`].
//!
//! It only ever says "accepted" or "ask the walk". Everything it accepts the walk accepts too,
//! with the same [`KernelCloneArgs`] (a property test in this file checks both on random
//! words, structs and policies), and everything else takes the walk, so check order, errnos
//! and fixes are the walk's. It accepts:
//!
//! * flags inside a per-[`Policy`] mask ([`Masks`]): no unknown or clone3-refused bit, no
//!   `CLONE_INTO_CGROUP` or 2026 AUTOREAP-family flag, no namespace flag the caller could be
//!   refused, no `CLONE_PARENT`/`CLONE_THREAD` where the caller's pid namespace forbids them;
//! * `CLONE_THREAD` ⇒ `CLONE_SIGHAND` ⇒ `CLONE_VM`;
//! * with a namespace flag: none of the pairs `copy_process` and `copy_namespaces` refuse;
//! * with `CLONE_PIDFD`: its own slot, no `CLONE_DETACHED`, `PIDFD_THREAD` where needed and a
//!   writable pidfd slot;
//! * on x86_64, a `CLONE_SETTLS` value below `TASK_SIZE_MAX`; no `CLONE_SETTLS` on i386 (its
//!   `struct user_desc` is read from memory);
//! * for the legacy `clone` since 7.1: an exit-signal byte up to `_NSIG` (`kernel_clone`);
//! * for `clone3`: no `set_tid`, a valid exit signal (none with `CLONE_THREAD`/`CLONE_PARENT`),
//!   no `CLONE_SIGHAND | CLONE_CLEAR_SIGHAND`, and a stack and size given both or neither,
//!   inside `access_ok`.

use crate::Arch;
use crate::abi::StackGrowth;
use crate::flags::{CSIGNAL, CloneFlags, LEGACY_FLAGS, NAMESPACE_FLAGS};
use crate::policy::Policy;
use crate::validate::{
    CloneArgs, KernelCloneArgs, LegacyCloneArgs, MAX_PID_NS_LEVEL, Request, UserMemory, Via,
};

const fn bits(f: CloneFlags) -> u64 {
    f.bits()
}

const VM: u64 = bits(CloneFlags::VM);
const FS: u64 = bits(CloneFlags::FS);
const SIGHAND: u64 = bits(CloneFlags::SIGHAND);
const THREAD: u64 = bits(CloneFlags::THREAD);
const PARENT: u64 = bits(CloneFlags::PARENT);
const PIDFD: u64 = bits(CloneFlags::PIDFD);
const PARENT_SETTID: u64 = bits(CloneFlags::PARENT_SETTID);
const DETACHED: u64 = bits(CloneFlags::DETACHED);
const SETTLS: u64 = bits(CloneFlags::SETTLS);
const NEWNS: u64 = bits(CloneFlags::NEWNS);
const NEWUSER: u64 = bits(CloneFlags::NEWUSER);
const NEWPID: u64 = bits(CloneFlags::NEWPID);
const NEWIPC: u64 = bits(CloneFlags::NEWIPC);
const SYSVSEM: u64 = bits(CloneFlags::SYSVSEM);
const CLEAR_SIGHAND: u64 = bits(CloneFlags::CLEAR_SIGHAND);
const NEWTIME: u64 = bits(CloneFlags::NEWTIME);
const ALL_NAMESPACES: u64 = bits(NAMESPACE_FLAGS) | NEWUSER;

// The dependency test shifts each flag onto the one it needs.
const _: () = assert!(THREAD >> 5 == SIGHAND && SIGHAND >> 3 == VM);

/// What the fast path needs from a [`Policy`], computed once per policy.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Masks {
    /// What the legacy fast path needs (and the flag rules of both).
    pub(crate) legacy: LegacyMasks,
    /// Flags that send a `clone3` to the walk.
    clone3_slow: u64,
    /// All ones where the stack grows down (a `clone3` stack's SP is `stack + stack_size`),
    /// zero where it grows up (hppa keeps `stack`).
    stack_top: u64,
    /// `_NSIG` for `clone3`'s `exit_signal`.
    nsig: u64,
    /// `clone3` exists ([`Policy::has_clone3`]).
    pub(crate) has_clone3: bool,
    /// `sizeof(struct clone_args)` the kernel knows.
    pub(crate) args_size: u64,
    /// The arch's byte order is big-endian.
    pub(crate) big_endian: bool,
    /// A `clone3` struct of 88 bytes passes `sys_clone3` and the size rules: `clone3`
    /// exists, the kernel's struct is 88 bytes and the page holds it.
    pub(crate) whole_struct: bool,
}

/// The part of [`Masks`] a legacy `clone` needs, which the free functions compute alone.
#[derive(Copy, Clone, Debug)]
pub(crate) struct LegacyMasks {
    /// Flags that send a legacy `clone` to the walk.
    legacy_slow: u64,
    /// Flags that, with `CLONE_PIDFD`, send a call to the walk: `CLONE_DETACHED`, and
    /// `CLONE_THREAD` before `PIDFD_THREAD` (6.9).
    pidfd_slow: u64,
    /// `CLONE_SETTLS` values at or above this take the walk (x86_64's `copy_thread` check;
    /// `u64::MAX` elsewhere, which sends only that one value to the walk).
    tls_limit: u64,
    /// `_NSIG`: a legacy exit-signal byte above it takes the walk, which refuses it since 7.1
    /// (`kernel_clone`) and accepts it before (no version test here; such bytes are rare).
    legacy_nsig: u8,
}

impl LegacyMasks {
    /// The legacy masks for `policy`.
    pub(crate) const fn new(policy: &Policy) -> Self {
        Self::with_allowed(allowed(policy), policy)
    }

    /// [`LegacyMasks::new`] from [`allowed`]`(policy)`, computed by the caller.
    const fn with_allowed(allowed: u64, policy: &Policy) -> Self {
        Self {
            legacy_slow: !(allowed & !CSIGNAL),
            pidfd_slow: if policy.linux.pidfd_thread() {
                DETACHED
            } else {
                DETACHED | THREAD
            },
            tls_limit: if matches!(policy.arch, Arch::X86_64) {
                policy.task_size_max
            } else {
                u64::MAX
            },
            legacy_nsig: policy.arch.nsig() as u8,
        }
    }
}

/// The flags below the legacy 32 bits that can break no rule one by one under `policy`
/// (their combinations are tested per call). Of `CSIGNAL` only `CLONE_NEWTIME` can be in it,
/// which only `clone3` takes as a flag.
const fn allowed(policy: &Policy) -> u64 {
    let v = policy.linux;
    let configured = bits(policy.namespaces_configured);
    // Namespaces the caller may make one by one; their pairs are tested per call.
    let mut ns = 0;
    if policy.cap_sys_admin {
        ns = bits(NAMESPACE_FLAGS) & configured;
    }
    if policy.pid_ns_for_children_differs || policy.pid_ns_level as u64 + 1 > MAX_PID_NS_LEVEL {
        ns &= !NEWPID;
    }
    if policy.user_ns_allowed {
        ns |= configured & NEWUSER;
    }
    let mut legacy = (LEGACY_FLAGS & !CSIGNAL & !ALL_NAMESPACES) | ns;
    if policy.pid_ns_init || (v.has_autoreap() && policy.autoreap_parent) {
        legacy &= !PARENT;
    }
    if policy.pid_ns_for_children_differs {
        legacy &= !THREAD;
    }
    // i386's copy_thread reads the struct user_desc at tls: the walk's business.
    if matches!(policy.arch, Arch::I386) {
        legacy &= !SETTLS;
    }
    legacy
}

impl Masks {
    /// The masks for `policy`.
    pub(crate) const fn new(policy: &Policy) -> Self {
        let v = policy.linux;
        // CLONE_NEWTIME sits in CSIGNAL: clone3 only, and only since the 2023 fix.
        let allowed = allowed(policy);
        let mut clone3 = allowed & !DETACHED;
        if !v.clone3_accepts_newtime() {
            clone3 &= !NEWTIME;
        }
        if v.at_least(crate::policy::LinuxVersion::V5_5) {
            clone3 |= CLEAR_SIGHAND;
        }
        let has_clone3 = policy.has_clone3();
        let args_size = v.clone_args_size();
        Self {
            legacy: LegacyMasks::with_allowed(allowed, policy),
            clone3_slow: !clone3,
            stack_top: match policy.arch.stack_growth() {
                StackGrowth::Down => u64::MAX,
                StackGrowth::Up => 0,
            },
            nsig: policy.arch.nsig(),
            has_clone3,
            args_size,
            big_endian: policy.arch.big_endian(),
            whole_struct: has_clone3
                && args_size == crate::validate::CLONE_ARGS_SIZE_VER2
                && policy.page_size >= crate::validate::CLONE_ARGS_SIZE_VER2,
        }
    }
}

/// The flag rules shared by `clone` and `clone3` (`kernel_clone`, `copy_process`,
/// `copy_namespaces`, `copy_thread`, the pidfd `put_user`): true if none can fail.
#[inline(always)]
fn flags_pass(f: u64, slots: Slots, slow: u64, m: &LegacyMasks, mem: &impl UserMemory) -> bool {
    let needed = ((f >> 5) & SIGHAND) | ((f >> 3) & VM);
    if (f & slow) | (needed & !f) != 0 {
        return false;
    }
    if f & (ALL_NAMESPACES | PIDFD) != 0 && !rare_flags_pass(f, slots, m, mem) {
        return false;
    }
    f & SETTLS == 0 || slots.tls < m.tls_limit
}

/// [`flags_pass`] for namespace flags and `CLONE_PIDFD`.
#[inline(always)]
fn rare_flags_pass(f: u64, slots: Slots, m: &LegacyMasks, mem: &impl UserMemory) -> bool {
    if f & ALL_NAMESPACES != 0 {
        let fs_pair = f & FS != 0 && f & (NEWNS | NEWUSER) != 0;
        let thread_pair = f & THREAD != 0 && f & (NEWUSER | NEWPID) != 0;
        if fs_pair || thread_pair || f & (NEWIPC | SYSVSEM) == NEWIPC | SYSVSEM {
            return false;
        }
    }
    if f & PIDFD != 0 {
        let same_slot = f & PARENT_SETTID != 0 && slots.pidfd == slots.parent_tid;
        if same_slot || f & m.pidfd_slow != 0 || !mem.writable(slots.pidfd, 4) {
            return false;
        }
    }
    true
}

/// The pointers the flag rules look at.
#[derive(Copy, Clone)]
struct Slots {
    pidfd: u64,
    parent_tid: u64,
    tls: u64,
}

/// The fast path for a legacy `clone`/`clone2` call: its `kernel_clone_args` if the walk
/// would accept it. Works on the arguments as decoded, so nothing is built for the walk.
#[inline(always)]
pub(crate) fn legacy_accepts(
    args: &LegacyCloneArgs,
    m: &LegacyMasks,
    mem: &impl UserMemory,
) -> Option<KernelCloneArgs> {
    let low = args.word & LEGACY_FLAGS;
    let flags = low & !CSIGNAL;
    let slots = Slots {
        pidfd: args.parent_tid,
        parent_tid: args.parent_tid,
        tls: args.tls,
    };
    if args.word as u8 > m.legacy_nsig || !flags_pass(flags, slots, m.legacy_slow, m, mem) {
        return None;
    }
    Some(KernelCloneArgs {
        via: if args.via_clone2 {
            Via::Clone2
        } else {
            Via::Clone
        },
        flags: CloneFlags::from_bits_retain(flags),
        exit_signal: low as u8,
        pidfd: args.parent_tid,
        child_tid: args.child_tid,
        parent_tid: args.parent_tid,
        stack: args.stack,
        // Only clone2 has a stack size (microblaze's is ignored); no branch for it.
        stack_size: args.stack_size & 0u64.wrapping_sub(args.via_clone2 as u64),
        tls: args.tls,
        set_tid: [0; 32],
        set_tid_len: 0,
        cgroup: 0,
    })
}

/// The fast path for a `clone3` call after the struct copy: its `kernel_clone_args` if the
/// walk would accept it.
#[inline(always)]
pub(crate) fn clone3_accepts(
    a: &CloneArgs,
    size: u64,
    m: &Masks,
    mem: &impl UserMemory,
    policy: &Policy,
) -> Option<KernelCloneArgs> {
    let f = a.flags;
    if a.set_tid | a.set_tid_size != 0 || a.exit_signal > m.nsig {
        return None;
    }
    if f & (SIGHAND | CLEAR_SIGHAND) == SIGHAND | CLEAR_SIGHAND
        || (f & (THREAD | PARENT) != 0 && a.exit_signal != 0)
    {
        return None;
    }
    let stack = if a.stack == 0 && a.stack_size == 0 {
        0
    } else if a.stack != 0 && a.stack_size != 0 && mem.access_ok(a.stack, a.stack_size, policy) {
        // The top on grows-down arches, the base on hppa.
        a.stack.wrapping_add(a.stack_size & m.stack_top)
    } else {
        return None;
    };
    let slots = Slots {
        pidfd: a.pidfd,
        parent_tid: a.parent_tid,
        tls: a.tls,
    };
    if !flags_pass(f, slots, m.clone3_slow, &m.legacy, mem) {
        return None;
    }
    Some(KernelCloneArgs {
        via: Via::Clone3 { size },
        flags: CloneFlags::from_bits_retain(f),
        exit_signal: a.exit_signal as u8,
        pidfd: a.pidfd,
        child_tid: a.child_tid,
        parent_tid: a.parent_tid,
        stack,
        stack_size: a.stack_size,
        tls: a.tls,
        set_tid: [0; 32],
        set_tid_len: 0,
        cgroup: a.cgroup,
    })
}

/// The accepted arguments, as the walk builds them (`set_tid` comes from the walk only).
#[inline(always)]
pub(crate) fn accepted(req: &Request, stack: u64, set_tid: [i32; 32]) -> KernelCloneArgs {
    KernelCloneArgs {
        via: req.via,
        flags: CloneFlags::from_bits_retain(req.flags),
        exit_signal: req.exit_signal as u8,
        pidfd: req.pidfd,
        child_tid: req.child_tid,
        parent_tid: req.parent_tid,
        stack,
        stack_size: req.stack_size,
        tls: req.tls,
        set_tid,
        set_tid_len: req.set_tid_size as usize,
        cgroup: req.cgroup,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::Arch;
    use crate::fix::{best_fix, early_fix};
    use crate::flags::{CloneFlags, THREAD_FLAGS};
    use crate::policy::{LinuxVersion, Policy};
    use crate::syscall::CloneCall;
    use crate::validate::{
        CloneArgs, Fault, LegacyCloneArgs, UserMemory, Validator, clone3_request, legacy_request,
        read_clone_args, walk_clone3, walk_legacy,
    };

    /// Where the struct sits; one pointer value (`UNWRITABLE`) models a faulting pidfd slot.
    const AT: u64 = 0x10_0000;
    const UNWRITABLE: u64 = 0xdead_0000;

    struct Mem<'a>(&'a [u8]);

    impl UserMemory for Mem<'_> {
        fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
            let start = usize::try_from(addr.checked_sub(AT).ok_or(Fault)?).map_err(|_| Fault)?;
            let src = self.0.get(start..start + out.len()).ok_or(Fault)?;
            out.copy_from_slice(src);
            Ok(())
        }
        fn writable(&self, addr: u64, _len: u64) -> bool {
            addr != UNWRITABLE
        }
    }

    /// Flag words built from the bits the rules look at, so that both verdicts are common.
    fn word() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            (any::<u64>(), any::<u64>()).prop_map(|(a, b)| (a & b & 0x1f_ffff_ff00) | (a & 0xff)),
            (any::<u64>()).prop_map(|a| (THREAD_FLAGS.bits() | 17) ^ (1 << (a % 40))),
            // Words that pass, with one or two bits flipped anywhere.
            (0usize..6, 0u32..40, 0u32..48).prop_map(|(w, a, b)| {
                let base = [
                    0,
                    CloneFlags::VM.bits(),
                    (CloneFlags::VM | CloneFlags::VFORK).bits(),
                    (THREAD_FLAGS - CloneFlags::SETTLS).bits(),
                    (CloneFlags::NEWPID | CloneFlags::NEWNS | CloneFlags::NEWUTS).bits(),
                    (CloneFlags::PIDFD | CloneFlags::VM).bits(),
                ][w];
                base ^ (1 << a) ^ if b < 40 { 1 << b } else { 0 }
            }),
            (any::<u64>()).prop_map(|a| {
                (a & (CloneFlags::NEWPID
                    | CloneFlags::PIDFD
                    | CloneFlags::VM
                    | CloneFlags::NEWNS
                    | CloneFlags::NEWUSER
                    | CloneFlags::FS
                    | CloneFlags::SYSVSEM
                    | CloneFlags::NEWIPC
                    | CloneFlags::THREAD
                    | CloneFlags::SIGHAND
                    | CloneFlags::PARENT_SETTID
                    | CloneFlags::SETTLS
                    | CloneFlags::PARENT)
                    .bits())
                    | CloneFlags::VM.bits()
            }),
        ]
    }

    fn pointer() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(0),
            Just(0x1000),
            Just(UNWRITABLE),
            any::<u64>(),
            0u64..0x1_0000_0000
        ]
    }

    fn policy() -> impl Strategy<Value = Policy> {
        let versions = [
            LinuxVersion::new(5, 2),
            LinuxVersion::V5_3,
            LinuxVersion::V5_5,
            LinuxVersion::V5_7,
            LinuxVersion::V6_1,
            LinuxVersion::new(6, 8),
            LinuxVersion::V6_18,
            LinuxVersion::MAINLINE_2026,
        ];
        (
            0..Arch::ALL.len(),
            0..versions.len(),
            any::<u32>(),
            0u32..40,
            any::<u64>(),
        )
            .prop_map(move |(a, v, bits, level, ns)| {
                let mut p = Policy::linux(Arch::ALL[a], versions[v]);
                p.cap_sys_admin = bits & 1 != 0;
                p.cap_checkpoint_restore = bits & 2 != 0;
                p.user_ns_allowed = bits & 4 != 0;
                p.pid_ns_init = bits & 8 != 0;
                p.pid_ns_for_children_differs = bits & 16 != 0;
                p.autoreap_parent = bits & 32 != 0;
                p.pid_ns_level = if bits & 64 != 0 { level } else { 0 };
                if bits & 128 != 0 {
                    p.namespaces_configured = CloneFlags::from_bits_retain(ns);
                }
                if bits & 256 != 0 {
                    p.task_size_max = 0x1000_0000;
                }
                p
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8_000))]

        /// Whatever the fast path accepts, the ordered walk accepts with the same arguments,
        /// and the public answers are always the walk's: verdict, arguments, rule and, from
        /// `validate_*`, the fix search's fix; `check` the same without the fix.
        #[test]
        fn legacy_fast_path_agrees_with_walk(
            word in word(), ptid in pointer(), tls in pointer(), stack in pointer(),
            clone2 in any::<bool>(), p in policy(),
        ) {
            let args = LegacyCloneArgs {
                word, stack, stack_size: stack / 3, parent_tid: ptid, child_tid: 0x2000, tls,
                via_clone2: clone2,
            };
            let mem = Mem(&[]);
            let v = Validator::new(p);
            let walked = walk_legacy(&args, &mem, &p);
            if let Some(k) = super::legacy_accepts(&args, &v.masks.legacy, &mem) {
                prop_assert_eq!(walked, Ok(k));
            }
            let call = CloneCall::Clone(args);
            prop_assert_eq!(v.check(&call, &mem), walked.map_err(|f| f.refusal(call)));
            let explained =
                walked.map_err(|f| f.with_fix(best_fix(&f, &legacy_request(&args), &mem, &p)));
            prop_assert_eq!(v.validate_clone(&args, &mem), explained);
            // The free functions, which compute only the legacy masks, answer the same.
            prop_assert_eq!(crate::validate::validate_clone_in(&args, &mem, &p), explained);
            prop_assert_eq!(
                crate::validate::check(&call, &mem, &p),
                walked.map_err(|f| f.refusal(call))
            );
        }

        /// The same for `clone3`, after the struct copy.
        #[test]
        fn clone3_fast_path_agrees_with_walk(
            flags in word(), pidfd in pointer(), ptid in pointer(), tls in pointer(),
            stack in pointer(), stack_size in pointer(),
            exit_signal in prop_oneof![Just(0u64), Just(17), 0u64..140],
            set_tid in prop_oneof![Just((0, 0)), (pointer(), 0u64..40)],
            cgroup in 0u64..5, size in prop_oneof![Just(88u64), Just(64), Just(80), 56u64..100],
            p in policy(),
        ) {
            let a = CloneArgs {
                flags, pidfd, child_tid: 0x3000, parent_tid: ptid, exit_signal, stack,
                stack_size, tls, set_tid: set_tid.0, set_tid_size: set_tid.1, cgroup,
            };
            let mut bytes = [0u8; 128];
            bytes[..88].copy_from_slice(&a.to_bytes(p.arch));
            let mem = Mem(&bytes);
            let v = Validator::new(p);
            let answer = v.validate_clone3(AT, size, &mem);
            let call = CloneCall::Clone3 { args: AT, size };
            let checked = v.check(&call, &mem);
            let mut raw = [0u8; 88];
            match read_clone_args(AT, size, &mem, &p, &v.masks, &mut raw) {
                // The struct copy's refusals (their fix comes from crate::fix::early_fix).
                Err(e) => {
                    prop_assert_eq!(checked, Err(e.refusal(call)));
                    let fix = early_fix(e.rule, AT, size, &mem, &p);
                    prop_assert_eq!(answer, Err(e.with_fix(fix)));
                }
                Ok(()) => {
                    let walked = walk_clone3(&raw, size, &mem, &p);
                    let read = CloneArgs::from_array(&raw, p.arch.big_endian());
                    if let Some(k) = super::clone3_accepts(&read, size, &v.masks, &mem, &p) {
                        prop_assert_eq!(walked, Ok(k));
                    }
                    prop_assert_eq!(checked, walked.map_err(|f| f.refusal(call)));
                    let req = clone3_request(&raw, size, p.arch.big_endian());
                    let explained = walked.map_err(|f| f.with_fix(best_fix(&f, &req, &mem, &p)));
                    prop_assert_eq!(answer, explained);
                }
            }
        }
    }

    /// The fast path is not dead code: the common calls take it.
    #[test]
    fn common_calls_take_the_fast_path() {
        let p = Policy::linux(Arch::X86_64, LinuxVersion::V6_18);
        let v = Validator::new(p);
        let thread = LegacyCloneArgs {
            word: THREAD_FLAGS.bits(),
            tls: 0x2000,
            ..LegacyCloneArgs::default()
        };
        assert!(super::legacy_accepts(&thread, &v.masks.legacy, &Mem(&[])).is_some());
        let fork = LegacyCloneArgs {
            word: 17,
            ..LegacyCloneArgs::default()
        };
        assert!(super::legacy_accepts(&fork, &v.masks.legacy, &Mem(&[])).is_some());
        let a = CloneArgs {
            flags: (CloneFlags::VM | CloneFlags::PIDFD | CloneFlags::NEWPID).bits(),
            pidfd: 0x1000,
            parent_tid: 0x1008,
            exit_signal: 17,
            stack: 0x20_0000,
            stack_size: 0x4000,
            ..CloneArgs::default()
        };
        let k = super::clone3_accepts(&a, 88, &v.masks, &Mem(&[]), &p).expect("fast path");
        assert_eq!(k.stack, 0x20_4000);
    }
}
