//! The kernel's own clone3 selftests in `cargo xtask programs` (issue 8, item 3(e)):
//! `tools/testing/selftests/clone3/{clone3,clone3_clear_sighand,clone3_set_tid}.c` from
//! Debian's `linux-source-6.12`, which `ci/install.sh` unpacks into
//! `/var/cache/clone-core/linux-selftests/` (or `$CLONE_CORE_SELFTESTS`), built unmodified with
//! the suite's toolchains and run like the suite programs, on Linux and in the stub.
//!
//! What is compared is what the selftests report: their TAP lines (`TAP version`, the plan
//! `1..N`, each `ok`/`not ok` line with its `# SKIP`, and the `# Totals:` line) and their exit
//! status. Their other `#` lines carry pids and are shown only when a run differs.
//!
//! Built as the kselftest Makefile builds them, with the kernel's UAPI headers on the include
//! path (`$(KHDR_INCLUDES)`): glibc's cross toolchains have them already; musl's headers do not,
//! so its builds get `-isystem` of a directory that links only `linux`, `asm` and `asm-generic`
//! of Debian's linux-libc-dev for the arch (not the rest of `/usr/include`, which is glibc's).

use std::path::PathBuf;

use anyhow::Result;

use crate::build::cross_dir;
use crate::qemu::StubArch;

/// The selftests run, in this order.
const TESTS: &[&str] = &["clone3", "clone3_clear_sighand", "clone3_set_tid"];

/// Where `ci/install.sh` puts the selftests.
fn dir() -> PathBuf {
    std::env::var_os("CLONE_CORE_SELFTESTS").map_or_else(
        || PathBuf::from("/var/cache/clone-core/linux-selftests"),
        PathBuf::from,
    )
}

/// The selftest sources, or why there are none.
pub fn sources() -> Result<Vec<PathBuf>, String> {
    let d = dir().join("clone3");
    let v: Vec<PathBuf> = TESTS.iter().map(|t| d.join(format!("{t}.c"))).collect();
    match v.iter().find(|p| !p.is_file()) {
        Some(p) => Err(format!(
            "{} missing (ci/install.sh fetches linux-source-6.12)",
            p.display()
        )),
        None => Ok(v),
    }
}

