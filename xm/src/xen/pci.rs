//! PV PCI passthrough, as libxl 4.17 does it for a PV guest with Linux's xen-pciback in dom0:
//!
//! - A function is *assignable* when dom0 has bound it to pciback (it is a link in
//!   `/sys/bus/pci/drivers/pciback/`) and no domain holds it (`/libxl/pci/SSSS-BB-DD-F/domid`,
//!   libxl's own record, so xl and xm see the same claims).
//! - The domain is created with an IOMMU context (`XEN_DOMCTL_CDF_iommu`); a hypervisor
//!   without an IOMMU (`directio` missing from its capabilities) cannot pass devices through.
//! - Each function is claimed (the `domid` record, in a transaction, so two creates cannot
//!   both take it), reset, its BARs' memory and I/O ports and its legacy IRQ are granted to the
//!   domain (`/sys/bus/pci/devices/BDF/resource` and `irq`), it is moved into the domain's
//!   IOMMU context, and the pci backend (`/local/domain/0/backend/pci/DOMID/0`: `dev-N`,
//!   `key-N`, `opts-N`, `state-N`, `num_devs`) and frontend (`device/pci/0`) are written for
//!   pciback and the guest's pcifront to connect.
//! - When the domain goes, Xen takes the functions out of its IOMMU context, pciback lets go
//!   when the backend directory is removed, and [`release`] removes the claims: the functions
//!   are assignable again.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use xenstore::{Access, Change, Perms, Xs};

use super::error::ControlError;
use super::layout::{Node, plain};
use super::watch::wait_node;
use super::xc::{DomId, PhysInfo, Xc};

/// Where Linux lists PCI functions, and where pciback's bound functions appear.
const SYSFS_DEVICES: &str = "/sys/bus/pci/devices";
const PCIBACK: &str = "/sys/bus/pci/drivers/pciback";
/// libxl's per-function records (`domid`, `name`, `driver_path`).
const INFO: &str = "/libxl/pci";
/// Linux's `PCI_NUM_RESOURCES` lines libxl reads from `resource`: six BARs and the ROM.
const RESOURCES: usize = 7;
/// `IORESOURCE_IO`, the flag Linux gives an I/O-port BAR in `resource`.
const IORESOURCE_IO: u64 = 0x100;

/// One PCI function to pass through (a `pci = [...]` entry, one per function).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PciFunction {
    pub seg: u16,
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
    /// `permissive=1`: pciback lets the guest write all of config space.
    #[serde(default)]
    pub permissive: bool,
}

impl PciFunction {
    pub fn from_spec(d: &domcfg::device::PciDev) -> PciFunction {
        let on = |key: &str| {
            d.opts
                .iter()
                .any(|(k, v)| k == key && matches!(v.to_lowercase().as_str(), "1" | "yes"))
        };
        PciFunction {
            seg: d.domain,
            bus: d.bus,
            dev: d.slot,
            func: d.func,
            permissive: on("permissive"),
        }
    }

    /// `SSSS:BB:DD.F`, as sysfs and pciback name it.
    pub fn bdf(&self) -> String {
        format!(
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.seg, self.bus, self.dev, self.func
        )
    }

    /// `SSSS-BB-DD-F`, libxl's xenstore key.
    fn key(&self) -> String {
        format!(
            "{:04x}-{:02x}-{:02x}-{:x}",
            self.seg, self.bus, self.dev, self.func
        )
    }

    /// The IOMMU's name for it: `seg<<16 | bus<<8 | dev<<3 | func`.
    pub fn sbdf(&self) -> u32 {
        (u32::from(self.seg) << 16)
            | (u32::from(self.bus) << 8)
            | (u32::from(self.dev & 0x1f) << 3)
            | u32::from(self.func & 7)
    }

    /// The backend's `opts-N`, libxl's defaults for a PV guest.
    fn opts(&self) -> String {
        format!(
            "msitranslate=0,power_mgmt=0,permissive={},rdm_policy=strict",
            u8::from(self.permissive)
        )
    }

    fn claim_path(&self) -> String {
        format!("{INFO}/{}/domid", self.key())
    }
}

