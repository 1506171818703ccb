//! xm 4.1's `make_config`: the `(vm ...)` SXP that `xm create -n` printed and sent to xend.
//!
//! The order of entries and the rule for each (printed when truthy, or when not `None`) follow
//! `tools/python/xen/xm/create.py` @ stable-4.1. The attribute order inside `(vif ...)`,
//! `(vfb ...)` and the pci `(dev ...)` blocks was CPython 2's dict iteration order; it is
//! reproduced by [`py_dict_order`].

use crate::config::{CpuSpec, DomainConfig, HVM_KEYS, Image};
use crate::device::PciDev;
use crate::sxp::{Sxp, ToSxp};

fn pair(name: &str, value: Sxp) -> Sxp {
    Sxp::pair(name, value)
}

fn s(text: &str) -> Sxp {
    Sxp::s(text)
}

/// A config's `(vm ...)`, as `xm create -n` prints it.
impl ToSxp for DomainConfig {
    fn to_sxp(&self) -> Sxp {
        make_config(self)
    }
}

/// The `(vm ...)` SXP of a config.
pub fn make_config(c: &DomainConfig) -> Sxp {
    let mut vm = vec![s("vm")];
    let add_str = |vm: &mut Vec<Sxp>, name: &str, v: &str| {
        if !v.is_empty() {
            vm.push(pair(name, s(v)));
        }
    };
    let add_int = |vm: &mut Vec<Sxp>, name: &str, v: i64| {
        if v != 0 {
            vm.push(pair(name, Sxp::Int(v)));
        }
    };
    let action = |a: Option<crate::config::Action>| a.map(|a| a.as_str()).unwrap_or("");

    add_str(&mut vm, "name", &c.name);
    add_int(&mut vm, "memory", c.memory);
    add_int(&mut vm, "maxmem", c.maxmem.unwrap_or(0));
    add_int(&mut vm, "shadow_memory", c.shadow_memory);
    add_str(&mut vm, "restart", c.restart.as_deref().unwrap_or(""));
    add_str(&mut vm, "on_poweroff", action(c.on_poweroff));
    add_int(&mut vm, "tsc_mode", c.image.tsc_mode);
    add_int(&mut vm, "nomigrate", c.image.nomigrate);
    add_str(&mut vm, "on_reboot", action(c.on_reboot));
    add_str(&mut vm, "on_crash", action(c.on_crash));
    add_str(&mut vm, "features", &c.features);
    add_str(&mut vm, "on_xend_start", &c.on_xend_start);
    add_str(&mut vm, "on_xend_stop", &c.on_xend_stop);
    add_int(&mut vm, "target", c.target);
    for (name, v) in [("cpuid", &c.cpuid), ("cpuid_check", &c.cpuid_check)] {
        if v.truthy() {
            vm.push(pair(name, Sxp::from_value(v)));
        }
    }
    add_int(
        &mut vm,
        "machine_address_size",
        c.machine_address_size.unwrap_or(0),
    );
    add_int(
        &mut vm,
        "suppress_spurious_page_faults",
        c.suppress_spurious_page_faults.unwrap_or(0),
    );
    add_str(&mut vm, "description", &c.description);

    let maxvcpus = c.maxvcpus.unwrap_or(0);
    match (maxvcpus != 0, c.vcpus != 0) {
        (true, false) => vm.push(pair("vcpus", Sxp::Int(maxvcpus))),
        (true, true) => {
            vm.push(pair("vcpu_avail", vcpu_mask(c.vcpus)));
            vm.push(pair("vcpus", Sxp::Int(maxvcpus)));
        }
        (false, true) => vm.push(pair("vcpus", Sxp::Int(c.vcpus))),
        (false, false) => {}
    }

    if let Some(uuid) = &c.uuid {
        vm.push(pair("uuid", s(uuid)));
    }
    if let Some(cpu) = c.cpu {
        vm.push(pair("cpu", Sxp::Int(cpu)));
    }
    match &c.cpus {
        Some(CpuSpec::All(mask)) => vm.push(pair("cpus", s(mask))),
        Some(CpuSpec::PerVcpu(masks)) => vm.push(pair(
            "cpus",
            Sxp::List(masks.iter().map(|m| s(m)).collect()),
        )),
        None => {}
    }
    if let Some(cap) = c.cpu_cap {
        vm.push(pair("cpu_cap", Sxp::Int(cap)));
    }
    if let Some(weight) = c.cpu_weight {
        vm.push(pair("cpu_weight", Sxp::Int(weight)));
    }
    let roles = &c.backend_roles;
    for (on, role) in [
        (roles.blkif, "blkif"),
        (roles.netif, "netif"),
        (roles.tpmif, "tpmif"),
    ] {
        if on {
            vm.push(pair("backend", Sxp::List(vec![s(role)])));
        }
    }
    add_int(&mut vm, "localtime", c.localtime);
    add_int(&mut vm, "oos", c.oos);
    if let Some(pool) = &c.pool {
        vm.push(pair("pool_name", s(pool)));
    }
    if let Some(bootloader) = &c.bootloader {
        vm.push(pair("bootloader", s(bootloader)));
        vm.push(pair(
            "bootloader_args",
            s(c.bootloader_args.as_deref().unwrap_or("")),
        ));
    }
    vm.push(pair("image", image(c)));
    vm.push(pair("s3_integrity", Sxp::Int(c.s3_integrity)));
    vm.extend(devices(c));
    Sxp::List(vm)
}

