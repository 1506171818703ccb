//! PCI passthrough commands: `pci-list-assignable-devices` and `pci-list` (xm 4.1's output).

use xm::xen::pci::{self, PciFunction};
use xm::xen::{ControlError, Host};

/// `xm pci-list-assignable-devices`: one `SSSS:BB:DD.F` per line, nothing when there are none.
pub fn list_assignable() -> Result<(), ControlError> {
    let host = Host::open()?;
    for f in pci::assignable(&host.xs) {
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
