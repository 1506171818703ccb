//! `xm mem-set`, `mem-max`.

use xm::xen::memory;
use xm::xen::{ControlError, Host};

#[derive(clap::Args)]
pub struct MemArgs {
    #[arg(value_name = "Domain")]
    domain: String,
    /// MiB, or with a unit: `512m`, `2g`, `262144k`.
    #[arg(value_name = "Mem")]
    mem: String,
}

pub fn set(args: &MemArgs) -> Result<(), ControlError> {
    let mib = memory::parse_mib(&args.mem)?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    memory::set_target(&host, d.domid, mib)
}

pub fn max(args: &MemArgs) -> Result<(), ControlError> {
    let mib = memory::parse_mib(&args.mem)?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    memory::set_max(&host, d.domid, mib)
}
