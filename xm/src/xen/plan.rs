//! From a config to a build plan: what [`super::create::create`] needs, checked for what the
//! control layer can do today (PV guests with a kernel; devices come with their own issue).

use std::path::PathBuf;

use domcfg::DomainConfig;
use domcfg::config::{CpuSpec, MAX_VCPUS};

use domcfg::device::{DiskSpec, VifSpec};

use super::bootloader::{self, Bootloader};
use super::device::{self, Device, SCRIPT_DIR, VifPlan};
use super::domain_plan::DomainPlan;
use super::error::ControlError;
use super::pci::PciFunction;
use super::random::random_bytes;
use super::sched;
use super::vcpu;

impl DomainPlan {
    /// The plan for `c`, or a clear error for what cannot be built yet. Errors about one
    /// setting are [`ControlError::Setting`], so the caller can point at its line.
    pub fn from_config(c: &DomainConfig) -> Result<DomainPlan, ControlError> {
        let unsupported = |name: &'static str, what: &str| Err(setting(name, None, what));
        if c.image.builder != "linux" {
            return unsupported(
                "builder",
                &format!(
                    "builder '{}' is not supported: xm-rs builds PV (linux) domains",
                    c.image.builder
                ),
            );
        }
        let kernel = c.image.kernel.clone().filter(|k| !k.is_empty());
        let ramdisk = c.image.ramdisk.clone().filter(|r| !r.is_empty());
        // A kernel given on the command line wins over the config's bootloader (the seed's
        // install from an installer kernel); otherwise the bootloader picks from the guest's
        // disk, and a config kernel/ramdisk name files there.
        let loader = c
            .bootloader
            .as_deref()
            .filter(|b| !b.is_empty() && !c.image.kernel_from_command_line);
        if loader.is_none() && kernel.is_none() {
            return Err(ControlError::Unsupported(
                "no kernel: set kernel= in the config or on the command line".into(),
            ));
        }
        let d = &c.devices;
        let devices = [
            ("vfb", d.vfbs.len()),
            ("vif2", d.vif2s.len()),
            ("vusb", d.vusbs.len()),
            ("ioports", d.ioports.len()),
            ("irq", d.irqs.len()),
            ("vtpm", usize::from(d.vtpm.is_some())),
        ];
        if let Some((kind, _)) = devices.iter().find(|(_, n)| *n > 0) {
            return unsupported(
                kind,
                &format!(
                    "{kind} devices are not supported yet by xm-rs create (remove `{kind} = [...]` \
                     or use `xm create -n` to check the config)"
                ),
            );
        }
        if let Some(pool) = c.pool.as_deref().filter(|p| *p != "Pool-0") {
            return unsupported(
                "pool",
                &format!(
                    "pool = '{pool}': xm-rs starts domains in Pool-0 only (remove `pool` or \
                     move the domain afterwards with `xl cpupool-migrate`)"
                ),
            );
        }
        let mut devices = Vec::new();
        for disk in &d.disks {
            devices.push(vbd(disk).map_err(|e| match e {
                ControlError::Unsupported(m) => setting("disk", Some(&disk.uname), &m),
                e => e,
            })?);
        }
        let bootloader = match loader {
            None => None,
            Some(program) => {
                // As libxl: the first disk is the one the bootloader reads.
                let Some(disk) = devices.iter().find_map(Device::params) else {
                    return unsupported(
                        "bootloader",
                        &format!(
                            "bootloader {program} needs a disk to boot from: the config has none"
                        ),
                    );
                };
                Some(Bootloader {
                    program: PathBuf::from(program),
                    args: bootloader::split_args(c.bootloader_args.as_deref().unwrap_or(""))
                        .map_err(|e| {
                            setting("bootloader_args", None, &format!("bootloader_args: {e}"))
                        })?,
                    disk: disk.to_string(),
                    kernel: kernel.clone(),
                    ramdisk: ramdisk.clone(),
                })
            }
        };
        for (i, vif) in d.vifs.iter().enumerate() {
            let plan = vif_plan(vif).map_err(|e| match e {
                ControlError::Unsupported(m) => {
                    let needle = vif.backend().map(|b| format!("backend={b}"));
                    setting("vif", needle.as_deref(), &m)
                }
                e => e,
            })?;
            devices.push(Device::vif(i as u32, &plan));
        }
        let vcpus = in_range(c.vcpus, 1, MAX_VCPUS, "vcpus")?;
        let max_vcpus = match c.maxvcpus {
            Some(m) if m > 0 => in_range::<i64>(m, 1, MAX_VCPUS, "maxvcpus")?.max(vcpus),
            _ => vcpus,
        };
        let memory_mib = positive(c.memory, "memory")?;
        let maxmem_mib = c.maxmem.map_or(Ok(memory_mib), |m| positive(m, "maxmem"))?;
        if maxmem_mib < memory_mib {
            // xend: "memory_dynamic_max must be less than or equal to memory_static_max".
            return unsupported(
                "maxmem",
                &format!(
                    "maxmem = {maxmem_mib} is below memory = {memory_mib}: maxmem must be at least memory"
                ),
            );
        }
        let cpus = match &c.cpus {
            None => None,
            Some(spec) if spec.is_unpinned() => None,
            Some(CpuSpec::All(mask)) => Some(parse_cpu_mask(mask)?),
            Some(CpuSpec::PerVcpu(_)) => {
                return unsupported("cpus", "per-vcpu cpus lists are not supported yet");
            }
        };
        let (lo, hi) = sched::WEIGHT_RANGE.into_inner();
        let weight = c
            .cpu_weight
            .map(|w| in_range(w, lo as i64, hi as i64, "cpu_weight"))
            .transpose()?;
        let cap_max = sched::max_cap(max_vcpus as u32) as i64;
        let cap = c
            .cpu_cap
            .map(|v| in_range(v, 0, cap_max, "cpu_cap"))
            .transpose()?;
        let action = |a: Option<domcfg::config::Action>, default: &str| {
            a.map_or_else(|| default.to_string(), |a| a.as_str().to_string())
        };
        Ok(DomainPlan {
            name: c.name.clone(),
            uuid: c.uuid.as_deref().map(parse_uuid).transpose()?,
            memory_mib: memory_mib as u64,
            maxmem_mib: maxmem_mib as u64,
            vcpus: vcpus as u32,
            max_vcpus: max_vcpus as u32,
            kernel: match &bootloader {
                Some(_) => None,
                None => kernel.map(PathBuf::from),
            },
            ramdisk: match &bootloader {
                Some(_) => None,
                None => ramdisk.map(PathBuf::from),
            },
            bootloader,
            pci: d.pci.iter().map(PciFunction::from_spec).collect(),
            cmdline: kernel_cmdline(&c.image.root, &c.image.ip, &c.image.args),
            cpus,
            cpu_weight: weight,
            cpu_cap: cap,
            on_poweroff: action(c.on_poweroff, "destroy"),
            on_reboot: action(c.on_reboot, "restart"),
            on_crash: action(c.on_crash, "restart"),
            devices,
        })
    }
}

