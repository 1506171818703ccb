//! xl's disk syntax (`xl-disk-configuration(5)`), so that xl.cfg files load: libxlu's
//! scanner ([`XlDisk::parse`]), the types it fills in, the xm `uname` an xl entry amounts to,
//! and the test that tells an entry is xl's rather than xm's (see [`DiskSpec::parse`]).
//! [`disk`](super::disk) re-exports the public types.

use serde::Serialize;

use super::DeviceError;
use super::DiskMode;

/// An image format (xl's `format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskFormat {
    Raw,
    Qcow,
    Qcow2,
    Vhd,
    Qed,
    /// No medium: an empty CD-ROM drive.
    Empty,
}

impl DiskFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow => "qcow",
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Vhd => "vhd",
            DiskFormat::Qed => "qed",
            DiskFormat::Empty => "empty",
        }
    }

    /// libxlu's `setformat`: `''` is raw.
    fn parse(text: &str) -> Option<DiskFormat> {
        Some(match text {
            "" | "raw" => DiskFormat::Raw,
            "qcow" => DiskFormat::Qcow,
            "qcow2" => DiskFormat::Qcow2,
            "vhd" => DiskFormat::Vhd,
            "qed" => DiskFormat::Qed,
            "empty" => DiskFormat::Empty,
            _ => return None,
        })
    }
}

/// xl's `backendtype=`: which backend implementation serves the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum XlBackendType {
    /// The kernel's blkback.
    Phy,
    /// blktap.
    Tap,
    /// QEMU's Xen disk backend.
    Qdisk,
    /// None set up by the toolstack (virtio).
    Standalone,
}

/// xl's `devtype=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum XlDevType {
    Disk,
    Cdrom,
}

/// xl's `specification=`: the protocol the guest sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum XlSpecification {
    Xen,
    Virtio,
}

/// A `disk` entry in xl's syntax, as libxlu's disk parser (`libxlu_disk_l.l`, Xen 4.17)
/// read it: positional `TARGET,FORMAT,VDEV,ACCESS` (empty fields allowed), the named
/// parameters `target=` (takes the rest of the entry, commas included), `format=`, `vdev=`,
/// `access=` (`r`/`ro`/`rw`/`w`), `devtype=cdrom|disk`, `backendtype=phy|tap|qdisk|standalone`,
/// `backend=DOMAIN`, `script=`, `specification=xen|virtio`, `colo-host=`, `colo-port=`,
/// `colo-export=`, `active-disk=`, `hidden-disk=`, the flags `cdrom`, `direct-io-safe`,
/// `discard`/`no-discard`, `trusted`/`untrusted`, `colo`/`no-colo`, and the deprecated forms:
/// the prefixes `raw:`/`qcow:`/`qcow2:`/`vhd:` (a format), `iscsi:`/`nbd:`/`enbd:`/`drbd:`
/// (`script=block-NAME`), `tap:`/`tap2:`/`tapdisk:`/`aio:`/`ioemu:`/`file:`/`phy:` (ignored),
/// and `VDEV:cdrom`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XlDisk {
    /// The image or device (`None` or empty: an empty CD-ROM drive).
    pub target: Option<String>,
    /// Default raw; `empty` for a CD-ROM without a target.
    pub format: DiskFormat,
    /// The guest device (`xvda`, `hdc`, `d0p1`), without `:cdrom`.
    pub vdev: String,
    /// `r` or `w` as given (default `w`); a CD-ROM is read-only whatever this says.
    pub access: DiskMode,
    pub devtype: XlDevType,
    /// `None`: libxl chooses.
    pub backendtype: Option<XlBackendType>,
    /// The backend domain's name, if not dom0.
    pub backend: Option<String>,
    /// A block script (`block-nbd`, or a path) that interprets the target.
    pub script: Option<String>,
    pub specification: Option<XlSpecification>,
    pub direct_io_safe: bool,
    /// `discard` / `no-discard`; `None`: the default (discard).
    pub discard: Option<bool>,
    /// `trusted` / `untrusted`; `None`: the default (trusted).
    pub trusted: Option<bool>,
    /// COLO replication (`colo` / `no-colo` and its parameters).
    pub colo: Option<bool>,
    pub colo_host: Option<String>,
    pub colo_port: Option<u32>,
    pub colo_export: Option<String>,
    pub active_disk: Option<String>,
    pub hidden_disk: Option<String>,
}

