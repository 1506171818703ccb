//! `disk = [ 'UNAME,VDEV,MODE[,BACKEND[,PROTOCOL]]' ]`: virtual block devices (vbd).
//!
//! The fields are split on `,` without stripping, as xm did; `uname` and `vdev` go into the
//! SXP as written. What xend checked later (mode, a physical source unless it is a CD-ROM, a
//! device name that maps to a number) is checked here at load time.

use serde::Serialize;

use super::DeviceError;

/// How the guest may use the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DiskMode {
    /// `r`
    #[serde(rename = "r")]
    ReadOnly,
    /// `w`
    #[serde(rename = "w")]
    ReadWrite,
    /// `w!`: writable even if another domain has it writable.
    #[serde(rename = "w!")]
    SharedWrite,
}

impl DiskMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DiskMode::ReadOnly => "r",
            DiskMode::ReadWrite => "w",
            DiskMode::SharedWrite => "w!",
        }
    }
}

/// One `disk` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskSpec {
    /// The backend source as written: `phy:vg/lv`, `file:/img`, `tap:aio:/img`, or empty for
    /// an empty CD-ROM drive.
    pub uname: String,
    /// The guest device as written: `xvda`, `hda`, `ioemu:hda`, `hdc:cdrom`, `0x301`.
    pub vdev: String,
    pub mode: DiskMode,
    /// The backend domain (name or id), if not dom0.
    pub backend: Option<String>,
    /// The frontend ring protocol (`x86_32-abi`, ...), if given.
    pub protocol: Option<String>,
}

impl DiskSpec {
    /// Parse one entry. Errors use xm's and xend's wording.
    pub fn parse(spec: &str) -> Result<DiskSpec, DeviceError> {
        let fields: Vec<&str> = spec.split(',').collect();
        if looks_like_xl(&fields) {
            return Err(DeviceError::new(format!(
                "Invalid disk specifier: {spec} (this is xl's disk syntax; xm expects \
                 UNAME,VDEV,MODE such as phy:/dev/vg/lv,xvda,w)"
            )));
        }
        if !(3..=5).contains(&fields.len()) {
            return Err(DeviceError::new(format!("Invalid disk specifier: {spec}")));
        }
        // xm passed an empty 4th/5th field on as "not given".
        let opt = |i: usize| {
            fields
                .get(i)
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string())
        };
        let mode = match fields[2] {
            "r" => DiskMode::ReadOnly,
            "w" => DiskMode::ReadWrite,
            "w!" => DiskMode::SharedWrite,
            other => {
                return Err(DeviceError::new(format!(
                    "Invalid mode '{other}' in disk specifier: {spec} (expected r, w or w!)"
                )));
            }
        };
        let disk = DiskSpec {
            uname: fields[0].to_string(),
            vdev: fields[1].to_string(),
            mode,
            backend: opt(3),
            protocol: opt(4),
        };
        if disk.uname.is_empty() && !disk.is_cdrom() {
            return Err(DeviceError::new(format!(
                "Block device must have physical details specified: {spec}"
            )));
        }
        if !disk.uname.is_empty() && !disk.uname.contains(':') {
            return Err(DeviceError::new(format!(
                "Block device must have physical details specified (TYPE:PATH): {spec}"
            )));
        }
        if disk.device_number().is_none() {
            return Err(DeviceError::new(format!(
                "Unable to find number for device ({}) in disk specifier: {spec}",
                disk.vdev_name()
            )));
        }
        Ok(disk)
    }

    /// The SXP device class xm chose from the uname: `tap2`, `tap` or `vbd`.
    pub fn device_class(&self) -> &'static str {
        if self.uname.starts_with("tap2:") {
            "tap2"
        } else if self.uname.starts_with("tap:") {
            "tap"
        } else {
            "vbd"
        }
    }

    /// The backend type before the first `:` (`phy`, `file`, `tap`, `nbd`, ...); `None` for an
    /// empty CD-ROM.
    pub fn backend_type(&self) -> Option<&str> {
        self.uname.split_once(':').map(|(t, _)| t)
    }

    /// The backend's `params`: the source after the type, with a relative `phy:` device under
    /// `/dev/` and the `tap:` driver prefixes (`tap:aio:`, `tap:tapdisk:aio:`) removed
    /// (xen.util.blkif `parse_uname`).
    pub fn params(&self) -> Option<String> {
        let (typ, rest) = self.uname.split_once(':')?;
        match typ {
            "phy" if !rest.starts_with('/') => Some(format!("/dev/{rest}")),
            "tap" | "tap2" => {
                let (driver, path) = rest.split_once(':').unwrap_or(("", rest));
                if matches!(driver, "tapdisk" | "ioemu") {
                    Some(path.split_once(':').map_or(path, |(_, p)| p).to_string())
                } else {
                    Some(path.to_string())
                }
            }
            _ => Some(rest.to_string()),
        }
    }

    /// `tap`/`tap2` driver (`aio`, `qcow`, `vhd`, ...), if any.
    pub fn tap_driver(&self) -> Option<&str> {
        let (typ, rest) = self.uname.split_once(':')?;
        if typ != "tap" && typ != "tap2" {
            return None;
        }
        let (driver, path) = rest.split_once(':')?;
        if matches!(driver, "tapdisk" | "ioemu") {
            path.split_once(':').map(|(d, _)| d)
        } else {
            Some(driver)
        }
    }

    /// The guest device name without the `ioemu:` prefix and `:cdrom`/`:disk` suffix.
    pub fn vdev_name(&self) -> &str {
        let dev = self.vdev.strip_prefix("ioemu:").unwrap_or(&self.vdev);
        dev.split_once(':').map_or(dev, |(d, _)| d)
    }

    /// `cdrom` or `disk` (the text after the device name's `:`, default `disk`).
    pub fn device_type(&self) -> &str {
        let dev = self.vdev.strip_prefix("ioemu:").unwrap_or(&self.vdev);
        dev.split_once(':').map_or("disk", |(_, t)| t)
    }

    pub fn is_cdrom(&self) -> bool {
        self.device_type() == "cdrom"
    }

    /// The device number the guest sees, and whether it is in the extended xvd range
    /// (`virtual-device-ext`).
    pub fn device_number(&self) -> Option<u32> {
        blkdev_name_to_number(self.vdev_name()).map(|(n, _)| n)
    }
}

