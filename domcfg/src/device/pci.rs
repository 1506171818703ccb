//! `pci = [ '[DDDD:]BB:SS.F[@VSLOT][,OPT=VAL...]' ]`: PCI passthrough (xen.util.pci
//! `parse_pci_name_extended`, 4.1).
//!
//! `F` may be a list and ranges of functions (`0,2`, `0-3`) and physical=virtual pairs
//! (`1=0`); one spec can therefore name several functions, each a [`PciDev`]. Beyond xm 4.1 we
//! also accept the dotted form `BB.SS.F` (`06.02.0`) that our production configs use, as
//! `0000:BB:SS.F`.

use serde::Serialize;

use super::DeviceError;

/// xend's `AUTO_PHP_SLOT`: "let the device model pick the virtual slot".
pub const AUTO_PHP_SLOT: u16 = 0x100;

/// One PCI function to pass through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PciDev {
    pub domain: u16,
    pub bus: u8,
    pub slot: u8,
    pub func: u8,
    /// Virtual devfn in the guest, or `AUTO_PHP_SLOT | vfunc` when the slot is automatic.
    pub vdevfn: u16,
    /// The spec up to its first `,` (xend's key for hotplug), normalised for the dotted form.
    pub key: String,
    /// `msitranslate` / `power_mgmt` options (and xl's `permissive`, `seize`,
    /// `rdm_policy`), in spec order.
    pub opts: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Assign {
    Auto,
    Manual,
}

impl PciDev {
    /// `DDDD:BB:SS.F`, as sysfs and pciback name the device.
    pub fn bdf(&self) -> String {
        format!(
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.slot, self.func
        )
    }

    /// Parse one `pci` entry into the functions it names, in xend's order (virtual function 0
    /// last). Errors use xend's wording (`Failed to parse pci device: X`, ...).
    pub fn parse_spec(spec: &str) -> Result<Vec<PciDev>, DeviceError> {
        let m = match_spec(spec)
            .or_else(|| match_dotted(spec))
            .ok_or_else(|| DeviceError::new(format!("Failed to parse pci device: {spec}")))?;
        let mut opts = Vec::new();
        if let Some(text) = m.opts {
            for item in text.split(',').filter(|s| !s.is_empty()) {
                let parts: Vec<&str> = item.split('=').collect();
                let flag = |v: &str| matches!(v.to_lowercase().as_str(), "0" | "1" | "yes" | "no");
                let valid = parts.len() == 2
                    && match parts[0] {
                        "msitranslate" | "power_mgmt" => flag(parts[1]),
                        // Beyond xm 4.1: xl's options, so that xl configs load.
                        "permissive" | "seize" => flag(parts[1]),
                        "rdm_policy" => matches!(parts[1], "strict" | "relaxed"),
                        _ => false,
                    };
                if !valid {
                    return Err(DeviceError::new(format!("Invalid pci option {item}: ")));
                }
                opts.push((parts[0].to_string(), parts[1].to_string()));
            }
        }
        if m.func == "*" {
            return Err(DeviceError::new(format!(
                "PCI function wildcard '*' needs the host's device list, not supported yet: {spec}"
            )));
        }
        let mut funcs = function_list(spec, m.func)?;
        if funcs.is_empty() {
            return Ok(Vec::new());
        }
        if !funcs.iter().any(|f| f.1 == 0) {
            let (mut auto, manual): (Vec<_>, Vec<_>) =
                funcs.into_iter().partition(|f| f.2 == Assign::Auto);
            if auto.is_empty() {
                return Err(DeviceError::new(format!(
                    "Virtual device does not include virtual function 0: {spec}"
                )));
            }
            auto.sort_by_key(|f| f.1);
            auto[0].1 = 0;
            funcs = auto.into_iter().chain(manual).collect();
        }
        // Virtual function 0 goes last: it signals the guest (stable sort, as Python's).
        funcs.sort_by_key(|f| std::cmp::Reverse(f.1 & 7));
        let vslot = m.vslot.map(|v| u16::from_str_radix(v, 16).unwrap_or(0));
        Ok(funcs
            .into_iter()
            .map(|(pfunc, vfunc, _)| PciDev {
                domain: m.domain,
                bus: m.bus,
                slot: m.slot,
                func: pfunc,
                vdevfn: match vslot {
                    None => AUTO_PHP_SLOT | u16::from(vfunc),
                    Some(s) => ((s & 0x1f) << 3) | u16::from(vfunc & 7),
                },
                key: m.key.clone(),
                opts: opts.clone(),
            })
            .collect())
    }
}