/// libxlu's flags: a whole field, matched exactly.
const XL_FLAGS: [&str; 8] = [
    "cdrom",
    "direct-io-safe",
    "discard",
    "no-discard",
    "colo",
    "no-colo",
    "trusted",
    "untrusted",
];

/// libxlu's named parameters (`target=` is handled first: it takes the rest).
const XL_KEYS: [&str; 13] = [
    "format",
    "devtype",
    "access",
    "backend",
    "backendtype",
    "specification",
    "vdev",
    "script",
    "colo-host",
    "colo-port",
    "colo-export",
    "active-disk",
    "hidden-disk",
];

impl XlDisk {
    /// Parse an entry as libxlu's scanner does: at each point skip whitespace, then take
    /// `target=REST`, a `KEY=VALUE,` parameter, a `FLAG,`, a deprecated `PREFIX:`, or a
    /// positional `TEXT,` (no `=`), whichever flex would match. A value is respecified only
    /// if it was empty before. Errors name the offending text.
    pub fn parse(spec: &str) -> Result<XlDisk, DeviceError> {
        let mut p = XlParser {
            spec,
            disk: XlDisk {
                target: None,
                format: DiskFormat::Raw,
                vdev: String::new(),
                access: DiskMode::ReadWrite,
                devtype: XlDevType::Disk,
                backendtype: None,
                backend: None,
                script: None,
                specification: None,
                direct_io_safe: false,
                discard: None,
                trusted: None,
                colo: None,
                colo_host: None,
                colo_port: None,
                colo_export: None,
                active_disk: None,
                hidden_disk: None,
            },
            format: None,
            vdev: None,
            access_set: false,
            had_prefix: false,
        };
        p.scan()?;
        let XlParser {
            mut disk,
            format,
            vdev,
            ..
        } = p;
        disk.format = format.unwrap_or(DiskFormat::Raw);
        if disk.devtype == XlDevType::Cdrom {
            disk.access = DiskMode::ReadOnly;
            if disk.target.as_deref().is_none_or(str::is_empty) {
                disk.format = DiskFormat::Empty;
            }
        }
        disk.vdev = vdev.ok_or_else(|| {
            DeviceError::new(format!(
                "Invalid disk specifier: {spec} (no vdev specified)"
            ))
        })?;
        Ok(disk)
    }

    /// The xm `uname` this disk is equivalent to, for the dry-run SXP and for code that
    /// attaches disks by uname:
    ///
    /// | xl entry | uname |
    /// |---|---|
    /// | no target (empty CD-ROM) | `''` |
    /// | `script=block-S` or `script=S` (`nbd:`, `iscsi:`, `drbd:` prefixes) | `S:TARGET` |
    /// | `backendtype=phy` | `phy:TARGET` |
    /// | raw, `backendtype=qdisk` or `tap` | `tap:aio:TARGET` |
    /// | raw, no backendtype (or `standalone`), TARGET under `/dev/` | `phy:TARGET` |
    /// | raw, no backendtype (or `standalone`), any other TARGET | `file:TARGET` |
    /// | qcow, qcow2, vhd, qed (any backendtype but phy) | `tap:FORMAT:TARGET` |
    ///
    /// The target is kept as written (a relative `phy:` device is under `/dev/`, as in xm).
    pub fn uname(&self) -> String {
        let target = match self.target.as_deref() {
            Some(t) if !t.is_empty() && self.format != DiskFormat::Empty => t,
            _ => return String::new(),
        };
        if let Some(script) = &self.script {
            let name = script.rsplit('/').next().unwrap_or(script);
            let name = name.strip_prefix("block-").unwrap_or(name);
            return format!("{name}:{target}");
        }
        match (self.format, self.backendtype) {
            (_, Some(XlBackendType::Phy)) => format!("phy:{target}"),
            (DiskFormat::Raw, Some(XlBackendType::Qdisk | XlBackendType::Tap)) => {
                format!("tap:aio:{target}")
            }
            (DiskFormat::Raw, _) if target.starts_with("/dev/") => format!("phy:{target}"),
            (DiskFormat::Raw, _) => format!("file:{target}"),
            (format, _) => format!("tap:{}:{target}", format.as_str()),
        }
    }
}

