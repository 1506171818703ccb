//! A live domain's record in xend's SXP, `(domain ...)`: what `xm list -l` prints, and what
//! scripts grep for (`(domain`, `(name X)`, `(domid N)`). It joins three sources: the
//! hypervisor's row ([`DomainSummary`]), the plan xm kept for the domain (devices, bootloader,
//! scheduler settings) and the domain's store nodes (actions, start time, rings). A domain xm
//! did not build (dom0, one made by xl) gets what the hypervisor and the store know.

use domcfg::sxp::Sxp;

use super::device::{Device, Kind};
use super::domain::{self, DomainSummary};
use super::domain_plan::{DomainPlan, stored_plan};
use super::host::Host;
use super::pci::PciFunction;
use super::sched;

/// What the store and the scheduler say of a domain, beside its row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreFacts {
    pub on_poweroff: Option<String>,
    pub on_reboot: Option<String>,
    pub on_crash: Option<String>,
    pub start_time: Option<String>,
    pub kernel: Option<String>,
    pub ramdisk: Option<String>,
    pub cmdline: Option<String>,
    pub maxmem_kib: Option<i64>,
    pub store_mfn: Option<i64>,
    pub console_mfn: Option<i64>,
    pub console_port: Option<i64>,
    /// Weight and cap, where the domain's scheduler (credit or credit2) has them.
    pub credit: Option<(u16, u16)>,
}

impl StoreFacts {
    /// Reads them in one pipelined batch.
    pub fn read(host: &Host, r: &DomainSummary) -> StoreFacts {
        let vm = format!("/vm/{}", domain::uuid_string(&r.uuid));
        let dom = format!("/local/domain/{}", r.domid);
        let keys = [
            format!("{vm}/on_poweroff"),
            format!("{vm}/on_reboot"),
            format!("{vm}/on_crash"),
            format!("{vm}/start_time"),
            format!("{vm}/image/kernel"),
            format!("{vm}/image/ramdisk"),
            format!("{vm}/image/cmdline"),
            format!("{dom}/memory/static-max"),
            format!("{dom}/store/ring-ref"),
            format!("{dom}/console/ring-ref"),
            format!("{dom}/console/port"),
        ];
        let vals: Vec<Option<String>> = host
            .xs
            .read_many(&keys)
            .into_iter()
            .map(|r| r.ok().map(|b| String::from_utf8_lossy(&b).into_owned()))
            .collect();
        let text = |i: usize| vals[i].clone();
        let int = |i: usize| text(i).and_then(|t| t.trim().parse::<i64>().ok());
        StoreFacts {
            on_poweroff: text(0),
            on_reboot: text(1),
            on_crash: text(2),
            start_time: text(3),
            kernel: text(4),
            ramdisk: text(5),
            cmdline: text(6),
            maxmem_kib: int(7),
            store_mfn: int(8),
            console_mfn: int(9),
            console_port: int(10),
            credit: sched::weight_cap(&host.xc, r.domid),
        }
    }
}

/// The `(domain ...)` of a live domain.
pub fn domain_record(host: &Host, r: &DomainSummary) -> Sxp {
    let plan = (r.domid != 0)
        .then(|| stored_plan(&host.xs, r.domid))
        .flatten();
    record(r, &StoreFacts::read(host, r), plan.as_ref())
}

/// The `(domain ...)` of a live domain whose plan the caller has read already (a save, a
/// migration).
pub fn domain_record_with(host: &Host, r: &DomainSummary, plan: &DomainPlan) -> Sxp {
    record(r, &StoreFacts::read(host, r), Some(plan))
}

/// xend's `status` number for a state string (XendConstants' DOM_STATE_*).
fn status(state: &str) -> i64 {
    let has = |c: char| state.contains(c);
    if has('c') {
        5
    } else if has('s') {
        4
    } else if has('p') {
        1
    } else {
        2
    }
}

