//! Managed domains: `xm new`, `start`, `delete`, `suspend`, `resume` (see `xm::xen::managed`).

use anyhow::bail;
use xm::xen::managed::{Managed, Rest};
use xm::xen::{ControlError, Host, interrupt, save};

use super::create::{CreateArgs, load_plan, run_sxp_config};

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Do not unpause domain after starting it.
    #[arg(short = 'p', long)]
    paused: bool,
    /// Connect to the console after the domain is started.
    #[arg(short = 'c', long = "console_autoconnect")]
    console_autoconnect: bool,
    #[arg(value_name = "DomainName")]
    name: String,
}

#[derive(Debug, clap::Args)]
pub struct NameArg {
    #[arg(value_name = "DomainName")]
    name: String,
}

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// Do not unpause domain after resuming it.
    #[arg(short = 'p', long)]
    paused: bool,
    #[arg(value_name = "DomainName")]
    name: String,
}

/// Whether a domain named `name` runs now.
fn running(host: &Host, name: &str) -> Result<bool, ControlError> {
    Ok(host.names()?.iter().any(|(_, n)| n == name))
}

pub fn new(args: &CreateArgs) -> anyhow::Result<()> {
    // `-F FILE` as create takes it: printed with -n, refused otherwise (never the default
    // config in its place).
    if let Some(file) = &args.config {
        return run_sxp_config(args, file);
    }
    let Some(plan) = load_plan(args)? else {
        return Ok(());
    };
    let managed = Managed::open();
    if let Ok(old) = managed.get(&plan.name)
        && managed.rest(&old.name) == Rest::Suspended
    {
        bail!(
            "Domain '{}' is suspended: resume or delete it before redefining it",
            plan.name
        );
    }
    managed.define(&plan)?;
    Ok(())
}

pub fn start(args: &StartArgs) -> anyhow::Result<()> {
    let managed = Managed::open();
    let plan = managed.get(&args.name)?;
    if managed.rest(&args.name) == Rest::Suspended {
        bail!(
            "Domain '{}' is suspended: xm resume {} brings it back",
            args.name,
            args.name
        );
    }
    let host = Host::open()?;
    if running(&host, &args.name)? {
        bail!("Domain '{}' is already running", args.name);
    }
    drop(host);
    let create = CreateArgs {
        dryrun: false,
        json: false,
        quiet: true,
        paused: args.paused,
        console_autoconnect: args.console_autoconnect,
        path: None,
        defconfig: None,
        config: None,
        words: vec![],
    };
    super::create::start(&create, &plan)
}

pub fn delete(args: &NameArg) -> anyhow::Result<()> {
    let managed = Managed::open();
    managed.get(&args.name)?;
    let host = Host::open()?;
    if running(&host, &args.name)? {
        bail!(
            "Domain '{}' is running: shut it down before deleting it",
            args.name
        );
    }
    managed.remove(&args.name)?;
    Ok(())
}

pub fn suspend(args: &NameArg) -> anyhow::Result<()> {
    let managed = Managed::open();
    managed.get(&args.name)?;
    let host = Host::open()?;
    let d = host.find(&args.name)?;
    interrupt::arm();
    save::save(&host, d.domid, &managed.save_path(&args.name)?, false)?;
    Ok(())
}

pub fn resume(args: &ResumeArgs) -> anyhow::Result<()> {
    let managed = Managed::open();
    managed.get(&args.name)?;
    if managed.rest(&args.name) != Rest::Suspended {
        bail!("Domain '{}' is not suspended", args.name);
    }
    let file = managed.save_path(&args.name)?;
    let host = Host::open()?;
    interrupt::arm();
    let created = save::restore(&host, &file, args.paused)?;
    super::create::monitor_or_undo(&host, &created)?;
    // Running again: the image is spent.
    std::fs::remove_file(&file)?;
    Ok(())
}