struct SpecMatch<'a> {
    domain: u16,
    bus: u8,
    slot: u8,
    func: &'a str,
    vslot: Option<&'a str>,
    opts: Option<&'a str>,
    key: String,
}

fn hex_prefix_len(s: &str, max: usize) -> usize {
    s.bytes()
        .take(max)
        .take_while(u8::is_ascii_hexdigit)
        .count()
}

/// The 4.1 regular expression, matched with the same preferences a backtracking regex engine
/// has (optional parts present first, longest repetitions first).
fn match_spec(spec: &str) -> Option<SpecMatch<'_>> {
    let domain_lens = (1..=hex_prefix_len(spec, 4)).rev().map(Some).chain([None]);
    for dlen in domain_lens {
        let (domain, rest) = match dlen {
            Some(n) if matches!(spec.as_bytes().get(n), Some(b':' | b',')) => {
                (u16::from_str_radix(&spec[..n], 16).ok()?, &spec[n + 1..])
            }
            Some(_) => continue,
            None => (0, spec),
        };
        for blen in (1..=hex_prefix_len(rest, 2)).rev() {
            if !matches!(rest.as_bytes().get(blen), Some(b':' | b',')) {
                continue;
            }
            let after_bus = &rest[blen + 1..];
            for slen in (1..=hex_prefix_len(after_bus, 2)).rev() {
                if !matches!(after_bus.as_bytes().get(slen), Some(b'.' | b',')) {
                    continue;
                }
                let tail = &after_bus[slen + 1..];
                if let Some((func, vslot, opts)) = match_func_tail(tail) {
                    return Some(SpecMatch {
                        domain,
                        bus: u8::from_str_radix(&rest[..blen], 16).ok()?,
                        slot: u8::from_str_radix(&after_bus[..slen], 16).ok()?,
                        func,
                        vslot,
                        opts,
                        key: spec.split(',').next().unwrap_or(spec).to_string(),
                    });
                }
            }
        }
    }
    None
}

/// The seed's `BB.SS.F[@VSLOT][,opts]` form, read as domain 0.
fn match_dotted(spec: &str) -> Option<SpecMatch<'_>> {
    let blen = hex_prefix_len(spec, 2);
    if blen == 0 || spec.as_bytes().get(blen) != Some(&b'.') {
        return None;
    }
    let rest = &spec[blen + 1..];
    let slen = hex_prefix_len(rest, 2);
    if slen == 0 || rest.as_bytes().get(slen) != Some(&b'.') {
        return None;
    }
    let (func, vslot, opts) = match_func_tail(&rest[slen + 1..])?;
    let bus = u8::from_str_radix(&spec[..blen], 16).ok()?;
    let slot = u8::from_str_radix(&rest[..slen], 16).ok()?;
    let vslot_text = vslot.map(|v| format!("@{v}")).unwrap_or_default();
    Some(SpecMatch {
        domain: 0,
        bus,
        slot,
        func,
        vslot,
        opts,
        key: format!("0000:{bus:02x}:{slot:02x}.{func}{vslot_text}"),
    })
}

