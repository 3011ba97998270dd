//! `cargo xtask explain --syscall unshare|setns|fork|vfork`: the rest of the `CLONE_*`
//! family, answered by clone-core's `validate_unshare`, `validate_setns`, `validate_fork` and
//! `validate_vfork`, in the same output formats as the `clone` queries of [`crate::explain`].

use std::fmt::Write as _;

use anyhow::{Result, anyhow, bail};
use clone_core::Policy;
use clone_core::error::CloneError;
use clone_core::flags::{self, CloneFlags};
use clone_core::validate::{
    CallerTask, SetnsFd, validate_fork, validate_setns, validate_unshare, validate_vfork,
};

use crate::explain::{Args, Syscall, error_lines};

/// A resolved family query.
pub struct Query {
    policy: Policy,
    caller: CallerTask,
    call: Call,
}

enum Call {
    Unshare(u64),
    Setns {
        fd: SetnsFd,
        kind: String,
        nstype: u64,
    },
    Fork,
    Vfork,
}

/// What an accepted call does, in one line.
type Accepted = String;

/// `ns:<type>` names and their flags (`/proc/<pid>/ns/<type>`).
const NS_TYPES: [(&str, CloneFlags); 8] = [
    ("mnt", CloneFlags::NEWNS),
    ("uts", CloneFlags::NEWUTS),
    ("ipc", CloneFlags::NEWIPC),
    ("net", CloneFlags::NEWNET),
    ("pid", CloneFlags::NEWPID),
    ("user", CloneFlags::NEWUSER),
    ("cgroup", CloneFlags::NEWCGROUP),
    ("time", CloneFlags::NEWTIME),
];

fn parse_word(text: &str) -> Result<u64> {
    let p = flags::parse(text).map_err(|e| anyhow!("{e}"))?;
    // For unshare and setns a signal name is just its bits.
    Ok(p.flags.bits() | p.signal.unwrap_or(0))
}

fn parse_fd(kind: &str) -> Result<SetnsFd> {
    Ok(match kind {
        "pidfd" => SetnsFd::PIDFD,
        "file" => SetnsFd::Other,
        "closed" => SetnsFd::Closed,
        _ => {
            let ty = kind.strip_prefix("ns:").ok_or_else(|| {
                anyhow!("--fd `{kind}`: expected ns:<type>, pidfd, file or closed")
            })?;
            let (_, flag) = NS_TYPES.iter().find(|(n, _)| *n == ty).ok_or_else(|| {
                anyhow!("--fd ns:{ty}: type is one of mnt uts ipc net pid user cgroup time")
            })?;
            SetnsFd::OwnNamespace(*flag)
        }
    })
}

/// Builds the query; `policy` is the caller's, from the shared options.
pub fn resolve(a: &Args, policy: Policy) -> Result<Query> {
    if a.clone3 {
        bail!(
            "--clone3 is a clone option; --syscall {} takes none",
            a.syscall.name()
        );
    }
    let call = match a.syscall {
        Syscall::Unshare => Call::Unshare(parse_word(a.flags.as_deref().unwrap_or("0"))?),
        Syscall::Setns => {
            let kind =
                a.fd.clone()
                    .ok_or_else(|| anyhow!("--syscall setns needs --fd ns:<type>|pidfd|file"))?;
            Call::Setns {
                fd: parse_fd(&kind)?,
                kind,
                nstype: parse_word(a.nstype.as_deref().unwrap_or("0"))?,
            }
        }
        Syscall::Fork => Call::Fork,
        Syscall::Vfork => Call::Vfork,
        Syscall::Clone => unreachable!("clone queries are crate::explain's"),
    };
    Ok(Query {
        policy,
        caller: CallerTask::threads(a.threads),
        call,
    })
}

/// The answer and the arch numbering its errno uses (for `--json`).
pub(crate) fn answer_for_json(q: &Query) -> (Result<Accepted, CloneError>, clone_core::Arch) {
    (answer(q), q.policy.arch)
}