/// The scanner's state (libxlu's `DiskParseContext`).
struct XlParser<'a> {
    spec: &'a str,
    disk: XlDisk,
    /// `None` until a format is given (positional, `format=` or a prefix).
    format: Option<DiskFormat>,
    vdev: Option<String>,
    access_set: bool,
    had_prefix: bool,
}

/// An error in an xl entry, naming the offending text.
fn xl_err(spec: &str, message: &str, text: &str) -> DeviceError {
    DeviceError::new(format!(
        "Invalid disk specifier: {spec} ({message}: '{text}')"
    ))
}

/// libxlu's `savestring`: a value may be given again only if it was empty.
fn save(spec: &str, slot: &mut Option<String>, what: &str, value: &str) -> Result<(), DeviceError> {
    if slot.as_deref().is_some_and(|v| !v.is_empty()) {
        return Err(xl_err(spec, &format!("{what} respecified"), value));
    }
    *slot = Some(value.to_string());
    Ok(())
}

impl XlParser<'_> {
    fn err(&self, message: &str, text: &str) -> DeviceError {
        xl_err(self.spec, message, text)
    }

    /// `DSET` for the format: a second, different format is an error.
    fn set_format(&mut self, text: &str) -> Result<(), DeviceError> {
        let f =
            DiskFormat::parse(text).ok_or_else(|| self.err("unknown value for format", text))?;
        if self.format.is_some_and(|old| old != f) {
            return Err(self.err("format respecified", text));
        }
        self.format = Some(f);
        Ok(())
    }

    fn set_access(&mut self, text: &str) -> Result<(), DeviceError> {
        self.disk.access = match text {
            "r" | "ro" => DiskMode::ReadOnly,
            "rw" | "w" | "" => DiskMode::ReadWrite,
            _ => return Err(self.err("unknown value for access", text)),
        };
        Ok(())
    }

    /// A positional `VDEV:DEVTYPE`; false (nothing done) without a `:`.
    fn vdev_and_devtype(&mut self, text: &str) -> Result<bool, DeviceError> {
        let Some((vdev, devtype)) = text.rsplit_once(':') else {
            return Ok(false);
        };
        save(self.spec, &mut self.vdev, "vdev", vdev)?;
        self.disk.devtype = match devtype {
            "cdrom" => XlDevType::Cdrom,
            "disk" => XlDevType::Disk,
            _ => return Err(self.err("unknown deprecated type", devtype)),
        };
        Ok(true)
    }

    fn positional(&mut self, text: &str) -> Result<(), DeviceError> {
        if self.disk.target.is_none() {
            self.disk.target = Some(text.to_string());
        } else if !self.had_prefix && self.format.is_none() {
            if self.disk.target.as_deref() == Some("") && self.vdev_and_devtype(text)? {
                self.format = Some(DiskFormat::Empty);
            } else {
                self.set_format(text)?;
            }
        } else if self.vdev.is_none() {
            if !self.vdev_and_devtype(text)? {
                self.vdev = Some(text.to_string());
            }
        } else if !self.access_set {
            self.access_set = true;
            self.set_access(text)?;
        } else {
            return Err(self.err("too many positional parameters", text));
        }
        Ok(())
    }

    fn keyword(&mut self, key: &str, value: &str) -> Result<(), DeviceError> {
        let d = &mut self.disk;
        match key {
            "format" => return self.set_format(value),
            "access" => return self.set_access(value),
            "devtype" => {
                d.devtype = match value {
                    "cdrom" => XlDevType::Cdrom,
                    "disk" => XlDevType::Disk,
                    _ => return Err(self.err("unknown value for type", value)),
                }
            }
            "backendtype" => {
                let t = match value {
                    "phy" => XlBackendType::Phy,
                    "tap" => XlBackendType::Tap,
                    "qdisk" => XlBackendType::Qdisk,
                    "standalone" => XlBackendType::Standalone,
                    _ => return Err(self.err("unknown value for backendtype", value)),
                };
                if d.backendtype.is_some_and(|old| old != t) {
                    return Err(self.err("backend respecified", value));
                }
                d.backendtype = Some(t);
            }
            "specification" => {
                d.specification = Some(match value {
                    "xen" => XlSpecification::Xen,
                    "virtio" => XlSpecification::Virtio,
                    _ => return Err(self.err("unknown value for specification", value)),
                });
            }
            "colo-port" => match value.parse::<u32>() {
                Ok(port) if port != 0 => d.colo_port = Some(port),
                _ => return Err(self.err("unknown value for colo_port", value)),
            },
            _ => {
                let slot = match key {
                    "backend" => &mut d.backend,
                    "vdev" => &mut self.vdev,
                    "script" => &mut d.script,
                    "colo-host" => &mut d.colo_host,
                    "colo-export" => &mut d.colo_export,
                    "active-disk" => &mut d.active_disk,
                    _ => &mut d.hidden_disk,
                };
                return save(self.spec, slot, key, value);
            }
        }
        Ok(())
    }

    fn flag(&mut self, flag: &str) {
        let d = &mut self.disk;
        match flag {
            "cdrom" => d.devtype = XlDevType::Cdrom,
            "direct-io-safe" => d.direct_io_safe = true,
            "discard" => d.discard = Some(true),
            "no-discard" => d.discard = Some(false),
            "colo" => d.colo = Some(true),
            "no-colo" => d.colo = Some(false),
            "trusted" => d.trusted = Some(true),
            _ => d.trusted = Some(false),
        }
    }

    /// A deprecated `PREFIX:` at the start of `rest`: `Some(len)` consumed, `None` if `rest`
    /// does not start with one (a positional such as `hdc:cdrom` or `rbd:pool/image`).
    fn prefix(&mut self, rest: &str) -> Result<Option<usize>, DeviceError> {
        let b = rest.as_bytes();
        if !b.first().is_some_and(u8::is_ascii_lowercase) {
            return Ok(None);
        }
        let n = b
            .iter()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .count();
        if b.get(n) != Some(&b':') {
            return Ok(None);
        }
        let name = &rest[..n];
        match name {
            "raw" | "qcow" | "qcow2" | "vhd" => self.set_format(name)?,
            "iscsi" | "nbd" | "enbd" | "drbd" => {
                let script = format!("block-{name}");
                save(self.spec, &mut self.disk.script, "script", &script)?;
            }
            "tapdisk" | "tap" | "tap2" | "aio" | "ioemu" | "file" | "phy" => {}
            _ => {
                // Followed by a name character, it is part of a positional value.
                let next = b.get(n + 1);
                if next.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
                    return Ok(None);
                }
                return Err(self.err("unknown deprecated disk prefix", rest));
            }
        }
        self.had_prefix = true;
        Ok(Some(n + 1))
    }

    fn scan(&mut self) -> Result<(), DeviceError> {
        let spec = self.spec;
        let mut i = 0;
        while i < spec.len() {
            let rest = &spec[i..];
            let ws = rest.len() - rest.trim_start_matches([' ', '\t', '\n']).len();
            if ws > 0 {
                i += ws;
                continue;
            }
            if let Some(value) = rest.strip_prefix("target=") {
                // Beyond xl: libvirt writes `target=PATH,format=qed,...` (test-disk-qed.cfg),
                // which xl would take as one path. Parameters after the path end it.
                let end = trailing_params_start(value);
                let target = value[..end].strip_suffix(',').unwrap_or(&value[..end]);
                save(self.spec, &mut self.disk.target, "target", target)?;
                i += "target=".len() + end;
                continue;
            }
            let field_len = rest.find(',').unwrap_or(rest.len());
            let field = &rest[..field_len];
            let consumed = (field_len + 1).min(rest.len());
            if let Some((key, value)) = field.split_once('=') {
                if XL_KEYS.contains(&key) {
                    self.keyword(key, value)?;
                    i += consumed;
                    continue;
                }
                let b = key.as_bytes();
                if b.first().is_some_and(u8::is_ascii_lowercase)
                    && b.iter()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                {
                    return Err(self.err("unknown parameter", field));
                }
            }
            if XL_FLAGS.contains(&field) {
                self.flag(field);
                i += consumed;
                continue;
            }
            if let Some(n) = self.prefix(rest)? {
                i += n;
                continue;
            }
            if field.contains('=') {
                return Err(self.err("bad disk syntax", rest));
            }
            self.positional(field)?;
            i += consumed;
        }
        Ok(())
    }
}

