//! `xm info`: the host as xend described it (`XendNode.info()`), in xend's key order and
//! `"%-23s: %s"` layout, which admins' scripts grep.

use xenctrl_sys as sys;

use super::xc::{PhysInfo, XenVersion};

/// The host's `uname` fields (`system host release version machine`).
#[derive(Debug, Clone, Default)]
pub struct Uname {
    pub system: String,
    pub host: String,
    pub release: String,
    pub version: String,
    pub machine: String,
}

/// Everything `xm info` reports, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    pub uname: Uname,
    pub phys: PhysInfo,
    pub xen: XenVersion,
    pub sched_id: u32,
    pub free_cpus: u32,
}

/// The scheduler's name for an `XEN_SCHEDULER_*` id. xm 4.1 knew sedf, credit and credit2;
/// the schedulers added since are named as `xl info` names them.
pub fn scheduler_name(id: u32) -> &'static str {
    match id {
        // XEN_SCHEDULER_SEDF, since removed from Xen (and from its headers).
        4 => "sedf",
        sys::XEN_SCHEDULER_CREDIT => "credit",
        sys::XEN_SCHEDULER_CREDIT2 => "credit2",
        sys::XEN_SCHEDULER_ARINC653 => "arinc653",
        sys::XEN_SCHEDULER_RTDS => "rtds",
        sys::XEN_SCHEDULER_NULL => "null",
        _ => "unknown",
    }
}

/// xm's `virt_caps`: `hvm` and `hvm_directio`, space-separated, from Xen's
/// `XEN_SYSCTL_PHYSCAP_hvm` and `_directio` bits.
pub fn virt_caps(capabilities: u32) -> String {
    let hvm = capabilities & sys::XEN_SYSCTL_PHYSCAP_hvm != 0;
    let directio = capabilities & sys::XEN_SYSCTL_PHYSCAP_directio != 0;
    let mut caps = Vec::new();
    if hvm {
        caps.push("hvm");
        if directio {
            caps.push("hvm_directio");
        }
    }
    caps.join(" ")
}

/// The `(key, value)` pairs of `xm info`, in xend's order: node, physinfo, xeninfo, xend.
pub fn host_info(f: &HostFacts) -> Vec<(&'static str, String)> {
    let mib = |pages: u64| (pages * 4 / 1024).to_string();
    let hw_caps = f
        .phys
        .hw_cap
        .iter()
        .map(|w| format!("{w:08x}"))
        .collect::<Vec<_>>()
        .join(":");
    vec![
        ("system", f.uname.system.clone()),
        ("host", f.uname.host.clone()),
        ("release", f.uname.release.clone()),
        ("version", f.uname.version.clone()),
        ("machine", f.uname.machine.clone()),
        ("nr_cpus", f.phys.nr_cpus.to_string()),
        ("nr_nodes", f.phys.nr_nodes.to_string()),
        ("cores_per_socket", f.phys.cores_per_socket.to_string()),
        ("threads_per_core", f.phys.threads_per_core.to_string()),
        ("cpu_mhz", (f.phys.cpu_khz / 1000).to_string()),
        ("hw_caps", hw_caps),
        ("virt_caps", virt_caps(f.phys.capabilities)),
        ("total_memory", mib(f.phys.total_pages)),
        ("free_memory", mib(f.phys.free_pages)),
        ("free_cpus", f.free_cpus.to_string()),
        ("xen_major", f.xen.major.to_string()),
        ("xen_minor", f.xen.minor.to_string()),
        ("xen_extra", f.xen.extra.clone()),
        ("xen_caps", f.xen.capabilities.clone()),
        ("xen_scheduler", scheduler_name(f.sched_id).to_string()),
        ("xen_pagesize", f.xen.pagesize.to_string()),
        (
            "platform_params",
            format!("virt_start=0x{:x}", f.xen.virt_start),
        ),
        ("xen_changeset", f.xen.changeset.clone()),
        ("xen_commandline", f.xen.commandline.clone()),
        ("cc_compiler", f.xen.compiler.clone()),
        ("cc_compile_by", f.xen.compile_by.clone()),
        ("cc_compile_domain", f.xen.compile_domain.clone()),
        ("cc_compile_date", f.xen.compile_date.clone()),
        ("xend_config_format", "4".to_string()),
    ]
}

/// xm's layout: `print "%-23s:" % key, value`.
pub fn render(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<23}: {v}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_order_follow_xend() {
        let f = HostFacts {
            uname: Uname {
                system: "Linux".into(),
                host: "ce01".into(),
                release: "6.1.0-26-amd64".into(),
                version: "#1 SMP".into(),
                machine: "x86_64".into(),
            },
            phys: PhysInfo {
                nr_cpus: 2,
                nr_nodes: 1,
                cores_per_socket: 1,
                threads_per_core: 1,
                cpu_khz: 2_394_454,
                capabilities: 0b101,
                hw_cap: [0x178b_fbff, 0x80d8_2203, 0, 0, 0, 0, 0, 0x10],
                total_pages: 262_144 * 5,
                free_pages: 262_144 * 3 + 100,
                gnttab_v2: true,
                shadow: false,
                directio: true,
            },
            xen: XenVersion {
                major: 4,
                minor: 17,
                extra: ".5-pre".into(),
                capabilities: "xen-3.0-x86_64 hvm-3.0-x86_32".into(),
                pagesize: 4096,
                virt_start: 0xffff_8000_0000_0000,
                changeset: String::new(),
                commandline: "dom0_mem=1024M".into(),
                compiler: "gcc (Debian 12.2.0-14) 12.2.0".into(),
                compile_by: "pkg-xen-devel".into(),
                compile_domain: "lists.alioth.debian.org".into(),
                compile_date: "Mon Jan 1 00:00:00 UTC 2024".into(),
            },
            sched_id: 5,
            free_cpus: 0,
        };
        let text = render(&host_info(&f));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 29);
        assert_eq!(lines[0], "system                 : Linux");
        assert_eq!(lines[1], "host                   : ce01");
        assert_eq!(lines[9], "cpu_mhz                : 2394");
        assert_eq!(
            lines[10],
            "hw_caps                : 178bfbff:80d82203:00000000:00000000:00000000:00000000:00000000:00000010"
        );
        assert_eq!(lines[11], "virt_caps              : hvm hvm_directio");
        assert_eq!(lines[12], "total_memory           : 5120");
        assert_eq!(lines[13], "free_memory            : 3072");
        assert_eq!(lines[17], "xen_extra              : .5-pre");
        assert_eq!(lines[19], "xen_scheduler          : credit");
        assert_eq!(
            lines[21],
            "platform_params        : virt_start=0xffff800000000000"
        );
        // An empty value keeps print's separating space, as xm printed it.
        assert_eq!(lines[22], "xen_changeset          : ");
        assert_eq!(lines[28], "xend_config_format     : 4");
    }

    #[test]
    fn virt_caps_use_xm_names_and_need_hvm() {
        assert_eq!(virt_caps(0), "");
        assert_eq!(virt_caps(1 << 1), "", "pv alone is not an xm virt cap");
        assert_eq!(virt_caps(1 << 2), "", "directio without hvm");
        assert_eq!(virt_caps(1), "hvm");
        assert_eq!(virt_caps(0b111), "hvm hvm_directio");
    }

    #[test]
    fn schedulers_by_id() {
        assert_eq!(scheduler_name(5), "credit");
        assert_eq!(scheduler_name(6), "credit2");
        assert_eq!(scheduler_name(8), "rtds");
        assert_eq!(scheduler_name(42), "unknown");
    }
}
