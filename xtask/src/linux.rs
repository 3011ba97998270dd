//! `cargo xtask linux [--arch A|all|required|experimental]`: builds the libc-free conformance
//! program (`clone-core/conformance`) for each arch, runs it natively (x86_64, i686) or under
//! `qemu-<arch>-static`, parses its `case …` lines and prints one table row per arch; the hppa
//! row comes from the C stack probe (`crate::hppa`).
//!
//! Skips are not free passes: a native run may skip nothing, and a qemu-user run may only skip
//! for the documented qemu-user limitations (reasons starting `qemu-user`) or an arch without
//! `clone3`. Anything else counts as a failure of the run.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::runner::{
    ArchResult, Runner, build_conformance, on_path, parse_into, render_notes, run_with_timeout,
    value_names,
};

/// Options for `cargo xtask linux`.
#[derive(clap::Args)]
pub struct Args {
    /// `all` (required + hppa + experimental attempts), `required` (the arches that must
    /// pass, plus hppa), `experimental`, or a comma-separated list of arches.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub arch: Vec<ArchArg>,
}

/// A `--arch` value: a group or one arch of [`ARCHES`] (or hppa, the C probe).
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ArchArg {
    /// Required arches, hppa and the experimental attempts.
    All,
    /// The arches that must pass, plus hppa.
    Required,
    /// The experimental arches only.
    Experimental,
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "i686")]
    I686,
    #[value(name = "aarch64")]
    Aarch64,
    #[value(name = "armv7")]
    Armv7,
    #[value(name = "riscv64")]
    Riscv64,
    #[value(name = "s390x")]
    S390x,
    #[value(name = "powerpc64le")]
    Powerpc64le,
    #[value(name = "loongarch64")]
    Loongarch64,
    #[value(name = "mips64el")]
    Mips64el,
    #[value(name = "powerpc64")]
    Powerpc64,
    #[value(name = "sparc64")]
    Sparc64,
    #[value(name = "hppa")]
    Hppa,
}

/// One userland arch of the conformance program.
#[derive(Copy, Clone, Debug)]
pub struct UserArch {
    /// Arch name (also the prefix of `targets/<name>-linux-user.json`).
    pub name: &'static str,
    /// How it runs here.
    pub runner: Runner,
    /// Built with clone-core's `experimental-asm` feature; its failure does not fail the run.
    pub experimental: bool,
}

/// Every userland arch, required ones first.
pub const ARCHES: &[UserArch] = &[
    UserArch {
        name: "x86_64",
        runner: Runner::Native,
        experimental: false,
    },
    UserArch {
        name: "i686",
        runner: Runner::Native,
        experimental: false,
    },
    UserArch {
        name: "aarch64",
        runner: Runner::Qemu("qemu-aarch64-static"),
        experimental: false,
    },
    UserArch {
        name: "armv7",
        runner: Runner::Qemu("qemu-arm-static"),
        experimental: false,
    },
    UserArch {
        name: "riscv64",
        runner: Runner::Qemu("qemu-riscv64-static"),
        experimental: false,
    },
    UserArch {
        name: "s390x",
        runner: Runner::Qemu("qemu-s390x-static"),
        experimental: false,
    },
    UserArch {
        name: "powerpc64le",
        runner: Runner::Qemu("qemu-ppc64le-static"),
        experimental: false,
    },
    UserArch {
        name: "loongarch64",
        runner: Runner::Qemu("qemu-loongarch64-static"),
        experimental: false,
    },
    UserArch {
        name: "mips64el",
        runner: Runner::Qemu("qemu-mips64el-static"),
        experimental: true,
    },
    UserArch {
        name: "powerpc64",
        runner: Runner::Qemu("qemu-ppc64-static"),
        experimental: true,
    },
    UserArch {
        name: "sparc64",
        runner: Runner::Qemu("qemu-sparc64-static"),
        experimental: true,
    },
];

/// All rows of one run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// One per arch, in run order.
    pub rows: Vec<ArchResult>,
}

impl Summary {
    /// Every required row is ok.
    pub fn ok(&self) -> bool {
        self.rows.iter().all(|r| r.ok() || !r.required)
    }

