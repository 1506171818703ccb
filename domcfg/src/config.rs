//! [`DomainConfig`]: the typed domain configuration, built from xm's option values the way
//! xm 4.1's `preprocess` and `make_config` read them.
//!
//! Fields keep xm's meaning and, where the SXP text depends on it, the information needed to
//! print exactly what xm printed (`cpus = ""` stays distinct from "no cpus"; `serial` may be a
//! string or a list). What xend would have rejected later (a non-numeric `memory`, a bad disk
//! mode, an unknown action, a domain name that breaks xend's rule, see [`check_name`]) is
//! rejected here, with the config file, line and column.

use serde::Serialize;

use crate::device::{
    DeviceError, DiskSpec, IoPorts, PciDev, VfbSpec, Vif2Spec, VifSpec, VtpmSpec, VusbSpec,
    vfb::VfbDefaults,
};
use crate::error::{ConfigError, Location};
use crate::options::{Options, py_int};
use crate::sxp::{Sxp, py_float_str, py_repr};
use crate::value::Value;
use crate::xlkeys::{self, XlKey};

/// What to do when the guest powers off, reboots or crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Destroy,
    Restart,
    Preserve,
    RenameRestart,
    CoredumpDestroy,
    CoredumpRestart,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Destroy,
        Action::Restart,
        Action::Preserve,
        Action::RenameRestart,
        Action::CoredumpDestroy,
        Action::CoredumpRestart,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Destroy => "destroy",
            Action::Restart => "restart",
            Action::Preserve => "preserve",
            Action::RenameRestart => "rename-restart",
            Action::CoredumpDestroy => "coredump-destroy",
            Action::CoredumpRestart => "coredump-restart",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// `cpus`: where the vcpus may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CpuSpec {
    /// One mask for all vcpus: `"0-3,^1"`. The empty string means "no pinning".
    All(String),
    /// One mask per vcpu: `["2", "3"]`.
    PerVcpu(Vec<String>),
}

impl CpuSpec {
    /// True when the domain is not pinned at all (`cpus = ""`).
    pub fn is_unpinned(&self) -> bool {
        match self {
            CpuSpec::All(s) => s.trim().is_empty(),
            CpuSpec::PerVcpu(v) => v.iter().all(|s| s.trim().is_empty()),
        }
    }
}

/// Backend roles this domain plays for others (`blkif`, `netif`, `tpmif`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackendRoles {
    pub blkif: bool,
    pub netif: bool,
    pub tpmif: bool,
}

/// The `(image (BUILDER ...))` part: how the domain is booted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Image {
    /// `linux` (PV) or `hvm`.
    pub builder: String,
    pub kernel: Option<String>,
    pub ramdisk: Option<String>,
    pub loader: Option<String>,
    /// `kernel` came from the command line (`xm create cfg kernel=...`): it is a dom0 file and
    /// wins over the config's `bootloader` (the seed's install-from-an-installer-kernel
    /// workflow). Otherwise, with a bootloader, `kernel`/`ramdisk` name files inside the guest's
    /// disk, for the bootloader to pick.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kernel_from_command_line: bool,
    /// The kernel `ip=` autoconfiguration text built from `ip`, `gateway`, `netmask`,
    /// `hostname`, `interface`, `dhcp`, `nfs_server`; empty if none.
    pub ip: String,
    /// The root device for the kernel command line (`root=` stripped); empty if none.
    pub root: String,
    /// The rest of the kernel command line (`extra`, with `nfsroot=` prepended); empty if none.
    pub args: String,
    pub videoram: i64,
    /// A string or a list of strings (xm printed either); `Value::None` or `''` when unset.
    pub parallel: Value,
    pub serial: Value,
    pub monitor: i64,
    pub monitor_path: String,
    pub superpages: i64,
    pub vhpt: i64,
    pub tsc_mode: i64,
    pub nomigrate: i64,
    /// HVM device-model settings (`acpi`, `boot`, `vnc`, ...), present for `builder = 'hvm'`.
    pub hvm: Option<HvmSettings>,
}

/// The keys xm 4.1 copied into `(image (hvm ...))`, in its order. `vcpus`, `pci`, `oos`,
/// `localtime`, `cpuid` and `cpuid_check` come from the typed fields; the rest are kept as
/// written in [`HvmSettings`].
pub const HVM_KEYS: [&str; 43] = [
    "acpi",
    "apic",
    "boot",
    "cpuid",
    "cpuid_check",
    "device_model",
    "display",
    "fda",
    "fdb",
    "gfx_passthru",
    "guest_os_type",
    "hap",
    "hpet",
    "isa",
    "keymap",
    "localtime",
    "nographic",
    "opengl",
    "oos",
    "pae",
    "pci",
    "pci_msitranslate",
    "pci_power_mgmt",
    "rtc_timeoffset",
    "sdl",
    "soundhw",
    "stdvga",
    "timer_mode",
    "usb",
    "usbdevice",
    "vcpus",
    "vnc",
    "vncconsole",
    "vncdisplay",
    "vnclisten",
    "vncunused",
    "viridian",
    "vpt_align",
    "xauthority",
    "xen_extended_power_mgmt",
    "xen_platform_pci",
    "memory_sharing",
    // Not part of xm's loop: `vncpasswd` followed it, printed whenever it was not None.
    "vncpasswd",
];

/// HVM device-model settings that are not typed elsewhere, in [`HVM_KEYS`] order, as the
/// config wrote them (`vnc = 1` and `vnc = "1"` both work; xm passed them through).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HvmSettings {
    pub settings: Vec<(String, Value)>,
}

impl HvmSettings {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// All devices, by kind, in config order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Devices {
    pub disks: Vec<DiskSpec>,
    pub pci: Vec<PciDev>,
    pub vusbs: Vec<VusbSpec>,
    pub ioports: Vec<IoPorts>,
    pub irqs: Vec<i64>,
    pub vifs: Vec<VifSpec>,
    pub vif2s: Vec<Vif2Spec>,
    pub vtpm: Option<VtpmSpec>,
    pub vfbs: Vec<VfbSpec>,
}

/// A domain configuration as `xm create` would send it to xend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainConfig {
    pub name: String,
    /// Initial memory, MiB.
    pub memory: i64,
    /// Maximum memory, MiB.
    pub maxmem: Option<i64>,
    pub shadow_memory: i64,
    /// Online vcpus at boot.
    pub vcpus: i64,
    /// Maximum vcpus (`maxvcpus`, an undeclared variable xm honoured).
    pub maxvcpus: Option<i64>,
    pub cpu: Option<i64>,
    pub cpus: Option<CpuSpec>,
    pub cpu_cap: Option<i64>,
    pub cpu_weight: Option<i64>,
    pub uuid: Option<String>,
    pub on_poweroff: Option<Action>,
    pub on_reboot: Option<Action>,
    pub on_crash: Option<Action>,
    /// Deprecated `restart = 'onreboot|always|never'`.
    pub restart: Option<String>,
    pub on_xend_start: String,
    pub on_xend_stop: String,
    pub features: String,
    pub description: String,
    pub target: i64,
    pub pool: Option<String>,
    pub backend_roles: BackendRoles,
    pub localtime: i64,
    pub oos: i64,
    pub s3_integrity: i64,
    /// `cpuid`/`cpuid_check` as xm passed them on: a list, or the dict xm made of it.
    pub cpuid: Value,
    pub cpuid_check: Value,
    pub machine_address_size: Option<i64>,
    pub suppress_spurious_page_faults: Option<i64>,
    pub bootloader: Option<String>,
    pub bootloader_args: Option<String>,
    pub image: Image,
    pub devices: Devices,
}

