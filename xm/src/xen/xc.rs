//! The one safe wrapper around libxenctrl / libxenguest (`xenctrl-sys`). Every `unsafe` block of
//! the `xm` crate lives in this file. One method per hypervisor call; each names the C call it
//! wraps, keeps raw pointers inside, and turns `-1`/errno into an [`XcError`] naming the call.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::path::Path;
use std::ptr;
use std::sync::OnceLock;

use xenctrl_sys as sys;

use super::e820::{self, Region};

/// A Xen domain id.
pub type DomId = u32;

/// The Xen release xm was built for (`MAJOR.MINOR`, from the `libxenctrl` it links).
pub const XEN_RELEASE: &str = sys::XEN_RELEASE;

/// Why a domain shut down, or what it is told to do (Xen's `SHUTDOWN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Poweroff,
    Reboot,
    /// Stopped for a save or a migration, to be resumed or restored.
    Suspend,
    Crash,
    Watchdog,
    SoftReset,
    Other(u32),
}

impl Shutdown {
    pub fn from_raw(code: u32) -> Shutdown {
        match code {
            sys::SHUTDOWN_poweroff => Shutdown::Poweroff,
            sys::SHUTDOWN_reboot => Shutdown::Reboot,
            sys::SHUTDOWN_suspend => Shutdown::Suspend,
            sys::SHUTDOWN_crash => Shutdown::Crash,
            sys::SHUTDOWN_watchdog => Shutdown::Watchdog,
            sys::SHUTDOWN_soft_reset => Shutdown::SoftReset,
            other => Shutdown::Other(other),
        }
    }

    pub fn raw(self) -> u32 {
        match self {
            Shutdown::Poweroff => sys::SHUTDOWN_poweroff,
            Shutdown::Reboot => sys::SHUTDOWN_reboot,
            Shutdown::Suspend => sys::SHUTDOWN_suspend,
            Shutdown::Crash => sys::SHUTDOWN_crash,
            Shutdown::Watchdog => sys::SHUTDOWN_watchdog,
            Shutdown::SoftReset => sys::SHUTDOWN_soft_reset,
            Shutdown::Other(code) => code,
        }
    }
}

/// A scheduler, by Xen's `XEN_SCHEDULER_*` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    /// Removed from Xen (4.9), and from its headers; xm 4.1 knew it.
    Sedf,
    Credit,
    Credit2,
    Arinc653,
    Rtds,
    Null,
    Other(u32),
}

impl Scheduler {
    pub fn from_raw(id: u32) -> Scheduler {
        match id {
            4 => Scheduler::Sedf,
            sys::XEN_SCHEDULER_CREDIT => Scheduler::Credit,
            sys::XEN_SCHEDULER_CREDIT2 => Scheduler::Credit2,
            sys::XEN_SCHEDULER_ARINC653 => Scheduler::Arinc653,
            sys::XEN_SCHEDULER_RTDS => Scheduler::Rtds,
            sys::XEN_SCHEDULER_NULL => Scheduler::Null,
            other => Scheduler::Other(other),
        }
    }

    /// Its name as xm 4.1 and `xl info` give it.
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Sedf => "sedf",
            Scheduler::Credit => "credit",
            Scheduler::Credit2 => "credit2",
            Scheduler::Arinc653 => "arinc653",
            Scheduler::Rtds => "rtds",
            Scheduler::Null => "null",
            Scheduler::Other(_) => "unknown",
        }
    }
}

/// What `XEN_DOMCTL_sendtrigger` can send a domain's vcpu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Nmi,
    Reset,
    Init,
    Power,
}

impl Trigger {
    fn raw(self) -> u32 {
        match self {
            Trigger::Nmi => sys::XEN_DOMCTL_SENDTRIGGER_NMI,
            Trigger::Reset => sys::XEN_DOMCTL_SENDTRIGGER_RESET,
            Trigger::Init => sys::XEN_DOMCTL_SENDTRIGGER_INIT,
            Trigger::Power => sys::XEN_DOMCTL_SENDTRIGGER_POWER,
        }
    }
}

/// A failed libxenctrl/libxenguest call: which call, and the errno it left.
#[derive(Debug)]
pub struct XcError {
    pub call: &'static str,
    pub source: io::Error,
}

impl fmt::Display for XcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // libxenguest often fails without setting errno; "Success" would only confuse.
        match self.source.raw_os_error() {
            Some(0) => write!(f, "{} failed", self.call),
            _ => write!(f, "{} failed: {}", self.call, self.source),
        }
    }
}

impl std::error::Error for XcError {}

fn last_error(call: &'static str) -> XcError {
    XcError {
        call,
        source: io::Error::last_os_error(),
    }
}

/// A check every wrapped call passes first, by the C call's name: `Err(why)` fails the call
/// as the call itself would. None is set but in the failpoints build, whose
/// [`super::failpoint::setup`] sets one for the fault tests.
static CALL_HOOK: OnceLock<CallHook> = OnceLock::new();

/// A [`CALL_HOOK`]: the C call's name in, `Err(why)` to fail it.
pub type CallHook = fn(&'static str) -> Result<(), String>;

/// Sets the [`CALL_HOOK`] (once per process; a second call changes nothing).
pub fn set_call_hook(hook: CallHook) {
    let _ = CALL_HOOK.set(hook);
}

/// Passes `call` through the [`CALL_HOOK`], if one is set.
fn inject(call: &'static str) -> Result<(), XcError> {
    match CALL_HOOK.get() {
        Some(hook) => hook(call).map_err(|why| XcError {
            call,
            source: io::Error::other(why),
        }),
        None => Ok(()),
    }
}

fn check(call: &'static str, rc: i32) -> Result<(), XcError> {
    if rc < 0 {
        Err(last_error(call))
    } else {
        Ok(())
    }
}

/// One vcpu as `xc_vcpu_getinfo` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VcpuInfo {
    pub number: u32,
    pub online: bool,
    pub blocked: bool,
    pub running: bool,
    /// Nanoseconds of CPU time used.
    pub cpu_time: u64,
    /// The physical cpu it runs (or last ran) on.
    pub cpu: u32,
}

