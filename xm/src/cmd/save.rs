//! `xm save [-c] DOMAIN FILE` and `xm restore [-p] FILE` (see `xm::xen::save`).

use anyhow::bail;
use xm::xen::{Host, interrupt, save};

#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    /// Leave the domain running after saving it (a checkpoint).
    #[arg(short = 'c', long)]
    checkpoint: bool,
    #[arg(value_name = "Domain")]
    domain: String,
    #[arg(value_name = "CheckpointFile", value_hint = clap::ValueHint::FilePath)]
    file: String,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Do not unpause domain after restoring it.
    #[arg(short = 'p', long)]
    paused: bool,
    #[arg(value_name = "CheckpointFile", value_hint = clap::ValueHint::FilePath)]
    file: String,
}

pub fn save(args: &SaveArgs) -> anyhow::Result<()> {
    let file = std::path::absolute(&args.file)?;
    // xm's check, before the domain is touched.
    let dir = file.parent().unwrap_or(std::path::Path::new("/"));
    if rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_err() {
        bail!("xm save: Unable to create file {}", file.display());
    }
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    interrupt::arm();
    save::save(&host, d.domid, &file, args.checkpoint)?;
    Ok(())
}

pub fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let file = std::path::absolute(&args.file)?;
    if rustix::fs::access(&file, rustix::fs::Access::READ_OK).is_err() {
        bail!("xm restore: Unable to read file {}", file.display());
    }
    let host = Host::open()?;
    interrupt::arm();
    let created = save::restore(&host, &file, args.paused)?;
    super::create::monitor_or_undo(&host, &created)?;
    Ok(())
}