/// Parses `SSSS:BB:DD.F` (or `BB:DD.F`).
pub fn parse_bdf(text: &str) -> Option<PciFunction> {
    let (head, func) = text.rsplit_once('.')?;
    let mut parts: Vec<&str> = head.split(':').collect();
    if parts.len() == 2 {
        parts.insert(0, "0");
    }
    let [seg, bus, dev] = parts.as_slice() else {
        return None;
    };
    let f = PciFunction {
        seg: u16::from_str_radix(seg, 16).ok()?,
        bus: u8::from_str_radix(bus, 16).ok()?,
        dev: u8::from_str_radix(dev, 16).ok().filter(|d| *d < 32)?,
        func: u8::from_str_radix(func, 16).ok().filter(|f| *f < 8)?,
        permissive: false,
    };
    Some(f)
}

/// The functions bound to pciback and held by no domain, in BDF order.
pub fn assignable(xs: &Xs, xc: &Xc) -> Vec<PciFunction> {
    let mut out: Vec<PciFunction> = std::fs::read_dir(PCIBACK)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| parse_bdf(&e.file_name().to_string_lossy()))
        .filter(|f| holder(xc, xs.try_read(&f.claim_path()).ok().flatten()).is_none())
        .collect();
    out.sort_by_key(PciFunction::sbdf);
    out
}

/// The live domain a claim record names, if any. A record whose domain has gone holds
/// nothing: the domain's monitor (or `xm destroy`) removes it right after the domain, so a
/// create that follows `xm shutdown -w` at once can find it still there, or one killed can
/// have left it. A domain the hypervisor cannot tell about counts as live.
fn holder(xc: &Xc, record: Option<Vec<u8>>) -> Option<DomId> {
    let domid: DomId = String::from_utf8_lossy(&record?).trim().parse().ok()?;
    match xc.domain_info(domid) {
        Ok(None) => None,
        _ => Some(domid),
    }
}

/// Checks, before anything is built, that the functions can be passed through: the
/// hypervisor has an IOMMU, each function exists, is bound to pciback and is free.
pub fn check(
    xs: &Xs,
    xc: &Xc,
    physinfo: &PhysInfo,
    funcs: &[PciFunction],
) -> Result<(), ControlError> {
    if funcs.is_empty() {
        return Ok(());
    }
    if !physinfo.directio {
        return Err(ControlError::Pci(
            "passthrough not supported on this platform: Xen has no IOMMU enabled \
             (`directio` is missing from `xm info`'s virt_caps; boot Xen with iommu=1 on \
             hardware with VT-d or AMD-Vi)"
                .into(),
        ));
    }
    for f in funcs {
        let bdf = f.bdf();
        if !std::path::Path::new(&format!("{SYSFS_DEVICES}/{bdf}")).exists() {
            return Err(ControlError::Pci(format!(
                "PCI device {bdf} does not exist on this host"
            )));
        }
        if !std::path::Path::new(&format!("{PCIBACK}/{bdf}")).exists() {
            return Err(ControlError::Pci(format!(
                "PCI device {bdf} is not assignable: it is not bound to xen-pciback \
                 (hide it at boot with xen-pciback.hide=({bdf}), or bind it through \
                 {PCIBACK}/new_slot and bind)"
            )));
        }
        if let Some(h) = holder(xc, xs.try_read(&f.claim_path()).ok().flatten()) {
            return Err(ControlError::Pci(format!(
                "PCI device {bdf} is not assignable: domain {h} holds it"
            )));
        }
    }
    Ok(())
}

/// Gives the functions to the (paused) domain `domid` named `name`: claims, resets, grants,
/// IOMMU assignment, then the backend and frontend nodes. On error, what was done stays for
/// the create's rollback (destroying the domain releases it all).
pub fn attach_all(
    xc: &Xc,
    xs: &Xs,
    domid: DomId,
    name: &str,
    funcs: &[PciFunction],
) -> Result<(), ControlError> {
    for f in funcs {
        claim(xs, xc, f, domid)?;
        reset(f);
        grant(xc, domid, f)?;
        xc.assign_device(domid, f.sbdf()).map_err(|e| {
            ControlError::Pci(format!(
                "PCI device {}: cannot assign it to domain {domid} through the IOMMU ({e})",
                f.bdf()
            ))
        })?;
    }
    let nodes = backend_nodes(domid, name, funcs);
    xs.transaction(|tx| super::layout::write_nodes(tx, &nodes))?;
    Ok(())
}

