//! The small device kinds: legacy I/O port ranges, IRQs, virtual TPMs and virtual USB host
//! controllers.

use serde::Serialize;

use super::{DeviceError, comma_kv, dict_get};

/// `ioports = [ 'FROM[-TO]' ]` (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IoPorts {
    /// As xm wrote them into the SXP: `0x` + the text.
    pub from: String,
    pub to: String,
}

impl IoPorts {
    pub fn parse(spec: &str) -> Result<IoPorts, DeviceError> {
        let parts: Vec<&str> = spec.split('-').collect();
        let invalid = || DeviceError::new(format!("Invalid i/o port range specifier: {spec}"));
        let ok =
            |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit()) && p.len() <= 4;
        match parts.as_slice() {
            [one] if ok(one) => Ok(IoPorts {
                from: format!("0x{one}"),
                to: format!("0x{one}"),
            }),
            [a, b] if ok(a) && ok(b) => Ok(IoPorts {
                from: format!("0x{a}"),
                to: format!("0x{b}"),
            }),
            _ => Err(invalid()),
        }
    }

    /// The first and last port.
    pub fn range(&self) -> (u16, u16) {
        let p = |s: &str| u16::from_str_radix(&s[2..], 16).unwrap_or(0);
        (p(&self.from), p(&self.to))
    }
}

/// `vtpm = [ 'instance=N,backend=DOM' ]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VtpmSpec {
    pub instance: Option<String>,
    pub backend: Option<String>,
    pub uuid: Option<String>,
}

impl VtpmSpec {
    pub fn parse(spec: &str) -> Result<VtpmSpec, DeviceError> {
        let invalid = || DeviceError::new(format!("Invalid vtpm specifier: {spec}"));
        let mut out = VtpmSpec {
            instance: None,
            backend: None,
            uuid: None,
        };
        for part in spec.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or_else(invalid)?;
            let v = Some(v.trim().to_string());
            match k.trim() {
                "instance" => out.instance = v,
                "backend" => out.backend = v,
                "uuid" => out.uuid = v,
                _ => return Err(invalid()),
            }
        }
        match out.instance.as_deref() {
            Some("VTPMD") => out.instance = Some("0".into()),
            Some(i) => match crate::options::py_int(i) {
                Some(0) => {
                    return Err(DeviceError::new(
                        "VM config error: vTPM instance must not be 0.",
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(DeviceError::new(
                        "Vm config error: could not parse instance number.",
                    ));
                }
            },
            None => {}
        }
        Ok(out)
    }
}

/// `vusb = [ 'usbver=2,numports=4,port_1=1-1' ]`: a virtual USB host controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VusbSpec {
    pub usb_ver: u8,
    pub num_ports: u8,
    /// The host port assigned to each virtual port (empty: none), `num_ports` entries.
    pub ports: Vec<String>,
}

impl VusbSpec {
    pub fn parse(spec: &str) -> Result<VusbSpec, DeviceError> {
        let kv = comma_kv(spec)?;
        let usb_ver = match dict_get(&kv, "usbver").map(crate::options::py_int) {
            None => 2,
            Some(Some(v @ (1 | 2))) => v as u8,
            Some(_) => return Err(DeviceError::new("Invalid vusb option: usbver")),
        };
        let num_ports = match dict_get(&kv, "numports").map(crate::options::py_int) {
            None => 8,
            Some(Some(n @ 1..=16)) => n as u8,
            Some(_) => return Err(DeviceError::new("Invalid vusb option: numports")),
        };
        let ports = (1..=num_ports)
            .map(|i| {
                dict_get(&kv, &format!("port_{i}"))
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        Ok(VusbSpec {
            usb_ver,
            num_ports,
            ports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioports_are_hex_ranges() {
        let p = IoPorts::parse("02f8-02ff").unwrap();
        assert_eq!((p.from.as_str(), p.to.as_str()), ("0x02f8", "0x02ff"));
        assert_eq!(p.range(), (0x2f8, 0x2ff));
        assert_eq!(IoPorts::parse("3f8").unwrap().to, "0x3f8");
        assert!(IoPorts::parse("1-2-3").is_err());
        assert!(IoPorts::parse("xyz").is_err());
    }

    #[test]
    fn vtpm_and_vusb() {
        let t = VtpmSpec::parse("instance=1, backend=0").unwrap();
        assert_eq!(
            (t.instance.as_deref(), t.backend.as_deref()),
            (Some("1"), Some("0"))
        );
        assert!(VtpmSpec::parse("instance=0").is_err());
        assert!(VtpmSpec::parse("colour=1").is_err());
        let u = VusbSpec::parse("usbver=1,numports=2,port_2=1-1").unwrap();
        assert_eq!((u.usb_ver, u.num_ports), (1, 2));
        assert_eq!(u.ports, vec!["".to_string(), "1-1".to_string()]);
        assert!(VusbSpec::parse("numports=17").is_err());
    }
}