/// `(1 << vcpus) - 1`, a Python `long` (printed quoted) once it no longer fits an `int`.
fn vcpu_mask(vcpus: i64) -> Sxp {
    if vcpus < 63 {
        return Sxp::Int((1i64 << vcpus) - 1);
    }
    // Decimal digits of 2^vcpus - 1, least significant first.
    let mut digits = vec![1u8];
    for _ in 0..vcpus {
        let mut carry = 0;
        for d in digits.iter_mut() {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    // 2^n ends in 2, 4, 6 or 8, so subtracting one never borrows.
    digits[0] -= 1;
    Sxp::Repr(digits.iter().rev().map(|d| char::from(b'0' + d)).collect())
}

fn image(c: &DomainConfig) -> Sxp {
    let im: &Image = &c.image;
    let mut v = vec![s(&im.builder)];
    for (name, path) in [
        ("kernel", &im.kernel),
        ("ramdisk", &im.ramdisk),
        ("loader", &im.loader),
    ] {
        if let Some(p) = path {
            v.push(pair(name, s(p)));
        }
    }
    for (name, text) in [("ip", &im.ip), ("root", &im.root)] {
        if !text.is_empty() {
            v.push(pair(name, s(text)));
        }
    }
    if im.videoram != 0 {
        v.push(pair("videoram", Sxp::Int(im.videoram)));
    }
    for (name, value) in [("parallel", &im.parallel), ("serial", &im.serial)] {
        if value.truthy() {
            v.push(pair(name, Sxp::from_value(value)));
        }
    }
    if !im.monitor_path.is_empty() {
        v.push(pair("monitor_path", s(&im.monitor_path)));
        v.push(pair("monitor", Sxp::Int(1)));
    } else if im.monitor != 0 {
        v.push(pair("monitor", Sxp::Int(im.monitor)));
    }
    if !im.args.is_empty() {
        v.push(pair("args", s(&im.args)));
    }
    if im.superpages != 0 {
        v.push(pair("superpages", Sxp::Int(im.superpages)));
    }
    if let Some(hvm) = &im.hvm {
        for key in HVM_KEYS {
            let value = match key {
                "vcpus" => Some(Sxp::Int(c.vcpus)),
                "pci" => Some(Sxp::List(c.devices.pci.iter().map(pci_tuple).collect())),
                "oos" => Some(Sxp::Int(c.oos)),
                "localtime" => Some(Sxp::Int(c.localtime)),
                "cpuid" => Some(Sxp::from_value(&c.cpuid)),
                "cpuid_check" => Some(Sxp::from_value(&c.cpuid_check)),
                _ => hvm.get(key).map(Sxp::from_value),
            };
            if let Some(value) = value {
                v.push(pair(key, value));
            }
        }
    }
    if im.vhpt != 0 {
        v.push(pair("vhpt", Sxp::Int(im.vhpt)));
    }
    if let Some(bits) = c.machine_address_size.filter(|b| *b != 0) {
        v.push(pair("machine_address_size", Sxp::Int(bits)));
    }
    if let Some(flag) = c.suppress_spurious_page_faults.filter(|f| *f != 0) {
        v.push(pair("suppress_spurious_page_faults", Sxp::Int(flag)));
    }
    v.push(pair("tsc_mode", Sxp::Int(im.tsc_mode)));
    v.push(pair("nomigrate", Sxp::Int(im.nomigrate)));
    Sxp::List(v)
}

fn hex_fields(d: &PciDev) -> [(&'static str, String); 5] {
    [
        ("domain", format!("0x{:04x}", d.domain)),
        ("bus", format!("0x{:02x}", d.bus)),
        ("slot", format!("0x{:02x}", d.slot)),
        ("func", format!("0x{:x}", d.func)),
        ("vdevfn", format!("0x{:02x}", d.vdevfn)),
    ]
}

fn pci_opts(d: &PciDev) -> Vec<Sxp> {
    d.opts
        .iter()
        .map(|(k, v)| Sxp::List(vec![s(k), s(v)]))
        .collect()
}

/// xm's HVM `(pci ...)` entry: the preprocessed tuple `(domain bus slot func vdevfn opts key)`.
fn pci_tuple(d: &PciDev) -> Sxp {
    let mut t: Vec<Sxp> = hex_fields(d)
        .into_iter()
        .map(|(_, v)| Sxp::Str(v))
        .collect();
    t.push(Sxp::List(pci_opts(d)));
    t.push(s(&d.key));
    Sxp::Tuple(t)
}

/// `(dev ...)` of the pci device block, from xm's dict
/// `{domain, bus, slot, func, vdevfn, key[, opts]}`.
fn pci_dev(d: &PciDev) -> Sxp {
    let mut entries: Vec<(&str, Vec<Sxp>)> = hex_fields(d)
        .into_iter()
        .map(|(k, v)| (k, vec![Sxp::Str(v)]))
        .collect();
    entries.push(("key", vec![s(&d.key)]));
    if !d.opts.is_empty() {
        entries.push(("opts", pci_opts(d)));
    }
    let keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
    let mut dev = vec![s("dev")];
    for i in py_dict_order(&keys.iter().map(|k| DictOp::Insert(k)).collect::<Vec<_>>()) {
        let (key, values) = &entries[i];
        // A list value became one entry per element (XendSXPDev.dev_dict_to_sxp).
        dev.extend(values.iter().map(|v| pair(key, v.clone())));
    }
    Sxp::List(dev)
}

/// `(KIND (k v) ...)` from settings held in an insertion-ordered dict, printed in CPython's
/// order.
fn settings_block(kind: &str, settings: &[(String, String)], ops: &[DictOp<'_>]) -> Sxp {
    let mut block = vec![s(kind)];
    let keys = py_dict_keys(ops);
    for key in keys {
        if let Some((k, v)) = settings.iter().find(|(k, _)| k == key) {
            block.push(pair(k, s(v)));
        }
    }
    Sxp::List(block)
}

fn inserts(settings: &[(String, String)]) -> Vec<DictOp<'_>> {
    settings.iter().map(|(k, _)| DictOp::Insert(k)).collect()
}

fn devices(c: &DomainConfig) -> Vec<Sxp> {
    let d = &c.devices;
    let device = |x: Sxp| pair("device", x);
    let mut out = Vec::new();
    for disk in &d.disks {
        let mut vbd = vec![
            s(disk.device_class()),
            pair("uname", s(&disk.uname)),
            pair("dev", s(&disk.vdev)),
            pair("mode", s(disk.mode.as_str())),
        ];
        if let Some(b) = &disk.backend {
            vbd.push(pair("backend", s(b)));
        }
        if let Some(p) = &disk.protocol {
            vbd.push(pair("protocol", s(p)));
        }
        out.push(device(Sxp::List(vbd)));
    }
    if !d.pci.is_empty() {
        let mut pci = vec![s("pci")];
        pci.extend(d.pci.iter().map(pci_dev));
        out.push(device(Sxp::List(pci)));
    }
    for u in &d.vusbs {
        let mut port = vec![s("port")];
        for (i, p) in u.ports.iter().enumerate() {
            port.push(Sxp::List(vec![s(&(i + 1).to_string()), s(p)]));
        }
        out.push(device(Sxp::List(vec![
            s("vusb"),
            pair("usb-ver", s(&u.usb_ver.to_string())),
            pair("num-ports", s(&u.num_ports.to_string())),
            Sxp::List(port),
        ])));
    }
    for io in &d.ioports {
        out.push(device(Sxp::List(vec![
            s("ioports"),
            pair("from", s(&io.from)),
            pair("to", s(&io.to)),
        ])));
    }
    for irq in &d.irqs {
        out.push(device(Sxp::List(vec![
            s("irq"),
            pair("irq", s(&irq.to_string())),
        ])));
    }
    for vif in &d.vifs {
        out.push(device(settings_block(
            "vif",
            &vif.settings,
            &inserts(&vif.settings),
        )));
    }
    for vif2 in &d.vif2s {
        out.push(device(settings_block(
            "vif2",
            &vif2.settings,
            &inserts(&vif2.settings),
        )));
    }
    if let Some(t) = &d.vtpm {
        let mut vtpm = vec![s("vtpm")];
        for (name, v) in [
            ("pref_instance", &t.instance),
            ("backend", &t.backend),
            ("uuid", &t.uuid),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                vtpm.push(pair(name, s(v)));
            }
        }
        out.push(device(Sxp::List(vtpm)));
    }
    for vfb in &d.vfbs {
        let mut ops: Vec<DictOp<'_>> = vfb.written_keys.iter().map(|k| DictOp::Insert(k)).collect();
        if let Some(kind) = &vfb.legacy_type {
            ops.push(DictOp::Insert(kind));
            ops.push(DictOp::Delete("type"));
        }
        let Sxp::List(mut block) = settings_block("vfb", &vfb.settings, &ops) else {
            continue;
        };
        block.extend(vfb.defaults.iter().map(|(k, v)| pair(k, s(v))));
        out.push(device(Sxp::List(vec![s("vkbd")])));
        out.push(device(Sxp::List(block)));
    }
    out
}

/// One operation on a Python dict with string keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictOp<'a> {
    Insert(&'a str),
    Delete(&'a str),
}

/// CPython 2.7's `str` hash (64-bit build, hash randomisation off, the default).
fn py_hash(key: &str) -> i64 {
    let b = key.as_bytes();
    if b.is_empty() {
        return 0;
    }
    let mut x: i64 = i64::from(b[0]) << 7;
    for &c in b {
        x = x.wrapping_mul(1_000_003) ^ i64::from(c);
    }
    x ^= b.len() as i64;
    if x == -1 { -2 } else { x }
}

#[derive(Clone, Copy, PartialEq)]
enum Slot<'a> {
    Empty,
    Dummy,
    Key(&'a str, i64),
}

/// The probe sequence of CPython 2.7's `lookdict`: first slot, then the perturbed steps.
fn probe(hash: i64, mask: usize) -> impl Iterator<Item = usize> {
    let mut i = hash as usize;
    let mut perturb = hash as usize;
    let mut first = true;
    std::iter::from_fn(move || {
        if first {
            first = false;
        } else {
            i = (i << 2)
                .wrapping_add(i)
                .wrapping_add(perturb)
                .wrapping_add(1);
            perturb >>= 5;
        }
        Some(i & mask)
    })
}

/// The keys of a dict after these operations, in CPython 2.7's iteration order.
pub fn py_dict_keys<'a>(ops: &[DictOp<'a>]) -> Vec<&'a str> {
    let mut table: Vec<Slot<'a>> = vec![Slot::Empty; 8];
    let (mut used, mut fill) = (0usize, 0usize);
    for op in ops {
        let mask = table.len() - 1;
        match *op {
            DictOp::Insert(key) => {
                let hash = py_hash(key);
                let mut free = None;
                let mut target = None;
                for i in probe(hash, mask) {
                    match table[i] {
                        Slot::Empty => {
                            target = Some(free.unwrap_or(i));
                            break;
                        }
                        Slot::Key(k, _) if k == key => break,
                        Slot::Dummy if free.is_none() => free = Some(i),
                        _ => {}
                    }
                }
                let Some(i) = target else { continue };
                if table[i] == Slot::Empty {
                    fill += 1;
                }
                table[i] = Slot::Key(key, hash);
                used += 1;
                if fill * 3 >= (mask + 1) * 2 {
                    let mut size = 8;
                    while size <= used * 4 {
                        size <<= 1;
                    }
                    let old = std::mem::replace(&mut table, vec![Slot::Empty; size]);
                    for slot in old {
                        if let Slot::Key(k, h) = slot {
                            let i = probe(h, size - 1).find(|&i| table[i] == Slot::Empty);
                            if let Some(i) = i {
                                table[i] = Slot::Key(k, h);
                            }
                        }
                    }
                    fill = used;
                }
            }
            DictOp::Delete(key) => {
                let hash = py_hash(key);
                for i in probe(hash, mask) {
                    match table[i] {
                        Slot::Empty => break,
                        Slot::Key(k, _) if k == key => {
                            table[i] = Slot::Dummy;
                            used -= 1;
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    table
        .into_iter()
        .filter_map(|s| match s {
            Slot::Key(k, _) => Some(k),
            _ => None,
        })
        .collect()
}

/// For keys inserted in this order (no deletions): their indexes in CPython's iteration order.
pub fn py_dict_order(ops: &[DictOp<'_>]) -> Vec<usize> {
    let keys: Vec<&str> = ops
        .iter()
        .filter_map(|op| match op {
            DictOp::Insert(k) => Some(*k),
            DictOp::Delete(_) => None,
        })
        .collect();
    py_dict_keys(ops)
        .into_iter()
        .filter_map(|k| keys.iter().position(|x| *x == k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order<'a>(keys: &[&'a str]) -> Vec<&'a str> {
        py_dict_keys(&keys.iter().map(|k| DictOp::Insert(k)).collect::<Vec<_>>())
    }

    #[test]
    fn python_hash_matches_cpython27() {
        // hash('a') and hash('') on a 64-bit CPython 2.7.
        assert_eq!(py_hash("a"), 12416037344);
        assert_eq!(py_hash(""), 0);
    }

    #[test]
    fn dict_order_matches_the_goldens() {
        // (vif (bridge ..) (mac ..) (type ..) (script ..)) for mac,bridge,script,type.
        assert_eq!(
            order(&["mac", "bridge", "script", "type"]),
            ["bridge", "mac", "type", "script"]
        );
        assert_eq!(
            order(&["mac", "bridge", "script", "model", "type"]),
            ["bridge", "mac", "type", "model", "script"]
        );
        assert_eq!(
            order(&["mac", "bridge", "script", "model", "vifname"]),
            ["bridge", "mac", "vifname", "model", "script"]
        );
        assert_eq!(
            order(&["domain", "bus", "slot", "func", "vdevfn", "key"]),
            ["slot", "domain", "key", "bus", "vdevfn", "func"]
        );
        let vfb = py_dict_keys(&[
            DictOp::Insert("type"),
            DictOp::Insert("vncunused"),
            DictOp::Insert("vnclisten"),
            DictOp::Insert("vncpasswd"),
            DictOp::Insert("vnc"),
            DictOp::Delete("type"),
        ]);
        assert_eq!(vfb, ["vncunused", "vncpasswd", "vnc", "vnclisten"]);
    }

    #[test]
    fn vcpu_mask_becomes_a_long() {
        assert_eq!(vcpu_mask(2), Sxp::Int(3));
        assert_eq!(vcpu_mask(62), Sxp::Int((1 << 62) - 1));
        assert_eq!(vcpu_mask(63), Sxp::Repr("9223372036854775807".into()));
        assert_eq!(vcpu_mask(64), Sxp::Repr("18446744073709551615".into()));
    }
}
