//! Building a PV domain, in libxl 4.17's order: create paused, limits, event channels, the
//! domain's xenstore home, the libxenguest build, scheduling, the post-build nodes, INTRODUCE,
//! console 0, devices and their hotplug scripts, then unpause. Nothing is allocated before the
//! domain exists, and everything after hangs off it; if any later step fails, [`Rollback`]
//! destroys the domain as `xm destroy` does (devices torn down, every xenstore node removed),
//! so a failed create leaves nothing behind, and the first error is what the caller sees.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::device::{self, Device};
use super::domain::uuid_string;
use super::domain_plan::{DomainPlan, plan_path};
use super::e820;
use super::error::ControlError;
use super::host::Host;
use super::layout::{self, BuildPost, DomainPaths};
use super::memory::MAXMEM_SLACK_KIB;
use super::pci;
use super::random::random_uuid;
use super::sched;
use super::storelock::StoreLock;
use super::trace::StepTimer;
use super::xc::{CreateDomain, DomId, PvImage, RestorePorts};
use xenstore::Change;

/// How often the transaction that claims the name is run again when other creates' commits
/// conflict with it (each new domain's home changes `/local/domain`, which every claim reads;
/// xm's own creates take turns, see [`StoreLock`], but xl's do not): enough for dozens of
/// creates at once, and still bounded.
const NAME_CLAIM_ATTEMPTS: u32 = 256;

/// A domain that now exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub domid: DomId,
    pub uuid: String,
    pub name: String,
    /// What was set aside on the way, for the user to see (e.g. a weight the domain's
    /// scheduler has no use for).
    pub warnings: Vec<String>,
}

/// The undo of a create in progress: once the domain exists, every later step only adds to
/// it (xenstore nodes, devices, the introduction to xenstored), so undoing any prefix of the
/// steps is destroying the domain the way `xm destroy` does — which removes whatever of those
/// exists. Dropped without [`Rollback::commit`], it does that.
struct Rollback<'h> {
    host: &'h Host,
    domid: Option<DomId>,
}

impl<'h> Rollback<'h> {
    fn new(host: &'h Host) -> Self {
        Rollback { host, domid: None }
    }

    fn created(&mut self, domid: DomId) {
        self.domid = Some(domid);
    }

    fn commit(mut self) {
        self.domid = None;
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if let Some(domid) = self.domid {
            // Best effort: the original error is what the caller reports.
            let _ = self.host.destroy(domid);
        }
    }
}

/// Creates the domain described by `plan`, leaving it paused if `paused`. `terminal`: the
/// user will watch the console (`xm create -c`), so a bootloader may show its menu there.
pub fn create(
    host: &Host,
    plan: &DomainPlan,
    paused: bool,
    terminal: bool,
) -> Result<Created, ControlError> {
    create_from(host, plan, paused, Image::Boot { terminal })
}