/// Where the named parameters and flags that follow a `target=` value start: the first
/// `,` after which every field is one (not `target=`), else the end of the value.
fn trailing_params_start(value: &str) -> usize {
    let is_param = |f: &str| {
        let f = f.trim_start_matches([' ', '\t', '\n']);
        XL_FLAGS.contains(&f) || f.split_once('=').is_some_and(|(k, _)| XL_KEYS.contains(&k))
    };
    value
        .match_indices(',')
        .map(|(i, _)| i)
        .find(|&i| {
            let tail = &value[i + 1..];
            !tail.is_empty() && tail.split(',').all(is_param)
        })
        .map_or(value.len(), |i| i + 1)
}

/// Whether an entry is in xl's syntax rather than xm's (see [`DiskSpec::parse`]).
pub(super) fn looks_like_xl(fields: &[&str]) -> bool {
    let keyword = |f: &str| {
        let f = f.trim_start_matches([' ', '\t', '\n']);
        f.starts_with("target=")
            || XL_FLAGS.contains(&f)
            || f.split_once('=').is_some_and(|(k, _)| XL_KEYS.contains(&k))
    };
    let format = |f: &str| DiskFormat::parse(f.trim()).is_some();
    fields.len() > 5
        || fields.iter().any(|f| keyword(f))
        || fields.get(1).is_some_and(|f| format(f))
}