/// Settings of `c` that xm 4.1 acted on and xm-rs takes but does not apply, each set to
/// something other than its default: one warning each, so no one believes they took effect.
pub fn unapplied_settings(c: &DomainConfig) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(cpu) = c.cpu {
        out.push(format!(
            "cpu = {cpu} is not applied: pin vcpus with cpus = '...' (or xm vcpu-pin)"
        ));
    }
    if c.image.tsc_mode != 0 {
        out.push(format!(
            "tsc_mode = {} is not applied: the domain gets Xen's default TSC mode",
            c.image.tsc_mode
        ));
    }
    if c.image.nomigrate != 0 {
        out.push(format!(
            "nomigrate = {} is not applied: xm save and xm migrate still work on this domain",
            c.image.nomigrate
        ));
    }
    for (name, v) in [("cpuid", &c.cpuid), ("cpuid_check", &c.cpuid_check)] {
        // xm's own test of them: `if vals.cpuid:`.
        if v.truthy() {
            out.push(format!(
                "{name} is not applied: the domain sees Xen's default CPUID policy"
            ));
        }
    }
    if let Some(bits) = c.machine_address_size {
        out.push(format!(
            "machine_address_size = {bits} is not applied: the domain may get memory at any \
             machine address"
        ));
    }
    if let Some(v) = c.suppress_spurious_page_faults.filter(|v| *v != 0) {
        out.push(format!(
            "suppress_spurious_page_faults = {v} is not applied"
        ));
    }
    out
}

/// A disk dom0 can back with the block script: `phy:` devices and raw images (`file:`,
/// `tap:aio:`, xl's raw targets), which get a loop device as with libxl's `phy` backend.
pub fn vbd(disk: &DiskSpec) -> Result<Device, ControlError> {
    let spec = || format!("{},{},{}", disk.uname, disk.vdev, disk.mode.as_str());
    let unsupported = |why: &str| {
        Err(ControlError::Unsupported(format!(
            "disk '{}': {why}",
            spec()
        )))
    };
    if disk.backend.as_deref().is_some_and(|b| b != "0") {
        return unsupported("only Domain-0 can be the backend");
    }
    let raw = match disk.backend_type() {
        Some("phy") | Some("file") => true,
        Some("tap") | Some("tap2") => disk.tap_driver() == Some("aio"),
        _ => false,
    };
    let Some(params) = disk.params().filter(|p| raw && !p.is_empty()) else {
        return unsupported("only phy:, file: and tap:aio: (raw) disks are supported yet");
    };
    let Some(devid) = disk.device_number() else {
        return unsupported("unknown virtual device name");
    };
    Ok(Device::vbd(
        devid,
        disk.vdev_name(),
        &params,
        disk.mode.as_str(),
        disk.is_cdrom(),
    ))
}