/// What `xc_domain_create` needs for a PV guest.
#[derive(Debug, Clone)]
pub struct CreateDomain {
    pub uuid: [u8; 16],
    pub max_vcpus: u32,
    pub max_evtchn_port: u32,
    pub max_grant_frames: i32,
    pub max_maptrack_frames: i32,
    pub max_grant_version: u32,
    /// The domain gets an IOMMU context (PCI passthrough), with its own page tables
    /// (`XEN_DOMCTL_IOMMU_no_sharept`, as libxl sets for PV).
    pub iommu: bool,
}

/// One domain as `XEN_DOMCTL_getdomaininfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInfo {
    pub domid: DomId,
    pub uuid: [u8; 16],
    pub running: bool,
    pub blocked: bool,
    pub paused: bool,
    pub shutdown: bool,
    pub dying: bool,
    pub hvm: bool,
    /// Why it shut down, meaningful when `shutdown` is set.
    pub shutdown_reason: Shutdown,
    pub tot_pages: u64,
    pub max_pages: u64,
    /// Nanoseconds of CPU time used.
    pub cpu_time: u64,
    pub online_vcpus: u32,
    pub max_vcpu_id: u32,
    /// The cpupool the domain runs in (its scheduler is the pool's).
    pub cpupool: u32,
}

impl DomainInfo {
    pub fn crashed(&self) -> bool {
        self.shutdown && self.shutdown_reason == Shutdown::Crash
    }

    /// Stopped by its own suspend (for a save or a migration), not shut down for good.
    pub fn suspended(&self) -> bool {
        self.shutdown && self.shutdown_reason == Shutdown::Suspend
    }

    fn from_raw(raw: &sys::xc_domaininfo_t) -> Self {
        let has = |bit: u32| raw.flags & bit != 0;
        DomainInfo {
            domid: u32::from(raw.domain),
            uuid: raw.handle,
            running: has(sys::XEN_DOMINF_running),
            blocked: has(sys::XEN_DOMINF_blocked),
            paused: has(sys::XEN_DOMINF_paused),
            shutdown: has(sys::XEN_DOMINF_shutdown),
            dying: has(sys::XEN_DOMINF_dying),
            hvm: has(sys::XEN_DOMINF_hvm_guest),
            shutdown_reason: Shutdown::from_raw(
                (raw.flags >> sys::XEN_DOMINF_shutdownshift) & sys::XEN_DOMINF_shutdownmask,
            ),
            tot_pages: raw.tot_pages,
            max_pages: raw.max_pages,
            cpu_time: raw.cpu_time,
            online_vcpus: raw.nr_online_vcpus,
            max_vcpu_id: raw.max_vcpu_id,
            cpupool: raw.cpupool,
        }
    }
}

/// The host as `XEN_SYSCTL_physinfo` reports it.
#[derive(Debug, Clone, Default)]
pub struct PhysInfo {
    pub nr_cpus: u32,
    pub nr_nodes: u32,
    pub cores_per_socket: u32,
    pub threads_per_core: u32,
    pub cpu_khz: u32,
    /// The hypervisor can run HVM guests (`XEN_SYSCTL_PHYSCAP_hvm`).
    pub hvm: bool,
    pub hw_cap: [u32; 8],
    pub total_pages: u64,
    pub free_pages: u64,
    pub gnttab_v2: bool,
    /// The hypervisor has shadow paging (what gives a PV guest log-dirty tracking, so live
    /// migration); Debian builds Xen without it.
    pub shadow: bool,
    /// The hypervisor has an IOMMU enabled: devices can be passed through.
    pub directio: bool,
}

/// What the hypervisor says of itself (`XENVER_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XenVersion {
    pub major: u32,
    pub minor: u32,
    pub extra: String,
    pub capabilities: String,
    pub pagesize: u64,
    pub virt_start: u64,
    pub changeset: String,
    pub commandline: String,
    pub compiler: String,
    pub compile_by: String,
    pub compile_domain: String,
    pub compile_date: String,
}

/// What the PV builder needs: kernel, ramdisk, command line, memory and the two rings' event
/// channels (allocated beforehand with [`Xc::evtchn_alloc_unbound`]).
#[derive(Debug, Clone)]
pub struct PvImage<'a> {
    pub kernel: &'a Path,
    pub ramdisk: Option<&'a Path>,
    pub cmdline: &'a str,
    pub features: Option<&'a str>,
    pub mem_mib: u32,
    pub max_vcpus: u32,
    pub store_evtchn: u32,
    pub store_domid: u32,
    pub console_evtchn: u32,
    pub console_domid: u32,
}

/// Machine frames of the rings the builder set up, for xenstore and xenconsoled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PvBuilt {
    pub store_mfn: u64,
    pub console_mfn: u64,
}

/// An open `xc_interface` handle (`/dev/xen/privcmd`).
pub struct Xc {
    xch: *mut sys::xc_interface,
    /// Its logger: stderr, warnings and errors only (libxenctrl's default also prints
    /// libxenguest's info and progress lines, e.g. all through a save).
    logger: *mut sys::xentoollog_logger_stdiostream,
}

impl Xc {
    /// Wraps `xc_interface_open`, with a stderr logger for warnings and errors.
    pub fn open() -> Result<Xc, XcError> {
        // SAFETY: stderr is the C library's stream, open for the life of the process; the
        // level and flags are plain values. NULL (no logger) is handled below.
        let logger = unsafe {
            sys::xtl_createlogger_stdiostream(
                sys::stderr,
                sys::xentoollog_level_XTL_WARN,
                sys::XTL_STDIOSTREAM_HIDE_PROGRESS,
            )
        };
        // SAFETY: the logger is NULL (libxenctrl then makes its default one) or one that
        // outlives the handle (it is destroyed after the handle, in Drop).
        let xch = unsafe { sys::xc_interface_open(logger.cast(), logger.cast(), 0) };
        if xch.is_null() {
            let e = last_error("xc_interface_open");
            // SAFETY: logger came from xtl_createlogger_stdiostream (or is NULL, which is
            // allowed) and nothing else holds it.
            unsafe { sys::xtl_logger_destroy(logger.cast()) };
            return Err(e);
        }
        Ok(Xc { xch, logger })
    }

