//! `xm info`: the host as xend described it (`XendNode.info()`), in xend's key order and
//! `"%-23s: %s"` layout, which admins' scripts grep.

use super::xc::{PhysInfo, Scheduler, XenVersion};

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
#[derive(Debug, Clone)]
pub struct HostFacts {
    pub uname: Uname,
    pub phys: PhysInfo,
    pub xen: XenVersion,
    pub scheduler: Scheduler,
    pub free_cpus: u32,
}

/// xm's `virt_caps`: `hvm` and `hvm_directio`, space-separated, from what the hypervisor can
/// do (HVM guests; passing devices through to them).
pub fn virt_caps(hvm: bool, directio: bool) -> String {
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
        ("virt_caps", virt_caps(f.phys.hvm, f.phys.directio)),
        ("total_memory", mib(f.phys.total_pages)),
        ("free_memory", mib(f.phys.free_pages)),
        ("free_cpus", f.free_cpus.to_string()),
        ("xen_major", f.xen.major.to_string()),
        ("xen_minor", f.xen.minor.to_string()),
        ("xen_extra", f.xen.extra.clone()),
        ("xen_caps", f.xen.capabilities.clone()),
        ("xen_scheduler", f.scheduler.name().to_string()),
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
                hvm: true,
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
            scheduler: Scheduler::Credit,
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
        assert_eq!(virt_caps(false, false), "");
        assert_eq!(virt_caps(false, true), "", "directio without hvm");
        assert_eq!(virt_caps(true, false), "hvm");
        assert_eq!(virt_caps(true, true), "hvm hvm_directio");
    }
}