/// `(\*|[0-7]([,-=][0-7])*)(@([01]?[0-9a-fA-F]))?(,(.*))?$` — note that `[,-=]` is the
/// character range `,` to `=`, as in the original.
fn match_func_tail(s: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let b = s.as_bytes();
    if b.first() == Some(&b'*') {
        let (vslot, opts) = match_vslot_opts(&s[1..])?;
        return Some((&s[..1], vslot, opts));
    }
    if !matches!(b.first(), Some(b'0'..=b'7')) {
        return None;
    }
    let mut ends = vec![1];
    let mut i = 1;
    while i + 1 < b.len() && (b','..=b'=').contains(&b[i]) && (b'0'..=b'7').contains(&b[i + 1]) {
        i += 2;
        ends.push(i);
    }
    ends.into_iter().rev().find_map(|end| {
        let (vslot, opts) = match_vslot_opts(&s[end..])?;
        Some((&s[..end], vslot, opts))
    })
}

fn opts_or_end(t: &str) -> Option<Option<&str>> {
    if t.is_empty() {
        Some(None)
    } else {
        t.strip_prefix(',').filter(|o| !o.contains('\n')).map(Some)
    }
}

fn match_vslot_opts(s: &str) -> Option<(Option<&str>, Option<&str>)> {
    if let Some(v) = s.strip_prefix('@') {
        let b = v.as_bytes();
        let two = (b.len() >= 2 && matches!(b[0], b'0' | b'1') && b[1].is_ascii_hexdigit())
            .then(|| opts_or_end(&v[2..]).map(|opts| (Some(&v[..2]), opts)))
            .flatten();
        let one = || {
            b.first()
                .filter(|c| c.is_ascii_hexdigit())
                .and_then(|_| opts_or_end(&v[1..]).map(|opts| (Some(&v[..1]), opts)))
        };
        return two.or_else(one);
    }
    opts_or_end(s).map(|o| (None, o))
}

/// Expand the function text into (physical, virtual, how assigned) triples.
fn function_list(spec: &str, text: &str) -> Result<Vec<(u8, u8, Assign)>, DeviceError> {
    let mut out = Vec::new();
    for item in text.split(',') {
        let ends: Vec<&str> = item.split('-').collect();
        let parsed = ends
            .iter()
            .map(|e| pfunc_vfunc(e))
            .collect::<Result<Vec<_>, _>>()?;
        match parsed.as_slice() {
            [one] => out.push(*one),
            [a, b] => {
                let phys = func_range(a.0, b.0);
                let virt = func_range(a.1, b.1);
                if phys.len() != virt.len() {
                    return Err(DeviceError::new(format!("Invalid range in: {item}")));
                }
                out.extend(
                    phys.into_iter()
                        .zip(virt)
                        .map(|(p, v)| (p, v, Assign::Manual)),
                );
            }
            // xend silently ignored `a-b-c`.
            _ => {}
        }
    }
    let mut phys: Vec<u8> = out.iter().map(|f| f.0).collect();
    let mut virt: Vec<u8> = out.iter().map(|f| f.1).collect();
    phys.sort_unstable();
    phys.dedup();
    virt.sort_unstable();
    virt.dedup();
    if phys.len() != out.len() || virt.len() != out.len() {
        return Err(DeviceError::new(format!("Duplicate functions: {spec}")));
    }
    Ok(out)
}

fn pfunc_vfunc(text: &str) -> Result<(u8, u8, Assign), DeviceError> {
    let parts: Vec<&str> = text.split('=').collect();
    let func = |t: &str| -> Result<u8, DeviceError> {
        u8::from_str_radix(t, 16)
            .ok()
            .filter(|f| *f <= 7)
            .ok_or_else(|| DeviceError::new(format!("Invalid function: {text}")))
    };
    match parts.as_slice() {
        [p] => {
            let p = func(p)?;
            Ok((p, p, Assign::Auto))
        }
        [p, v] => Ok((func(p)?, func(v)?, Assign::Manual)),
        _ => Err(DeviceError::new(format!("Invalid function: {text}"))),
    }
}