    /// Wraps `xc_domain_create` for a PV domain (no HVM flags, no emulated devices).
    pub fn domain_create(&self, cfg: &CreateDomain) -> Result<DomId, XcError> {
        let mut create = sys::xen_domctl_createdomain {
            handle: cfg.uuid,
            max_vcpus: cfg.max_vcpus,
            max_evtchn_port: cfg.max_evtchn_port,
            max_grant_frames: cfg.max_grant_frames,
            max_maptrack_frames: cfg.max_maptrack_frames,
            // XEN_DOMCTL_GRANT_version(v) is a function-like macro: the low four bits.
            grant_opts: cfg.max_grant_version & 0xf,
            flags: if cfg.iommu {
                sys::XEN_DOMCTL_CDF_iommu
            } else {
                0
            },
            iommu_opts: if cfg.iommu {
                sys::XEN_DOMCTL_IOMMU_no_sharept
            } else {
                0
            },
            ..Default::default()
        };
        // 0 asks Xen for the next free domid; it writes the chosen one back.
        let mut domid: u32 = 0;
        // SAFETY: both pointers are to live locals for the duration of the call.
        let rc = unsafe { sys::xc_domain_create(self.xch, &mut domid, &mut create) };
        check("xc_domain_create", rc)?;
        Ok(domid)
    }