#[cfg(test)]
mod tests {
    use super::super::DiskSpec;
    use super::*;

    fn xl(spec: &str) -> XlDisk {
        let d = DiskSpec::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        d.xl.unwrap_or_else(|| panic!("{spec}: read as xm"))
    }

    fn xl_err(spec: &str) -> String {
        DiskSpec::parse(spec).unwrap_err().to_string()
    }

    /// (target, format, vdev, access, cdrom)
    fn summary(d: &XlDisk) -> (Option<&str>, DiskFormat, &str, DiskMode, bool) {
        (
            d.target.as_deref(),
            d.format,
            d.vdev.as_str(),
            d.access,
            d.devtype == XlDevType::Cdrom,
        )
    }

    // The cases of Xen's tools/xl/check-xl-disk-parse that are one string.
    #[test]
    fn xl_equivalent_disk_forms() {
        let want = (
            Some("/dev/vg/guest-volume"),
            DiskFormat::Raw,
            "hda",
            DiskMode::ReadWrite,
            false,
        );
        for spec in [
            "/dev/vg/guest-volume,,hda",
            "/dev/vg/guest-volume,raw,hda,rw",
            "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
        ] {
            assert_eq!(summary(&xl(spec)), want, "{spec}");
        }
        // The deprecated form is xm's own syntax, read as xm.
        assert!(
            DiskSpec::parse("raw:/dev/vg/guest-volume,hda,w")
                .unwrap()
                .xl
                .is_none()
        );

        let want = (
            Some("/root/image.iso"),
            DiskFormat::Raw,
            "hdc",
            DiskMode::ReadOnly,
            true,
        );
        for spec in [
            "/root/image.iso,,hdc,cdrom",
            "/root/image.iso,,hdc,,cdrom",
            "/root/image.iso,raw,hdc,devtype=cdrom",
            "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
        ] {
            assert_eq!(summary(&xl(spec)), want, "{spec}");
        }

        let d = xl("backendtype=phy,vdev=xvdb,access=w,target=/dev/vg/guest-volume");
        assert_eq!(d.backendtype, Some(XlBackendType::Phy));
        assert_eq!(d.vdev, "xvdb");

        // Empty CD-ROM drives.
        for spec in [
            "devtype=cdrom,,,hdc",
            ",,hdc:cdrom,r",
            "vdev=hdc,access=r,devtype=cdrom,target=",
            ",empty,hdc:cdrom,r",
        ] {
            assert_eq!(
                summary(&xl(spec)),
                (Some(""), DiskFormat::Empty, "hdc", DiskMode::ReadOnly, true),
                "{spec}"
            );
        }
        for spec in [
            "vdev=hdc,access=r,devtype=cdrom,format=empty",
            "vdev=hdc,access=r,devtype=cdrom",
        ] {
            assert_eq!(
                summary(&xl(spec)),
                (None, DiskFormat::Empty, "hdc", DiskMode::ReadOnly, true),
                "{spec}"
            );
        }

        let d = xl(
            "vdev=xvda,access=w,script=block-iscsi,target=iqn.2001-05.com.equallogic:0-8a0906-23fe93404",
        );
        assert_eq!(d.script.as_deref(), Some("block-iscsi"));
        assert_eq!(
            d.target.as_deref(),
            Some("iqn.2001-05.com.equallogic:0-8a0906-23fe93404")
        );
        let d = xl(" discard, vdev=hda, target=/some/disk/image.raw");
        assert_eq!(d.discard, Some(true));
        let d = xl("cdrom,no-discard,vdev=hda,target=/some/disk/image.iso");
        assert_eq!((d.discard, d.devtype), (Some(false), XlDevType::Cdrom));
        assert_eq!(xl("trusted,vdev=hda,target=/x").trusted, Some(true));
        assert_eq!(xl("untrusted,vdev=hda,target=/x").trusted, Some(false));
    }

