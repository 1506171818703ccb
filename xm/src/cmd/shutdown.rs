//! `xm shutdown [-a] [-w] [-R|-H] <Domain>` and `xm reboot [-a] [-w] <Domain>`: ask guests to
//! stop through `control/shutdown`; with `-w`, wait until they are gone (or shut down and
//! preserved, or back for a reboot) and say so as xm did.

use anyhow::bail;
use xm::xen::Host;
use xm::xen::domain::DomainSummary;
use xm::xen::lifecycle::{self, Request};

#[derive(Debug, clap::Args)]
pub struct ShutdownArgs {
    /// Shutdown all domains (except Domain-0).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Wait for shutdown to complete.
    #[arg(short = 'w', long)]
    pub wait: bool,
    /// Shutdown without reboot.
    #[arg(short = 'H', long)]
    pub halt: bool,
    /// Shutdown and reboot.
    #[arg(short = 'R', long)]
    pub reboot: bool,
    #[arg(value_name = "Domain")]
    pub domains: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RebootArgs {
    /// Reboot all domains (except Domain-0).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Wait for the reboot to complete.
    #[arg(short = 'w', long)]
    pub wait: bool,
    #[arg(value_name = "Domain")]
    pub domains: Vec<String>,
}

pub fn shutdown(args: &ShutdownArgs) -> anyhow::Result<()> {
    if args.halt && args.reboot {
        bail!("Can't specify halt and reboot");
    }
    let req = if args.halt {
        Request::Halt
    } else if args.reboot {
        Request::Reboot
    } else {
        Request::Poweroff
    };
    run(args.all, args.wait, &args.domains, req)
}

pub fn reboot(args: &RebootArgs) -> anyhow::Result<()> {
    run(args.all, args.wait, &args.domains, Request::Reboot)
}

fn run(all: bool, wait: bool, words: &[String], req: Request) -> anyhow::Result<()> {
    let host = Host::open()?;
    let doms: Vec<DomainSummary> = if all {
        host.domains()?
            .into_iter()
            .filter(|d| d.domid != 0)
            .collect()
    } else {
        match words {
            [] => bail!("No domain parameter given"),
            [one] => vec![host.find(one)?],
            _ => bail!("No multiple domain parameters allowed"),
        }
    };
    let doms = if all {
        // -a asks every domain that can be asked; one that cannot (already stopping, or left
        // without its nodes by an interrupted create) is named and left out, not fatal.
        let mut asked = Vec::with_capacity(doms.len());
        for d in doms {
            match lifecycle::request(&host, d.domid, req) {
                Ok(()) => asked.push(d),
                Err(e) => eprintln!("Warning: {} (id {}) skipped: {e}", d.name, d.domid),
            }
        }
        asked
    } else {
        for d in &doms {
            lifecycle::request(&host, d.domid, req)?;
        }
        doms
    };
    if !wait {
        return Ok(());
    }
    if req == Request::Reboot {
        lifecycle::wait_rebooted(&host, &doms, |name, ok| {
            if ok {
                println!("Domain {name} rebooted");
            } else {
                println!("Domain {name} destroyed for failing to reboot");
            }
        })?;
        println!("All domains rebooted");
    } else {
        lifecycle::wait_terminated(&host, &doms, |name| println!("Domain {name} terminated"))?;
        println!("All domains terminated");
    }
    Ok(())
}