    /// Wraps `xc_domain_destroy`.
    pub fn domain_destroy(&self, domid: DomId) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; domid is a plain integer.
        check("xc_domain_destroy", unsafe {
            sys::xc_domain_destroy(self.xch, domid)
        })
    }

    /// Wraps `xc_domain_pause`.
    pub fn domain_pause(&self, domid: DomId) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; domid is a plain integer.
        check("xc_domain_pause", unsafe {
            sys::xc_domain_pause(self.xch, domid)
        })
    }

    /// Wraps `xc_domain_unpause`.
    pub fn domain_unpause(&self, domid: DomId) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; domid is a plain integer.
        check("xc_domain_unpause", unsafe {
            sys::xc_domain_unpause(self.xch, domid)
        })
    }

    /// Wraps `xc_domain_shutdown` (`SCHEDOP_remote_shutdown`) with a `SHUTDOWN_*` reason.
    pub fn domain_shutdown(&self, domid: DomId, reason: Shutdown) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let rc = unsafe { sys::xc_domain_shutdown(self.xch, domid, reason.raw() as i32) };
        check("xc_domain_shutdown", rc)
    }

    /// Every domain, in domid order. Wraps `xc_domain_getinfolist`, in batches.
    pub fn domain_list(&self) -> Result<Vec<DomainInfo>, XcError> {
        const BATCH: usize = 256;
        let mut out = Vec::new();
        let mut next: u32 = 0;
        loop {
            let mut buf = vec![sys::xc_domaininfo_t::default(); BATCH];
            // SAFETY: buf holds BATCH writable, initialised entries; we pass its exact length.
            let n = unsafe {
                sys::xc_domain_getinfolist(self.xch, next, BATCH as u32, buf.as_mut_ptr())
            };
            check("xc_domain_getinfolist", n)?;
            let n = n as usize;
            out.extend(buf[..n].iter().map(DomainInfo::from_raw));
            if n < BATCH {
                return Ok(out);
            }
            next = u32::from(buf[n - 1].domain) + 1;
        }
    }

    /// One domain, or `None` if no domain has that id.
    pub fn domain_info(&self, domid: DomId) -> Result<Option<DomainInfo>, XcError> {
        let mut raw = sys::xc_domaininfo_t::default();
        // SAFETY: raw is one writable entry and we ask for exactly one.
        let n = unsafe { sys::xc_domain_getinfolist(self.xch, domid, 1, &mut raw) };
        check("xc_domain_getinfolist", n)?;
        Ok((n == 1 && u32::from(raw.domain) == domid).then(|| DomainInfo::from_raw(&raw)))
    }

    /// Wraps `xc_domain_max_vcpus`.
    pub fn domain_max_vcpus(&self, domid: DomId, max: u32) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_domain_max_vcpus", unsafe {
            sys::xc_domain_max_vcpus(self.xch, domid, max)
        })
    }

    /// Wraps `xc_domain_setmaxmem` (KiB).
    pub fn domain_setmaxmem(&self, domid: DomId, max_kib: u64) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let rc = unsafe { sys::xc_domain_setmaxmem(self.xch, domid, max_kib) };
        check("xc_domain_setmaxmem", rc)
    }

    /// Wraps `xc_domain_set_memmap_limit` (KiB): the PV guest's e820 size.
    pub fn domain_set_memmap_limit(&self, domid: DomId, limit_kib: u64) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let rc = unsafe { sys::xc_domain_set_memmap_limit(self.xch, domid, limit_kib) };
        check("xc_domain_set_memmap_limit", rc)
    }

    /// Wraps `xc_get_machine_memory_map`: the host's memory map as Xen keeps it.
    pub fn machine_memory_map(&self) -> Result<Vec<Region>, XcError> {
        let mut raw = vec![sys::e820entry::default(); e820::MAX_REGIONS];
        // SAFETY: raw is a live buffer of MAX_REGIONS entries, the count passed.
        let n =
            unsafe { sys::xc_get_machine_memory_map(self.xch, raw.as_mut_ptr(), raw.len() as u32) };
        check("xc_get_machine_memory_map", n)?;
        raw.truncate(n as usize);
        Ok(raw
            .iter()
            .map(|e| Region {
                addr: e.addr,
                size: e.size,
                kind: e.type_,
            })
            .collect())
    }

    /// Wraps `xc_domain_set_memory_map`: the PV guest's memory map.
    pub fn domain_set_memory_map(&self, domid: DomId, map: &[Region]) -> Result<(), XcError> {
        inject("xc_domain_set_memory_map")?;
        let mut raw: Vec<sys::e820entry> = map
            .iter()
            .map(|r| sys::e820entry {
                addr: r.addr,
                size: r.size,
                type_: r.kind,
            })
            .collect();
        // SAFETY: raw is a live buffer of raw.len() entries, the count passed.
        let rc = unsafe {
            sys::xc_domain_set_memory_map(self.xch, domid, raw.as_mut_ptr(), raw.len() as u32)
        };
        check("xc_domain_set_memory_map", rc)
    }

    /// Wraps `xc_domain_set_tsc_info` with the default TSC mode.
    pub fn domain_set_tsc_default(&self, domid: DomId) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let rc = unsafe { sys::xc_domain_set_tsc_info(self.xch, domid, 0, 0, 0, 0) };
        check("xc_domain_set_tsc_info", rc)
    }

    /// Wraps `xc_evtchn_alloc_unbound`: a port in `domid` that `remote` may bind to.
    pub fn evtchn_alloc_unbound(&self, domid: DomId, remote: DomId) -> Result<u32, XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let port = unsafe { sys::xc_evtchn_alloc_unbound(self.xch, domid, remote) };
        check("xc_evtchn_alloc_unbound", port)?;
        Ok(port as u32)
    }

    /// Wraps `xc_sched_credit_domain_set` (credit scheduler weight and cap).
    pub fn sched_credit_set(&self, domid: DomId, weight: u16, cap: u16) -> Result<(), XcError> {
        let mut sdom = sys::xen_domctl_sched_credit { weight, cap };
        // SAFETY: sdom is a live local for the duration of the call.
        let rc = unsafe { sys::xc_sched_credit_domain_set(self.xch, domid, &mut sdom) };
        check("xc_sched_credit_domain_set", rc)
    }

    /// Wraps `xc_sched_credit_domain_get`: (weight, cap).
    pub fn sched_credit_get(&self, domid: DomId) -> Result<(u16, u16), XcError> {
        let mut sdom = sys::xen_domctl_sched_credit::default();
        // SAFETY: sdom is a live local for the duration of the call.
        let rc = unsafe { sys::xc_sched_credit_domain_get(self.xch, domid, &mut sdom) };
        check("xc_sched_credit_domain_get", rc)?;
        Ok((sdom.weight, sdom.cap))
    }

    /// Wraps `xc_sched_credit2_domain_set` (credit2 scheduler weight and cap).
    pub fn sched_credit2_set(&self, domid: DomId, weight: u16, cap: u16) -> Result<(), XcError> {
        let mut sdom = sys::xen_domctl_sched_credit2 { weight, cap };
        // SAFETY: sdom is a live local for the duration of the call.
        let rc = unsafe { sys::xc_sched_credit2_domain_set(self.xch, domid, &mut sdom) };
        check("xc_sched_credit2_domain_set", rc)
    }

    /// Wraps `xc_sched_credit2_domain_get`: (weight, cap).
    pub fn sched_credit2_get(&self, domid: DomId) -> Result<(u16, u16), XcError> {
        let mut sdom = sys::xen_domctl_sched_credit2::default();
        // SAFETY: sdom is a live local for the duration of the call.
        let rc = unsafe { sys::xc_sched_credit2_domain_get(self.xch, domid, &mut sdom) };
        check("xc_sched_credit2_domain_get", rc)?;
        Ok((sdom.weight, sdom.cap))
    }

    /// The `XEN_SCHEDULER_*` id of cpupool `poolid` (`xc_cpupool_getinfo`).
    pub fn cpupool_sched_id(&self, poolid: u32) -> Result<Scheduler, XcError> {
        // SAFETY: xch is live; the result is NULL or one xc_cpupoolinfo_t libxenctrl allocated.
        let info = unsafe { sys::xc_cpupool_getinfo(self.xch, poolid) };
        if info.is_null() {
            return Err(last_error("xc_cpupool_getinfo"));
        }
        // SAFETY: info is non-NULL and points to an initialised xc_cpupoolinfo_t.
        let (found, sched_id) = unsafe { ((*info).cpupool_id, (*info).sched_id) };
        // SAFETY: info came from xc_cpupool_getinfo and is freed exactly once, by its pair.
        unsafe { sys::xc_cpupool_infofree(self.xch, info) };
        // The call returns the first pool with an id >= poolid: the pool must be that one.
        if found != poolid {
            return Err(XcError {
                call: "xc_cpupool_getinfo",
                source: io::Error::from_raw_os_error(rustix::io::Errno::NOENT.raw_os_error()),
            });
        }
        Ok(Scheduler::from_raw(sched_id))
    }

    /// Wraps `xc_vcpu_setaffinity` (hard affinity) for one vcpu; `cpus` are physical cpu numbers.
    pub fn vcpu_set_hard_affinity(
        &self,
        domid: DomId,
        vcpu: u32,
        cpus: &[u32],
    ) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle.
        let max_cpus = unsafe { sys::xc_get_max_cpus(self.xch) };
        check("xc_get_max_cpus", max_cpus)?;
        let mut map = vec![0u8; (max_cpus as usize).div_ceil(8)];
        for &cpu in cpus {
            if let Some(byte) = map.get_mut(cpu as usize / 8) {
                *byte |= 1 << (cpu % 8);
            }
        }
        // XEN_VCPUAFFINITY_HARD = 1; libxenctrl reads and writes back max_cpus bits of the map,
        // which is exactly the length allocated above. The soft map is not touched (NULL).
        // SAFETY: map is a writable buffer of ceil(max_cpus/8) bytes, as the call requires.
        let rc = unsafe {
            sys::xc_vcpu_setaffinity(
                self.xch,
                domid,
                vcpu as i32,
                map.as_mut_ptr(),
                ptr::null_mut(),
                1,
            )
        };
        check("xc_vcpu_setaffinity", rc)
    }

    /// Wraps `xc_readconsolering`: the hypervisor's console ring (its log), emptied after
    /// the read if `clear`.
    pub fn read_console_ring(&self, clear: bool) -> Result<Vec<u8>, XcError> {
        // Xen's ring is 16 KiB by default (`conring_size=` raises it): grow the buffer until
        // the text fits, then (for `clear`) read it once more, clearing, at that size.
        let mut size = 1usize << 16;
        loop {
            let text = self.console_ring_once(size, false)?;
            if text.len() < size || size >= 1 << 24 {
                return if clear {
                    self.console_ring_once(size, true)
                } else {
                    Ok(text)
                };
            }
            size *= 4;
        }
    }

    fn console_ring_once(&self, size: usize, clear: bool) -> Result<Vec<u8>, XcError> {
        let mut buf = vec![0u8; size];
        let mut n = size as u32;
        let mut index = 0u32;
        // SAFETY: buf is a writable buffer of n bytes; n and index are live locals.
        let rc = unsafe {
            sys::xc_readconsolering(
                self.xch,
                buf.as_mut_ptr().cast(),
                &mut n,
                i32::from(clear),
                0,
                &mut index,
            )
        };
        check("xc_readconsolering", rc)?;
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// Wraps `xc_send_debug_keys`: the keys as if typed on Xen's serial console.
    pub fn send_debug_keys(&self, keys: &str) -> Result<(), XcError> {
        let keys = CString::new(keys).map_err(|_| XcError {
            call: "xc_send_debug_keys",
            source: io::Error::from(io::ErrorKind::InvalidInput),
        })?;
        // SAFETY: keys is a NUL-terminated string that outlives the call.
        let rc = unsafe { sys::xc_send_debug_keys(self.xch, keys.as_ptr()) };
        check("xc_send_debug_keys", rc)
    }

    /// Wraps `xc_domain_send_trigger` (`XEN_DOMCTL_SENDTRIGGER_*`) for one vcpu.
    pub fn send_trigger(&self, domid: DomId, trigger: Trigger, vcpu: u32) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let rc = unsafe { sys::xc_domain_send_trigger(self.xch, domid, trigger.raw(), vcpu) };
        check("xc_domain_send_trigger", rc)
    }

    /// Wraps `xc_domain_dumpcore`: the domain's memory and vcpu state as an ELF core file.
    pub fn dump_core(&self, domid: DomId, path: &Path) -> Result<(), XcError> {
        let path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| XcError {
            call: "xc_domain_dumpcore",
            source: io::Error::from(io::ErrorKind::InvalidInput),
        })?;
        // SAFETY: path is a NUL-terminated string that outlives the call.
        let rc = unsafe { sys::xc_domain_dumpcore(self.xch, domid, path.as_ptr()) };
        check("xc_domain_dumpcore", rc)
    }

    /// Wraps `xc_vcpu_getinfo` for one vcpu.
    pub fn vcpu_info(&self, domid: DomId, vcpu: u32) -> Result<VcpuInfo, XcError> {
        let mut raw = sys::xc_vcpuinfo_t::default();
        // SAFETY: raw is a live, writable local.
        let rc = unsafe { sys::xc_vcpu_getinfo(self.xch, domid, vcpu, &mut raw) };
        check("xc_vcpu_getinfo", rc)?;
        Ok(VcpuInfo {
            number: vcpu,
            online: raw.online != 0,
            blocked: raw.blocked != 0,
            running: raw.running != 0,
            cpu_time: raw.cpu_time,
            cpu: raw.cpu,
        })
    }

    /// Wraps `xc_vcpu_getaffinity`: the physical cpus one vcpu may run on (hard affinity).
    pub fn vcpu_hard_affinity(&self, domid: DomId, vcpu: u32) -> Result<Vec<u32>, XcError> {
        // SAFETY: self.xch is a live handle.
        let max_cpus = unsafe { sys::xc_get_max_cpus(self.xch) };
        check("xc_get_max_cpus", max_cpus)?;
        let mut map = vec![0u8; (max_cpus as usize).div_ceil(8)];
        // XEN_VCPUAFFINITY_HARD = 1; the soft map is not asked for (NULL).
        // SAFETY: map is a writable buffer of ceil(max_cpus/8) bytes, as the call requires.
        let rc = unsafe {
            sys::xc_vcpu_getaffinity(
                self.xch,
                domid,
                vcpu as i32,
                map.as_mut_ptr(),
                ptr::null_mut(),
                1,
            )
        };
        check("xc_vcpu_getaffinity", rc)?;
        Ok((0..max_cpus as u32)
            .filter(|&c| map[c as usize / 8] & (1 << (c % 8)) != 0)
            .collect())
    }

    /// Wraps `xc_assign_device`: the PCI function `sbdf` (`seg<<16 | bus<<8 | devfn`) into
    /// `domid`'s IOMMU context (`flag` 0: strict reserved-memory policy).
    pub fn assign_device(&self, domid: DomId, sbdf: u32) -> Result<(), XcError> {
        inject("xc_assign_device")?;
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_assign_device", unsafe {
            sys::xc_assign_device(self.xch, domid, sbdf, 0)
        })
    }

    /// Wraps `xc_deassign_device`.
    pub fn deassign_device(&self, domid: DomId, sbdf: u32) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_deassign_device", unsafe {
            sys::xc_deassign_device(self.xch, domid, sbdf)
        })
    }

    /// Wraps `xc_domain_iomem_permission` (machine frames `first_mfn..first_mfn+nr`).
    pub fn iomem_permission(
        &self,
        domid: DomId,
        first_mfn: u64,
        nr: u64,
        allow: bool,
    ) -> Result<(), XcError> {
        inject("xc_domain_iomem_permission")?;
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_domain_iomem_permission", unsafe {
            sys::xc_domain_iomem_permission(self.xch, domid, first_mfn, nr, u8::from(allow))
        })
    }

    /// Wraps `xc_domain_ioport_permission`.
    pub fn ioport_permission(
        &self,
        domid: DomId,
        first: u32,
        nr: u32,
        allow: bool,
    ) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_domain_ioport_permission", unsafe {
            sys::xc_domain_ioport_permission(self.xch, domid, first, nr, u32::from(allow))
        })
    }

    /// Maps the host's GSI `irq` to a pirq of `domid` (`xc_physdev_map_pirq`, asking for the
    /// same number) and lets the domain use it (`xc_domain_irq_permission`); the pirq.
    pub fn grant_irq(&self, domid: DomId, irq: u32) -> Result<u32, XcError> {
        inject("xc_physdev_map_pirq")?;
        let mut pirq = irq as i32;
        // SAFETY: pirq is a live local; the other arguments are plain integers.
        check("xc_physdev_map_pirq", unsafe {
            sys::xc_physdev_map_pirq(self.xch, domid, irq as i32, &mut pirq)
        })?;
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_domain_irq_permission", unsafe {
            sys::xc_domain_irq_permission(self.xch, domid, pirq as u32, true)
        })?;
        Ok(pirq as u32)
    }

    /// Wraps `xc_physdev_unmap_pirq` (and revokes the permission first).
    pub fn revoke_irq(&self, domid: DomId, pirq: u32) -> Result<(), XcError> {
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        check("xc_domain_irq_permission", unsafe {
            sys::xc_domain_irq_permission(self.xch, domid, pirq, false)
        })?;
        // SAFETY: as above.
        check("xc_physdev_unmap_pirq", unsafe {
            sys::xc_physdev_unmap_pirq(self.xch, domid, pirq as i32)
        })
    }

    /// Wraps `xc_physinfo`.
    pub fn physinfo(&self) -> Result<PhysInfo, XcError> {
        let mut raw = sys::xc_physinfo_t::default();
        // SAFETY: raw is a live, writable local.
        check("xc_physinfo", unsafe {
            sys::xc_physinfo(self.xch, &mut raw)
        })?;
        Ok(PhysInfo {
            nr_cpus: raw.nr_cpus,
            nr_nodes: raw.nr_nodes,
            cores_per_socket: raw.cores_per_socket,
            threads_per_core: raw.threads_per_core,
            cpu_khz: raw.cpu_khz,
            hvm: raw.capabilities & sys::XEN_SYSCTL_PHYSCAP_hvm != 0,
            hw_cap: raw.hw_cap,
            total_pages: raw.total_pages,
            free_pages: raw.free_pages,
            gnttab_v2: raw.capabilities & sys::XEN_SYSCTL_PHYSCAP_gnttab_v2 != 0,
            shadow: raw.capabilities & sys::XEN_SYSCTL_PHYSCAP_shadow != 0,
            directio: raw.capabilities & sys::XEN_SYSCTL_PHYSCAP_directio != 0,
        })
    }

    /// The running hypervisor's release, `(major, minor)` (`XENVER_version`: the one query
    /// whose form every release keeps).
    pub fn xen_release(&self) -> Result<(u32, u32), XcError> {
        // SAFETY: XENVER_version takes no buffer (NULL is what it expects).
        let rc = unsafe { sys::xc_version(self.xch, sys::XENVER_version as i32, ptr::null_mut()) };
        check("xc_version", rc)?;
        Ok(((rc as u32) >> 16, (rc as u32) & 0xffff))
    }

    /// Wraps the `xc_version` queries `xm info` shows.
    pub fn xen_version(&self) -> Result<XenVersion, XcError> {
        let plain = |cmd: u32| {
            // SAFETY: XENVER_version and XENVER_pagesize take no buffer (NULL is what they expect).
            let rc = unsafe { sys::xc_version(self.xch, cmd as i32, ptr::null_mut()) };
            if rc < 0 {
                Err(last_error("xc_version"))
            } else {
                Ok(rc as u64)
            }
        };
        let version = plain(sys::XENVER_version)?;
        let pagesize = plain(sys::XENVER_pagesize)?;
        let mut extra: sys::xen_extraversion_t = [0; 16];
        let mut caps: sys::xen_capabilities_info_t = [0; 1024];
        let mut changeset: sys::xen_changeset_info_t = [0; 64];
        let mut commandline: sys::xen_commandline_t = [0; 1024];
        let mut cc = sys::xen_compile_info::default();
        let mut platform = sys::xen_platform_parameters::default();
        // SAFETY (each call): the buffer is a live local of exactly the type the XENVER_
        // subcommand fills (xen/version.h pairs them), so the hypercall writes within it.
        unsafe {
            let xch = self.xch;
            for (cmd, buf) in [
                (sys::XENVER_extraversion, extra.as_mut_ptr().cast()),
                (sys::XENVER_capabilities, caps.as_mut_ptr().cast()),
                (sys::XENVER_changeset, changeset.as_mut_ptr().cast()),
                (sys::XENVER_commandline, commandline.as_mut_ptr().cast()),
                (sys::XENVER_compile_info, (&raw mut cc).cast()),
                (sys::XENVER_platform_parameters, (&raw mut platform).cast()),
            ] {
                check("xc_version", sys::xc_version(xch, cmd as i32, buf))?;
            }
        }
        Ok(XenVersion {
            major: (version >> 16) as u32,
            minor: (version & 0xffff) as u32,
            extra: c_text(&extra),
            capabilities: c_text(&caps),
            pagesize,
            virt_start: platform.virt_start,
            changeset: c_text(&changeset),
            commandline: c_text(&commandline),
            compiler: c_text(&cc.compiler),
            compile_by: c_text(&cc.compile_by),
            compile_domain: c_text(&cc.compile_domain),
            compile_date: c_text(&cc.compile_date),
        })
    }

    /// Wraps `xc_sched_id`: the `XEN_SCHEDULER_*` id of the default scheduler.
    pub fn sched_id(&self) -> Result<Scheduler, XcError> {
        let mut id = 0i32;
        // SAFETY: id is a live, writable local.
        check("xc_sched_id", unsafe {
            sys::xc_sched_id(self.xch, &mut id)
        })?;
        Ok(Scheduler::from_raw(id as u32))
    }

    /// How many CPUs belong to no cpupool (`xc_cpupool_freeinfo`).
    pub fn free_cpus(&self) -> Result<u32, XcError> {
        // SAFETY: xch is live.
        let size = unsafe { sys::xc_get_cpumap_size(self.xch) };
        if size < 0 {
            return Err(last_error("xc_get_cpumap_size"));
        }
        // SAFETY: xch is live; the result is a map of `size` bytes from malloc, or NULL.
        let map = unsafe { sys::xc_cpupool_freeinfo(self.xch) };
        if map.is_null() {
            return Err(last_error("xc_cpupool_freeinfo"));
        }
        // SAFETY: map is non-NULL and points to `size` initialised bytes libxenctrl allocated.
        let free = unsafe { std::slice::from_raw_parts(map, size as usize) }
            .iter()
            .map(|b| b.count_ones())
            .sum();
        // SAFETY: map came from malloc inside libxenctrl and is freed exactly once, here.
        unsafe { sys::free(map.cast()) };
        Ok(free)
    }

    /// The libxenguest PV build (`xc_dom_allocate` … `xc_dom_gnttab_init`, `xc_dom_release`),
    /// in libxl's order. The domain must exist, be paused, and have its vcpus and memory limit
    /// set. Returns the frames of the xenstore and console rings. `done` is told the name of
    /// each libxenguest step as it finishes (for step timings).
    pub fn build_pv(
        &self,
        domid: DomId,
        image: &PvImage<'_>,
        done: &dyn Fn(&str),
    ) -> Result<PvBuilt, XcError> {
        let invalid = |call| XcError {
            call,
            source: io::Error::new(io::ErrorKind::InvalidInput, "string contains a NUL byte"),
        };
        let cmdline = CString::new(image.cmdline).map_err(|_| invalid("xc_dom_allocate"))?;
        let features = image
            .features
            .map(CString::new)
            .transpose()
            .map_err(|_| invalid("xc_dom_allocate"))?;
        let kernel = path_cstring(image.kernel).ok_or_else(|| invalid("xc_dom_kernel_file"))?;
        let ramdisk = image
            .ramdisk
            .map(|p| path_cstring(p).ok_or_else(|| invalid("xc_dom_module_file")))
            .transpose()?;

        inject("xc_dom_allocate")?;
        // SAFETY: xch is live; the strings outlive the call (libxenguest copies them).
        let dom = unsafe {
            sys::xc_dom_allocate(
                self.xch,
                cmdline.as_ptr(),
                features.as_ref().map_or(ptr::null(), |f| f.as_ptr()),
            )
        };
        if dom.is_null() {
            return Err(last_error("xc_dom_allocate"));
        }
        let guard = DomImage(dom);
        // SAFETY: dom is the non-NULL image just allocated and owned by `guard`; the fields
        // written are plain integers libxl sets the same way before xc_dom_boot_xen_init.
        unsafe {
            (*dom).container_type = sys::xc_dom_image_XC_DOM_PV_CONTAINER;
            (*dom).flags = 0;
            (*dom).console_evtchn = image.console_evtchn;
            (*dom).console_domid = image.console_domid;
            (*dom).xenstore_evtchn = image.store_evtchn;
            (*dom).xenstore_domid = image.store_domid;
            (*dom).claim_enabled = 0;
            (*dom).max_vcpus = image.max_vcpus;
        }
        // SAFETY (each step below): dom is the live image owned by `guard`, xch is live, and
        // the C strings outlive the calls; the steps run in the order libxenguest requires.
        inject("xc_dom_kernel_file")?;
        check("xc_dom_kernel_file", unsafe {
            sys::xc_dom_kernel_file(dom, kernel.as_ptr())
        })?;
        done("xc_dom_kernel_file");
        if let Some(rd) = &ramdisk {
            inject("xc_dom_module_file")?;
            // SAFETY: as above; a NULL module command line is allowed.
            let rc = unsafe { sys::xc_dom_module_file(dom, rd.as_ptr(), ptr::null()) };
            check("xc_dom_module_file", rc)?;
            done("xc_dom_module_file");
        }
        inject("xc_dom_boot_xen_init")?;
        // SAFETY: as above.
        let rc = unsafe { sys::xc_dom_boot_xen_init(dom, self.xch, domid) };
        check("xc_dom_boot_xen_init", rc)?;
        done("xc_dom_boot_xen_init");
        inject("xc_dom_parse_image")?;
        // SAFETY: as above.
        check("xc_dom_parse_image", unsafe {
            sys::xc_dom_parse_image(dom)
        })?;
        done("xc_dom_parse_image");
        inject("xc_dom_mem_init")?;
        // SAFETY: as above.
        check("xc_dom_mem_init", unsafe {
            sys::xc_dom_mem_init(dom, image.mem_mib)
        })?;
        done("xc_dom_mem_init");
        inject("xc_dom_boot_mem_init")?;
        // SAFETY: as above.
        check("xc_dom_boot_mem_init", unsafe {
            sys::xc_dom_boot_mem_init(dom)
        })?;
        done("xc_dom_boot_mem_init");
        inject("xc_dom_build_image")?;
        // SAFETY: as above.
        check("xc_dom_build_image", unsafe {
            sys::xc_dom_build_image(dom)
        })?;
        done("xc_dom_build_image");
        inject("xc_dom_boot_image")?;
        // SAFETY: as above.
        check("xc_dom_boot_image", unsafe { sys::xc_dom_boot_image(dom) })?;
        done("xc_dom_boot_image");
        inject("xc_dom_gnttab_init")?;
        // SAFETY: as above.
        check("xc_dom_gnttab_init", unsafe {
            sys::xc_dom_gnttab_init(dom)
        })?;
        done("xc_dom_gnttab_init");
        // SAFETY: boot_mem_init succeeded, so the p2m covers the image's pages.
        let built = unsafe {
            PvBuilt {
                store_mfn: sys::xc_dom_p2m(dom, (*dom).xenstore_pfn),
                console_mfn: sys::xc_dom_p2m(dom, (*dom).console_pfn),
            }
        };
        drop(guard);
        done("xc_dom_release");
        Ok(built)
    }

    /// Wraps `xc_domain_save`: writes domain `domid`'s migration stream (libxenguest's v2
    /// format, not checkpointed; `live`: memory is sent while the guest runs, which needs
    /// log-dirty tracking) to `fd`. libxenguest calls `suspend` once, when it
    /// is ready for the guest to stop; it returns whether the domain is now suspended
    /// (shut down with `SHUTDOWN_suspend`). The domain is left suspended either way.
    pub fn domain_save(
        &self,
        domid: DomId,
        fd: std::os::fd::BorrowedFd<'_>,
        live: bool,
        suspend: &mut dyn FnMut() -> bool,
    ) -> Result<(), XcError> {
        use std::os::fd::AsRawFd;
        inject("xc_domain_save")?;
        /// libxenguest's `suspend` callback: `data` is the `&mut dyn FnMut` passed below.
        extern "C" fn trampoline(data: *mut std::os::raw::c_void) -> std::os::raw::c_int {
            // SAFETY: data is the address of `suspend` (a `&mut dyn FnMut() -> bool`) that
            // domain_save keeps alive and unaliased for the whole xc_domain_save call.
            let suspend = unsafe { &mut *data.cast::<&mut dyn FnMut() -> bool>() };
            i32::from(suspend())
        }
        let mut suspend = suspend;
        let mut callbacks = sys::save_callbacks {
            suspend: Some(trampoline),
            data: (&mut suspend as *mut &mut dyn FnMut() -> bool).cast(),
            ..Default::default()
        };
        // SAFETY: callbacks and the closure it points to outlive the call; fd is open for
        // writing; recv_fd is unused for a plain stream.
        let rc = unsafe {
            sys::xc_domain_save(
                self.xch,
                fd.as_raw_fd(),
                domid,
                if live { sys::XCFLAGS_LIVE } else { 0 },
                &mut callbacks,
                sys::xc_stream_type_t_XC_STREAM_PLAIN,
                -1,
            )
        };
        check("xc_domain_save", rc)
    }

    /// Wraps `xc_domain_restore`: reads a migration stream from `fd` into the new, paused
    /// domain `domid`, whose xenstore and console event channels are `store_port` (to
    /// `store_domid`) and `console_port` (to `console_domid`). Returns the frames of the
    /// xenstore and console rings, as [`Self::build_pv`] does for a new guest.
    pub fn domain_restore(
        &self,
        domid: DomId,
        fd: std::os::fd::BorrowedFd<'_>,
        ports: RestorePorts,
    ) -> Result<PvBuilt, XcError> {
        use std::os::fd::AsRawFd;
        inject("xc_domain_restore")?;
        let (mut store_mfn, mut console_mfn): (std::os::raw::c_ulong, std::os::raw::c_ulong) =
            (0, 0);
        // (c_ulong is u64 on x86_64, the only target.)
        let mut callbacks = sys::restore_callbacks::default();
        // SAFETY: the out-pointers and callbacks are live locals for the call; fd is open
        // for reading; send_back_fd is unused for a plain stream.
        let rc = unsafe {
            sys::xc_domain_restore(
                self.xch,
                fd.as_raw_fd(),
                domid,
                ports.store_port,
                &mut store_mfn,
                ports.store_domid,
                ports.console_port,
                &mut console_mfn,
                ports.console_domid,
                sys::xc_stream_type_t_XC_STREAM_PLAIN,
                &mut callbacks,
                -1,
            )
        };
        check("xc_domain_restore", rc)?;
        Ok(PvBuilt {
            store_mfn,
            console_mfn,
        })
    }

    /// Wraps `xc_domain_resume` in its cooperative (`fast`) form: a suspended PV guest
    /// carries on where it stopped, its suspend call returning "cancelled", so it keeps its
    /// rings and devices (what `xm save -c` and a failed save need).
    pub fn domain_resume(&self, domid: DomId) -> Result<(), XcError> {
        inject("xc_domain_resume")?;
        // SAFETY: self.xch is a live handle; the arguments are plain integers.
        let rc = unsafe { sys::xc_domain_resume(self.xch, domid, 1) };
        check("xc_domain_resume", rc)
    }
}

/// The event channels a restored domain's rings use (see [`Xc::domain_restore`]).
#[derive(Debug, Clone, Copy)]
pub struct RestorePorts {
    pub store_port: u32,
    pub store_domid: DomId,
    pub console_port: u32,
    pub console_domid: DomId,
}

impl Drop for Xc {
    fn drop(&mut self) {
        // SAFETY: xch came from xc_interface_open and is closed exactly once, here; then
        // its logger, which nothing uses any more, is destroyed once (NULL is allowed).
        unsafe {
            sys::xc_interface_close(self.xch);
            sys::xtl_logger_destroy(self.logger.cast());
        }
    }
}

/// Owns an `xc_dom_image`; releases it on every exit path of the builder.
struct DomImage(*mut sys::xc_dom_image);

impl Drop for DomImage {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xc_dom_allocate and is released exactly once, here.
        unsafe { sys::xc_dom_release(self.0) }
    }
}

/// The text of a NUL-terminated C character array (lossy UTF-8; all of it if no NUL).
fn c_text(buf: &[std::os::raw::c_char]) -> String {
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn path_cstring(p: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).ok()
}