/// The record from its parts (pure, so it can be tested without a host).
pub fn record(r: &DomainSummary, f: &StoreFacts, plan: Option<&DomainPlan>) -> Sxp {
    let mut d = vec![
        Sxp::pair("domid", Sxp::Int(i64::from(r.domid))),
        Sxp::pair("uuid", Sxp::s(domain::uuid_string(&r.uuid))),
        Sxp::pair(
            "vcpus",
            Sxp::Int(i64::from(plan.map_or(r.vcpus, |p| p.max_vcpus))),
        ),
        Sxp::pair("name", Sxp::s(r.name.clone())),
        Sxp::pair("memory", Sxp::Int(r.mem_mib as i64)),
    ];
    if let Some(max) = f.maxmem_kib {
        d.push(Sxp::pair("maxmem", Sxp::Int(max / 1024)));
    } else if let Some(p) = plan {
        d.push(Sxp::pair("maxmem", Sxp::Int(p.maxmem_mib as i64)));
    }
    if let Some(cpus) = plan.and_then(|p| p.cpus.as_ref()) {
        let list = cpus.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        d.push(Sxp::pair("cpus", Sxp::s(list.join(","))));
    }
    if let Some((weight, cap)) = f.credit {
        d.push(Sxp::pair("cpu_weight", Sxp::Int(i64::from(weight))));
        d.push(Sxp::pair("cpu_cap", Sxp::Int(i64::from(cap))));
    }
    let actions = [
        ("on_poweroff", &f.on_poweroff, plan.map(|p| &p.on_poweroff)),
        ("on_reboot", &f.on_reboot, plan.map(|p| &p.on_reboot)),
        ("on_crash", &f.on_crash, plan.map(|p| &p.on_crash)),
    ];
    for (key, stored, planned) in actions {
        if let Some(v) = stored.as_ref().or(planned) {
            d.push(Sxp::pair(key, Sxp::s(v.clone())));
        }
    }
    if let Some(b) = plan.and_then(|p| p.bootloader.as_ref()) {
        d.push(Sxp::pair(
            "bootloader",
            Sxp::s(b.program.display().to_string()),
        ));
        d.push(Sxp::pair("bootloader_args", Sxp::s(b.args.join(" "))));
    }
    d.push(Sxp::pair("status", Sxp::Int(status(&r.state))));
    d.push(Sxp::pair("state", Sxp::s(r.state.clone())));
    d.push(Sxp::pair("cpu_time", Sxp::Float(r.cpu_time)));
    d.push(Sxp::pair("online_vcpus", Sxp::Int(i64::from(r.vcpus))));
    if let Some(t) = &f.start_time {
        d.push(Sxp::pair("start_time", Sxp::s(t.clone())));
    }
    if r.domid != 0 {
        let mut image = vec![Sxp::s("linux")];
        let cmdline = f.cmdline.clone().or(plan.map(|p| p.cmdline.clone()));
        for (key, v) in [
            ("kernel", &f.kernel),
            ("ramdisk", &f.ramdisk),
            ("args", &cmdline),
        ] {
            if let Some(v) = v {
                image.push(Sxp::pair(key, Sxp::s(v.clone())));
            }
        }
        d.push(Sxp::pair("image", Sxp::List(image)));
    }
    for (key, v) in [("store_mfn", f.store_mfn), ("console_mfn", f.console_mfn)] {
        if let Some(v) = v {
            d.push(Sxp::pair(key, Sxp::Int(v)));
        }
    }
    if let Some(p) = plan {
        d.extend(plan_devices(p));
    }
    if r.domid != 0 {
        let mut console = vec![Sxp::s("console"), Sxp::pair("protocol", Sxp::s("vt100"))];
        if let Some(port) = f.console_port {
            console.push(Sxp::pair("location", Sxp::s(port.to_string())));
        }
        d.push(Sxp::pair("device", Sxp::List(console)));
    }
    Sxp::node("domain", d)
}

/// The `(domain ...)` of a managed domain that is not running: what its plan says, with
/// xend's status for a halted (0) or suspended (3) domain and no state letters.
pub fn managed_record(plan: &DomainPlan, suspended: bool) -> Sxp {
    let mut d = Vec::new();
    if let Some(u) = &plan.uuid {
        d.push(Sxp::pair("uuid", Sxp::s(domain::uuid_string(u))));
    }
    d.extend([
        Sxp::pair("vcpus", Sxp::Int(i64::from(plan.max_vcpus))),
        Sxp::pair("name", Sxp::s(plan.name.clone())),
        Sxp::pair("memory", Sxp::Int(plan.memory_mib as i64)),
        Sxp::pair("maxmem", Sxp::Int(plan.maxmem_mib as i64)),
        Sxp::pair("on_poweroff", Sxp::s(plan.on_poweroff.clone())),
        Sxp::pair("on_reboot", Sxp::s(plan.on_reboot.clone())),
        Sxp::pair("on_crash", Sxp::s(plan.on_crash.clone())),
        Sxp::pair("status", Sxp::Int(if suspended { 3 } else { 0 })),
        Sxp::pair("state", Sxp::s("------")),
    ]);
    d.extend(plan_devices(plan));
    Sxp::node("domain", d)
}

/// A plan's `(device ...)` entries: its vbds and vifs, then its PCI functions.
fn plan_devices(plan: &DomainPlan) -> impl Iterator<Item = Sxp> + '_ {
    let devices = plan.devices.iter().map(device_record);
    let pci = plan.pci.iter().map(pci_record);
    devices.chain(pci).map(|dev| Sxp::pair("device", dev))
}

