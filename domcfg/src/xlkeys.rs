//! xl's config keys and what xm-rs does with each. Admins bring configs written for `xl`; xm
//! 4.1 ignored every variable it did not know, so `cap = 50` built an uncapped domain without a
//! word. Here every top-level key of xl.cfg(5) in Xen 4.17 and 4.20 (`data/xl-cfg-keys.tsv`,
//! with the few more that xl's parser reads) has one [`XlKey`]: applied, without effect on the
//! guests xm-rs builds (as in xl), warned about by name, or refused.
//!
//! The keys that are also xm's own variables keep xm's meaning: the control layer warns about
//! or refuses those it cannot apply (`tsc_mode`, `vfb`, ...), and a host test holds each one to
//! the disposition given here. The xl-only keys are checked by [`check`] while a config is
//! built.

use crate::value::Value;

/// What xm-rs does when a config sets a key of xl's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XlKey {
    /// Read and applied: one of xm's own variables, or xl's name for something xm-rs does.
    Applied,
    /// Without effect on a PV guest, in xl as here (an HVM, ARM or device-model key): the
    /// text says for which guests it is.
    Inert(&'static str),
    /// Read but not applied: a warning names it (the domain works without it).
    Warned(&'static str),
    /// Refused with an error naming it: ignoring it would change what the guest gets.
    Refused(&'static str),
}

const HVM: &str = "HVM guests";
const DM: &str = "guests with a device model (QEMU), which xm-rs does not start yet";
const ARM: &str = "ARM guests";
const SHIM: &str = "guests run in a PVH shim (pvshim), which is refused";
const DEVICE: &str = "xm-rs does not attach this kind of device yet";

/// The disposition of xl key `key`; `None` for a name that is not one of xl's keys.
pub fn disposition(key: &str) -> Option<XlKey> {
    use XlKey::*;
    Some(match key {
        // xm's own variables that xm-rs applies.
        "bootloader" | "builder" | "cpu_weight" | "cpus" | "disk" | "extra" | "kernel"
        | "maxmem" | "memory" | "name" | "on_crash" | "on_poweroff" | "on_reboot" | "pci"
        | "ramdisk" | "root" | "uuid" | "vcpus" | "vif" => Applied,
        // xl's names for what xm-rs does.
        "bootloader_args" | "cap" | "cmdline" | "maxvcpus" | "type" => Applied,

        // xm's own variables that xm-rs takes but does not apply (the control layer warns).
        "cpuid" => Warned("the domain sees Xen's default CPUID policy"),
        "tsc_mode" => Warned("the domain gets Xen's default TSC mode"),
        "nomigrate" => Warned("xm save and xm migrate still work on this domain"),
        "localtime" | "rtc_timeoffset" => Warned("the domain's wallclock is UTC"),
        // xm's own variables that the control layer refuses.
        "ioports" | "vtpm" | "vfb" | "vif2" => Refused(DEVICE),
        "pool" => Refused("xm-rs starts domains in Pool-0 only"),
        // xm's own HVM variables: a PV guest has no use for them, in xm 4.1 and in xl.
        "acpi" | "apic" | "boot" | "device_model" | "display" | "gfx_passthru" | "hap" | "hpet"
        | "keymap" | "nographic" | "oos" | "opengl" | "pae" | "pci_msitranslate"
        | "pci_power_mgmt" | "sdl" | "serial" | "shadow_memory" | "soundhw" | "stdvga"
        | "timer_mode" | "usb" | "usbdevice" | "videoram" | "viridian" | "vnc" | "vncdisplay"
        | "vnclisten" | "vncpasswd" | "vncunused" | "vncviewer" | "vpt_align" | "xauthority"
        | "xen_platform_pci" => Inert(HVM),

        // xl-only keys that the domain works without.
        "bootloader_restrict" | "bootloader_user" => {
            Warned("the bootloader runs as root, as xm's always did")
        }
        "cpus_soft" => Warned("no soft affinity is set; pin with cpus = '...'"),
        "e820_host" => Warned(
            "the guest gets a memory map shaped like the host's exactly when it has pci \
             devices, as xl's default",
        ),
        "extratime" | "latency" | "period" | "slice" => {
            Warned("the credit and credit2 schedulers have no such parameter")
        }
        "max_event_channels" | "max_grant_frames" | "max_grant_version" | "max_maptrack_frames" => {
            Warned("the domain gets Xen's default")
        }
        "msr_relaxed" | "vpmu" | "vmtrace_buf_kb" => Warned("the domain gets Xen's default"),
        "on_soft_reset" => Warned("a soft reset is treated as a reboot request"),
        "on_watchdog" => Warned("a watchdog firing is handled as on_reboot says"),
        "passthrough" => {
            Warned("the IOMMU is set up for the domain exactly when it has pci devices")
        }
        "pci_seize" => {
            Warned("functions must be assignable already (xm pci-list-assignable-devices)")
        }
        "xend_suspend_evtchn_compat" => Warned("no xend-compatible suspend event channel is made"),

        // xl-only keys whose absence would change what the guest gets.
        "channel" | "p9" | "pvcalls" | "usbctrl" | "usbdev" | "vdispl" | "virtio" | "vkb"
        | "vsnd" => Refused(DEVICE),
        "iomem" | "irqs" => Refused("xm-rs does not give domains I/O memory or IRQs"),
        "vnuma" => Refused("xm-rs does not give domains a virtual NUMA topology"),
        "driver_domain" => Refused("xm-rs does not make driver domains"),
        "seclabel" | "init_seclabel" => Refused("xm-rs does not set XSM security labels"),
        "pci_permissive" => Refused("set permissive=1 on each pci entry instead"),
        "pvshim" => Refused("xm-rs runs PV guests without a PVH shim"),
        "firmware" => Refused(
            "for PV GRUB, set kernel = the grub-xen image (/usr/lib/grub-xen/grub-x86_64-xen.bin)",
        ),

        // xl-only keys for other guest types.
        "acpi_firmware"
        | "acpi_laptop_slate"
        | "acpi_s3"
        | "acpi_s4"
        | "altp2m"
        | "altp2mhvm"
        | "bios"
        | "bios_path_override"
        | "firmware_override"
        | "hdtype"
        | "hvm_pirq"
        | "mca_caps"
        | "mmio_hole"
        | "ms_vm_genid"
        | "nestedhvm"
        | "nx"
        | "rdm"
        | "rdm_mem_boundary"
        | "smbios"
        | "smbios_firmware"
        | "spice"
        | "spice_clipboard_sharing"
        | "spice_image_compression"
        | "spice_streaming_video"
        | "spiceagent_mouse"
        | "spicedisable_ticketing"
        | "spicehost"
        | "spicepasswd"
        | "spiceport"
        | "spicetls_port"
        | "spiceusbredirection"
        | "spicevdagent"
        | "usbversion"
        | "vendor_device"
        | "vga"
        | "vkb_device" => Inert(HVM),
        "device_model_args"
        | "device_model_args_hvm"
        | "device_model_args_pv"
        | "device_model_override"
        | "device_model_stubdomain_override"
        | "device_model_stubdomain_seclabel"
        | "device_model_user"
        | "device_model_version"
        | "dm_restrict"
        | "stubdomain_cmdline"
        | "stubdomain_kernel"
        | "stubdomain_memory"
        | "stubdomain_ramdisk" => Inert(DM),
        "device_tree" | "dtdev" | "gic_version" | "llc_colors" | "nr_spis" | "sve" | "tee"
        | "vuart" => Inert(ARM),
        "pvshim_cmdline" | "pvshim_extra" | "pvshim_path" => Inert(SHIM),
        _ => return None,
    })
}

/// A finding of [`check`] about one xl-only key a config set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: String,
    /// The value as the config wrote it (Python's repr).
    pub shown: String,
    pub kind: XlKey,
}

impl Finding {
    /// The warning's or the error's text (without `Warning: `/the location).
    pub fn message(&self) -> String {
        match self.kind {
            XlKey::Warned(why) => format!(
                "{} = {} is not applied by xm-rs: {why}",
                self.key, self.shown
            ),
            XlKey::Refused(why) => format!(
                "{} = {} is not supported by xm-rs: {why}",
                self.key, self.shown
            ),
            XlKey::Applied | XlKey::Inert(_) => String::new(),
        }
    }
}

/// xm's own variables that xm-rs reads for HVM guests only, but that xend and libxl apply to
/// PV guests too (the domain's wallclock offset): checked here, when set to anything but 0.
const XM_UNREAD_FOR_PV: [&str; 2] = ["localtime", "rtc_timeoffset"];

/// The xl-only keys (not xm's own variables) among `set` that are warned about or refused, in
/// the order given. xm's own variables are left to the code that reads them, but for
/// [`XM_UNREAD_FOR_PV`].
pub fn check<'a>(set: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Vec<Finding> {
    set.into_iter()
        .filter(|(key, value)| match crate::options::lookup(key) {
            None => true,
            Some(_) => XM_UNREAD_FOR_PV.contains(key) && value.truthy(),
        })
        .filter_map(|(key, value)| match disposition(key)? {
            kind @ (XlKey::Warned(_) | XlKey::Refused(_)) => Some(Finding {
                key: key.to_string(),
                shown: crate::sxp::py_repr_of(value),
                kind,
            }),
            XlKey::Applied | XlKey::Inert(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list of xl.cfg's keys, as shipped.
    const KEYS_TSV: &str = include_str!("../data/xl-cfg-keys.tsv");

    #[test]
    fn every_key_of_xl_cfg_has_a_disposition() {
        let mut n = 0;
        for line in KEYS_TSV.lines() {
            let key = line.split('\t').next().unwrap();
            assert!(
                disposition(key).is_some(),
                "xl key {key} has no disposition"
            );
            n += 1;
        }
        assert!(n > 150, "{n} keys");
        assert_eq!(disposition("frobnicate"), None);
    }

    #[test]
    fn only_xl_only_keys_are_checked_here() {
        let v = Value::Int(50);
        // tsc_mode is xm's own (the control layer warns); cap is applied; vnuma is refused.
        let found = check([("tsc_mode", &v), ("cap", &v), ("max_grant_frames", &v)]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message(),
            "max_grant_frames = 50 is not applied by xm-rs: the domain gets Xen's default"
        );
    }
}
