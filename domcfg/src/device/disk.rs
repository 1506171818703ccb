//! `disk = [ 'UNAME,VDEV,MODE[,BACKEND[,PROTOCOL]]' ]`: virtual block devices (vbd).
//!
//! The fields are split on `,` without stripping, as xm did; `uname` and `vdev` go into the
//! SXP as written. What xend checked later (mode, a physical source unless it is a CD-ROM, a
//! device name that maps to a number) is checked here at load time.
//!
//! xl's disk syntax (`xl-disk-configuration(5)`) is accepted too, so that xl.cfg files load:
//! `[TARGET[,FORMAT[,VDEV[,ACCESS]]]]` positionally and/or as `KEY=VALUE` pairs and flags,
//! with `target=` last. See [`XlDisk`] for what is kept and [`DiskSpec::parse`] for how a
//! spec is told to be xl's rather than xm's.
//!
//! xl's grammar is in `disk_xl.rs`; its types are re-exported here. Device names are numbered
//! by [`vdev`](super::vdev).

use serde::Serialize;

use super::DeviceError;
use super::DiskMode;
use super::disk_xl::looks_like_xl;
pub use super::disk_xl::{DiskFormat, XlBackendType, XlDevType, XlDisk, XlSpecification};
// Still reachable here for callers that name it by this path.
use super::vdev::blkdev_name_to_number;
use super::vdev::xl_dp_number;

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
    /// What xl's parser read, when the entry was written in xl's syntax. `uname`, `vdev`,
    /// `mode` and `backend` above are then derived from it (see [`XlDisk::uname`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xl: Option<XlDisk>,
}

impl DiskSpec {
    /// Parse one entry. Errors use xm's and xend's wording.
    ///
    /// An entry is read with xl's parser ([`XlDisk::parse`]) when xm could not have meant it:
    /// a field is one of xl's `KEY=` parameters or flags (`vdev=`, `target=`, `cdrom`,
    /// `discard`, ...), the second field is an image format or empty (`/img,qcow2,xvda`,
    /// `/dev/vg/lv,,hda` — never a device name xm could number), or there are more than
    /// five fields. Everything else, including every 3-to-5-field `UNAME,VDEV,MODE,...` xm
    /// entry (`phy:sda8,sda1,w`, `tap:aio:/x,xvda,w,0`, `,hdc:cdrom,r`), is xm's.
    pub fn parse(spec: &str) -> Result<DiskSpec, DeviceError> {
        let fields: Vec<&str> = spec.split(',').collect();
        if looks_like_xl(&fields) {
            return XlDisk::parse(spec).and_then(|xl| DiskSpec::from_xl(xl, spec));
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
            xl: None,
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

    /// The device number the guest sees (xen.util.blkif; for an xl entry also libxl's
    /// `dDISKpPART` form).
    pub fn device_number(&self) -> Option<u32> {
        let name = self.vdev_name();
        blkdev_name_to_number(name)
            .map(|(n, _)| n)
            .or_else(|| self.xl.as_ref().and_then(|_| xl_dp_number(name)))
    }
}

impl DiskSpec {
    /// The entry xl's parser read, as xm's fields. The mode is `r` for a CD-ROM (xl makes
    /// them read-only) and the device is written `VDEV:cdrom` as xm wrote CD-ROMs.
    pub(super) fn from_xl(xl: XlDisk, spec: &str) -> Result<DiskSpec, DeviceError> {
        let bad =
            |what: String| DeviceError::new(format!("Invalid disk specifier: {spec} ({what})"));
        let cdrom = xl.devtype == XlDevType::Cdrom;
        if xl.target.as_deref().is_none_or(str::is_empty) && !cdrom {
            return Err(bad("no target specified (and device not removable)".into()));
        }
        if xl.backendtype == Some(XlBackendType::Phy) && !matches!(xl.format, DiskFormat::Raw) {
            return Err(bad(format!(
                "backendtype=phy takes only raw images, not format={}",
                xl.format.as_str()
            )));
        }
        let disk = DiskSpec {
            uname: xl.uname(),
            vdev: if cdrom {
                format!("{}:cdrom", xl.vdev)
            } else {
                xl.vdev.clone()
            },
            mode: if cdrom { DiskMode::ReadOnly } else { xl.access },
            backend: xl.backend.clone().filter(|b| !b.is_empty()),
            protocol: None,
            xl: Some(xl),
        };
        if disk.device_number().is_none() {
            return Err(bad(format!(
                "unable to find number for device ({})",
                disk.vdev_name()
            )));
        }
        Ok(disk)
    }
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
}