/// A vbd or vif as xend's `(device (vbd ...))` / `(device (vif ...))` showed it.
pub fn device_record(dev: &Device) -> Sxp {
    let mut out = vec![Sxp::s(dev.kind.as_str())];
    let mut push = |key: &str, v: &str| out.push(Sxp::pair(key, Sxp::s(v)));
    match dev.kind {
        Kind::Vbd => {
            let params = dev.back_value("params").unwrap_or_default();
            let kind = if params.starts_with("/dev/") {
                "phy"
            } else {
                "file"
            };
            push("uname", &format!("{kind}:{params}"));
            let vdev = dev.back_value("dev").unwrap_or_default();
            let devtype = dev.back_value("device-type").unwrap_or("disk");
            push("dev", &format!("{vdev}:{devtype}"));
            push("mode", dev.back_value("mode").unwrap_or("r"));
            push("bootable", dev.back_value("bootable").unwrap_or("0"));
        }
        Kind::Vif => {
            for key in ["mac", "bridge", "script", "ip", "vifname", "rate"] {
                if let Some(v) = dev.back_value(key) {
                    push(key, v);
                }
            }
        }
    }
    out.push(Sxp::pair("backend", Sxp::Int(i64::from(dev.backend_domid))));
    Sxp::List(out)
}

/// A passed-through function as xend's `(device (pci (dev ...)))`.
fn pci_record(f: &PciFunction) -> Sxp {
    let mut dev = vec![
        Sxp::s("dev"),
        Sxp::pair("domain", Sxp::s(format!("0x{:04x}", f.seg))),
        Sxp::pair("bus", Sxp::s(format!("0x{:02x}", f.bus))),
        Sxp::pair("slot", Sxp::s(format!("0x{:02x}", f.dev))),
        Sxp::pair("func", Sxp::s(format!("0x{:x}", f.func))),
    ];
    if f.permissive {
        dev.push(Sxp::pair(
            "opts",
            Sxp::List(vec![Sxp::pair("permissive", Sxp::s("1"))]),
        ));
    }
    Sxp::List(vec![Sxp::s("pci"), Sxp::List(dev)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xen::device::VifPlan;
    use domcfg::sxp;

    fn row() -> DomainSummary {
        DomainSummary {
            name: "ce".into(),
            domid: 7,
            mem_mib: 256,
            vcpus: 1,
            state: "-b----".into(),
            cpu_time: 2.5,
            uuid: [0x11; 16],
        }
    }

    fn plan() -> DomainPlan {
        let vif = VifPlan {
            mac: "00:16:3e:00:00:01".into(),
            bridge: "xenbr0".into(),
            script: "/etc/xen/scripts/vif-bridge".into(),
            ip: None,
            rate: None,
            vifname: None,
        };
        DomainPlan {
            memory_mib: 256,
            vcpus: 1,
            pci: vec![PciFunction {
                seg: 0,
                bus: 0,
                dev: 3,
                func: 0,
                permissive: false,
            }],
            cmdline: "root=/dev/xvda1 ro".into(),
            on_crash: "preserve".into(),
            devices: vec![
                Device::vbd(51712, "xvda", "/dev/vg/ce", "w", false),
                Device::vbd(5632, "hdc", "/srv/iso/sl.iso", "r", true),
                Device::vif(0, &vif),
            ],
            ..crate::xen::domain_plan::sample_plan("ce")
        }
    }

    #[test]
    fn what_scripts_grep_for_is_on_lines_of_its_own() {
        let facts = StoreFacts {
            on_reboot: Some("destroy".into()),
            console_port: Some(2),
            ..StoreFacts::default()
        };
        let text = sxp::render(&record(&row(), &facts, Some(&plan())));
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(lines[0], "(domain");
        for line in [
            "(domid 7)",
            "(name ce)",
            "(vcpus 2)",
            "(online_vcpus 1)",
            "(maxmem 512)",
            "(status 2)",
            "(state -b----)",
            // The store's action wins over the plan's (a rename, an `xm` change).
            "(on_reboot destroy)",
            "(on_crash preserve)",
            "(uname phy:/dev/vg/ce)",
            "(dev xvda:disk)",
            "(uname file:/srv/iso/sl.iso)",
            "(dev hdc:cdrom)",
            "(mac 00:16:3e:00:00:01)",
        ] {
            assert!(lines.contains(&line), "{line} missing from\n{text}");
        }
        assert!(text.contains("(pci (dev (domain 0x0000) (bus 0x00) (slot 0x03) (func 0x0)))"));
        assert!(text.contains("(console (protocol vt100) (location 2))"));
        assert_eq!(text.matches("(device").count(), 5, "{text}");
        // It reads back as one record.
        let parsed = sxp::parse(&text).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].name(), Some("domain"));
    }

    #[test]
    fn a_domain_xm_did_not_build_has_the_hypervisors_facts() {
        let mut r = row();
        r.domid = 0;
        r.name = "Domain-0".into();
        let text = sxp::render(&record(&r, &StoreFacts::default(), None));
        assert!(text.contains("(name Domain-0)"), "{text}");
        assert!(!text.contains("(device"), "{text}");
        assert!(!text.contains("(image"), "{text}");
        let mut r = row();
        r.state = "--p---".into();
        let text = sxp::render(&record(&r, &StoreFacts::default(), None));
        assert!(
            text.contains("(status 1)") && text.contains("(vcpus 1)"),
            "{text}"
        );
    }
}
