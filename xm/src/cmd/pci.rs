//! PCI passthrough commands: `pci-list-assignable-devices`, `pci-list` (xm 4.1's output),
//! `pci-attach` and `pci-detach`.

use xm::xen::pci::{self, PciFunction};
use xm::xen::{ControlError, Host};

/// `xm pci-list-assignable-devices`: one `SSSS:BB:DD.F` per line, nothing when there are none.
pub fn list_assignable() -> Result<(), ControlError> {
    let host = Host::open()?;
    for f in pci::assignable(&host.xs, &host.xc) {
        println!("{}", f.bdf());
    }
    Ok(())
}

/// `xm pci-list <Domain>`: xm 4.1's table; nothing for a domain without PCI functions.
pub fn list(word: &str) -> Result<(), ControlError> {
    let host = Host::open()?;
    let d = host.find(word)?;
    print!("{}", table(&pci::attached(&host.xs, d.domid)));
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// Options for the device, as in a config's pci entry (e.g. permissive=1).
    #[arg(short = 'o', long = "options", value_name = "opt")]
    pub options: Option<String>,
    #[arg(value_name = "Domain")]
    pub domain: String,
    #[arg(value_name = "domain:bus:slot.func")]
    pub device: String,
    /// Virtual slot in the guest (PV guests number their functions themselves; ignored).
    #[arg(value_name = "virtual slot")]
    pub vslot: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DetachArgs {
    #[arg(value_name = "Domain")]
    pub domain: String,
    #[arg(value_name = "domain:bus:slot.func")]
    pub device: String,
}

/// One function, spelt as in a config (`0000:06:02.0`, `06:02.0`, the seed's `06.02.0`).
fn function(spec: &str) -> Result<PciFunction, ControlError> {
    let devs =
        domcfg::device::PciDev::parse_spec(spec).map_err(|e| ControlError::Pci(e.to_string()))?;
    match devs.as_slice() {
        [one] => Ok(PciFunction::from_spec(one)),
        _ => Err(ControlError::Pci(format!(
            "{spec}: name one PCI function (domain:bus:slot.func)"
        ))),
    }
}

/// `xm pci-attach [-o OPTS] <Domain> <BDF> [vslot]`.
pub fn attach(args: &AttachArgs) -> Result<(), ControlError> {
    let spec = match &args.options {
        Some(o) => format!("{},{o}", args.device),
        None => args.device.clone(),
    };
    let f = function(&spec)?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    let physinfo = host.xc.physinfo()?;
    pci::hot_attach(&host.xc, &host.xs, d.domid, &d.name, &f, &physinfo)
}

/// `xm pci-detach <Domain> <BDF>`.
pub fn detach(args: &DetachArgs) -> Result<(), ControlError> {
    let f = function(&args.device)?;
    let host = Host::open()?;
    let d = host.find(&args.domain)?;
    pci::hot_detach(&host.xc, &host.xs, d.domid, &d.name, &f.bdf())
}

/// xm 4.1 printed the virtual slot columns only for functions given one (`@VSLOT`); PV
/// functions get theirs from pcifront, so the table is the physical columns.
fn table(funcs: &[PciFunction]) -> String {
    if funcs.is_empty() {
        return String::new();
    }
    let mut sorted = funcs.to_vec();
    sorted.sort_by_key(PciFunction::sbdf);
    let mut out = String::from("domain bus  slot func\n");
    for f in sorted {
        out.push_str(&format!(
            "0x{:04x} 0x{:02x} 0x{:02x} 0x{:x}\n",
            f.seg, f.bus, f.dev, f.func
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_list_is_xm_41s_table() {
        let f = pci::parse_bdf("0000:06:02.0").unwrap();
        assert_eq!(table(&[f]), "domain bus  slot func\n0x0000 0x06 0x02 0x0\n");
        assert_eq!(table(&[]), "");
    }
}
