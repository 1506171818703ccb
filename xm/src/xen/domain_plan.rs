//! A domain's plan: everything its build needs ([`DomainPlan`], made from a config by
//! [`super::plan`]), and where it is kept while the domain lives (`/libxl/DOMID/xm-plan`,
//! dom0-only), so the domain's monitor can rebuild it on a reboot and `mem-set`, `vcpu-set`,
//! `rename` and hotplug can keep it up to date.

use std::path::PathBuf;

use xenstore::Xs;

use super::bootloader::Bootloader;
use super::device::Device;
use super::pci::PciFunction;
use super::xc::DomId;

/// What to build: the control layer's view of a config (see [`DomainPlan::from_config`](super::plan)).
/// Stored as JSON at `/libxl/<domid>/xm-plan` (dom0-only) for the domain's monitor, which
/// rebuilds the domain from it on reboot.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DomainPlan {
    pub name: String,
    /// `None`: a random (version 4) UUID.
    pub uuid: Option<[u8; 16]>,
    pub memory_mib: u64,
    pub maxmem_mib: u64,
    /// vcpus online at boot.
    pub vcpus: u32,
    pub max_vcpus: u32,
    /// The dom0 kernel and ramdisk; `None` with a bootloader, which picks them from the
    /// guest's disk at every (re)boot.
    pub kernel: Option<PathBuf>,
    pub ramdisk: Option<PathBuf>,
    #[serde(default)]
    pub bootloader: Option<Bootloader>,
    /// PCI functions passed through (PV, through pciback and the IOMMU).
    #[serde(default)]
    pub pci: Vec<PciFunction>,
    /// The config's kernel command line (`root=`, `ip=`, `extra`); with a bootloader, what it
    /// appends to its menu entry's.
    pub cmdline: String,
    /// Hard affinity for every vcpu; `None` (or xm's `cpus = ""`) means no pinning.
    pub cpus: Option<Vec<u32>>,
    pub cpu_weight: Option<u16>,
    pub cpu_cap: Option<u16>,
    pub on_poweroff: String,
    pub on_reboot: String,
    pub on_crash: String,
    /// Disks and network interfaces, attached before the guest runs.
    pub devices: Vec<Device>,
}

/// Where a domain's [`DomainPlan`] is kept while it lives (dom0-only; removed with `/libxl/N`).
pub fn plan_path(domid: DomId) -> String {
    format!("/libxl/{domid}/xm-plan")
}

/// Inside `tx`: changes the plan a live domain was built from (kept for its restarts), if
/// xm built it; a domain without one is left as it is.
pub fn update_plan_in(
    tx: &xenstore::Transaction<'_>,
    domid: DomId,
    change: impl FnOnce(&mut DomainPlan),
) -> xenstore::Result<()> {
    let Some(json) = tx.try_read(&plan_path(domid))? else {
        return Ok(());
    };
    let Ok(mut plan) = serde_json::from_slice::<DomainPlan>(&json) else {
        return Ok(());
    };
    change(&mut plan);
    let json = serde_json::to_string(&plan).unwrap_or_default();
    tx.write(&plan_path(domid), json)
}

/// The plan a live domain was built from, if xm built it.
pub fn stored_plan(xs: &Xs, domid: DomId) -> Option<DomainPlan> {
    let json = xs.try_read(&plan_path(domid)).ok()??;
    serde_json::from_slice(&json).ok()
}

/// A plan for the tests of the modules that store, show or send plans: domain `name`, a
/// kernel, 512 MiB, 2 vcpus, no devices.
#[cfg(test)]
pub fn sample_plan(name: &str) -> DomainPlan {
    DomainPlan {
        name: name.into(),
        uuid: None,
        memory_mib: 512,
        maxmem_mib: 512,
        vcpus: 2,
        max_vcpus: 2,
        kernel: Some("/boot/vmlinuz".into()),
        ramdisk: None,
        bootloader: None,
        pci: vec![],
        cmdline: String::new(),
        cpus: None,
        cpu_weight: None,
        cpu_cap: None,
        on_poweroff: "destroy".into(),
        on_reboot: "restart".into(),
        on_crash: "restart".into(),
        devices: vec![],
    }
}
