//! Version and arch differences the validator models (facts §1.3, §1.5, §1.11): 6.1 vs 6.18 vs
//! mainline 2026, and clone3 availability per arch. Expected values by hand.
#![allow(missing_docs)]

use clone_core::error::Rule;
use clone_core::flags::CloneFlags as C;
use clone_core::policy::LinuxVersion as V;
use clone_core::validate::{CloneArgs, validate_clone_word, validate_clone3_bytes};
use clone_core::{Arch, Errno, Policy};

fn p(v: V) -> Policy {
    Policy::linux(Arch::X86_64, v)
}

fn c3(flags: C, exit_signal: u64, policy: &Policy) -> Result<(), (Rule, Errno)> {
    let a = CloneArgs {
        flags: flags.bits(),
        exit_signal,
        pidfd: 8,
        ..CloneArgs::default()
    };
    validate_clone3_bytes(&a.to_bytes(policy.arch), None, policy)
        .map(|_| ())
        .map_err(|e| (e.rule, e.errno))
}

#[test]
fn newtime_in_clone3() {
    assert_eq!(
        c3(C::NEWTIME, 17, &p(V::V6_1)),
        Err((Rule::Clone3DetachedOrSignalBits, Errno::EINVAL))
    );
    assert_eq!(c3(C::NEWTIME, 17, &p(V::V6_12)), Ok(()));
    assert_eq!(c3(C::NEWTIME, 17, &p(V::V6_18)), Ok(()));
    // Other CSIGNAL bits stay refused everywhere.
    for v in [V::V6_1, V::V6_18, V::MAINLINE_2026] {
        assert_eq!(
            c3(C::from_bits_retain(0x81), 0, &p(v)),
            Err((Rule::Clone3DetachedOrSignalBits, Errno::EINVAL))
        );
    }
}

#[test]
fn pidfd_with_thread() {
    let w = (C::PIDFD | C::THREAD | C::SIGHAND | C::VM).bits();
    let r = |v| {
        validate_clone_word(w, &p(v))
            .map(|_| ())
            .map_err(|e| e.rule)
    };
    assert_eq!(r(V::V6_1), Err(Rule::PidfdWithThread));
    assert_eq!(r(V::new(6, 8)), Err(Rule::PidfdWithThread));
    assert_eq!(r(V::V6_9), Ok(()));
    assert_eq!(r(V::V6_18), Ok(()));
    // PIDFD|DETACHED is refused in every version.
    let d = (C::PIDFD | C::DETACHED).bits();
    for v in [V::V6_1, V::V6_18, V::MAINLINE_2026] {
        assert_eq!(
            validate_clone_word(d, &p(v)).unwrap_err().rule,
            Rule::PidfdWithDetached
        );
    }
}

#[test]
fn autoreap_family() {
    for f in [
        C::AUTOREAP,
        C::NNP,
        C::AUTOREAP | C::PIDFD | C::PIDFD_AUTOKILL,
    ] {
        assert_eq!(
            c3(f, 0, &p(V::V6_18)),
            Err((Rule::Clone3UnknownFlags, Errno::EINVAL)),
            "{f}"
        );
        assert_eq!(c3(f, 0, &p(V::MAINLINE_2026)), Ok(()), "{f}");
    }
    // Unprivileged AUTOKILL needs NNP.
    let u = p(V::MAINLINE_2026).unprivileged();
    let ak = C::AUTOREAP | C::PIDFD | C::PIDFD_AUTOKILL;
    assert_eq!(
        c3(ak, 0, &u),
        Err((Rule::AutokillNeedsPrivilege, Errno::EPERM))
    );
    assert_eq!(c3(ak | C::NNP, 0, &u), Ok(()));
    // The autoreap parent rule only exists with the feature.
    let ap = p(V::V6_18).with_autoreap_parent(true);
    assert_eq!(c3(C::PARENT, 0, &ap), Ok(()));
}

#[test]
fn clone3_per_arch_and_version() {
    let enosys = Err((Rule::Clone3Unavailable, Errno::ENOSYS));
    assert_eq!(c3(C::empty(), 17, &p(V::new(5, 2))), enosys);
    assert_eq!(c3(C::empty(), 17, &p(V::V5_3)), Ok(()));
    let sparc = Policy::linux(Arch::Sparc64, V::V6_18);
    assert_eq!(c3(C::empty(), 20, &sparc), enosys);
    assert_eq!(
        c3(C::empty(), 20, &sparc.with_linux(V::MAINLINE_2026)),
        Ok(())
    );
    let ia64 = Policy::linux(Arch::Ia64, V::V6_1);
    assert_eq!(c3(C::empty(), 17, &ia64), enosys);
    for arch in [
        Arch::Aarch64,
        Arch::Riscv64,
        Arch::S390x,
        Arch::Loongarch64,
        Arch::Hppa,
    ] {
        assert_eq!(
            c3(C::empty(), 17, &Policy::linux(arch, V::V6_18)),
            Ok(()),
            "{arch:?}"
        );
    }
    // The ENOSYS number differs per arch (facts §errno), the rule does not.
    assert_eq!(Errno::ENOSYS.raw_for(Arch::Sparc64), 90);
}