    #[test]
    fn xl_other_parameters_and_prefixes() {
        let d = xl(
            "direct-io-safe,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e,active-disk=/a,hidden-disk=/h,specification=virtio,backend=drv,vdev=xvda,target=/x",
        );
        assert!(d.direct_io_safe);
        assert_eq!(d.colo, Some(true));
        assert_eq!(d.colo_host.as_deref(), Some("10.0.0.2"));
        assert_eq!(d.colo_port, Some(9000));
        assert_eq!(d.colo_export.as_deref(), Some("e"));
        assert_eq!(d.active_disk.as_deref(), Some("/a"));
        assert_eq!(d.hidden_disk.as_deref(), Some("/h"));
        assert_eq!(d.specification, Some(XlSpecification::Virtio));
        assert_eq!(d.backend.as_deref(), Some("drv"));
        assert_eq!(
            DiskSpec::parse("backend=drv,vdev=xvda,target=/x")
                .unwrap()
                .backend
                .as_deref(),
            Some("drv")
        );
        // target= takes the rest, commas included.
        assert_eq!(xl("vdev=xvda,target=/a,b").target.as_deref(), Some("/a,b"));
        // ... but parameters that follow a path end it (libvirt writes target= first).
        let d = xl("target=/var/lib/img,format=qed,backendtype=qdisk,vdev=hda,access=rw");
        assert_eq!(
            summary(&d),
            (
                Some("/var/lib/img"),
                DiskFormat::Qed,
                "hda",
                DiskMode::ReadWrite,
                false
            )
        );
        // Deprecated prefixes: a format, a script, or ignored.
        let d = xl("qcow2:/img.q2,xvda,w,discard");
        assert_eq!(
            (d.target.as_deref(), d.format, d.vdev.as_str()),
            (Some("/img.q2"), DiskFormat::Qcow2, "xvda")
        );
        let d = xl("nbd:host 1234,xvda,w,discard");
        assert_eq!(
            (d.script.as_deref(), d.target.as_deref()),
            (Some("block-nbd"), Some("host 1234"))
        );
        let d = xl("tap:aio:/img,xvda,w,trusted");
        assert_eq!(
            (d.target.as_deref(), d.format),
            (Some("/img"), DiskFormat::Raw)
        );
        // A colon inside a positional value is not a prefix.
        assert_eq!(
            xl("rbd:pool/image,raw,xvda").target.as_deref(),
            Some("rbd:pool/image")
        );
        // Access: r/ro/rw/w; the xm-only `w!` is not xl's.
        assert_eq!(xl("/x,raw,xvda,ro").access, DiskMode::ReadOnly);
        assert_eq!(xl("/x,raw,xvda,r").access, DiskMode::ReadOnly);
        assert_eq!(xl("/x,raw,xvda,w").access, DiskMode::ReadWrite);
        // libxl's dDISKpPART names.
        let d = DiskSpec::parse("/x,raw,d0p1").unwrap();
        assert_eq!(d.device_number(), Some((202 << 8) | 1));
        let d = DiskSpec::parse("/x,raw,d16p0").unwrap();
        assert_eq!(d.device_number(), Some((1 << 28) | (16 << 8)));
    }