/// Where a new domain's memory comes from.
#[derive(Debug, Clone, Copy)]
pub enum Image<'a> {
    /// The plan's kernel, or its bootloader's pick, booted afresh. `terminal`: the user will
    /// watch the console (`xm create -c`), so a bootloader may show its menu there.
    Boot { terminal: bool },
    /// A saved domain: the libxenguest stream in this file, from its current position.
    Restore(std::os::fd::BorrowedFd<'a>),
    /// A domain migrating in: as [`Image::Restore`] from this pipe, but while its source may
    /// still exist on this host (a migration to localhost) with the same UUID: that is
    /// allowed, and the new domain's `/vm` node gets its own path if the source has
    /// `/vm/UUID`.
    Incoming(std::os::fd::BorrowedFd<'a>),
}

/// What the builder reads (for a boot), and the names `/vm` records: for a bootloader's
/// kernel, the file it wrote, which is gone by the time the domain runs (xm holds it open).
struct Kernel {
    kernel: PathBuf,
    ramdisk: Option<PathBuf>,
    cmdline: String,
    kernel_name: PathBuf,
    ramdisk_name: Option<PathBuf>,
}

/// [`create`], with the domain's memory from `image`: a restore is a create whose build step
/// is libxenguest's restore instead of its PV builder, and everything around it (limits,
/// event channels, the name claimed, store nodes, devices, the undo) is the same.
pub fn create_from(
    host: &Host,
    plan: &DomainPlan,
    paused: bool,
    image: Image<'_>,
) -> Result<Created, ControlError> {
    let trace = StepTimer::from_env();
    let physinfo = host.xc.physinfo()?;
    let restore = matches!(image, Image::Restore(_) | Image::Incoming(_));
    let incoming = matches!(image, Image::Incoming(_));
    check_plan(plan, physinfo.free_pages * 4 / 1024, !restore)?;
    pci::check(&host.xs, &host.xc, &physinfo, &plan.pci)?;
    trace.step("checks (files, memory, pci)");
    // The bootloader runs before the domain exists, so its failure leaves nothing to undo;
    // the files it extracts are held open (and readable) until `booted` is dropped, right
    // after the build.
    let booted = match (&plan.bootloader, image) {
        (Some(loader), Image::Boot { terminal }) => {
            hit("bootloader")?;
            let booted = loader.run(&plan.cmdline, terminal)?;
            trace.step("bootloader");
            Some(booted)
        }
        _ => None,
    };
    let Kernel {
        kernel,
        ramdisk,
        cmdline,
        kernel_name,
        ramdisk_name,
    } = match (&booted, &plan.kernel) {
        (Some(b), _) => Kernel {
            kernel: b.kernel.clone(),
            ramdisk: b.ramdisk.clone(),
            cmdline: b.cmdline.clone(),
            kernel_name: b.kernel_written.clone(),
            ramdisk_name: b.ramdisk_written.clone(),
        },
        (None, k) if restore || k.is_some() => {
            let k = k.clone().unwrap_or_default();
            Kernel {
                kernel: k.clone(),
                ramdisk: plan.ramdisk.clone(),
                cmdline: plan.cmdline.clone(),
                kernel_name: k,
                ramdisk_name: plan.ramdisk.clone(),
            }
        }
        (None, _) => {
            return Err(ControlError::Unsupported(
                "no kernel and no bootloader".into(),
            ));
        }
    };
    let uuid_bytes = plan.uuid.unwrap_or_else(random_uuid);
    let uuid = uuid_string(&uuid_bytes);
    // Two live domains with one UUID would share `/vm/UUID` (a restore while the saved
    // domain still runs, a config with a fixed uuid created twice). An incoming migration
    // may share it with its source (see `Image::Incoming`).
    if !incoming
        && let Some(other) = host
            .xc
            .domain_list()?
            .into_iter()
            .find(|i| i.uuid == uuid_bytes && !i.dying)
    {
        return Err(ControlError::Invalid(format!(
            "a domain with UUID {uuid} already exists with ID '{}'",
            other.domid
        )));
    }
    let target_kib = plan.memory_mib * 1024;
    let max_kib = plan.maxmem_mib.max(plan.memory_mib) * 1024;

    let mut rollback = Rollback::new(host);
    hit("xc_domain_create")?;
    let domid = host.xc.domain_create(&CreateDomain {
        uuid: uuid_bytes,
        max_vcpus: plan.max_vcpus,
        max_evtchn_port: 1023,
        max_grant_frames: 64,
        max_maptrack_frames: 1024,
        max_grant_version: if physinfo.gnttab_v2 { 2 } else { 1 },
        iommu: !plan.pci.is_empty(),
    })?;
    rollback.created(domid);

    hit("xc_domain_max_vcpus")?;
    host.xc.domain_max_vcpus(domid, plan.max_vcpus)?;
    hit("xc_domain_setmaxmem")?;
    host.xc
        .domain_setmaxmem(domid, target_kib + MAXMEM_SLACK_KIB)?;
    let [store_domid, console_domid] =
        read_domids(host, ["/tool/xenstored/domid", "/tool/xenconsoled/domid"]);
    hit("xc_evtchn_alloc_unbound:store")?;
    let store_port = host.xc.evtchn_alloc_unbound(domid, store_domid)?;
    hit("xc_evtchn_alloc_unbound:console")?;
    let console_port = host.xc.evtchn_alloc_unbound(domid, console_domid)?;
    hit("xc_domain_set_memmap_limit")?;
    host.xc.domain_set_memmap_limit(domid, max_kib)?;
    if !plan.pci.is_empty() {
        // As xl does for a PV guest with PCI functions (`e820_host`): a memory map shaped
        // like the host's, so that the guest can claim the functions' BARs.
        let map = e820::guest_map(
            &host.xc.machine_memory_map()?,
            target_kib,
            max_kib - target_kib,
        );
        if map.len() > e820::MAX_REGIONS {
            return Err(ControlError::Pci(format!(
                "the host's memory map has too many regions for a guest's ({} of at most {})",
                map.len(),
                e820::MAX_REGIONS
            )));
        }
        host.xc.domain_set_memory_map(domid, &map)?;
    }
    hit("xc_domain_set_tsc_info")?;
    host.xc.domain_set_tsc_default(domid)?;

    let mut paths = DomainPaths::new(domid, &uuid, console_domid);
    if incoming && host.xs.try_read(&paths.vm)?.is_some() {
        paths.vm = format!("{}-{domid}", paths.vm);
    }
    trace.step("domain created, limits, event channels");
    let make = layout::domain_make(&paths, domid, &uuid, &plan.name);
    // The name is checked and claimed in one transaction: of two creates racing for a name,
    // the second one's commit conflicts (it read `/local/domain`, which the first one's new
    // home changed), it runs again, sees the name taken and fails.
    hit("xenstore:domain")?;
    let turn = StoreLock::acquire();
    let owner = host
        .xs
        .transaction_with_attempts(NAME_CLAIM_ATTEMPTS, |tx| {
            if let Some(owner) = host.name_owner(tx, &plan.name, domid)? {
                return Ok(Some(owner));
            }
            // Leftovers of an earlier domain with this id or uuid; missing is fine.
            tx.apply(&[
                Change::Rm(&paths.dom),
                Change::Rm(&paths.vm),
                Change::Rm(&paths.libxl),
            ])
            .or_else(ignore_enoent)?;
            layout::write_nodes(tx, &make)?;
            Ok(None)
        })?;
    drop(turn);
    if let Some(owner) = owner {
        return Err(ControlError::NameInUse {
            name: plan.name.clone(),
            domid: owner,
        });
    }
    trace.step("domain's xenstore nodes (name claimed)");

    let built = match image {
        Image::Restore(fd) | Image::Incoming(fd) => {
            let ports = RestorePorts {
                store_port,
                store_domid,
                console_port,
                console_domid,
            };
            let built = host.xc.domain_restore(domid, fd, ports)?;
            trace.step("xc_domain_restore");
            built
        }
        Image::Boot { .. } => host
            .xc
            .build_pv(
                domid,
                &PvImage {
                    kernel: kernel.as_path(),
                    ramdisk: ramdisk.as_deref(),
                    cmdline: &cmdline,
                    features: None,
                    mem_mib: u32::try_from(plan.memory_mib).unwrap_or(u32::MAX),
                    max_vcpus: plan.max_vcpus,
                    store_evtchn: store_port,
                    store_domid,
                    console_evtchn: console_port,
                    console_domid,
                },
                &|step| trace.step(step),
            )
            .map_err(|e| match e.call {
                "xc_dom_kernel_file" | "xc_dom_parse_image" => ControlError::File {
                    path: kernel_name.display().to_string(),
                    message: format!("not a kernel libxenguest can boot as a PV guest ({e})"),
                },
                _ => ControlError::Xc(e),
            })?,
    };
    // The kernel is in the domain's memory now: the bootloader's copies can go.
    drop(booted);

    hit("sched:weight-cap")?;
    let warnings: Vec<String> =
        sched::set_weight_cap(&host.xc, domid, plan.cpu_weight, plan.cpu_cap)?
            .into_iter()
            .collect();
    if let Some(cpus) = plan.cpus.as_ref().filter(|c| !c.is_empty()) {
        hit("xc_vcpu_setaffinity")?;
        for vcpu in 0..plan.max_vcpus {
            host.xc.vcpu_set_hard_affinity(domid, vcpu, cpus)?;
        }
    }

    let ramdisk = ramdisk_name
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let kernel_text = kernel_name.display().to_string();
    let mut post = layout::build_post(
        &paths,
        &BuildPost {
            domid,
            max_kib,
            target_kib,
            store_port,
            store_mfn: built.store_mfn,
            max_vcpus: plan.max_vcpus,
            online_vcpus: plan.vcpus,
            kernel: &kernel_text,
            ramdisk: &ramdisk,
            cmdline: &cmdline,
            start_time: &start_time(),
        },
    );
    for (k, v) in [
        ("on_poweroff", &plan.on_poweroff),
        ("on_reboot", &plan.on_reboot),
        ("on_crash", &plan.on_crash),
    ] {
        post.push(layout::plain(format!("{}/{k}", paths.vm), v.as_str()));
    }
    // The console's frontend/backend, the devices' and the kept plan go in the same
    // transaction as the post-build nodes: one commit, and xenconsoled finds the console
    // complete when the introduction wakes it.
    post.extend(layout::console(
        &paths,
        domid,
        console_domid,
        console_port,
        built.console_mfn,
    ));
    post.extend(plan.devices.iter().flat_map(|d| device::nodes(d, domid)));
    // The plan the monitor restarts from: same name, same UUID (as xl keeps on reboot).
    let kept = DomainPlan {
        uuid: Some(uuid_bytes),
        ..plan.clone()
    };
    let kept = serde_json::to_string(&kept).unwrap_or_default();
    post.push(layout::plain(plan_path(domid), kept));
    hit("xenstore:post-build")?;
    let turn = StoreLock::acquire();
    host.xs.transaction(|tx| layout::write_nodes(tx, &post))?;
    drop(turn);
    trace.step("scheduling; post-build, console and device nodes");
    hit("xs_introduce")?;
    host.xs.introduce(domid, built.store_mfn, store_port)?;
    for dev in &plan.devices {
        hit(&format!("hotplug:{}", dev.kind.as_str()))?;
        device::hotplug(&host.xs, dev, domid)?;
    }
    if !plan.pci.is_empty() {
        hit("pci")?;
        pci::attach_all(&host.xc, &host.xs, domid, &plan.name, &plan.pci)?;
    }
    trace.step("introduce, device hotplug, pci");
    if !paused {
        hit("xc_domain_unpause")?;
        host.xc.domain_unpause(domid)?;
    }
    rollback.commit();
    Ok(Created {
        domid,
        uuid,
        name: plan.name.clone(),
        warnings,
    })
}

/// Passes step `name`: its failpoint (in a failpoints build), then a pending Ctrl-C,
/// SIGTERM or SIGHUP ([`super::interrupt`]): either makes the create stop and undo here.
fn hit(name: &str) -> Result<(), ControlError> {
    super::failpoint::hit(name)?;
    Ok(super::interrupt::check(name)?)
}

/// Checks what can be checked before anything is allocated: a readable kernel and ramdisk
/// (if `kernel`: a restore boots none), disks that exist, enough free memory. (The name is checked where it is claimed, atomically.)
fn check_plan(plan: &DomainPlan, free_mib: u64, kernel: bool) -> Result<(), ControlError> {
    for path in plan
        .kernel
        .iter()
        .chain(plan.ramdisk.as_ref())
        .filter(|_| kernel)
    {
        std::fs::File::open(path).map_err(|e| ControlError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    }
    for disk in plan.devices.iter().filter_map(Device::params) {
        // What the block script can attach: a block device or a regular file (loop device).
        let usable = std::fs::metadata(disk).is_ok_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_block_device() || m.is_file()
        });
        if !usable {
            return Err(ControlError::File {
                path: disk.to_string(),
                message: "disk does not exist (or is neither a block device nor a file)".into(),
            });
        }
    }
    if plan.memory_mib > free_mib {
        return Err(ControlError::NotEnoughMemory {
            need_mib: plan.memory_mib,
            free_mib,
        });
    }
    Ok(())
}

fn ignore_enoent(e: xenstore::Error) -> xenstore::Result<()> {
    if e.errno() == Some(&xenstore::Errno::ENOENT) {
        Ok(())
    } else {
        Err(e)
    }
}

/// The domids recorded at `paths` (one pipelined batch); 0, dom0, where one is missing.
fn read_domids<const N: usize>(host: &Host, paths: [&str; N]) -> [DomId; N] {
    let replies = host.xs.read_many(&paths);
    std::array::from_fn(|i| {
        replies[i]
            .as_ref()
            .ok()
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// libxl's `start_time`: seconds since the epoch with two decimals.
fn start_time() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:02}", now.as_secs(), now.subsec_millis() / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_has_two_decimals() {
        let t = start_time();
        let (secs, frac) = t.split_once('.').unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_600_000_000);
        assert_eq!(frac.len(), 2);
    }
}