#[test]
fn struct_size_by_version() {
    // 5.5/5.6 know 80 bytes: a non-zero cgroup field (bytes 80..88) is a non-zero tail.
    let a = CloneArgs {
        exit_signal: 17,
        cgroup: 3,
        ..CloneArgs::default()
    };
    let b = a.to_bytes(Arch::X86_64);
    let r = validate_clone3_bytes(&b, None, &p(V::V5_5)).unwrap_err();
    assert_eq!((r.rule, r.errno), (Rule::Clone3NonZeroTail, Errno::E2BIG));
    assert!(validate_clone3_bytes(&b, None, &p(V::V5_7)).is_ok());
    // INTO_CGROUP is an unknown flag before 5.7; CLEAR_SIGHAND before 5.5.
    assert_eq!(
        c3(C::INTO_CGROUP, 17, &p(V::V5_5)),
        Err((Rule::Clone3UnknownFlags, Errno::EINVAL))
    );
    assert_eq!(
        c3(C::CLEAR_SIGHAND, 17, &p(V::new(5, 4))),
        Err((Rule::Clone3UnknownFlags, Errno::EINVAL))
    );
}

#[test]
fn checkpoint_restore_capability() {
    let a = CloneArgs {
        exit_signal: 17,
        set_tid: 0x2000,
        set_tid_size: 1,
        ..CloneArgs::default()
    };
    let b = a.to_bytes(Arch::X86_64);
    let only_cr = |v| p(v).unprivileged().with_cap_checkpoint_restore(true);
    let r = validate_clone3_bytes(&b, Some(&[400]), &only_cr(V::new(5, 8))).unwrap_err();
    assert_eq!((r.rule, r.errno), (Rule::SetTidNotPermitted, Errno::EPERM));
    assert!(validate_clone3_bytes(&b, Some(&[400]), &only_cr(V::V5_9)).is_ok());
}

#[test]
fn big_endian_struct() {
    // s390x reads struct clone_args big-endian: a SIGCHLD written little-endian would be an
    // exit signal of 17 << 56.
    let s390 = Policy::linux(Arch::S390x, V::V6_18);
    let a = CloneArgs {
        exit_signal: 17,
        ..CloneArgs::default()
    };
    assert!(validate_clone3_bytes(&a.to_bytes(Arch::S390x), None, &s390).is_ok());
    let r = validate_clone3_bytes(&a.to_bytes(Arch::X86_64), None, &s390).unwrap_err();
    assert_eq!(r.rule, Rule::Clone3BadExitSignal);
}

#[test]
fn empty_mntns_from_7_1() {
    // 7.1 (merged for 7.1-rc1); Debian's 7.2.13 accepts it, 6.18 (the host) does not know it.
    for v in [V::V6_1, V::V6_18, V::new(7, 0)] {
        assert_eq!(
            c3(C::EMPTY_MNTNS, 17, &p(v)),
            Err((Rule::Clone3UnknownFlags, Errno::EINVAL)),
            "{v}"
        );
    }
    for v in [V::V7_1, V::new(7, 2)] {
        assert_eq!(c3(C::EMPTY_MNTNS, 17, &p(v)), Ok(()), "{v}");
        assert_eq!(
            c3(C::EMPTY_MNTNS | C::FS, 17, &p(v)),
            Err((Rule::NewnsWithFs, Errno::EINVAL)),
            "{v}"
        );
    }
}

#[test]
fn legacy_exit_signal_from_7_1() {
    // Before 7.1 the legacy exit-signal byte is never checked (6.1.176, 6.12.95 and the
    // host's 6.18.44 accept 0x80); from 7.1 kernel_clone refuses it (Debian's 7.2.13).
    for v in [V::V6_1, V::V6_12, V::V6_18, V::new(7, 0)] {
        assert!(validate_clone_word(0x80, &p(v)).is_ok(), "{v}");
    }
    for v in [V::V7_1, V::new(7, 2)] {
        let e = validate_clone_word(0x80, &p(v)).unwrap_err();
        assert_eq!(
            (e.rule, e.errno),
            (Rule::InvalidExitSignal, Errno::EINVAL),
            "{v}"
        );
        assert!(validate_clone_word(64, &p(v)).is_ok(), "{v}");
    }
    // clone3: the same rule and EINVAL on every version (from copy_clone_args_from_user
    // before 7.1, from kernel_clone since).
    for v in [V::V6_18, V::V7_1, V::new(7, 2)] {
        assert_eq!(
            c3(C::empty(), 65, &p(v)),
            Err((Rule::Clone3BadExitSignal, Errno::EINVAL)),
            "{v}"
        );
    }
}