/// The Debian version of the linux-source the selftests come from.
pub fn version() -> String {
    std::fs::read_to_string(dir().join("version"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Extra compiler flags for a selftest built with `libc` for `arch`: for musl, the kernel's
/// UAPI headers (see the module doc).
pub fn flags(arch: StubArch, libc: &str) -> Result<Vec<String>> {
    if libc != "musl" {
        return Ok(Vec::new());
    }
    // linux-libc-dev for the host; linux-libc-dev-<arch>-cross under /usr/<triple>/include.
    let (linux, asm) = match arch {
        StubArch::X86_64 => (
            PathBuf::from("/usr/include"),
            PathBuf::from("/usr/include/x86_64-linux-gnu/asm"),
        ),
        _ => {
            let inc = PathBuf::from(format!("/usr/{}-linux-gnu/include", arch.name()));
            (inc.clone(), inc.join("asm"))
        }
    };
    let headers = cross_dir()
        .join("programs")
        .join(arch.name())
        .join("kernel-headers");
    std::fs::create_dir_all(&headers)?;
    for (name, target) in [
        ("linux", linux.join("linux")),
        ("asm-generic", linux.join("asm-generic")),
        ("asm", asm),
    ] {
        let link = headers.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link)?;
    }
    Ok(vec!["-isystem".into(), headers.display().to_string()])
}

/// Whether program `name` (`<stem>-<libc>`) is one of the selftests.
pub fn is_selftest(name: &str) -> bool {
    name.rsplit_once('-')
        .is_some_and(|(stem, _)| TESTS.contains(&stem))
}

/// The lines of a selftest's output that are its report: TAP's version line, the plan, the
/// results and the totals.
pub fn tap(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(String::as_str)
        .filter(|l| {
            l.starts_with("TAP version")
                || l.starts_with("1..")
                || l.starts_with("ok ")
                || l.starts_with("not ok ")
                || l.starts_with("# Totals:")
                || l.starts_with("Bail out!")
        })
        .collect()
}

/// A result line of a selftest that the stub cannot give as Linux does, because of a feature it
/// documents as absent (kernel-stub/README.md); the line is then the selftest's own verdict for
/// a kernel without that feature.
struct Absent {
    /// The selftest (source stem).
    test: &'static str,
    /// The result's description, as after `ok N ` (and `# SKIP `).
    result: &'static str,
    /// The absent feature.
    why: &'static str,
}

const NO_PID_NS: &str = "no pid namespaces: CLONE_NEWPID is EINVAL, as without CONFIG_PID_NS";

/// The documented differences: a Linux pass that the stub fails or skips.
const ABSENT: &[Absent] = &[
    Absent {
        test: "clone3",
        result: "clone3() in a new PID_NS",
        why: NO_PID_NS,
    },
    Absent {
        test: "clone3",
        result: "CLONE_ARGS_SIZE_VER0 in a new PID NS",
        why: NO_PID_NS,
    },
    Absent {
        test: "clone3",
        result: "sizeof(struct clone_args) + 8 in a new PID NS",
        why: NO_PID_NS,
    },
    Absent {
        test: "clone3",
        result: "New time NS",
        why: "no procfs, so no /proc/self/ns/time: the selftest's own skip, as without \
              CONFIG_TIME_NS",
    },
];

/// Selftests that stop at their start on the stub, with the end of their `Bail out!` line and
/// the absent feature.
const BAILS: &[(&str, &str, &str)] = &[(
    "clone3_set_tid",
    "Could not open /proc/sys/kernel/pid_max",
    "no procfs: the selftest reads pid_max before its first test",
)];

/// How a selftest's stub run compares with its Linux run.
pub enum Verdict {
    Same,
    /// Different only in [`ABSENT`] or [`BAILS`] entries (the reasons).
    Documented(Vec<&'static str>),
    /// Different otherwise, with what differs.
    Different(Vec<String>),
}

/// The result number and description of a TAP result line, and whether it passed, failed or
/// was skipped: `ok 3 text`, `not ok 3 text`, `ok 3 # SKIP text`.
fn result(line: &str) -> Option<(&str, &str, &str)> {
    let (outcome, rest) = if let Some(r) = line.strip_prefix("not ok ") {
        ("fail", r)
    } else {
        ("pass", line.strip_prefix("ok ")?)
    };
    let (n, text) = rest.split_once(' ')?;
    match text.strip_prefix("# SKIP ") {
        Some(t) => Some((n, "skip", t)),
        None => Some((n, outcome, text)),
    }
}

/// Compares the TAP reports ([`tap`]) and statuses of selftest `name` (`<stem>-<libc>`).
pub fn judge(
    name: &str,
    (linux, linux_status): (&[String], &str),
    (stub, stub_status): (&[String], &str),
) -> Verdict {
    if linux == stub && linux_status == stub_status {
        return Verdict::Same;
    }
    let stem = name.rsplit_once('-').map_or(name, |(s, _)| s);
    if let Some((_, _, why)) = BAILS.iter().find(|(t, end, _)| {
        *t == stem
            && stub
                .iter()
                .any(|l| l.starts_with("Bail out!") && l.trim_end().ends_with(end))
    }) {
        return Verdict::Documented(vec![why]);
    }
    let mut why = Vec::new();
    let mut other = Vec::new();
    if linux.len() != stub.len() {
        other.push(format!(
            "{} report lines on Linux, {} in the stub",
            linux.len(),
            stub.len()
        ));
    }
    for (a, b) in linux.iter().zip(stub) {
        if a == b || (a.starts_with("# Totals:") && b.starts_with("# Totals:")) {
            continue;
        }
        let documented = match (result(a), result(b)) {
            (Some((n, "pass", text)), Some((m, "fail" | "skip", t2))) if n == m && text == t2 => {
                ABSENT.iter().find(|x| x.test == stem && x.result == text)
            }
            _ => None,
        };
        match documented {
            Some(x) => why.push(x.why),
            None => other.push(format!("Linux {a:?}, stub {b:?}")),
        }
    }
    // An entry whose result the stub now gives as Linux does is out of date.
    for x in ABSENT.iter().filter(|x| x.test == stem) {
        let passes = |lines: &[String]| {
            lines
                .iter()
                .any(|l| result(l).is_some_and(|(_, o, t)| o == "pass" && t == x.result))
        };
        if passes(linux) && passes(stub) {
            other.push(format!(
                "documented as absent but now the same as on Linux: {:?} (update \
                 xtask/src/selftests.rs and the README)",
                x.result
            ));
        }
    }
    if !other.is_empty() {
        return Verdict::Different(other);
    }
    // With only documented differences the totals and the exit status follow from them.
    why.dedup();
    if why.is_empty() && linux_status != stub_status {
        return Verdict::Different(vec![format!(
            "status {linux_status} on Linux, {stub_status} in the stub"
        )]);
    }
    Verdict::Documented(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_lines_are_the_report() {
        let out: Vec<String> = [
            "TAP version 13",
            "1..2",
            "# I am the parent (42). My child's pid is 43",
            "ok 1 simple clone3()",
            "not ok 2 # SKIP New time NS",
            "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(tap(&out).len(), 5);
        assert!(is_selftest("clone3_set_tid-musl"));
        assert!(!is_selftest("pthreads-glibc"));
    }

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn only_documented_differences_pass() {
        let linux = lines(&[
            "1..2",
            "ok 1 simple clone3()",
            "ok 2 clone3() in a new PID_NS",
        ]);
        let stub = lines(&[
            "1..2",
            "ok 1 simple clone3()",
            "not ok 2 clone3() in a new PID_NS",
        ]);
        assert!(matches!(
            judge("clone3-glibc", (&linux, "0"), (&stub, "1")),
            Verdict::Documented(_)
        ));
        // The same line in another selftest is not documented.
        assert!(matches!(
            judge("clone3_clear_sighand-glibc", (&linux, "0"), (&stub, "1")),
            Verdict::Different(_)
        ));
        // A failure of an undocumented result is a difference.
        let stub = lines(&[
            "1..2",
            "not ok 1 simple clone3()",
            "not ok 2 clone3() in a new PID_NS",
        ]);
        assert!(matches!(
            judge("clone3-glibc", (&linux, "0"), (&stub, "1")),
            Verdict::Different(_)
        ));
        // A documented absence the stub no longer shows is out of date.
        assert!(matches!(
            judge("clone3-glibc", (&linux, "0"), (&linux, "1")),
            Verdict::Different(_)
        ));
        assert!(matches!(
            judge("clone3-glibc", (&linux, "0"), (&linux, "0")),
            Verdict::Same
        ));
        let bail = lines(&[
            "1..29",
            "Bail out! No such file or directory - Could not open /proc/sys/kernel/pid_max",
        ]);
        assert!(matches!(
            judge("clone3_set_tid-musl", (&linux, "0"), (&bail, "1")),
            Verdict::Documented(_)
        ));
    }
}