/// Records `domid` as the function's holder, unless another domain got it first.
/// (A record left by a domain that has gone is taken over.)
fn claim(xs: &Xs, xc: &Xc, f: &PciFunction, domid: DomId) -> Result<(), ControlError> {
    let path = f.claim_path();
    let other = xs.transaction(|tx| {
        if let Some(h) = holder(xc, tx.try_read(&path)?).filter(|&h| h != domid) {
            return Ok(Some(h));
        }
        tx.write(&path, domid.to_string().as_bytes())?;
        Ok(None)
    })?;
    match other {
        Some(h) => Err(ControlError::Pci(format!(
            "PCI device {} is not assignable: domain {h} holds it",
            f.bdf()
        ))),
        None => Ok(()),
    }
}

/// A function reset through sysfs, as libxl does before giving it away (best effort: not
/// every device can be reset).
fn reset(f: &PciFunction) {
    let _ = std::fs::write(format!("{SYSFS_DEVICES}/{}/reset", f.bdf()), b"1");
}

/// Lets the domain reach the function's BARs (memory frames, I/O ports) and its legacy IRQ.
fn grant(xc: &Xc, domid: DomId, f: &PciFunction) -> Result<(), ControlError> {
    let bdf = f.bdf();
    let resource = std::fs::read_to_string(format!("{SYSFS_DEVICES}/{bdf}/resource"))
        .map_err(|e| ControlError::Pci(format!("PCI device {bdf}: cannot read its BARs: {e}")))?;
    for bar in bars(&resource) {
        set_bar(xc, domid, bar, true)
            .map_err(|e| ControlError::Pci(format!("PCI device {bdf}: {e}")))?;
    }
    let irq = legacy_irq(&bdf);
    if irq != 0 {
        xc.grant_irq(domid, irq)
            .map_err(|e| ControlError::Pci(format!("PCI device {bdf}: irq {irq}: {e}")))?;
    }
    if f.permissive {
        let _ = std::fs::write(format!("{PCIBACK}/permissive"), bdf.as_bytes());
    }
    Ok(())
}

/// Grants (or revokes) the domain's access to one BAR.
fn set_bar(xc: &Xc, domid: DomId, bar: Bar, allow: bool) -> Result<(), super::xc::XcError> {
    match bar {
        Bar::Io { first, count } => xc.ioport_permission(domid, first, count, allow),
        Bar::Memory { first_mfn, frames } => xc.iomem_permission(domid, first_mfn, frames, allow),
    }
}

/// The function's legacy IRQ from sysfs; 0 where it has none (or it cannot be read).
fn legacy_irq(bdf: &str) -> u32 {
    std::fs::read_to_string(format!("{SYSFS_DEVICES}/{bdf}/irq"))
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .unwrap_or(0)
}

/// One BAR of a function, as the hypervisor's permissions count it.
#[derive(Debug, PartialEq, Eq)]
enum Bar {
    Io { first: u32, count: u32 },
    Memory { first_mfn: u64, frames: u64 },
}

/// The BARs in sysfs' `resource` (`start end flags` per line, in hex; unused lines are
/// zero), as 64-bit numbers.
fn bars(resource: &str) -> Vec<Bar> {
    let hex = |t: &str| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok();
    resource
        .lines()
        .take(RESOURCES)
        .filter_map(|line| {
            let mut w = line.split_whitespace().map(hex);
            let (start, end, flags) = (w.next()??, w.next()??, w.next()??);
            if start == 0 || end < start {
                return None;
            }
            let size = end - start + 1;
            Some(if flags & IORESOURCE_IO != 0 {
                Bar::Io {
                    first: u32::try_from(start).ok()?,
                    count: u32::try_from(size).ok()?,
                }
            } else {
                Bar::Memory {
                    first_mfn: start >> 12,
                    frames: size.div_ceil(4096),
                }
            })
        })
        .collect()
}