/// A vif with xend's defaults: bridge `xenbr0`, `vif-bridge`, a random Xen MAC. Served by
/// dom0 only: another backend domain is refused (no driver domains yet).
pub fn vif_plan(vif: &VifSpec) -> Result<VifPlan, ControlError> {
    if let Some(b) = vif.backend().filter(|b| *b != "0") {
        return Err(ControlError::Unsupported(format!(
            "vif with backend={b}: only Domain-0 can be the backend"
        )));
    }
    let script = vif.script().unwrap_or("vif-bridge");
    Ok(VifPlan {
        mac: vif
            .mac()
            .map_or_else(|| device::random_mac(random_bytes()), str::to_string),
        bridge: vif.bridge().unwrap_or("xenbr0").to_string(),
        script: if script.starts_with('/') {
            script.to_string()
        } else {
            format!("{SCRIPT_DIR}/{script}")
        },
        ip: vif.ip().map(str::to_string),
        rate: vif.rate().map(|r| r.backend_value()),
        vifname: vif.vifname().map(str::to_string),
    })
}

/// An error about the config's setting `name` (see [`ControlError::Setting`]).
fn setting(name: &'static str, needle: Option<&str>, message: &str) -> ControlError {
    ControlError::Setting {
        name,
        needle: needle.map(str::to_string),
        message: message.to_string(),
    }
}

fn positive(v: i64, name: &'static str) -> Result<i64, ControlError> {
    in_range::<i64>(v, 1, i64::from(u32::MAX), name)
}

/// `v`, the value of the config's `name`, if it is within `lo..=hi`.
fn in_range<T: TryFrom<i64>>(
    v: i64,
    lo: i64,
    hi: i64,
    name: &'static str,
) -> Result<T, ControlError> {
    // cpu_cap's unit is not obvious from its name.
    let what = match name {
        "cpu_cap" => "cpu_cap (percent of one cpu, 100 per vcpu)",
        _ => name,
    };
    if v < lo || v > hi {
        return Err(setting(
            name,
            None,
            &format!("{what} = {v}: must be {lo}..{hi}"),
        ));
    }
    T::try_from(v).map_err(|_| setting(name, None, &format!("{what} = {v}: out of range")))
}

/// The guest command line as xend built it: `root=` and `ip=` in front of `extra` unless
/// `extra` already has them.
pub fn kernel_cmdline(root: &str, ip: &str, args: &str) -> String {
    let mut cmdline = args.to_string();
    if !ip.is_empty() && !cmdline.split_whitespace().any(|w| w.starts_with("ip=")) {
        cmdline = format!("ip={ip} {cmdline}");
    }
    if !root.is_empty() && !cmdline.contains("root=") {
        cmdline = format!("root={root} {cmdline}");
    }
    cmdline.trim().to_string()
}

/// A config's `cpus` (xm's cpu list, see [`vcpu::cpu_list`]).
pub fn parse_cpu_mask(mask: &str) -> Result<Vec<u32>, ControlError> {
    vcpu::cpu_list(mask, None).map_err(|why| {
        setting(
            "cpus",
            None,
            &format!("cpus = '{mask}': not a cpu list like '0-3,^1' ({why})"),
        )
    })
}

/// A UUID in its canonical text form (dashes optional) as 16 bytes.
pub fn parse_uuid(text: &str) -> Result<[u8; 16], ControlError> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let bad = || setting("uuid", None, &format!("uuid = '{text}': not a UUID"));
    if hex.len() != 32 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_puts_root_and_ip_in_front_like_xend() {
        assert_eq!(
            kernel_cmdline("/dev/xvda1 ro", "", "console=hvc0"),
            "root=/dev/xvda1 ro console=hvc0"
        );
        assert_eq!(
            kernel_cmdline("/dev/xvda1", "10.0.0.2", "x"),
            "root=/dev/xvda1 ip=10.0.0.2 x"
        );
        assert_eq!(kernel_cmdline("/dev/a", "", "root=/dev/b"), "root=/dev/b");
        assert_eq!(kernel_cmdline("", "", ""), "");
    }

    #[test]
    fn cpu_masks_take_ranges_and_exclusions() {
        assert_eq!(parse_cpu_mask("0-3,^1").unwrap(), [0, 2, 3]);
        assert_eq!(parse_cpu_mask("5, 2").unwrap(), [2, 5]);
        assert!(parse_cpu_mask("x").is_err());
        assert!(parse_cpu_mask("3-1").is_err());
        assert!(parse_cpu_mask("0-999999").is_err());
    }

    #[test]
    fn uuids_parse_with_or_without_dashes() {
        let u = parse_uuid("d9a1b362-c834-67ab-4e9d-d4b706699297").unwrap();
        assert_eq!(u[0], 0xd9);
        assert_eq!(u[15], 0x97);
        assert_eq!(parse_uuid("d9a1b362c83467ab4e9dd4b706699297").unwrap(), u);
        assert!(parse_uuid("d9a1").is_err());
        assert!(parse_uuid("zz a1b362-c834-67ab-4e9d-d4b7066992").is_err());
    }
}