fn answer(q: &Query) -> Result<Accepted, CloneError> {
    match &q.call {
        Call::Unshare(word) => validate_unshare(*word, &q.caller, &q.policy).map(|k| {
            let mut s = format!("unshares {}", k.flags);
            if !k.for_children.is_empty() {
                let _ = write!(s, "; {} only for later children", k.for_children);
            }
            s
        }),
        Call::Setns { fd, nstype, .. } => validate_setns(*fd, *nstype, &q.caller, &q.policy)
            .map(|k| format!("joins the target's {}", k.flags)),
        Call::Fork => validate_fork(&q.policy).map(|k| {
            format!(
                "kernel_clone_args: flags {} exit_signal {}",
                k.flags, k.exit_signal
            )
        }),
        Call::Vfork => validate_vfork(&q.policy).map(|k| {
            format!(
                "kernel_clone_args: flags {} exit_signal {}",
                k.flags, k.exit_signal
            )
        }),
    }
}

/// The one-line machine form (as for clone).
pub fn batch_line(q: &Query) -> String {
    crate::explain::batch_line(&answer(q))
}

/// The readable form (as for clone).
pub fn human(a: &Args, q: &Query) -> String {
    let who = if a.unprivileged {
        "unprivileged"
    } else {
        "privileged"
    };
    let threads = format!(
        ", {} thread{}",
        a.threads,
        if a.threads == 1 { "" } else { "s" }
    );
    let what = match &q.call {
        Call::Unshare(word) => format!("unshare({})", CloneFlags::from_bits_retain(*word)),
        Call::Setns { kind, nstype, .. } => {
            format!(
                "setns({kind}, nstype={})",
                CloneFlags::from_bits_retain(*nstype)
            )
        }
        Call::Fork => "fork()".into(),
        Call::Vfork => "vfork()".into(),
    };
    let threads = if matches!(q.call, Call::Fork | Call::Vfork) {
        ""
    } else {
        &threads
    };
    let mut out = format!(
        "{what} on Linux {} {}, {who}{threads}:\n",
        q.policy.linux,
        q.policy.arch.name()
    );
    match answer(q) {
        Ok(done) => {
            let _ = writeln!(out, "  accepted: {done}");
        }
        Err(e) => out.push_str(&error_lines(&e)),
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::explain::batch_answer;

    #[test]
    fn family_batch_lines() {
        let ask = |l: &str| batch_answer(l).unwrap();
        assert_eq!(ask("CLONE_NEWUSER --syscall unshare"), "ok");
        assert_eq!(
            ask("CLONE_NEWUSER --syscall unshare --threads 3"),
            "EINVAL UnshareThreadGroupShared CLONE_NEWUSER fix=remove:CLONE_NEWUSER"
        );
        assert_eq!(
            ask("NEWNET --syscall unshare --unprivileged"),
            "EPERM UnshareWithoutCapSysAdmin CLONE_NEWNET fix=add:CLONE_NEWUSER"
        );
        assert_eq!(
            ask("--syscall setns --fd ns:user"),
            "EINVAL SetnsOwnUserNs CLONE_NEWUSER fix=valid:fd"
        );
        assert_eq!(
            ask("--syscall setns --fd ns:net --nstype CLONE_NEWNET"),
            "ok"
        );
        assert_eq!(
            ask("--syscall setns --fd ns:time --threads 2"),
            "EUSERS SetnsTimeMultithreaded CLONE_NEWTIME fix=none"
        );
        assert_eq!(
            ask("--syscall setns --fd pidfd"),
            "EINVAL SetnsBadNstype - fix=valid:nstype"
        );
        assert_eq!(
            ask("--syscall setns --fd file --nstype NEWNET")
                .split(' ')
                .nth(1),
            Some("SetnsNotNamespaceFd")
        );
        assert_eq!(ask("--syscall fork"), "ok");
        assert_eq!(
            ask("--syscall vfork --arch mips64"),
            "ENOSYS VforkUnavailable CLONE_VM|CLONE_VFORK fix=use-clone"
        );
        assert_eq!(
            ask("--syscall fork --arch aarch64"),
            "ENOSYS ForkUnavailable - fix=use-clone"
        );
        assert!(ask("--syscall setns").starts_with("error "));
        assert!(ask("--syscall setns --fd ns:bogus").starts_with("error "));
        // The default is still clone.
        assert_eq!(ask("CLONE_NEWUSER --threads 3"), "ok");
    }
}