/// The pci backend (dom0 owns it, the guest reads it) and frontend (the guest owns it,
/// dom0 reads it), devid 0, in libxl 4.17's shape.
fn backend_nodes(domid: DomId, name: &str, funcs: &[PciFunction]) -> Vec<Node> {
    let back = backend_path(domid);
    let front = format!("/local/domain/{domid}/device/pci/0");
    let mut v = vec![
        Node {
            path: back.clone(),
            value: String::new(),
            perms: Some(Perms::new(0, Access::None).with(domid, Access::Read)),
        },
        plain(format!("{back}/frontend"), front.clone()),
        plain(format!("{back}/frontend-id"), domid.to_string()),
        plain(format!("{back}/online"), "1"),
        plain(format!("{back}/state"), "1"),
        plain(format!("{back}/domain"), name),
    ];
    for (i, f) in funcs.iter().enumerate() {
        v.push(plain(format!("{back}/key-{i}"), f.bdf()));
        v.push(plain(format!("{back}/dev-{i}"), f.bdf()));
        v.push(plain(format!("{back}/opts-{i}"), f.opts()));
        v.push(plain(format!("{back}/state-{i}"), "1"));
    }
    v.push(plain(format!("{back}/num_devs"), funcs.len().to_string()));
    v.push(Node {
        path: front.clone(),
        value: String::new(),
        perms: Some(Perms::new(domid, Access::None).with(0, Access::Read)),
    });
    v.push(plain(format!("{front}/backend"), back));
    v.push(plain(format!("{front}/backend-id"), "0"));
    v.push(plain(format!("{front}/state"), "1"));
    v
}

/// How long a hot attach or detach waits for pciback and the guest's pcifront to settle
/// (libxl: 10 s).
pub const RECONFIGURE_TIMEOUT: Duration = Duration::from_secs(10);

fn backend_path(domid: DomId) -> String {
    format!("/local/domain/0/backend/pci/{domid}/0")
}

/// Waits for the backend to be Connected (4).
fn wait_connected(xs: &Xs, domid: DomId, what: &str) -> Result<(), ControlError> {
    let state = format!("{}/state", backend_path(domid));
    match wait_node(xs, &state, RECONFIGURE_TIMEOUT, |v| v == "4")? {
        Ok(_) => Ok(()),
        Err(last) => Err(ControlError::Pci(format!(
            "{what}: the pci backend of domain {domid} is not connected (state '{last}' after \
             {} s; does the guest load xen-pcifront?)",
            RECONFIGURE_TIMEOUT.as_secs()
        ))),
    }
}

/// `xm pci-attach`: gives a running domain one more function. The domain must have been
/// created with passthrough (a `pci = [...]` line): Xen gives a domain its IOMMU context
/// only at creation.
pub fn hot_attach(
    xc: &Xc,
    xs: &Xs,
    domid: DomId,
    name: &str,
    f: &PciFunction,
    physinfo: &PhysInfo,
) -> Result<(), ControlError> {
    let bdf = f.bdf();
    if attached(xs, domid).iter().any(|a| a.bdf() == bdf) {
        return Err(ControlError::Pci(format!(
            "PCI device {bdf} is already attached to domain {name}"
        )));
    }
    check(xs, xc, physinfo, std::slice::from_ref(f))?;
    let back = backend_path(domid);
    let existing = xs.try_read(&format!("{back}/num_devs"))?.is_some();
    if existing {
        wait_connected(xs, domid, &format!("pci-attach {bdf}"))?;
    }
    claim(xs, xc, f, domid)?;
    let undo = |e: ControlError| {
        release_one(xs, f);
        e
    };
    // Into the IOMMU context first: a domain made without one refuses here, before any
    // permission was granted.
    xc.assign_device(domid, f.sbdf()).map_err(|e| {
        undo(ControlError::Pci(format!(
            "PCI device {bdf}: cannot assign it to domain {name} ({e}); a domain gets \
             passthrough only when created with a pci = [...] line"
        )))
    })?;
    reset(f);
    grant(xc, domid, f).map_err(undo)?;
    if !existing {
        let nodes = backend_nodes(domid, name, std::slice::from_ref(f));
        xs.transaction(|tx| super::layout::write_nodes(tx, &nodes))?;
        return Ok(());
    }
    xs.transaction(|tx| {
        let n: usize = tx
            .try_read(&format!("{back}/num_devs"))?
            .and_then(|v| String::from_utf8_lossy(&v).trim().parse().ok())
            .unwrap_or(0);
        let writes = [
            (format!("{back}/key-{n}"), bdf.clone()),
            (format!("{back}/dev-{n}"), bdf.clone()),
            (format!("{back}/opts-{n}"), f.opts()),
            (format!("{back}/state-{n}"), "1".to_string()),
            (format!("{back}/num_devs"), (n + 1).to_string()),
            (format!("{back}/state"), "7".to_string()),
        ];
        let changes: Vec<Change<'_>> = writes
            .iter()
            .map(|(p, v)| Change::Write(p, v.as_bytes()))
            .collect();
        tx.apply(&changes)
    })?;
    wait_connected(xs, domid, &format!("pci-attach {bdf}"))
}

