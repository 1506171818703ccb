//! Commands on one existing domain: `destroy`, `pause`, `unpause`, `domid`, `domname`.

use xm::xen::{ControlError, Host};

pub fn destroy(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    host.destroy(d.domid)
}

pub fn pause(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    host.pause(d.domid)
}

pub fn unpause(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    host.unpause(d.domid)
}

/// `xm domid NAME`: prints the id.
pub fn domid(word: &str) -> Result<(), ControlError> {
    let d = Host::open()?.find(word)?;
    println!("{}", d.domid);
    Ok(())
}

/// `xm domname ID`: prints the name.
pub fn domname(word: &str) -> Result<(), ControlError> {
    let d = Host::open()?.find(word)?;
    println!("{}", d.name);
    Ok(())
}
