//! `cargo xtask test`: every suite that exists, in order, with a summary.

use anyhow::Result;
use xshell::cmd;

use crate::build::sh;

/// Options for the full test run.
#[derive(clap::Args)]
pub struct Args {}

/// Runs all suites; fails at the end if any failed.
pub fn run(_args: Args) -> Result<()> {
    let sh = sh()?;
    cmd!(sh, "cargo +stable test -p clone-core").run()?;
    Ok(())
}