/// `xm pci-detach`: asks the guest to give the function back (its backend entry goes to
/// Closing, the backend to Reconfiguring, pcifront lets go), takes it out of the domain's
/// IOMMU context and permissions, and frees it.
pub fn hot_detach(
    xc: &Xc,
    xs: &Xs,
    domid: DomId,
    name: &str,
    bdf: &str,
) -> Result<(), ControlError> {
    let list = attached(xs, domid);
    let Some(index) = list.iter().position(|a| a.bdf() == bdf) else {
        return Err(ControlError::Pci(format!(
            "PCI device {bdf} is not attached to domain {name}"
        )));
    };
    let f = list[index];
    let back = backend_path(domid);
    let what = format!("pci-detach {bdf}");
    wait_connected(xs, domid, &what)?;
    xs.apply(&[
        Change::Write(&format!("{back}/state-{index}"), b"5"),
        Change::Write(&format!("{back}/state"), b"7"),
    ])?;
    wait_connected(xs, domid, &what)?;
    revoke(xc, domid, &f);
    let _ = xc.deassign_device(domid, f.sbdf());
    if list.len() == 1 {
        let front = format!("/local/domain/{domid}/device/pci/0");
        let _ = xs.apply(&[Change::Rm(&back), Change::Rm(&front)]);
    } else {
        xs.transaction(|tx| {
            let keys = ["state", "dev", "key", "vdev", "opts", "vdevfn", "name"];
            let mut moves: Vec<(String, Option<Vec<u8>>)> = Vec::new();
            for j in index + 1..list.len() {
                for k in keys {
                    let v = tx.try_read(&format!("{back}/{k}-{j}"))?;
                    moves.push((format!("{back}/{k}-{}", j - 1), v));
                }
            }
            // The last index goes: its entries moved down one (or it was the one detached).
            let last = list.len() - 1;
            let mut changes: Vec<Change<'_>> = Vec::new();
            let gone: Vec<String> = keys.iter().map(|k| format!("{back}/{k}-{last}")).collect();
            let count = last.to_string();
            for (path, value) in &moves {
                changes.push(match value {
                    Some(v) => Change::Write(path, v),
                    None => Change::Rm(path),
                });
            }
            changes.extend(gone.iter().map(|p| Change::Rm(p)));
            let num = format!("{back}/num_devs");
            changes.push(Change::Write(&num, count.as_bytes()));
            tx.apply(&changes)
        })?;
    }
    release_one(xs, &f);
    Ok(())
}

/// Takes back what [`grant`] gave (best effort: the domain may already be going).
fn revoke(xc: &Xc, domid: DomId, f: &PciFunction) {
    let bdf = f.bdf();
    if let Ok(resource) = std::fs::read_to_string(format!("{SYSFS_DEVICES}/{bdf}/resource")) {
        for bar in bars(&resource) {
            let _ = set_bar(xc, domid, bar, false);
        }
    }
    let irq = legacy_irq(&bdf);
    if irq != 0 {
        let _ = xc.revoke_irq(domid, irq);
    }
}

fn release_one(xs: &Xs, f: &PciFunction) {
    let _ = xs.rm(&f.claim_path());
}