/// xl's `KEY=VALUE` disk syntax (`vdev=`, `target=`, ...) or its positional
/// `TARGET,FORMAT,VDEV,ACCESS` form.
fn looks_like_xl(fields: &[&str]) -> bool {
    const XL_KEYS: [&str; 6] = [
        "target=",
        "vdev=",
        "format=",
        "access=",
        "backendtype=",
        "devtype=",
    ];
    const XL_FORMATS: [&str; 6] = ["raw", "qcow", "qcow2", "vhd", "qed", ""];
    fields
        .iter()
        .any(|f| XL_KEYS.iter().any(|k| f.trim_start().starts_with(k)))
        || (fields.len() >= 4 && XL_FORMATS.contains(&fields[1].trim()) && !fields[0].contains(':'))
}

/// xen.util.blkif `blkdev_name_to_number`: `xvdaN`, `sdX[N]`, `hdX[N]`, `0x301`, `769`.
/// Returns the number and `true` for the extended (`virtual-device-ext`) xvd range.
pub fn blkdev_name_to_number(name: &str) -> Option<(u32, bool)> {
    let dev = name.strip_prefix("/dev/").unwrap_or(name);
    let letters = |s: &str| -> Option<(Vec<u32>, u32)> {
        let split = s.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(s.len());
        let (l, n) = s.split_at(split);
        let part = if n.is_empty() {
            0
        } else if !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 2 {
            n.parse().ok()?
        } else {
            return None;
        };
        Some((l.bytes().map(|b| u32::from(b - b'a')).collect(), part))
    };
    if name.starts_with('/') && !name.starts_with("/dev/") {
        return None;
    }
    if let Some(rest) = dev.strip_prefix("xvd") {
        let (l, part) = letters(rest)?;
        if part > 15 {
            return None;
        }
        return match l.as_slice() {
            [a] if *a <= 15 => Some(((202 << 8) + (a << 4) + part, false)),
            [a] => Some(((1 << 28) + (a << 8) + part, true)),
            [a, b] if *a <= 8 => Some(((1 << 28) + (((a + 1) * 26 + b) << 8) + part, true)),
            _ => None,
        };
    }
    if let Some(rest) = dev.strip_prefix("sd") {
        const SCSI_MAJOR: [u32; 16] = [
            8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135,
        ];
        let (l, part) = letters(rest)?;
        if part > 15 {
            return None;
        }
        let index = match l.as_slice() {
            [a] => *a,
            [a, b] if *a <= 8 => (a + 1) * 26 + b,
            _ => return None,
        };
        let major = SCSI_MAJOR.get((index / 16) as usize)?;
        return Some((major * 256 + (index % 16) * 16 + part, false));
    }
    if let Some(rest) = dev.strip_prefix("hd") {
        const IDE_MAJOR: [u32; 10] = [3, 22, 33, 34, 56, 57, 88, 89, 90, 91];
        let (l, part) = letters(rest)?;
        return match l.as_slice() {
            [a] if *a < 20 && part <= 63 => Some((
                IDE_MAJOR[(a / 2) as usize] * 256 + (a % 2) * 64 + part,
                false,
            )),
            _ => None,
        };
    }
    // Numeric forms are matched against the name as given, as xend did.
    if let Some(hex) = name.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return u32::from_str_radix(hex, 16).ok().map(|n| (n, false));
        }
        return None;
    }
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name.parse().ok().map(|n| (n, false));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_to_five_field_forms() {
        let d = DiskSpec::parse("phy:xen0001_guests/SL4.7_001,xvda,w").unwrap();
        assert_eq!(d.uname, "phy:xen0001_guests/SL4.7_001");
        assert_eq!(d.vdev, "xvda");
        assert_eq!(d.mode, DiskMode::ReadWrite);
        assert_eq!(d.params().as_deref(), Some("/dev/xen0001_guests/SL4.7_001"));
        assert_eq!(d.device_class(), "vbd");
        assert_eq!(d.device_number(), Some(51712));

        let d = DiskSpec::parse("file:/x.img,xvdb,w!,1,x86_32-abi").unwrap();
        assert_eq!(d.mode, DiskMode::SharedWrite);
        assert_eq!(d.backend.as_deref(), Some("1"));
        assert_eq!(d.protocol.as_deref(), Some("x86_32-abi"));
        assert_eq!(d.params().as_deref(), Some("/x.img"));

        let d = DiskSpec::parse("tap:aio:/root/some.img,xvda,w").unwrap();
        assert_eq!((d.device_class(), d.tap_driver()), ("tap", Some("aio")));
        assert_eq!(d.params().as_deref(), Some("/root/some.img"));
        let d = DiskSpec::parse("tap2:tapdisk:aio:/root/some.img,xvda,w").unwrap();
        assert_eq!((d.device_class(), d.tap_driver()), ("tap2", Some("aio")));
        assert_eq!(d.params().as_deref(), Some("/root/some.img"));
    }

    #[test]
    fn cdroms_and_ioemu_names() {
        let d = DiskSpec::parse(",hdc:cdrom,r").unwrap();
        assert_eq!(
            (d.uname.as_str(), d.vdev_name(), d.is_cdrom()),
            ("", "hdc", true)
        );
        assert_eq!(d.backend_type(), None);
        let d = DiskSpec::parse("phy:/dev/HostVG/XenGuest2,ioemu:hda,w").unwrap();
        assert_eq!((d.vdev_name(), d.device_type()), ("hda", "disk"));
        assert_eq!(d.device_number(), Some(768));
    }

    #[test]
    fn rejects_what_xm_or_xend_rejected() {
        assert_eq!(
            DiskSpec::parse("phy:/dev/x,xvda").unwrap_err().to_string(),
            "Invalid disk specifier: phy:/dev/x,xvda"
        );
        assert!(
            DiskSpec::parse("a,b,c,d,e,f")
                .unwrap_err()
                .to_string()
                .starts_with("Invalid disk specifier")
        );
        let e = DiskSpec::parse("phy:/dev/x, xvda, w")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Invalid mode ' w'"), "{e}");
        assert!(
            DiskSpec::parse(",hda,r")
                .unwrap_err()
                .to_string()
                .contains("physical details")
        );
        assert!(
            DiskSpec::parse("phy:/dev/x,vda,w")
                .unwrap_err()
                .to_string()
                .contains("(vda)")
        );
    }

    #[test]
    fn device_numbers_match_blkif() {
        let n = |s| blkdev_name_to_number(s).map(|x| x.0);
        assert_eq!(n("xvda"), Some(202 << 8));
        assert_eq!(n("xvda1"), Some((202 << 8) + 1));
        assert_eq!(n("xvdc2"), Some((202 << 8) + (2 << 4) + 2));
        assert_eq!(n("xvdp15"), Some((202 << 8) + (15 << 4) + 15));
        assert_eq!(
            blkdev_name_to_number("xvdq"),
            Some(((1 << 28) + (16 << 8), true))
        );
        assert_eq!(n("xvdaa"), Some((1 << 28) + (26 << 8)));
        assert_eq!(n("xvda16"), None);
        assert_eq!(n("xvda0"), None);
        assert_eq!(n("sda"), Some(8 * 256));
        assert_eq!(n("sda1"), Some(8 * 256 + 1));
        assert_eq!(n("sdq"), Some(65 * 256));
        assert_eq!(n("sdaa"), Some(65 * 256 + 10 * 16));
        assert_eq!(n("hda"), Some(3 * 256));
        assert_eq!(n("hdb1"), Some(3 * 256 + 65));
        assert_eq!(n("hdc"), Some(22 * 256));
        assert_eq!(n("hda63"), Some(3 * 256 + 63));
        assert_eq!(n("hda64"), None);
        assert_eq!(n("/dev/hda1"), Some(769));
        assert_eq!(n("0x301"), Some(769));
        assert_eq!(n("769"), Some(769));
        assert_eq!(n(" xvda"), None);
        assert_eq!(n(""), None);
    }
}