/// The config text, for pointing errors at the line that set a variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceText {
    pub file: String,
    pub text: String,
}

impl SourceText {
    /// Where `name` was last assigned at the start of a statement (`name = ...`,
    /// `name += ...`); with `needle`, where that text occurs from there on (a device spec).
    pub fn locate(&self, name: &str, needle: Option<&str>) -> Option<Location> {
        let lines: Vec<&str> = self.text.lines().collect();
        let (line_idx, col) = lines.iter().enumerate().rev().find_map(|(i, line)| {
            let indent = line.len() - line.trim_start().len();
            let rest = line[indent..].strip_prefix(name)?;
            let rest = rest.trim_start();
            let assigns =
                (rest.starts_with('=') && !rest.starts_with("==")) || rest.starts_with("+=");
            assigns.then_some((i, line[..indent].chars().count() + 1))
        })?;
        if let Some(needle) = needle.filter(|n| !n.is_empty()) {
            for (i, line) in lines.iter().enumerate().skip(line_idx) {
                if let Some(byte) = line.find(needle) {
                    return Some(self.location(i, line[..byte].chars().count() + 1, line));
                }
            }
        }
        Some(self.location(line_idx, col, lines[line_idx]))
    }

    fn location(&self, idx: usize, col: usize, line: &str) -> Location {
        Location {
            file: self.file.clone(),
            line: idx + 1,
            col,
            snippet: line.to_string(),
        }
    }
}

/// Inputs of the build besides the option values. Explicit, so tests are hermetic.
pub struct BuildEnv<'a> {
    /// The config name as given on the command line; `name` defaults to its basename.
    pub config_name: &'a str,
    /// The config text, for error locations.
    pub source: Option<&'a SourceText>,
    /// Whether a path exists (kernel, ramdisk and loader checks; `pygrub` lookup). Relative
    /// paths are relative to `cwd`.
    pub path_exists: &'a dyn Fn(&str) -> bool,
    /// Where a bare `bootloader = "pygrub"` is looked for, in order (see [`pygrub_paths`]).
    pub pygrub_paths: &'a [String],
    /// The working directory, absolute: relative kernel names become absolute against it.
    pub cwd: &'a str,
    /// `$DISPLAY`.
    pub display: Option<&'a str>,
    /// `$XAUTHORITY`, else `$HOME/.Xauthority`.
    pub xauthority: &'a str,
}

/// The result of a build: the config and xm's warnings (deprecated options).
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub config: DomainConfig,
    pub warnings: Vec<String>,
    /// xl settings that creating the domain must refuse ([`crate::xlkeys`]), located: a dry
    /// run shows the config as xm did, a create stops at the first.
    pub refused: Vec<ConfigError>,
}

/// More vcpus than any Xen guest can have (HVM: 128, PV: 512 in Xen 4.x).
pub const MAX_VCPUS: i64 = 4096;

/// The longest domain name accepted, in bytes. xenconsoled logs a guest's console to
/// `/var/log/xen/console/guest-NAME.log` and a file name is at most 255 bytes: `guest-` and
/// `.log` leave 245, of which 240 are allowed.
pub const MAX_NAME_LEN: usize = 240;

/// What is wrong with a domain name (see [`check_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// Empty: xend's `Missing VM Name`.
    Missing,
    /// A byte outside xend's `[A-Za-z0-9_\-\.\:\+]`: xend's `Invalid VM Name`.
    BadChars,
    /// Longer than [`MAX_NAME_LEN`] bytes; the length.
    TooLong(usize),
}

/// xend's `_checkName` (Xen 4.1 `XendDomainInfo.py`): a name is missing if empty and must
/// match `^[A-Za-z0-9_\-\.\:\+]+$`, so no `/` (xenstore paths), no spaces or control
/// characters (xenconsoled's log file names) and nothing outside ASCII. Unlike Python's `$`,
/// which also matches before a final newline, a trailing newline is refused too. Beyond xend,
/// at most [`MAX_NAME_LEN`] bytes. (xend also refused a name already in use; that needs the
/// host and is not checked here.)
pub fn check_name(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Missing);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.:+".contains(&b))
    {
        return Err(NameProblem::BadChars);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameProblem::TooLong(name.len()));
    }
    Ok(())
}

impl NameProblem {
    /// The message, with `origin` (where the name came from, e.g. ` (from name= on the
    /// command line)`, or empty) after the name.
    pub fn message(self, name: &str, origin: &str) -> String {
        let shown = py_repr(name);
        match self {
            NameProblem::Missing => format!(
                "Missing VM Name{origin}: a domain needs a name; set name = '...' in the config"
            ),
            NameProblem::BadChars => format!(
                "Invalid VM Name {shown}{origin}: a name may hold only ASCII letters, digits \
                 and _ - . : + (xend's rule)"
            ),
            NameProblem::TooLong(n) => format!(
                "Invalid VM Name {shown}{origin}: a name may be at most {MAX_NAME_LEN} bytes \
                 long, this one has {n} (xenconsoled logs to \
                 /var/log/xen/console/guest-NAME.log, and a file name is at most 255 bytes)"
            ),
        }
    }
}

/// Where a host keeps `pygrub`, in the order xm-rs looks: Debian's directory for the Xen
/// release xm was built for (`/usr/lib/xen-4.17/bin`; Debian 12 also links it into /usr/bin,
/// Debian 13 does not), then xm 4.1's auxbin directories and PATH's. One list for `xm create
/// -n` (a bare `pygrub` resolved here) and for the bootloader xm runs.
pub fn pygrub_paths(xen_release: &str) -> Vec<String> {
    [
        &format!("/usr/lib/xen-{xen_release}/bin"),
        "/usr/lib/xen/bin",
        "/usr/local/lib/xen/bin",
        "/usr/bin",
        "/usr/sbin",
    ]
    .iter()
    .map(|dir| format!("{dir}/pygrub"))
    .collect()
}

impl DomainConfig {
    /// Build from xm's option values (after the script ran), as xm 4.1's `preprocess` +
    /// `make_config` did, in the same order of checks.
    pub fn from_options(opts: &Options, env: &BuildEnv<'_>) -> Result<Built, ConfigError> {
        Builder {
            opts,
            env,
            warnings: Vec::new(),
        }
        .build()
    }
}

struct Builder<'a> {
    opts: &'a Options,
    env: &'a BuildEnv<'a>,
    warnings: Vec<String>,
}

fn py_str_scalar(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) | Value::Long(i) => Some(i.to_string()),
        Value::Float(f) => Some(py_float_str(*f)),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    Sxp::from_value(v).show()
}

