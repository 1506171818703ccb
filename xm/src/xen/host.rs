//! [`Host`]: the two connections every command needs (the hypervisor through libxenctrl, the
//! store through xenstored) and the operations on existing domains: list, look up, destroy,
//! pause, unpause.

use std::path::Path;

use xenstore::{Change, Transaction, Xs};

use super::bootloader;
use super::device;
use super::domain::{self, DomainSummary};
use super::error::ControlError;
use super::leftovers;
use super::pci;
use super::xc::{DomId, DomainInfo, XEN_RELEASE, Xc};

pub struct Host {
    pub xc: Xc,
    pub xs: Xs,
}

/// A node's value as text, `None` where the domain does not have it (missing, or not ours to
/// read: a half-built or foreign domain still gets its row); any other failure (xenstored
/// gone or not answering) is the command's error, not an empty cell.
fn node_text(reply: xenstore::Result<Vec<u8>>) -> Result<Option<String>, ControlError> {
    match reply {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(e)
            if e.is_not_found()
                || e.errno() == Some(&xenstore::Errno::EACCES)
                || e.errno() == Some(&xenstore::Errno::EINVAL) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses a hypervisor of another release than the one xm was built for: the domctl and
/// sysctl interfaces (and the layouts behind them) change between releases, so every later
/// call would fail or, worse, be misread. Nothing has been asked of the hypervisor but its
/// version when this fails.
fn check_release(xc: &Xc) -> Result<(), ControlError> {
    // The fault tests' stand-in for another hypervisor: failpoint `xen_release` reads 0.0.
    let (major, minor) = match super::failpoint::hit("xen_release") {
        Err(_) => (0, 0),
        Ok(()) => xc.xen_release()?,
    };
    let running = format!("{major}.{minor}");
    if running != XEN_RELEASE {
        return Err(ControlError::WrongHypervisor {
            built_for: XEN_RELEASE,
            running,
        });
    }
    Ok(())
}

impl Host {
    /// Opens both connections, with one clear line when this is not a dom0 or we are not root.
    pub fn open() -> Result<Host, ControlError> {
        if !Path::new("/proc/xen/privcmd").exists() && !Path::new("/dev/xen/privcmd").exists() {
            return Err(ControlError::NotDom0(
                "this is not a Xen dom0: /dev/xen/privcmd missing".to_string(),
            ));
        }
        let xc = Xc::open().map_err(|e| {
            if e.source.kind() == std::io::ErrorKind::PermissionDenied {
                ControlError::NotDom0(
                    "Most commands need root access. Please try again as root.".to_string(),
                )
            } else {
                ControlError::Xc(e)
            }
        })?;
        check_release(&xc)?;
        let xs = Xs::open()?;
        // A create killed while its bootloader ran has no domain for `xm destroy` to clean
        // up after: its output directory goes with the next xm command (`xm list` included).
        bootloader::sweep_stale_dirs();
        Ok(Host { xc, xs })
    }

    /// Every domain as an `xm list` row, in domid order. Names and memory targets are read
    /// from xenstore in one pipelined batch.
    pub fn domains(&self) -> Result<Vec<DomainSummary>, ControlError> {
        let infos = self.xc.domain_list()?;
        self.summaries(&infos)
    }

    /// Every domain's id and name as xm shows it (one read per domain: what a name check
    /// needs, without the memory targets of [`Host::domains`]).
    pub fn names(&self) -> Result<Vec<(DomId, String)>, ControlError> {
        let infos = self.xc.domain_list()?;
        let names = self.names_of(&infos)?;
        Ok(infos.iter().map(|i| i.domid).zip(names).collect())
    }

    /// Inside `tx`: the live domain other than `me` whose name is `name`, if any. Every
    /// domain's home and name is read in the transaction, so a domain that gets a home or a
    /// name before `tx` commits makes the commit conflict (and the check run again). Homes left
    /// behind by domains that no longer exist do not hold a name.
    pub fn name_owner(
        &self,
        tx: &Transaction<'_>,
        name: &str,
        me: DomId,
    ) -> xenstore::Result<Option<DomId>> {
        let domids: Vec<DomId> = tx
            .directory("/local/domain")?
            .iter()
            .filter_map(|d| d.parse().ok())
            .filter(|&d| d != me)
            .collect();
        let paths: Vec<String> = domids
            .iter()
            .map(|d| format!("/local/domain/{d}/name"))
            .collect();
        let names = tx.read_many(&paths);
        Ok(domids
            .into_iter()
            .zip(names)
            .filter(|(_, n)| n.as_deref().is_ok_and(|n| n == name.as_bytes()))
            .map(|(d, _)| d)
            // A home is written after its domain exists, so a domain whose home this
            // transaction saw is listed now, unless it has gone since. Unknown counts as live.
            .find(|&d| self.xc.domain_info(d).map_or(true, |i| i.is_some())))
    }

    fn names_of(&self, infos: &[DomainInfo]) -> Result<Vec<String>, ControlError> {
        let paths: Vec<String> = infos
            .iter()
            .map(|i| format!("/local/domain/{}/name", i.domid))
            .collect();
        let replies = self.xs.read_many(&paths);
        infos
            .iter()
            .zip(replies)
            .map(|(i, r)| Ok(domain::shown_name(i.domid, node_text(r)?)))
            .collect()
    }

    fn summaries(&self, infos: &[DomainInfo]) -> Result<Vec<DomainSummary>, ControlError> {
        let mut paths = Vec::with_capacity(infos.len() * 2);
        for i in infos {
            paths.push(format!("/local/domain/{}/name", i.domid));
            paths.push(format!("/local/domain/{}/memory/target", i.domid));
        }
        let mut replies = self.xs.read_many(&paths).into_iter();
        infos
            .iter()
            .map(|info| {
                let mut next = || node_text(replies.next().unwrap_or(Ok(Vec::new())));
                let (name, target) = (next()?, next()?);
                let target = target.and_then(|t| t.trim().parse::<u64>().ok());
                Ok(domain::summarize(info, name, target))
            })
            .collect()
    }

    /// The domain a user named (name or numeric id, as [`domain::pick`]), or
    /// `NoSuchDomain`. Reads only what the lookup needs: no names for a live domid, and the
    /// memory target of the one domain found.
    pub fn find(&self, word: &str) -> Result<DomainSummary, ControlError> {
        let infos = self.xc.domain_list()?;
        let domids: Vec<DomId> = infos.iter().map(|i| i.domid).collect();
        let mut unreadable = None;
        let i = domain::pick(word, &domids, || {
            self.names_of(&infos).unwrap_or_else(|e| {
                unreadable = Some(e);
                Vec::new()
            })
        });
        if let Some(e) = unreadable {
            return Err(e);
        }
        let i = i.ok_or_else(|| ControlError::NoSuchDomain(word.to_string()))?;
        Ok(self.summaries(&infos[i..=i])?.remove(0))
    }

    /// [`Host::find`] and the hypervisor's facts of the domain found (`NoSuchDomain` if it
    /// has gone in between).
    pub fn find_with_info(&self, word: &str) -> Result<(DomainSummary, DomainInfo), ControlError> {
        let d = self.find(word)?;
        let info = self
            .xc
            .domain_info(d.domid)?
            .ok_or_else(|| ControlError::NoSuchDomain(word.to_string()))?;
        Ok((d, info))
    }

    /// Destroys a domain at once (`xm destroy`), then closes its devices — the backends let go
    /// once the frontends are gone, and the hotplug scripts undo their work (loop devices,
    /// bridge ports) — and removes its xenstore nodes.
    pub fn destroy(&self, domid: DomId) -> Result<(), ControlError> {
        if domid == 0 {
            return Err(ControlError::Unsupported(
                "Cannot destroy Domain-0".to_string(),
            ));
        }
        // The store is asked, but the domain goes even if it cannot answer (a create undone
        // because xenstored stopped answering must not leave its domain behind).
        let vm = self
            .xs
            .try_read(&format!("/local/domain/{domid}/vm"))
            .ok()
            .flatten();
        self.xc.domain_destroy(domid)?;
        // A hotplug script that a killed xm left running finishes first, so that what it did
        // is in the store to undo; then the devices are read back.
        leftovers::wait_for_scripts(domid);
        let devices = device::existing(&self.xs, domid);
        let images = self.vbd_images(domid, &devices);
        let _ = self.xs.rm(&format!("/local/domain/{domid}"));
        device::teardown(&self.xs, &devices, domid);
        self.remove_nodes(domid, vm.as_deref());
        // Loop devices a block script attached but did not live to write down.
        leftovers::release_loops(&images, || self.vbd_nodes());
        // Xen took any passed-through PCI function back with the domain; pciback lets go as
        // its backend directory goes: the functions are free for the next domain.
        pci::release(&self.xs, domid);
        // A create killed between its bootloader and its build left the kernel it extracted.
        bootloader::sweep_stale_dirs();
        Ok(())
    }

    /// The image files that `devices`' vbd backends (of `domid`) serve: their `params` that
    /// are regular files.
    fn vbd_images(&self, domid: DomId, devices: &[device::Device]) -> Vec<std::path::PathBuf> {
        let keys: Vec<String> = devices
            .iter()
            .filter(|d| d.kind == device::Kind::Vbd)
            .map(|d| format!("{}/params", d.backend_path(domid)))
            .collect();
        self.xs
            .read_many(&keys)
            .into_iter()
            .filter_map(|v| v.ok())
            .map(|v| std::path::PathBuf::from(String::from_utf8_lossy(&v).into_owned()))
            .filter(|p| p.is_file())
            .collect()
    }

    /// The loop devices that dom0's vbd backends record (`node`), for every domain.
    fn vbd_nodes(&self) -> Vec<String> {
        let base = "/local/domain/0/backend/vbd";
        let mut keys = Vec::new();
        for domid in self.xs.directory(base).unwrap_or_default() {
            for id in self
                .xs
                .directory(&format!("{base}/{domid}"))
                .unwrap_or_default()
            {
                keys.push(format!("{base}/{domid}/{id}/node"));
            }
        }
        self.xs
            .read_many(&keys)
            .into_iter()
            .filter_map(|v| v.ok())
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .collect()
    }

    /// `xm rename`: the domain's new name, checked and written in one transaction (as a
    /// create claims one), in its home, its `/vm` directory and its kept plan, so a restart
    /// keeps it.
    pub fn rename(&self, domid: DomId, new: &str) -> Result<(), ControlError> {
        if let Err(p) = domcfg::config::check_name(new) {
            return Err(ControlError::Invalid(p.message(new, "")));
        }
        let home = format!("/local/domain/{domid}");
        let owner = self.xs.transaction(|tx| {
            if let Some(owner) = self.name_owner(tx, new, domid)? {
                return Ok(Some(owner));
            }
            tx.write(&format!("{home}/name"), new)?;
            if let Some(vm) = tx.try_read(&format!("{home}/vm"))? {
                let vm = String::from_utf8_lossy(&vm);
                if vm.starts_with("/vm/") {
                    tx.write(&format!("{vm}/name"), new)?;
                }
            }
            super::domain_plan::update_plan_in(tx, domid, |p| p.name = new.to_string())?;
            Ok(None)
        })?;
        match owner {
            Some(owner) => Err(ControlError::NameInUse {
                name: new.to_string(),
                domid: owner,
            }),
            None => Ok(()),
        }
    }

    /// Seconds since the domain was started (xm's `up_time`): from its `/vm/UUID/start_time`
    /// (written by xm and libxl), dom0's from `/proc/uptime`; `None` where neither is known.
    pub fn uptime(&self, domid: DomId) -> Option<f64> {
        if domid == 0 {
            let text = std::fs::read_to_string("/proc/uptime").ok()?;
            return text.split_whitespace().next()?.parse().ok();
        }
        let vm = self
            .xs
            .try_read(&format!("/local/domain/{domid}/vm"))
            .ok()??;
        let vm = String::from_utf8_lossy(&vm);
        let start = self.xs.try_read(&format!("{vm}/start_time")).ok()??;
        let start: f64 = String::from_utf8_lossy(&start).trim().parse().ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64();
        Some((now - start).max(0.0))
    }

    /// Removes what a domain had in xenstore: its home, `/vm/UUID`, libxl's record and the
    /// backend directories dom0 holds for it. Missing nodes are not an error.
    pub fn remove_nodes(&self, domid: DomId, vm_path: Option<&[u8]>) {
        let mut paths = vec![format!("/local/domain/{domid}"), format!("/libxl/{domid}")];
        if let Some(vm) = vm_path {
            let vm = String::from_utf8_lossy(vm).into_owned();
            if vm.starts_with("/vm/") {
                paths.push(vm);
            }
        }
        if let Ok(kinds) = self.xs.directory("/local/domain/0/backend") {
            for kind in kinds {
                paths.push(format!("/local/domain/0/backend/{kind}/{domid}"));
            }
        }
        // Pipelined; each removal stands on its own (a missing parent's ENOENT stops nothing).
        let rms: Vec<Change<'_>> = paths.iter().map(|p| Change::Rm(p)).collect();
        let _ = self.xs.apply(&rms);
    }

    pub fn pause(&self, domid: DomId) -> Result<(), ControlError> {
        Ok(self.xc.domain_pause(domid)?)
    }

    pub fn unpause(&self, domid: DomId) -> Result<(), ControlError> {
        Ok(self.xc.domain_unpause(domid)?)
    }
}