fn func_range(a: u8, b: u8) -> Vec<u8> {
    if b < a {
        (b..=a).rev().collect()
    } else {
        (a..=b).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> PciDev {
        let mut v = PciDev::parse_spec(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        v.remove(0)
    }

    #[test]
    fn plain_and_domain_forms() {
        let d = one("06:02.0");
        assert_eq!(
            (d.domain, d.bus, d.slot, d.func, d.vdevfn),
            (0, 6, 2, 0, 0x100)
        );
        assert_eq!(d.key, "06:02.0");
        assert_eq!(d.bdf(), "0000:06:02.0");
        let d = one("0001:0c:1b.2");
        assert_eq!(
            (d.domain, d.bus, d.slot, d.func, d.vdevfn),
            (1, 0x0c, 0x1b, 2, 0x100)
        );
        assert_eq!(d.key, "0001:0c:1b.2");
    }

    #[test]
    fn seed_dotted_form_is_domain_zero() {
        let d = one("06.02.0");
        assert_eq!(d.bdf(), "0000:06:02.0");
        assert_eq!(d.key, "0000:06:02.0");
        assert_eq!(d.vdevfn, 0x100);
    }

    #[test]
    fn virtual_slot_and_options() {
        let d = one("07:00.1@3,msitranslate=1,power_mgmt=yes");
        assert_eq!(d.func, 1);
        assert_eq!(d.vdevfn, 3 << 3);
        assert_eq!(d.key, "07:00.1@3");
        assert_eq!(
            d.opts,
            vec![
                ("msitranslate".into(), "1".into()),
                ("power_mgmt".into(), "yes".into())
            ]
        );
        assert_eq!(
            PciDev::parse_spec("07:00.1,foo=1").unwrap_err().to_string(),
            "Invalid pci option foo=1: "
        );
        // xl's options.
        let d = one("0000:02:00.0,permissive=1,seize=0,rdm_policy=relaxed");
        assert_eq!(d.opts.len(), 3);
        assert!(PciDev::parse_spec("02:00.0,rdm_policy=lax").is_err());
        assert!(PciDev::parse_spec("02:00.0,permissive=2").is_err());
    }

    #[test]
    fn function_lists_and_ranges_put_vfunc_zero_last() {
        let v = PciDev::parse_spec("08:00.0-3").unwrap();
        let f: Vec<(u8, u16)> = v.iter().map(|d| (d.func, d.vdevfn)).collect();
        assert_eq!(f, vec![(3, 0x103), (2, 0x102), (1, 0x101), (0, 0x100)]);
        // Lowest auto function becomes virtual function 0.
        let v = PciDev::parse_spec("08:00.2,5").unwrap();
        let f: Vec<(u8, u16)> = v.iter().map(|d| (d.func, d.vdevfn)).collect();
        assert_eq!(f, vec![(5, 0x105), (2, 0x100)]);
        let v = PciDev::parse_spec("0a:00.1=0").unwrap();
        assert_eq!((v[0].func, v[0].vdevfn), (1, 0x100));
        assert!(
            PciDev::parse_spec("08:00.1,1")
                .unwrap_err()
                .to_string()
                .starts_with("Duplicate functions")
        );
        assert!(
            PciDev::parse_spec("08:00.1=1")
                .unwrap_err()
                .to_string()
                .contains("virtual function 0")
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "",
            "06",
            "06:02",
            "06:02.8",
            "zz:02.0",
            "06:02.0@",
            "06:02.0junk",
            "06.02.0.1",
        ] {
            let e = PciDev::parse_spec(bad).unwrap_err().to_string();
            assert!(
                e.starts_with("Failed to parse pci device") || e.starts_with("Invalid"),
                "{bad}: {e}"
            );
        }
        assert!(PciDev::parse_spec("08:00.*").is_err());
    }
}