impl Builder<'_> {
    fn value(&self, name: &str) -> &Value {
        self.opts.get(name).unwrap_or(&Value::None)
    }

    fn truthy(&self, name: &str) -> bool {
        self.value(name).truthy()
    }

    /// An error about variable `name`, pointing at its assignment unless the command line
    /// set it.
    fn err(&self, name: &str, needle: Option<&str>, message: String) -> ConfigError {
        let loc = if self.opts.is_specified(name) {
            None
        } else {
            self.env.source.and_then(|s| s.locate(name, needle))
        };
        match loc {
            Some(loc) => ConfigError::at(loc, message),
            None => ConfigError::plain(message),
        }
    }

    fn device_err(&self, name: &str, spec: &str, e: DeviceError) -> ConfigError {
        self.err(name, Some(spec), e.message)
    }

    fn int(&self, name: &str) -> Result<Option<i64>, ConfigError> {
        let v = self.value(name);
        let bad = || {
            self.err(
                name,
                None,
                format!(
                    "Invalid value for {name}: {} (expected an integer)",
                    describe(v)
                ),
            )
        };
        match v {
            Value::None => Ok(None),
            Value::Int(i) | Value::Long(i) => Ok(Some(*i)),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            Value::Str(s) => py_int(s).map(Some).ok_or_else(bad),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(*f as i64)),
            _ => Err(bad()),
        }
    }

    fn int_or(&self, name: &str, default: i64) -> Result<i64, ConfigError> {
        Ok(self.int(name)?.unwrap_or(default))
    }

    fn string(&self, name: &str) -> Result<Option<String>, ConfigError> {
        let v = self.value(name);
        match v {
            Value::None => Ok(None),
            other => py_str_scalar(other).map(Some).ok_or_else(|| {
                self.err(
                    name,
                    None,
                    format!(
                        "Invalid value for {name}: {} (expected a string)",
                        describe(v)
                    ),
                )
            }),
        }
    }

    /// A string option where xm only looked at truthiness: unset, `''` and `0` are all "none".
    fn text(&self, name: &str) -> Result<String, ConfigError> {
        if !self.truthy(name) {
            return Ok(String::new());
        }
        Ok(self.string(name)?.unwrap_or_default())
    }

    /// A list of strings (device specs). xm iterated whatever it got; a string or a number
    /// here was always a mistake.
    fn str_list(&self, name: &str) -> Result<Vec<String>, ConfigError> {
        let v = self.value(name);
        if !v.truthy() {
            return Ok(Vec::new());
        }
        let bad = |what: String| self.err(name, None, what);
        match v {
            Value::List(items) => items
                .iter()
                .map(|item| match item {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(bad(format!(
                        "Invalid {name} entry: {} (expected a string)",
                        describe(other)
                    ))),
                })
                .collect(),
            other => Err(bad(format!(
                "Invalid value for {name}: {} (expected a list of strings, e.g. {name} = [ '...' ])",
                describe(other)
            ))),
        }
    }

    fn action(&self, name: &str) -> Result<Option<Action>, ConfigError> {
        if !self.truthy(name) {
            return Ok(None);
        }
        let text = self.string(name)?.unwrap_or_default();
        Action::parse(&text).map(Some).ok_or_else(|| {
            let all: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
            self.err(
                name,
                None,
                format!(
                    "Invalid {name} value: {} (expected one of {})",
                    describe(self.value(name)),
                    all.join(", ")
                ),
            )
        })
    }

    fn build(mut self) -> Result<Built, ConfigError> {
        // preprocess(), in xm's order.
        let disks = self.disks()?;
        let pci = self.pci()?;
        if self.truthy("vscsi") {
            return Err(self.err("vscsi", None, "vscsi devices are not supported yet".into()));
        }
        let ioports = self.map_specs("ioports", IoPorts::parse)?;
        let ip = self.kernel_ip()?;
        let irqs = self.irqs()?;
        let args = self.kernel_args()?;
        let vtpm = self.map_specs("vtpm", VtpmSpec::parse)?.into_iter().next();
        if self.truthy("access_control") {
            return Err(self.err(
                "access_control",
                None,
                "access_control (ACM security labels) is not supported".into(),
            ));
        }
        let cpuid = self.cpuid("cpuid")?;
        // xm only converted cpuid_check when cpuid was set.
        let cpuid_check = if self.truthy("cpuid") {
            self.cpuid("cpuid_check")?
        } else {
            self.value("cpuid_check").clone()
        };

        // xm: `if not gopts.getopt('name'): gopts.setopt('name', basename(defconfig))`.
        let name_defaulted = !self.truthy("name");
        let name = match name_defaulted {
            false => self.string("name")?.unwrap_or_default(),
            true => basename(self.env.config_name).to_string(),
        };

        // make_config()
        let memory = self.int_or("memory", 0)?;
        let vcpus = self.int_or("vcpus", 0)?;
        let maxvcpus = if self.opts.get("maxvcpus").is_some() {
            self.int("maxvcpus")?
        } else {
            None
        };
        let cpus = self.cpus()?;
        for (name, n) in [("vcpus", Some(vcpus)), ("maxvcpus", maxvcpus)] {
            if let Some(n) = n.filter(|n| !(0..=MAX_VCPUS).contains(n)) {
                return Err(self.err(
                    name,
                    None,
                    format!("Invalid value for {name}: {n} (expected 0 to {MAX_VCPUS})"),
                ));
            }
        }
        let image = self.image(ip, args)?;
        let bootloader = self.bootloader()?;
        let bootloader_args = match &bootloader {
            None => None,
            Some(_) if self.truthy("bootargs") => Some(self.text("bootargs")?),
            // xl's name: a list of words (or, deprecated, one string).
            Some(_) if self.truthy("bootloader_args") => {
                Some(match self.value("bootloader_args") {
                    Value::List(_) => self.str_list("bootloader_args")?.join(" "),
                    _ => self.text("bootloader_args")?,
                })
            }
            Some(_) if self.truthy("console_autoconnect") => Some(String::new()),
            Some(_) => Some("-q".to_string()),
        };
        let vifs = self.vifs()?;
        let vif2s = self.map_specs("vif2", Vif2Spec::parse)?;
        let vusbs = self.map_specs("vusb", VusbSpec::parse)?;
        let vfbs = self.vfbs()?;

        let refused = self.xl_settings();
        let config = DomainConfig {
            name,
            memory,
            maxmem: self.int("maxmem")?,
            shadow_memory: self.int_or("shadow_memory", 0)?,
            vcpus,
            maxvcpus,
            cpu: self.int("cpu")?,
            cpus,
            // xl calls it `cap`; xm's name wins where both are set.
            cpu_cap: match self.int("cpu_cap")? {
                None => self.int("cap")?,
                cap => cap,
            },
            cpu_weight: self.int("cpu_weight")?,
            uuid: self.string("uuid")?,
            on_poweroff: self.action("on_poweroff")?,
            on_reboot: self.action("on_reboot")?,
            on_crash: self.action("on_crash")?,
            restart: self
                .truthy("restart")
                .then(|| self.string("restart"))
                .transpose()?
                .flatten(),
            on_xend_start: self.text("on_xend_start")?,
            on_xend_stop: self.text("on_xend_stop")?,
            features: self.text("features")?,
            description: self.text("description")?,
            target: self.int_or("target", 0)?,
            pool: self
                .truthy("pool")
                .then(|| self.string("pool"))
                .transpose()?
                .flatten(),
            backend_roles: BackendRoles {
                blkif: self.truthy("blkif"),
                netif: self.truthy("netif"),
                tpmif: self.truthy("tpmif"),
            },
            localtime: self.int_or("localtime", 0)?,
            oos: self.int_or("oos", 0)?,
            s3_integrity: self.int_or("s3_integrity", 0)?,
            cpuid,
            cpuid_check,
            machine_address_size: self.int("machine_address_size")?,
            suppress_spurious_page_faults: self.int("suppress_spurious_page_faults")?,
            bootloader,
            bootloader_args,
            image,
            devices: Devices {
                disks,
                pci,
                vusbs,
                ioports,
                irqs,
                vifs,
                vif2s,
                vtpm,
                vfbs,
            },
        };
        // xend checked the name when it made the domain, after all of xm's checks.
        self.check_name(&config.name, name_defaulted)?;
        Ok(Built {
            config,
            warnings: self.warnings,
            refused,
        })
    }

    /// xl's keys that xm-rs takes but does not apply get a warning each; those it refuses are
    /// returned, each a located error ([`crate::xlkeys`]).
    fn xl_settings(&mut self) -> Vec<ConfigError> {
        let opts = self.opts;
        let set = opts
            .names()
            .into_iter()
            .filter_map(|name| Some((name, opts.get(name)?)));
        let mut refused = Vec::new();
        for finding in xlkeys::check(set) {
            match finding.kind {
                XlKey::Refused(_) => refused.push(self.err(&finding.key, None, finding.message())),
                _ => self.warnings.push(finding.message()),
            }
        }
        refused
    }

    /// [`check_name`], the error saying where the name came from: the `name = ...` line of
    /// the config, `name=` on the command line, or the config file's name (xm's default).
    fn check_name(&self, name: &str, defaulted: bool) -> Result<(), ConfigError> {
        let Err(problem) = check_name(name) else {
            return Ok(());
        };
        let origin = if defaulted {
            format!(
                " (taken from the config file's name {}, as no name is set)",
                py_repr(self.env.config_name)
            )
        } else if self.opts.is_specified("name") {
            " (from name= on the command line)".to_string()
        } else {
            match self.env.source {
                Some(s) if s.locate("name", None).is_none() => {
                    format!(" (set by the script {})", s.file)
                }
                _ => String::new(),
            }
        };
        let message = problem.message(name, &origin);
        Err(match origin.is_empty() {
            true => self.err("name", None, message),
            false => ConfigError::plain(message),
        })
    }

    fn map_specs<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, DeviceError>,
    ) -> Result<Vec<T>, ConfigError> {
        self.str_list(name)?
            .iter()
            .map(|spec| parse(spec).map_err(|e| self.device_err(name, spec, e)))
            .collect()
    }

    fn disks(&self) -> Result<Vec<DiskSpec>, ConfigError> {
        self.map_specs("disk", DiskSpec::parse)
    }

    fn pci(&self) -> Result<Vec<PciDev>, ConfigError> {
        Ok(self
            .map_specs("pci", PciDev::parse_spec)?
            .into_iter()
            .flatten()
            .collect())
    }

    fn irqs(&self) -> Result<Vec<i64>, ConfigError> {
        let v = self.value("irq");
        if !v.truthy() {
            return Ok(Vec::new());
        }
        let bad = || {
            self.err(
                "irq",
                None,
                format!(
                    "Invalid value for irq: {} (expected a list of numbers)",
                    describe(v)
                ),
            )
        };
        match v {
            Value::List(items) => items
                .iter()
                .map(|i| match i {
                    Value::Int(n) | Value::Long(n) => Ok(*n),
                    _ => Err(bad()),
                })
                .collect(),
            _ => Err(bad()),
        }
    }

    fn kernel_ip(&self) -> Result<String, ConfigError> {
        let dhcp = self.string("dhcp")?.unwrap_or_default();
        if !self.truthy("ip") && dhcp == "off" {
            return Ok(String::new());
        }
        let nfs_server = match self.truthy("nfs_server") {
            true => self.text("nfs_server")?,
            false => "127.0.255.255".to_string(),
        };
        let parts = [
            self.string("ip")?.unwrap_or_default(),
            nfs_server,
            self.string("gateway")?.unwrap_or_default(),
            self.string("netmask")?.unwrap_or_default(),
            self.string("hostname")?.unwrap_or_default(),
            self.string("interface")?.unwrap_or_default(),
            dhcp,
        ];
        let ip = parts.join(":");
        Ok(ip.strip_prefix("ip=").map(str::to_string).unwrap_or(ip))
    }

    fn kernel_args(&self) -> Result<String, ConfigError> {
        let extra = self.text("extra")?;
        if !self.truthy("nfs_root") {
            return Ok(extra);
        }
        if !self.truthy("nfs_server") {
            return Err(self.err("nfs_root", None, "Must set nfs root and nfs server".into()));
        }
        Ok(format!(
            "nfsroot={}:{} {}",
            self.text("nfs_server")?,
            self.text("nfs_root")?,
            extra
        ))
    }

    fn cpuid(&self, name: &str) -> Result<Value, ConfigError> {
        let v = self.value(name);
        let Value::List(items) = v else {
            return Ok(v.clone());
        };
        let mut dict: Vec<(Value, Value)> = Vec::new();
        let mut matched = false;
        for item in items {
            let Value::Str(text) = item else {
                return Err(self.err(
                    name,
                    None,
                    format!("Invalid {name} entry: {}", describe(item)),
                ));
            };
            let Some((input, regs)) = split_cpuid_input(text) else {
                continue;
            };
            matched = true;
            let mut regmap: Vec<(Value, Value)> = Vec::new();
            for reg in regs.split(',') {
                let (r, val) = reg
                    .split_once('=')
                    .filter(|(r, _)| matches!(*r, "eax" | "ebx" | "ecx" | "edx"))
                    .ok_or_else(|| {
                        self.err(
                            name,
                            Some(text),
                            "cpuid's syntax is (eax|ebx|ecx|edx)=value".into(),
                        )
                    })?;
                if !val.starts_with("0x") && val.chars().count() != 32 {
                    return Err(self.err(
                        name,
                        Some(text),
                        format!("cpuid: We should specify all the bits of the register {r} for input {input}\n"),
                    ));
                }
                dict_set(&mut regmap, Value::Str(r.into()), Value::Str(val.into()));
            }
            dict_set(&mut dict, Value::Str(input.into()), Value::Dict(regmap));
        }
        Ok(if matched {
            Value::Dict(dict)
        } else {
            v.clone()
        })
    }

    fn cpus(&self) -> Result<Option<CpuSpec>, ConfigError> {
        match self.value("cpus") {
            Value::None => Ok(None),
            Value::List(items) => items
                .iter()
                .map(|i| {
                    py_str_scalar(i).ok_or_else(|| {
                        self.err("cpus", None, format!("Invalid cpus entry: {}", describe(i)))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| Some(CpuSpec::PerVcpu(v))),
            _ => Ok(self.string("cpus")?.map(CpuSpec::All)),
        }
    }

    fn bootloader(&self) -> Result<Option<String>, ConfigError> {
        if !self.truthy("bootloader") {
            return Ok(None);
        }
        let bootloader = self.text("bootloader")?;
        if bootloader == "pygrub" {
            let found = self
                .env
                .pygrub_paths
                .iter()
                .find(|p| (self.env.path_exists)(p));
            return Ok(Some(found.cloned().unwrap_or(bootloader)));
        }
        Ok(Some(bootloader))
    }

    /// `kernel=` was given on the command line.
    fn kernel_from_command_line(&self) -> bool {
        self.opts.is_specified("kernel") && self.truthy("kernel")
    }

    /// A kernel, ramdisk or loader path, checked as `configure_image` did.
    fn boot_file(
        &self,
        name: &str,
        what: &str,
        keep_bare: bool,
    ) -> Result<Option<String>, ConfigError> {
        if !self.truthy(name) {
            return Ok(None);
        }
        let path = self.text(name)?;
        // With a bootloader, the config's kernel and ramdisk are paths in the guest's disk;
        // given on the command line they are dom0 files (and the bootloader is not run).
        if self.truthy("bootloader") && name != "loader" && !self.kernel_from_command_line() {
            return Ok(Some(path));
        }
        let exists = self.env.path_exists;
        if path.contains('/') && exists(&path) {
            return Ok(Some(path));
        }
        if keep_bare && path == "hvmloader" {
            return Ok(Some(path));
        }
        let absolute = abspath(self.env.cwd, &path);
        if exists(&absolute) {
            return Ok(Some(absolute));
        }
        Err(self.err(name, None, format!("Cannot find {what} \"{path}\"")))
    }

    /// `builder`, or for an xl config that left it at xm's default, xl's `type`: `hvm` is
    /// `builder = 'hvm'`; `pv` and `pvh` boot as `linux` (xm has no PVH mode, a warning
    /// says so). xm ignored `type`; only xl's three values are read.
    fn builder(&mut self) -> Result<String, ConfigError> {
        let builder = self.text("builder")?;
        if builder != "linux" || self.opts.is_specified("builder") {
            return Ok(builder);
        }
        Ok(match self.value("type") {
            Value::Str(t) if t == "hvm" => "hvm".into(),
            Value::Str(t) if t == "pvh" => {
                self.warnings.push(
                    "type = \"pvh\": xm has no PVH guests; the domain is built as PV (builder linux)"
                        .into(),
                );
                builder
            }
            _ => builder,
        })
    }

    /// xl's `cmdline` (the whole kernel command line) when neither `root` nor `extra` is set;
    /// with either, xm's meaning wins (xm ignored `cmdline`) and a warning says so.
    fn xl_cmdline(&mut self, root: String, args: String) -> Result<(String, String), ConfigError> {
        if !self.truthy("cmdline") || !matches!(self.value("cmdline"), Value::Str(_)) {
            return Ok((root, args));
        }
        if root.is_empty() && args.is_empty() {
            return Ok((root, self.text("cmdline")?));
        }
        self.warnings.push(
            "cmdline (xl's kernel command line) is ignored in favour of root and extra".into(),
        );
        Ok((root, args))
    }

    fn image(&mut self, ip: String, args: String) -> Result<Image, ConfigError> {
        let builder = self.builder()?;
        if builder.is_empty() {
            return Err(self.err(
                "builder",
                None,
                "builder must not be empty (linux or hvm)".into(),
            ));
        }
        let kernel = self.boot_file("kernel", "kernel", true)?;
        let ramdisk = self.boot_file("ramdisk", "ramdisk", false)?;
        let loader = self.boot_file("loader", "loader", true)?;
        let root = self.text("root")?;
        let root = root
            .strip_prefix("root=")
            .map(str::to_string)
            .unwrap_or(root);
        let (root, args) = self.xl_cmdline(root, args)?;
        let hvm = if builder == "hvm" {
            Some(self.hvm_settings())
        } else {
            None
        };
        Ok(Image {
            builder,
            kernel_from_command_line: kernel.is_some() && self.kernel_from_command_line(),
            kernel,
            ramdisk,
            loader,
            ip,
            root,
            args,
            videoram: self.int_or("videoram", 0)?,
            parallel: self.value("parallel").clone(),
            serial: self.value("serial").clone(),
            monitor: self.int_or("monitor", 0)?,
            monitor_path: self.text("monitor_path")?,
            superpages: self.int_or("superpages", 0)?,
            vhpt: self.int_or("vhpt", 0)?,
            tsc_mode: self.tsc_mode()?,
            nomigrate: self.int_or("nomigrate", 0)?,
            hvm,
        })
    }

    /// `tsc_mode`: xm's number, or (beyond xm, which rejected any string that was not a
    /// number) xl's name for it, which libxl numbers the same way.
    fn tsc_mode(&self) -> Result<i64, ConfigError> {
        const XL_NAMES: [&str; 4] = ["default", "always_emulate", "native", "native_paravirt"];
        if let Value::Str(name) = self.value("tsc_mode")
            && let Some(n) = XL_NAMES.iter().position(|n| n == name)
        {
            return Ok(n as i64);
        }
        self.int_or("tsc_mode", 0)
    }

    fn hvm_settings(&self) -> HvmSettings {
        const TYPED: [&str; 6] = ["cpuid", "cpuid_check", "localtime", "oos", "pci", "vcpus"];
        let settings = HVM_KEYS
            .iter()
            .filter(|k| !TYPED.contains(k))
            .filter_map(|k| {
                let v = match *k {
                    // xm filled these in before the script ran; the script may override them.
                    "display" => self
                        .opts
                        .get(k)
                        .filter(|v| **v != Value::None)
                        .cloned()
                        .or_else(|| self.env.display.map(|d| Value::Str(d.to_string()))),
                    "xauthority" => self
                        .opts
                        .get(k)
                        .filter(|v| **v != Value::None)
                        .cloned()
                        .or_else(|| Some(Value::Str(self.env.xauthority.to_string()))),
                    _ => self.opts.get(k).filter(|v| **v != Value::None).cloned(),
                };
                v.map(|v| (k.to_string(), v))
            })
            .collect();
        HvmSettings { settings }
    }

    fn vifs(&mut self) -> Result<Vec<VifSpec>, ConfigError> {
        let mut specs = self.str_list("vif")?;
        let nics = self.int("nics")?.unwrap_or(-1);
        if nics > 0 {
            self.warnings.push(
                "The nics option is deprecated.  Please use an empty vif entry instead:\n\n  vif = [ '' ]\n"
                    .into(),
            );
            while (specs.len() as i64) < nics {
                specs.push(String::new());
            }
        } else if nics == 0 {
            self.warnings
                .push("The nics option is deprecated.  Please remove it.".into());
        }
        specs
            .iter()
            .map(|s| VifSpec::parse(s).map_err(|e| self.device_err("vif", s, e)))
            .collect()
    }

    fn vfbs(&self) -> Result<Vec<VfbSpec>, ConfigError> {
        let keymap = self.text("keymap")?;
        let defaults = VfbDefaults {
            keymap: Some(keymap.as_str()).filter(|k| !k.is_empty()),
            display: self.env.display,
            xauthority: self.env.xauthority,
        };
        self.map_specs("vfb", |s| VfbSpec::parse(s, &defaults))
    }
}

fn dict_set(dict: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match dict.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => dict.push((key, value)),
    }
}

/// `(0x)?HEX(,(0x)?HEX)?:REGS` → (input, regs).
fn split_cpuid_input(text: &str) -> Option<(&str, &str)> {
    let hex_num = |s: &str| -> usize {
        let p = if s.starts_with("0x") { 2 } else { 0 };
        let n = s[p..].bytes().take_while(u8::is_ascii_hexdigit).count();
        if n == 0 { 0 } else { p + n }
    };
    let mut end = hex_num(text);
    if end == 0 {
        return None;
    }
    if text[end..].starts_with(',') {
        let n = hex_num(&text[end + 1..]);
        if n > 0 {
            end += 1 + n;
        }
    }
    text[end..]
        .strip_prefix(':')
        .map(|regs| (&text[..end], regs))
}

/// `os.path.basename`.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `os.path.abspath`: join to `cwd` and normalise `.`, `..` and repeated slashes.
pub fn abspath(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(exists: &'a dyn Fn(&str) -> bool, source: Option<&'a SourceText>) -> BuildEnv<'a> {
        static PYGRUB: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| pygrub_paths("4.17"));
        BuildEnv {
            config_name: "guests/web.cfg",
            source,
            path_exists: exists,
            pygrub_paths: &PYGRUB,
            cwd: "/etc/xen",
            display: None,
            xauthority: "/root/.Xauthority",
        }
    }

    fn s(text: &str) -> Value {
        Value::Str(text.into())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|i| s(i)).collect())
    }

    fn build(locals: Vec<(&str, Value)>) -> Result<DomainConfig, ConfigError> {
        let mut o = Options::new();
        o.absorb_locals(
            locals
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        );
        DomainConfig::from_options(&o, &env(&|_| true, None)).map(|b| b.config)
    }

    #[test]
    fn seed_config_builds() {
        let c = build(vec![
            ("kernel", s("/boot/vmlinuz")),
            ("ramdisk", s("initrd.img")),
            ("name", s("SL4.7_001")),
            ("memory", Value::Int(256)),
            ("selinux", Value::Int(0)),
            ("disk", list(&["phy:xen0001_guests/SL4.7_001,xvda,w"])),
            ("vif", list(&["ip=10.165.1.10"])),
            ("pci", list(&["06.02.0"])),
            ("on_poweroff", s("destroy")),
            ("on_reboot", s("restart")),
            ("on_crash", s("restart")),
        ])
        .unwrap();
        assert_eq!(c.name, "SL4.7_001");
        assert_eq!(c.memory, 256);
        assert_eq!(c.vcpus, 1);
        assert_eq!(c.image.kernel.as_deref(), Some("/boot/vmlinuz"));
        assert_eq!(c.image.ramdisk.as_deref(), Some("/etc/xen/initrd.img"));
        assert_eq!(c.devices.pci[0].bdf(), "0000:06:02.0");
        assert_eq!(c.devices.vifs[0].ip(), Some("10.165.1.10"));
        assert_eq!(c.on_crash, Some(Action::Restart));
    }

    #[test]
    fn name_defaults_to_the_config_basename() {
        assert_eq!(build(vec![]).unwrap().name, "web.cfg");
        assert_eq!(build(vec![("name", s(""))]).unwrap().name, "web.cfg");
    }

    #[test]
    fn empty_cpus_is_kept_and_means_unpinned() {
        let c = build(vec![("cpus", s(""))]).unwrap();
        assert_eq!(c.cpus, Some(CpuSpec::All(String::new())));
        assert!(c.cpus.unwrap().is_unpinned());
        assert_eq!(build(vec![]).unwrap().cpus, None);
        let c = build(vec![("cpus", Value::List(vec![s("2"), Value::Int(3)]))]).unwrap();
        assert_eq!(c.cpus, Some(CpuSpec::PerVcpu(vec!["2".into(), "3".into()])));
    }

    #[test]
    fn missing_kernel_is_xms_error() {
        let mut o = Options::new();
        o.absorb_locals(vec![("kernel".into(), s("/nonexistent/vmlinuz"))]);
        let e = DomainConfig::from_options(&o, &env(&|_| false, None)).unwrap_err();
        assert_eq!(e.to_string(), "Cannot find kernel \"/nonexistent/vmlinuz\"");
        // With a bootloader the kernel is the bootloader's business.
        o.absorb_locals(vec![("bootloader".into(), s("/usr/bin/pygrub"))]);
        let c = DomainConfig::from_options(&o, &env(&|_| false, None))
            .unwrap()
            .config;
        assert_eq!(c.image.kernel.as_deref(), Some("/nonexistent/vmlinuz"));
        assert_eq!(c.bootloader_args.as_deref(), Some("-q"));
    }

    #[test]
    fn a_command_line_kernel_is_a_dom0_file_and_wins_over_the_bootloader() {
        // The seed's install: `xm create SLC4Xguest -c kernel=vmlinuz ramdisk=initrd.img`.
        let mut o = Options::new();
        o.apply_arg("kernel=vmlinuz").unwrap();
        o.apply_arg("ramdisk=initrd.img").unwrap();
        o.absorb_locals(vec![
            ("bootloader".into(), s("/usr/bin/pygrub")),
            ("kernel".into(), s("/boot/vmlinuz-in-the-guest")),
        ]);
        let exists = |p: &str| p == "/etc/xen/vmlinuz" || p == "/etc/xen/initrd.img";
        let c = DomainConfig::from_options(&o, &env(&exists, None))
            .unwrap()
            .config;
        assert!(c.image.kernel_from_command_line);
        assert_eq!(c.image.kernel.as_deref(), Some("/etc/xen/vmlinuz"));
        assert_eq!(c.image.ramdisk.as_deref(), Some("/etc/xen/initrd.img"));
        // A missing one is xm's error, as without a bootloader.
        let e = DomainConfig::from_options(&o, &env(&|_| false, None)).unwrap_err();
        assert_eq!(e.to_string(), "Cannot find kernel \"vmlinuz\"");
        // From the config, both name files in the guest.
        let mut o = Options::new();
        o.absorb_locals(vec![
            ("bootloader".into(), s("/usr/bin/pygrub")),
            ("kernel".into(), s("/boot/vmlinuz-in-the-guest")),
        ]);
        let c = DomainConfig::from_options(&o, &env(&|_| false, None))
            .unwrap()
            .config;
        assert!(!c.image.kernel_from_command_line);
    }

    #[test]
    fn pygrub_is_found_on_the_search_path() {
        let mut o = Options::new();
        o.absorb_locals(vec![("bootloader".into(), s("pygrub"))]);
        let exists = |p: &str| p == "/usr/bin/pygrub";
        let c = DomainConfig::from_options(&o, &env(&exists, None))
            .unwrap()
            .config;
        assert_eq!(c.bootloader.as_deref(), Some("/usr/bin/pygrub"));
        // Debian's directory for the release comes first (Debian 12 has both).
        let debian = |p: &str| p == "/usr/bin/pygrub" || p == "/usr/lib/xen-4.17/bin/pygrub";
        let c = DomainConfig::from_options(&o, &env(&debian, None))
            .unwrap()
            .config;
        assert_eq!(
            c.bootloader.as_deref(),
            Some("/usr/lib/xen-4.17/bin/pygrub")
        );
        o.specify_switch("console_autoconnect", None);
        let c = DomainConfig::from_options(&o, &env(&exists, None))
            .unwrap()
            .config;
        assert_eq!(c.bootloader_args.as_deref(), Some(""));
    }

    #[test]
    fn errors_point_at_the_assignment_and_the_spec() {
        let source = SourceText {
            file: "web.cfg".into(),
            text: "memory = 256\ndisk = [ 'phy:sda1,xvda,w',\n         'phy:sda2,xvdb' ]\n".into(),
        };
        let mut o = Options::new();
        o.absorb_locals(vec![(
            "disk".into(),
            list(&["phy:sda1,xvda,w", "phy:sda2,xvdb"]),
        )]);
        let e = DomainConfig::from_options(&o, &env(&|_| true, Some(&source))).unwrap_err();
        let ConfigError::At { loc, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((loc.line, loc.col), (3, 11));
        assert_eq!(message, "Invalid disk specifier: phy:sda2,xvdb");

        let mut o = Options::new();
        o.absorb_locals(vec![("memory".into(), s("lots"))]);
        let e = DomainConfig::from_options(&o, &env(&|_| true, Some(&source))).unwrap_err();
        let ConfigError::At { loc, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((loc.line, loc.col), (1, 1));
        assert_eq!(
            message,
            "Invalid value for memory: lots (expected an integer)"
        );
    }

    #[test]
    fn vcpu_counts_are_bounded() {
        let e = build(vec![("vcpus", Value::Int(-1))])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "Invalid value for vcpus: -1 (expected 0 to 4096)");
        let e = build(vec![("maxvcpus", Value::Int(1 << 40))])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("Invalid value for maxvcpus"), "{e}");
        assert_eq!(
            build(vec![("maxvcpus", s("4")), ("vcpus", Value::Int(2))])
                .unwrap()
                .maxvcpus,
            Some(4)
        );
    }

    #[test]
    fn actions_are_validated() {
        let e = build(vec![("on_crash", s("explode"))])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("Invalid on_crash value: explode"), "{e}");
    }

    #[test]
    fn disk_must_be_a_list() {
        let e = build(vec![("disk", s("phy:sda1,xvda,w"))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a list of strings"), "{e}");
    }

    #[test]
    fn kernel_ip_line_is_built_like_xm() {
        let c = build(vec![
            ("ip", s("192.168.2.2")),
            ("gateway", s("192.168.2.1")),
            ("netmask", s("255.255.255.0")),
            ("hostname", s("domain-2.xeno")),
        ])
        .unwrap();
        assert_eq!(
            c.image.ip,
            "192.168.2.2:127.0.255.255:192.168.2.1:255.255.255.0:domain-2.xeno:eth0:off"
        );
        let c = build(vec![
            ("nfs_root", s("/export")),
            ("nfs_server", s("10.0.0.1")),
            ("extra", s("ro")),
        ])
        .unwrap();
        assert_eq!(c.image.args, "nfsroot=10.0.0.1:/export ro");
        assert!(build(vec![("nfs_root", s("/export"))]).is_err());
    }

    #[test]
    fn xl_settings_that_xm_rejected_or_ignored() {
        // tsc_mode by xl's name, numbered as xm numbered it.
        assert_eq!(
            build(vec![("tsc_mode", s("native"))])
                .unwrap()
                .image
                .tsc_mode,
            2
        );
        assert_eq!(
            build(vec![("tsc_mode", s("default"))])
                .unwrap()
                .image
                .tsc_mode,
            0
        );
        assert_eq!(
            build(vec![("tsc_mode", Value::Int(1))])
                .unwrap()
                .image
                .tsc_mode,
            1
        );
        assert!(build(vec![("tsc_mode", s("fast"))]).is_err());
        // type = "hvm" when builder was left alone; an explicit builder wins.
        let c = build(vec![("type", s("hvm"))]).unwrap();
        assert_eq!(c.image.builder, "hvm");
        assert!(c.image.hvm.is_some());
        let c = build(vec![("type", s("hvm")), ("builder", s("hvm"))]).unwrap();
        assert_eq!(c.image.builder, "hvm");
        assert_eq!(
            build(vec![("type", s("pv"))]).unwrap().image.builder,
            "linux"
        );
        assert_eq!(
            build(vec![("type", s("other"))]).unwrap().image.builder,
            "linux"
        );
        let mut o = Options::new();
        o.absorb_locals(vec![("type".into(), s("pvh"))]);
        let b = DomainConfig::from_options(&o, &env(&|_| true, None)).unwrap();
        assert_eq!(b.config.image.builder, "linux");
        assert!(b.warnings[0].contains("PVH"), "{:?}", b.warnings);
        // cmdline: the kernel command line, unless root or extra say otherwise.
        let c = build(vec![("cmdline", s("root=/dev/xvda1 console=hvc0"))]).unwrap();
        assert_eq!(
            (c.image.root.as_str(), c.image.args.as_str()),
            ("", "root=/dev/xvda1 console=hvc0")
        );
        let mut o = Options::new();
        o.absorb_locals(vec![
            ("cmdline".into(), s("ignored")),
            ("extra".into(), s("ro")),
        ]);
        let b = DomainConfig::from_options(&o, &env(&|_| true, None)).unwrap();
        assert_eq!(b.config.image.args, "ro");
        assert!(b.warnings[0].contains("cmdline"), "{:?}", b.warnings);
        // xl's disk syntax and pci options.
        let c = build(vec![
            (
                "disk",
                list(&["format=qcow2,vdev=xvda,access=rw,backendtype=qdisk,target=/i.q2"]),
            ),
            ("pci", list(&["0000:02:00.0,permissive=1"])),
        ])
        .unwrap();
        assert_eq!(c.devices.disks[0].uname, "tap:qcow2:/i.q2");
        assert_eq!(
            c.devices.pci[0].opts,
            [("permissive".to_string(), "1".to_string())]
        );
    }

    #[test]
    fn xl_disk_errors_point_at_the_spec() {
        let source = SourceText {
            file: "xl.cfg".into(),
            text: "disk = [ 'vdev=xvda,target=/a',\n  '/b,raw,xvdb,rw,bogus=1' ]\n".into(),
        };
        let mut o = Options::new();
        o.absorb_locals(vec![(
            "disk".into(),
            list(&["vdev=xvda,target=/a", "/b,raw,xvdb,rw,bogus=1"]),
        )]);
        let e = DomainConfig::from_options(&o, &env(&|_| true, Some(&source))).unwrap_err();
        let ConfigError::At { loc, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((loc.line, loc.col), (2, 4));
        assert_eq!(
            message,
            "Invalid disk specifier: /b,raw,xvdb,rw,bogus=1 (unknown parameter: 'bogus=1')"
        );
    }

    #[test]
    fn abspath_normalises() {
        assert_eq!(abspath("/etc/xen", "vmlinuz"), "/etc/xen/vmlinuz");
        assert_eq!(
            abspath("/etc/xen", "../boot/./vmlinuz"),
            "/etc/boot/vmlinuz"
        );
        assert_eq!(abspath("/", "x"), "/x");
    }

    /// Load `text` as `xm create CONFIG_NAME WORDS...` would (script run, options taken,
    /// config built); the error as xm prints it after `Error: `.
    fn load_name(config_name: &str, text: &str, words: &[&str]) -> Result<String, String> {
        struct NoHost;
        impl crate::lang::Host for NoHost {
            fn uname(&self) -> [String; 5] {
                ["Linux", "dom0", "6.1.0", "#1", "x86_64"].map(String::from)
            }
            fn path_exists(&self, _: &str) -> bool {
                true
            }
        }
        let mut options = Options::new();
        for w in words {
            options.apply_arg(w).unwrap();
        }
        let limits = crate::lang::Limits::default();
        let req = crate::load::LoadRequest {
            config_name,
            search_path: ".",
            options: &options,
            cwd: std::path::Path::new("/etc/xen"),
            display: None,
            xauthority: "/root/.Xauthority",
            host: &NoHost,
            limits: &limits,
            pygrub_paths: &[],
        };
        crate::load::eval("./web.cfg", text.to_string(), &req)
            .map(|b| b.config.name)
            .map_err(|e| e.to_string())
    }

    const ONLY: &str = "a name may hold only ASCII letters, digits and _ - . : + (xend's rule)";

    /// The located error for a bad name set on `line` (1-based) of `text`, column `col`.
    fn located(text: &str, line: usize, col: usize, shown: &str, why: &str) -> String {
        let snippet = text.lines().nth(line - 1).unwrap();
        let pad = " ".repeat(col - 1);
        format!("./web.cfg:{line}:{col}: Invalid VM Name {shown}: {why}\n    {snippet}\n    {pad}^")
    }

    #[test]
    fn good_names_load() {
        let wn = "memory = 64\nvmid = int(vmid)\nname = \"wn%03d\" % vmid\n";
        assert_eq!(load_name("wn.tmpl", wn, &["vmid=7"]).unwrap(), "wn007");
        for name in [
            "ce.ngc6475",
            "se.ngc6475",
            "SL4.7_001",
            "Example-Cpupool",
            "XenGuest2",
            "a:b+c",
            "Domain-0",
        ] {
            let text = format!("name = '{name}'\n");
            assert_eq!(load_name("web.cfg", &text, &[]).unwrap(), name);
        }
        // The defaults: the config file's basename, also when the config says name = ''.
        assert_eq!(
            load_name("guests/ce.ngc6475", "", &[]).unwrap(),
            "ce.ngc6475"
        );
        assert_eq!(load_name("web.cfg", "name = ''\n", &[]).unwrap(), "web.cfg");
        assert_eq!(load_name("web.cfg", "name = 7\n", &[]).unwrap(), "7");
        // A good name on the command line wins over a bad one in the script.
        let bad = "name = 'a b'\n";
        assert_eq!(load_name("web.cfg", bad, &["name=wn007"]).unwrap(), "wn007");
    }

    #[test]
    fn empty_name_is_missing() {
        let why = "Missing VM Name (taken from the config file's name 'guests/', as no name is \
                   set): a domain needs a name; set name = '...' in the config";
        assert_eq!(load_name("guests/", "memory = 64\n", &[]).unwrap_err(), why);
        assert_eq!(load_name("guests/", "name = ''\n", &[]).unwrap_err(), why);
        assert_eq!(
            load_name("guests/", "name = 'ok'\n", &["name="]).unwrap_err(),
            why
        );
        assert_eq!(check_name(""), Err(NameProblem::Missing));
    }

    #[test]
    fn name_with_a_slash_is_located() {
        let text = "memory = 64\nname = 'a/b'\n";
        assert_eq!(
            load_name("web.cfg", text, &[]).unwrap_err(),
            located(text, 2, 1, "'a/b'", ONLY)
        );
    }

    #[test]
    fn name_with_a_space_is_located_in_a_block() {
        let text = "memory = 64\nif memory:\n    name = 'a b'\n";
        let e = load_name("web.cfg", text, &[]).unwrap_err();
        assert_eq!(e, located(text, 3, 5, "'a b'", ONLY));
        assert!(
            e.starts_with(
                "./web.cfg:3:5: Invalid VM Name 'a b': a name may hold only ASCII letters, \
                 digits and _ - . : + (xend's rule)\n"
            ),
            "{e}"
        );
    }

    #[test]
    fn names_with_control_characters_are_located() {
        for (literal, shown) in [
            ("a\\tb", "'a\\tb'"),
            ("a\\nb", "'a\\nb'"),
            ("wn\\x07", "'wn\\x07'"),
            ("wn\\x7f", "'wn\\x7f'"),
            ("a\\rb", "'a\\rb'"),
            // Python's `$` matched before a final newline: xend took 'wn007\n'. We do not.
            ("wn007\\n", "'wn007\\n'"),
        ] {
            let text = format!("memory = 64\nname = '{literal}'\n");
            assert_eq!(
                load_name("web.cfg", &text, &[]).unwrap_err(),
                located(&text, 2, 1, shown, ONLY),
                "{literal}"
            );
        }
    }

    #[test]
    fn name_with_a_non_ascii_letter_is_located() {
        let text = "name = 'café'\n";
        // Shown as Python 2 showed the bytes xend checked.
        assert_eq!(
            load_name("web.cfg", text, &[]).unwrap_err(),
            located(text, 1, 1, "'caf\\xc3\\xa9'", ONLY)
        );
    }

    #[test]
    fn names_are_at_most_240_bytes() {
        let ok = "a".repeat(240);
        let text = "name = 'a' * 240\n";
        assert_eq!(load_name("web.cfg", text, &[]).unwrap(), ok);
        let text = "memory = 64\nname = 'a' * 241\n";
        let why = "a name may be at most 240 bytes long, this one has 241 (xenconsoled logs to \
                   /var/log/xen/console/guest-NAME.log, and a file name is at most 255 bytes)";
        assert_eq!(
            load_name("web.cfg", text, &[]).unwrap_err(),
            located(text, 2, 1, &format!("'{}'", "a".repeat(241)), why)
        );
        assert_eq!(check_name(&"é".repeat(121)), Err(NameProblem::BadChars));
        assert_eq!(
            check_name(&"a".repeat(MAX_NAME_LEN + 1)),
            Err(NameProblem::TooLong(241))
        );
    }

    #[test]
    fn bad_name_on_the_command_line_says_so() {
        let e = load_name("web.cfg", "name = 'ok'\n", &["name=a/b"]).unwrap_err();
        assert_eq!(
            e,
            format!("Invalid VM Name 'a/b' (from name= on the command line): {ONLY}")
        );
    }

    #[test]
    fn bad_default_name_says_it_is_the_file_name() {
        let e = load_name("guests/my guest.cfg", "memory = 64\n", &[]).unwrap_err();
        assert_eq!(
            e,
            format!(
                "Invalid VM Name 'my guest.cfg' (taken from the config file's name \
                 'guests/my guest.cfg', as no name is set): {ONLY}"
            )
        );
    }

    #[test]
    fn bad_name_set_where_no_line_says_name_names_the_script() {
        let e = load_name("web.cfg", "name, memory = 'a b', 64\n", &[]).unwrap_err();
        assert_eq!(
            e,
            format!("Invalid VM Name 'a b' (set by the script ./web.cfg): {ONLY}")
        );
    }

    #[test]
    fn name_is_checked_after_xms_own_checks() {
        // xend saw the name only once xm had built the config: xm's errors come first.
        let text = "name = 'a b'\non_crash = 'explode'\n";
        let e = load_name("web.cfg", text, &[]).unwrap_err();
        assert!(
            e.starts_with("./web.cfg:2:1: Invalid on_crash value"),
            "{e}"
        );
    }
}
