//! The PA-RISC stack probe (issue 3 item 6): Rust cannot target hppa, so the xtask asks
//! clone-core for the child SP of a canary-fenced region on hppa (`stack::layout(Arch::Hppa,
//! …)`; the stack grows up there), and a small C program (`clone-core/conformance/hppa/probe.c`,
//! built with `hppa-linux-gnu-gcc -static`, run under `qemu-hppa-static`) passes exactly that
//! value to a raw clone trap and checks where the child ran and what it wrote.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clone_core::stack::{self, ChildStack};
use clone_core::{Arch, StackRegion};
use xshell::cmd;

use crate::build::{project_root, sh};
use crate::runner::{ArchResult, CaseResult, on_path, run_with_timeout};

const CC: &str = "hppa-linux-gnu-gcc";
const QEMU: &str = "qemu-hppa-static";

/// The fixed mapping the probe creates (`MAP_FIXED_NOREPLACE`), and the region inside it. The
/// region starts 40 bytes into a page and ends 48 bytes before the next-but-one boundary, so
/// clone-core's rounding (up to 64 at the bottom on hppa) matters and canaries sit on both sides.
const MAP_ADDR: u64 = 0x2000_0000;
const MAP_LEN: u64 = 0x6000;
const REGION: StackRegion = StackRegion {
    base: MAP_ADDR + 0x1000 + 40,
    size: 0x4000 - 40 - 48,
};

/// Tools the probe needs that are not on `PATH`.
pub fn missing_tools() -> Vec<&'static str> {
    [CC, QEMU].into_iter().filter(|t| !on_path(t)).collect()
}

fn build() -> Result<PathBuf> {
    let root = project_root();
    let src = root.join("clone-core/conformance/hppa/probe.c");
    let out_dir = crate::build::cross_dir().join("hppa");
    std::fs::create_dir_all(&out_dir)?;
    let out = out_dir.join("probe");
    let sh = sh()?;
    cmd!(
        sh,
        "{CC} -static -fno-pic -no-pie -O2 -Wall -Werror -o {out} {src}"
    )
    .run()
    .context("building the hppa probe")?;
    Ok(out)
}

/// The SP clone-core says to pass to legacy clone for [`REGION`] on hppa.
fn child_sp() -> Result<u64> {
    let l = stack::layout(Arch::Hppa, REGION)
        .map_err(|e| anyhow::anyhow!("clone-core rejects the region: {e}"))?;
    match l.syscall_stack {
        ChildStack::Low(sp) => Ok(sp),
        other => bail!("clone-core gives {other:?} for hppa, expected a low (grows-up) pointer"),
    }
}

/// Builds and runs the probe; one table row.
pub fn run_probe() -> ArchResult {
    let mut row = ArchResult {
        arch: "hppa".into(),
        how: "qemu-user, C probe".into(),
        required: true,
        ..Default::default()
    };
    let result = (|| -> Result<String> {
        let sp = child_sp()?;
        let probe = build()?;
        let hex = |v: u64| format!("{v:#x}");
        let args = vec![
            probe.display().to_string(),
            hex(MAP_ADDR),
            hex(MAP_LEN),
            hex(REGION.base),
            hex(REGION.size),
            hex(sp),
        ];
        let run = run_with_timeout(QEMU, &args, &[], Duration::from_secs(60))?;
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("hppa-probe: "))
            .map(str::to_owned);
        match line {
            Some(l) => {
                let verdict = l.trim_start_matches("hppa-probe: ").to_string();
                if verdict.starts_with("pass") && run.code != Some(0) {
                    bail!("probe said pass but exited {:?}", run.code);
                }
                Ok(verdict)
            }
            None => bail!(
                "probe printed no verdict (exit {:?}, signal {:?}): {}{}",
                run.code,
                run.signal,
                run.stdout,
                run.stderr
            ),
        }
    })();
    let case = match &result {
        Ok(v) if v.starts_with("pass") => Some(CaseResult::Pass),
        Ok(v) => Some(CaseResult::Fail(v.clone())),
        Err(_) => None,
    };
    if let Some(c) = case {
        crate::junit::record_cases("hppa (C probe)", &[("stack-grows-up".into(), c)]);
    }
    match result {
        Ok(v) if v.starts_with("pass") => {
            row.passed = 1;
            eprintln!("hppa-probe: {v}");
        }
        Ok(v) => {
            row.failed = 1;
            row.failures.push((
                "stack-grows-up".into(),
                v.trim_start_matches("FAIL ").into(),
            ));
        }
        Err(e) => row.error = Some(format!("{e:#}")),
    }
    row
}