    #[test]
    fn xl_disks_map_to_xm_unames() {
        let u = |spec: &str| {
            let d = DiskSpec::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert!(d.xl.is_some(), "{spec}");
            let class = d.device_class();
            (d.uname, d.vdev, d.mode.as_str(), class)
        };
        assert_eq!(
            u("format=raw,vdev=hda,access=rw,backendtype=phy,target=/dev/HostVG/XenGuest2"),
            ("phy:/dev/HostVG/XenGuest2".into(), "hda".into(), "w", "vbd")
        );
        assert_eq!(u("backendtype=phy,vdev=xvda,target=vg/lv").0, "phy:vg/lv");
        assert_eq!(u("/dev/vg/lv,raw,xvda").0, "phy:/dev/vg/lv");
        assert_eq!(u("/srv/img,raw,xvda").0, "file:/srv/img");
        assert_eq!(
            u("/srv/img,raw,xvda,backendtype=standalone").0,
            "file:/srv/img"
        );
        assert_eq!(
            u("/srv/img,raw,xvda,backendtype=qdisk"),
            ("tap:aio:/srv/img".into(), "xvda".into(), "w", "tap")
        );
        assert_eq!(u("/srv/img,raw,xvda,backendtype=tap").0, "tap:aio:/srv/img");
        assert_eq!(
            u("/dev/vg/lv,raw,xvda,backendtype=qdisk").0,
            "tap:aio:/dev/vg/lv"
        );
        assert_eq!(u("/srv/img,qcow2,xvda").0, "tap:qcow2:/srv/img");
        assert_eq!(
            u("/srv/img,qcow,xvda,backendtype=qdisk").0,
            "tap:qcow:/srv/img"
        );
        assert_eq!(u("/srv/img,vhd,xvda").0, "tap:vhd:/srv/img");
        assert_eq!(u("/srv/img,qed,xvda").0, "tap:qed:/srv/img");
        assert_eq!(u("nbd:host 1234,xvda,w,discard").0, "nbd:host 1234");
        assert_eq!(
            u("script=/etc/xen/scripts/block-drbd,vdev=xvda,target=r0").0,
            "drbd:r0"
        );
        assert_eq!(
            u("/root/boot.iso,raw,hdc,r,backendtype=qdisk,devtype=cdrom"),
            (
                "tap:aio:/root/boot.iso".into(),
                "hdc:cdrom".into(),
                "r",
                "tap"
            )
        );
        // A CD-ROM is read-only even if written rw; an empty one has no uname.
        assert_eq!(
            u("/root/boot.iso,,hdc,rw,cdrom"),
            ("file:/root/boot.iso".into(), "hdc:cdrom".into(), "r", "vbd")
        );
        assert_eq!(
            u(",,hdc:cdrom,r"),
            (String::new(), "hdc:cdrom".into(), "r", "vbd")
        );
        let d = DiskSpec::parse("vdev=hdc,devtype=cdrom").unwrap();
        assert!(d.is_cdrom() && d.uname.is_empty() && d.params().is_none());
        let d = DiskSpec::parse("/srv/img,qcow2,xvdb,ro").unwrap();
        assert_eq!(
            (d.params().as_deref(), d.tap_driver()),
            (Some("/srv/img"), Some("qcow2"))
        );
        assert_eq!(d.device_number(), Some((202 << 8) + 16));
    }

