//! `cargo xtask fuzz [--seconds N] [--target T]`: runs the cargo-fuzz (libFuzzer) targets in
//! `fuzz/` one after the other, each for N seconds (default 60), on the pinned nightly. New
//! inputs that widen coverage land in `fuzz/corpus/<target>/`; a crash stops the run with
//! libFuzzer's report and leaves the input in `fuzz/artifacts/<target>/` (copy it to
//! `fuzz/regressions/<target>/` to keep it: `cargo xtask test` replays both directories on
//! stable). Needs `cargo install cargo-fuzz` (done by `ci/install.sh`).

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::build::project_root;

/// The targets, in the order they run (the `[[bin]]` names of `fuzz/Cargo.toml`).
pub const TARGETS: [&str; 6] = [
    "validate_clone",
    "validate_clone3",
    "syscall_codec",
    "stack",
    "flags_parse",
    "explain_line",
];

/// Options for a fuzzing run.
#[derive(clap::Args)]
pub struct Args {
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Only this target.
    #[arg(long)]
    target: Option<String>,
}

/// Builds and runs the targets; fails on the first crash.
pub fn run(args: Args) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root().join("fuzz"));
    if cmd!(sh, "cargo fuzz --version")
        .quiet()
        .ignore_stdout()
        .run()
        .is_err()
    {
        bail!("cargo-fuzz is missing: `cargo install cargo-fuzz` (ci/install.sh does it)");
    }
    let targets: Vec<&str> = match &args.target {
        Some(t) if TARGETS.contains(&t.as_str()) => vec![t.as_str()],
        Some(t) => bail!("unknown fuzz target `{t}` (one of {})", TARGETS.join(", ")),
        None => TARGETS.to_vec(),
    };
    cmd!(sh, "cargo fuzz build")
        .run()
        .context("building the fuzz targets")?;
    let time = format!("-max_total_time={}", args.seconds);
    for t in targets {
        eprintln!("fuzz: {t} for {} s", args.seconds);
        cmd!(
            sh,
            "cargo fuzz run {t} -- {time} -max_len=4096 -rss_limit_mb=2048"
        )
        .run()
        .with_context(|| format!("fuzz target {t} found a crash (see fuzz/artifacts/{t}/)"))?;
    }
    Ok(())
}