    /// The table and, below it, the skip reasons and failures.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<13} {:<19} {:>6} {:>6} {:>7}  verdict",
            "arch", "ran as", "passed", "failed", "skipped"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{:<13} {:<19} {:>6} {:>6} {:>7}  {}",
                r.arch,
                r.how,
                r.passed,
                r.failed,
                r.skipped,
                r.verdict()
            );
        }
        s.push_str(&render_notes(&self.rows));
        s
    }
}

/// `cargo xtask linux`.
pub fn run(args: Args) -> Result<()> {
    let (arches, hppa) = select(&value_names(&args.arch))?;
    let summary = run_selected(&arches, hppa)?;
    print!("{}", summary.render());
    if summary.ok() {
        Ok(())
    } else {
        bail!("cargo xtask linux: a required arch failed or did not run")
    }
}

fn select(spec: &str) -> Result<(Vec<UserArch>, bool)> {
    match spec {
        "all" => Ok((ARCHES.to_vec(), true)),
        "required" => Ok((
            ARCHES.iter().filter(|a| !a.experimental).copied().collect(),
            true,
        )),
        "experimental" => Ok((
            ARCHES.iter().filter(|a| a.experimental).copied().collect(),
            false,
        )),
        list => {
            let mut out = Vec::new();
            let mut hppa = false;
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if name == "hppa" {
                    hppa = true;
                } else if let Some(a) = ARCHES.iter().find(|a| a.name == name) {
                    out.push(*a);
                } else {
                    let known: Vec<&str> = ARCHES.iter().map(|a| a.name).collect();
                    bail!(
                        "unknown arch {name:?}; known: {}, hppa, or all/required/experimental",
                        known.join(", ")
                    );
                }
            }
            Ok((out, hppa))
        }
    }
}

fn run_selected(arches: &[UserArch], hppa: bool) -> Result<Summary> {
    // A missing emulator is a set-up error, not a skip.
    let mut missing: Vec<&str> = arches
        .iter()
        .filter_map(|a| match a.runner {
            Runner::Qemu(q) if !on_path(q) => Some(q),
            _ => None,
        })
        .collect();
    if hppa {
        missing.extend(crate::hppa::missing_tools());
    }
    if !missing.is_empty() {
        bail!(
            "missing {}; run ci/install.sh to install the emulators and cross compiler",
            missing.join(", ")
        );
    }
    let mut summary = Summary::default();
    for a in arches {
        let row = run_arch(a);
        row.record_error();
        eprintln!(
            "linux: {} done ({})",
            a.name,
            if row.ok() { "ok" } else { "not ok" }
        );
        summary.rows.push(row);
    }
    if hppa {
        let row = crate::hppa::run_probe();
        row.record_error();
        summary.rows.push(row);
    }
    Ok(summary)
}

fn run_arch(a: &UserArch) -> ArchResult {
    let mut row = ArchResult {
        arch: a.name.into(),
        how: match a.runner {
            Runner::Native => "native".into(),
            Runner::Qemu(_) => "qemu-user".into(),
        },
        required: !a.experimental,
        ..Default::default()
    };
    let elf = match build_conformance(a.name, a.experimental) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("build failed: {e:#}"));
            return row;
        }
    };
    let (prog, args, env): (String, Vec<String>, &str) = match a.runner {
        Runner::Native => (elf.display().to_string(), vec![], "native"),
        Runner::Qemu(q) => (q.into(), vec![elf.display().to_string()], "qemu-user"),
    };
    match run_with_timeout(&prog, &args, &[("CLONE_CONFORMANCE_ENV", env)], TIMEOUT) {
        Err(e) => row.error = Some(format!("{e:#}")),
        Ok(run) => parse_into(&mut row, a.name, a.runner, &run),
    }
    row
}

const TIMEOUT: Duration = Duration::from_secs(120);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arch_is_an_arch_value_and_back() {
        use clap::ValueEnum as _;
        for a in ARCHES {
            let v = ArchArg::from_str(a.name, false).unwrap();
            assert_eq!(select(&value_names(&[v])).unwrap().0[0].name, a.name);
        }
        let (all, hppa) = select(&value_names(&[ArchArg::All])).unwrap();
        assert_eq!((all.len(), hppa), (ARCHES.len(), true));
        assert!(select("vax").is_err());
    }
}