/// The functions the domain's pci backend lists (`num_devs`, `dev-N`).
pub fn attached(xs: &Xs, domid: DomId) -> Vec<PciFunction> {
    let back = backend_path(domid);
    let Ok(Some(n)) = xs.try_read(&format!("{back}/num_devs")) else {
        return Vec::new();
    };
    let n: usize = String::from_utf8_lossy(&n).trim().parse().unwrap_or(0);
    (0..n)
        .filter_map(|i| xs.try_read(&format!("{back}/dev-{i}")).ok().flatten())
        .filter_map(|v| parse_bdf(String::from_utf8_lossy(&v).trim()))
        .collect()
}

/// Removes the claims `domid` held (after the domain is gone: Xen has taken the functions
/// out of its IOMMU context), so they are assignable again.
pub fn release(xs: &Xs, domid: DomId) {
    let Ok(keys) = xs.directory(INFO) else {
        return;
    };
    let paths: Vec<String> = keys
        .iter()
        .map(|k| format!("{INFO}/{k}/domid"))
        .filter(|p| {
            xs.try_read(p)
                .ok()
                .flatten()
                .is_some_and(|v| v == domid.to_string().as_bytes())
        })
        .collect();
    let rms: Vec<Change<'_>> = paths.iter().map(|p| Change::Rm(p)).collect();
    let _ = xs.apply(&rms);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_sysfs_libxl_and_the_iommu() {
        let f = parse_bdf("0000:06:02.0").unwrap();
        assert_eq!(f.bdf(), "0000:06:02.0");
        assert_eq!(f.key(), "0000-06-02-0");
        assert_eq!(f.sbdf(), (6 << 8) | (2 << 3));
        assert_eq!(parse_bdf("06:02.0"), Some(f));
        assert_eq!(parse_bdf("0001:ff:1f.7").unwrap().sbdf(), 0x1_ff_ff);
        for bad in ["06.02.0", "0000:06:20.0", "0000:06:02.8", "x", "0:0:0:0.0"] {
            assert_eq!(parse_bdf(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_seeds_spec_is_the_function_at_06_02_0() {
        let d = domcfg::device::PciDev::parse_spec("06.02.0").unwrap();
        let f = PciFunction::from_spec(&d[0]);
        assert_eq!(f.bdf(), "0000:06:02.0");
        assert!(!f.permissive);
        assert_eq!(
            f.opts(),
            "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict"
        );
    }

    #[test]
    fn bars_are_read_as_64_bit_frames_and_ports() {
        // QEMU's edu device: one 1 MiB memory BAR; then an I/O BAR and a 64-bit BAR.
        let resource = "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n\
                        0x000000000000c000 0x000000000000c01f 0x0000000000040101\n\
                        0x0000008000000000 0x0000008000003fff 0x000000000014220c\n\
                        0x0000000000000000 0x0000000000000000 0x0000000000000000\n\
                        0x0000000000000000 0x0000000000000000 0x0000000000000000\n\
                        0x0000000000000000 0x0000000000000000 0x0000000000000000\n\
                        0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
        assert_eq!(
            bars(resource),
            [
                Bar::Memory {
                    first_mfn: 0xfea00,
                    frames: 256
                },
                Bar::Io {
                    first: 0xc000,
                    count: 32
                },
                Bar::Memory {
                    first_mfn: 0x8000000,
                    frames: 4
                },
            ]
        );
        assert!(bars("garbage\n").is_empty());
    }

    #[test]
    fn backend_and_frontend_nodes_are_libxls() {
        let f = parse_bdf("0000:06:02.0").unwrap();
        let nodes = backend_nodes(7, "ce.ngc6475", &[f]);
        let get = |p: &str| nodes.iter().find(|n| n.path == p).map(|n| n.value.as_str());
        let back = "/local/domain/0/backend/pci/7/0";
        assert_eq!(get(&format!("{back}/dev-0")), Some("0000:06:02.0"));
        assert_eq!(get(&format!("{back}/num_devs")), Some("1"));
        assert_eq!(get(&format!("{back}/state")), Some("1"));
        assert_eq!(get(&format!("{back}/domain")), Some("ce.ngc6475"));
        assert_eq!(get("/local/domain/7/device/pci/0/backend"), Some(back));
        // Parents first, with their permissions.
        assert_eq!(nodes[0].path, back);
        assert!(nodes[0].perms.is_some());
    }
}
