//! `xm info`: the host, the hypervisor and its build, as xm printed them.

use xm::xen::info::{self, HostFacts, Uname};
use xm::xen::{ControlError, Host};

pub fn run() -> Result<(), ControlError> {
    let host = Host::open()?;
    let u = rustix::system::uname();
    let text = |s: &std::ffi::CStr| s.to_string_lossy().into_owned();
    let facts = HostFacts {
        uname: Uname {
            system: text(u.sysname()),
            host: text(u.nodename()),
            release: text(u.release()),
            version: text(u.version()),
            machine: text(u.machine()),
        },
        phys: host.xc.physinfo()?,
        xen: host.xc.xen_version()?,
        scheduler: host.xc.sched_id()?,
        free_cpus: host.xc.free_cpus()?,
    };
    print!("{}", info::render(&info::host_info(&facts)));
    Ok(())
}
