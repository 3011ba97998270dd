//! `cargo xtask qemu` (placeholder: being written).

/// Arguments (none yet).
#[derive(clap::Args)]
pub struct Args {}

/// Not written yet.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask qemu is not implemented yet")
}

/// Arguments of the quick-start demo (none yet).
#[derive(clap::Args)]
pub struct RunArgs {}

/// Not written yet.
pub fn run_demo(_args: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask run is not implemented yet")
}