    #[test]
    fn xl_errors_name_the_spec_and_the_text() {
        for (spec, why) in [
            ("/x,foo,xvda,cdrom", "unknown value for format: 'foo'"),
            ("/x,raw,xvda,x", "unknown value for access: 'x'"),
            (
                "/x,raw,xvda,w,extra",
                "too many positional parameters: 'extra'",
            ),
            ("format=raw,target=/x", "no vdev specified"),
            (
                "/x,raw,xvda,backendtype=nvme",
                "unknown value for backendtype: 'nvme'",
            ),
            (
                "/x,raw,xvda,devtype=floppy",
                "unknown value for type: 'floppy'",
            ),
            (
                "/x,raw,xvda,specification=scsi",
                "unknown value for specification: 'scsi'",
            ),
            (
                "/x,raw,xvda,colo-port=0",
                "unknown value for colo_port: '0'",
            ),
            ("/x,raw,xvda,flavour=x", "unknown parameter: 'flavour=x'"),
            ("/x,raw,xvda,vdev=xvdb", "vdev respecified: 'xvdb'"),
            ("/x,raw,xvda,format=qcow2", "format respecified: 'qcow2'"),
            (
                "/x,raw,xvda,backendtype=phy,backendtype=qdisk",
                "backend respecified: 'qdisk'",
            ),
            (
                "foo:/x,raw,xvda",
                "unknown deprecated disk prefix: 'foo:/x,raw,xvda'",
            ),
            ("/x,raw,xvda,A=b", "bad disk syntax: 'A=b'"),
            ("/x,raw,hdc:floppy", "unknown deprecated type: 'floppy'"),
            (
                "format=raw,vdev=xvda",
                "no target specified (and device not removable)",
            ),
            (",,xvda", "no target specified (and device not removable)"),
            (
                "/x,qcow2,xvda,backendtype=phy",
                "backendtype=phy takes only raw images, not format=qcow2",
            ),
            ("/x,raw,vda", "unable to find number for device (vda)"),
        ] {
            assert_eq!(
                xl_err(spec),
                format!("Invalid disk specifier: {spec} ({why})")
            );
        }
    }

    #[test]
    fn xm_specs_are_not_read_as_xl() {
        for spec in [
            "phy:sda8,sda1,w",
            "tap:aio:/x,xvda,w,0",
            ",hdc:cdrom,r",
            "file:/x.img,xvdb,w!,1,x86_32-abi",
            "phy:/dev/HostVG/XenGuest2,ioemu:hda,w",
            "iscsi:iqn.2001-05.com.example:x,xvda,w",
        ] {
            assert!(DiskSpec::parse(spec).unwrap().xl.is_none(), "{spec}");
        }
        // xm's own errors stay xm's.
        assert_eq!(
            xl_err("phy:/dev/x, xvda, w"),
            "Invalid mode ' w' in disk specifier: phy:/dev/x, xvda, w (expected r, w or w!)"
        );
        assert_eq!(
            xl_err("/dev/sda,xvda,w"),
            "Block device must have physical details specified (TYPE:PATH): /dev/sda,xvda,w"
        );
    }
}
