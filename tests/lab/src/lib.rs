//! Helpers for lab tests: ordinary `#[test]`s that run inside the real-Xen lab's dom0
//! (Debian 12 Xen 4.17 under QEMU, see `tests/lab/README.md`).
//!
//! Every lab test starts with [`require_lab!()`]: outside the lab (no `XM_LAB=1`) it prints
//! `skipped: not in lab` and returns. `tests/lab/run-tests` builds the test binaries on the host,
//! boots the lab once and runs all of them in dom0 with `XM_LAB=1 --test-threads=1`.
//!
//! ```ignore
//! use lab_tests::*;
//! #[test]
//! fn guest_boots() {
//!     require_lab!();
//!     let g = Guest::new(&unique_name("boot")).cmd("uname -r").start();
//!     let out = g.wait_cmd(Duration::from_secs(60));
//!     assert_eq!(out.rc, 0);
//! }
//! ```
//!
//! Inside dom0: Xen tools are in `/usr/lib/xen-RELEASE/bin` (on PATH), payload files (and `xm`, if it
//! was built) in `/xmlab/payload/bin` (`xm` itself: `/usr/sbin/xm`, from its .deb), the guest kernel/initramfs in `/xmlab/guest`, xenconsoled
//! logs every guest's console to `/var/log/xen/console/guest-<name>.log`, bridge `xenbr0` has
//! 10.99.0.1/24.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use std::time::Duration as Dur;

/// ELF guest kernel inside dom0 (Debian's kernel, the same as dom0's).
pub const GUEST_KERNEL: &str = "/xmlab/guest/vmlinux";
/// Debian's PV GRUB 2 image (grub-xen-host, 2 MiB): a small real PV kernel.
pub const PVGRUB_KERNEL: &str = "/xmlab/guest/pvgrub-x86_64.bin";
/// Guest initramfs inside dom0 (busybox init, xenstore-utils; see tests/lab/image/guest-init).
pub const GUEST_RAMDISK: &str = "/xmlab/guest/initrd.cpio";
/// A 16 MiB ext4 image with `/xmlab/README` ("xmlab scratch disk"). Attach it read-only (`r`)
/// or copy it first: it is shared by all tests in a boot.
pub const GUEST_EXT4_IMAGE: &str = "/xmlab/guest/ext4.img";
/// dom0's 256 MiB virtio scratch disk (a block device for `phy:` tests; QEMU snapshot, so
/// writes never reach the host).
pub const DOM0_SCRATCH_BLOCKDEV: &str = "/dev/vda";
/// The bridge for vifs and dom0's address on it.
pub const BRIDGE: &str = "xenbr0";
pub const DOM0_IP: &str = "10.99.0.1";
/// Where xenconsoled writes guest console logs.
pub const CONSOLE_LOG_DIR: &str = "/var/log/xen/console";
/// Printed by the guest init once devices are up.
pub const GUEST_UP: &str = "XMTEST-GUEST-UP";
/// Frame around the output of the command given with [`Guest::cmd`].
pub const CMD_BEGIN: &str = "XMTEST-CMD-BEGIN";
pub const CMD_END: &str = "XMTEST-CMD-END rc=";
/// Default bound for commands run through [`run`].
pub const CMD_TIMEOUT_SECS: u32 = 120;
/// The volume group the example configs use (`phy:xen0001_guests/...`), made by [`guests_vg`]
/// on dom0's second disk `/dev/vdb`.
pub const GUESTS_VG: &str = "xen0001_guests";
/// Boot filesystems for pygrub (ext4: Debian's bzImage + the lab initramfs, gzip'd): a
/// grub-legacy `menu.lst`/`grub.conf`, a grub 2 `grub.cfg`, and a whole disk with an MBR
/// partition table whose partition 1 holds the grub-legacy tree. Shared: copy before writing.
pub const BOOT_GRUB1_IMAGE: &str = "/xmlab/guest/boot-grub1.img";
pub const BOOT_GRUB2_IMAGE: &str = "/xmlab/guest/boot-grub2.img";
pub const PARTITIONED_DISK_IMAGE: &str = "/xmlab/guest/disk-partitioned.img";
/// Byte-identical copies of `examples/*` and `initrd.img` (SL4.7_001.orig's `ramdisk`); its
/// `kernel = "/boot/vmlinuz"` is dom0's `/boot/vmlinuz` (the guest kernel).
pub const GRID_DIR: &str = "/xmlab/grid";
/// The `KEY=` line build-image writes into `/xmlab/image-info` (KVER, KEY, XEN, DEBIAN).
pub fn image_info(key: &str) -> String {
    let info = std::fs::read_to_string("/xmlab/image-info").unwrap_or_default();
    let prefix = format!("{key}=");
    info.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("/xmlab/image-info has no {key}= line"))
}

/// The Xen release of the lab image this runs in (`4.17` on the Debian 12 image, `4.20` on the
/// Debian 13 one).
pub fn xen_release() -> String {
    image_info("XEN")
}

/// Debian's pygrub in dom0 (`/usr/lib/xen-RELEASE/bin/pygrub`).
pub fn pygrub() -> String {
    format!("/usr/lib/xen-{}/bin/pygrub", xen_release())
}

/// Print `[  12.3s] msg` (time since this test process started); captured by libtest unless
/// `--nocapture`, shown for failing tests.
pub fn note(msg: &str) {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    let t = START.get_or_init(Instant::now).elapsed();
    println!("[{:7.2}s] {msg}", t.as_secs_f64());
}

/// True inside the lab's dom0 (the lab's /init exports `XM_LAB=1`).
pub fn in_lab() -> bool {
    std::env::var("XM_LAB").is_ok_and(|v| v == "1")
}

/// First line of every lab test: outside the lab, print that the test is skipped and return.
#[macro_export]
macro_rules! require_lab {
    () => {
        if !$crate::in_lab() {
            println!("skipped: not in lab (run tests/lab/run-tests)");
            eprintln!("skipped: not in lab (run tests/lab/run-tests)");
            return;
        }
    };
}

/// Run a shell command line in dom0 (`sh -c`, bounded by [`CMD_TIMEOUT_SECS`]).
pub fn run(cmd: &str) -> Output {
    run_timeout(cmd, CMD_TIMEOUT_SECS)
}

/// Run a shell command line with a timeout (seconds; the command gets SIGTERM, then SIGKILL).
pub fn run_timeout(cmd: &str, secs: u32) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", &secs.to_string(), "sh", "-c", cmd])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cmd}`: {e}"))
}

/// Run a command line that must succeed; returns its stdout. Panics with stdout+stderr otherwise.
pub fn run_ok(cmd: &str) -> String {
    let out = run(cmd);
    check(cmd, out)
}

fn check(what: &str, out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        panic!(
            "`{what}` failed ({}):\n--- stdout\n{stdout}--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Debian's `xl` with arguments (bounded by [`CMD_TIMEOUT_SECS`]).
pub fn xl(args: &[&str]) -> Output {
    let line: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    run(&format!("xl {}", line.join(" ")))
}

/// `xl` that must succeed; returns stdout.
pub fn xl_ok(args: &[&str]) -> String {
    check(&format!("xl {}", args.join(" ")), xl(args))
}

/// Writes `/tmp/xmlab/cfg/<name>.cfg` for a domain booting Debian's PV GRUB 2 image (96 MiB,
/// one vcpu, no devices): quick to create paused, for tests and benchmarks that do not need
/// the guest to run.
pub fn pvgrub_config(name: &str) -> PathBuf {
    pvgrub_config_with(name, "")
}

/// [`pvgrub_config`] with `extra` config lines after the others (a later assignment wins).
pub fn pvgrub_config_with(name: &str, extra: &str) -> PathBuf {
    write_config_file(
        name,
        &format!(
            "name = \"{name}\"\nkernel = \"{PVGRUB_KERNEL}\"\nmemory = 96\nvcpus = 1\n{extra}"
        ),
    )
}

/// The domains and their per-domain xenstore directories (`/local/domain/N`, `/vm/UUID`,
/// `/libxl/N`, dom0's `backend/KIND/N`), to check that a failed create added none.
pub fn store_snapshot() -> BTreeSet<String> {
    let mut set: BTreeSet<String> = xl_ok(&["list"])
        .lines()
        .skip(1)
        .map(|l| format!("domain {}", l.split_whitespace().next().unwrap_or("")))
        .collect();
    let list = |path: &str| -> Vec<String> {
        let out = run(&format!("xenstore-list {path}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    for dir in ["/local/domain", "/vm", "/libxl"] {
        // `/libxl/pci` is libxl's registry of PCI functions, made at the first passthrough
        // and kept (as libxl keeps it); who holds a function is in `Leftovers::pci_claims`.
        let entries = list(dir)
            .into_iter()
            .filter(|e| dir != "/libxl" || e != "pci");
        set.extend(entries.map(|e| format!("{dir}/{e}")));
    }
    for kind in list("/local/domain/0/backend") {
        let dir = format!("/local/domain/0/backend/{kind}");
        set.extend(list(&dir).into_iter().map(|e| format!("{dir}/{e}")));
    }
    set
}

/// The median of some measurements (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs a program directly (no shell, no `timeout` wrapper: under TCG those cost more than
/// the work measured), asserts it succeeded, and returns its wall time in seconds.
pub fn exec_time(program: &str, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let s = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

/// The xm monitor processes running now, as `(pid, domid it was started for)`, read from
/// `/proc/*/cmdline` (argv `... monitor DOMID`).
pub fn monitors() -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let argv: Vec<&[u8]> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .collect();
        let [exe, b"monitor", id] = argv.as_slice() else {
            continue;
        };
        let is_xm = exe.ends_with(b"/xm") || exe.ends_with(b"/xm-failpoints");
        if let (true, Ok(id)) = (is_xm, String::from_utf8_lossy(id).parse()) {
            out.push((pid, id));
        }
    }
    out.sort();
    out
}

/// A guest with both kinds of lab disk: the scratch file `img` (32 MiB, from [`scratch_disk`])
/// as xvdb read-write and [`GUEST_EXT4_IMAGE`] as xvdc read-only. It prints xvdb's size in
/// sectors and the image's README, then powers off. Check it with [`assert_two_disks_seen`].
pub fn two_disk_guest(name: &str, img: &Path) -> Guest {
    Guest::new(name)
        .disk(&format!("file:{},xvdb,w", img.display()))
        .disk(&format!("file:{GUEST_EXT4_IMAGE},xvdc,r"))
        .cmd("cat /sys/block/xvdb/size; mount -o ro /dev/xvdc /mnt && cat /mnt/xmlab/README")
        .then("poweroff")
}

/// What a [`two_disk_guest`] shows when both disks work: blkfront saw each with its size and
/// mode, and the guest read both.
pub fn assert_two_disks_seen(console: &str, out: &CmdOutput) {
    assert!(
        console.contains("XMTEST-DISK xvdb sectors=65536 ro=0"),
        "{console}"
    );
    assert!(
        console.contains("XMTEST-DISK xvdc sectors=32768 ro=1"),
        "{console}"
    );
    assert_eq!(out.rc, 0, "{out:?}");
    assert_eq!(out.text.lines().next(), Some("65536"), "{out:?}");
    assert!(out.text.contains("xmlab scratch disk"), "{out:?}");
}

/// Writes `text` to `/tmp/xmlab/cfg/<name>.cfg` and returns its path.
pub fn write_config_file(name: &str, text: &str) -> PathBuf {
    let dir = Path::new("/tmp/xmlab/cfg");
    fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{name}.cfg"));
    fs::write(&p, text).unwrap();
    p
}

/// Our `xm` in dom0: installed there from xm-rs's .deb with dpkg (tests/lab/run-tests), or
/// copied there if the package could not be built.
pub const XM: &str = "/usr/sbin/xm";

/// Path of our `xm` in dom0, if `tests/lab/run-tests` installed one.
pub fn xm_path() -> Option<PathBuf> {
    let p = PathBuf::from(XM);
    p.exists().then_some(p)
}

/// Our `xm` with arguments. Panics if the payload has no xm.
pub fn xm(args: &[&str]) -> Output {
    let xm = xm_path().expect("no xm in the lab payload (did `cargo build -p xm` fail?)");
    let mut line = vec![shell_quote(&xm.to_string_lossy())];
    line.extend(args.iter().map(|a| shell_quote(a)));
    run(&line.join(" "))
}

/// Poll `f` every 50 ms until it returns `Some`, or panic after `timeout` naming `what`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait until the file at `path` contains `marker`; returns the whole file content.
pub fn wait_for_file_contains(
    path: impl AsRef<Path>,
    marker: &str,
    timeout: Duration,
) -> Result<String, String> {
    let path = path.as_ref();
    let start = Instant::now();
    loop {
        let text = fs::read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if text.contains(marker) {
            return Ok(text);
        }
        if start.elapsed() > timeout {
            let tail: Vec<&str> = text
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(format!(
                "`{marker}` not in {} after {timeout:?}; last lines:\n{}",
                path.display(),
                tail.join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A domain name unique within this boot: `<prefix>-<pid>-<n>` (console logs append across
/// re-creates of the same name, so tests should not reuse names).
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// xenconsoled's log of a guest's console.
pub fn console_log(name: &str) -> PathBuf {
    Path::new(CONSOLE_LOG_DIR).join(format!("guest-{name}.log"))
}

/// Current content of a guest's console log ("" if none yet).
pub fn console_text(name: &str) -> String {
    fs::read(console_log(name))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Wait for `marker` on a guest's console; panics with the console tail on timeout.
pub fn wait_console(name: &str, marker: &str, timeout: Duration) -> String {
    wait_for_file_contains(console_log(name), marker, timeout)
        .unwrap_or_else(|e| panic!("guest {name}: {e}"))
}

/// The numeric id of a domain, if it exists (`xl domid`).
pub fn domid(name: &str) -> Option<u32> {
    let out = xl(&["domid", name]);
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Whether `name` is in `xl list`.
pub fn domain_exists(name: &str) -> bool {
    domid(name).is_some()
}

/// Wait until the domain is gone from `xl list`.
pub fn wait_domain_gone(name: &str, timeout: Duration) {
    wait_until(timeout, &format!("domain {name} to disappear"), || {
        (!domain_exists(name)).then_some(())
    });
}

/// A sparse scratch file in dom0's tmpfs, for `file:` disks.
pub fn scratch_disk(name: &str, size_mib: u64) -> PathBuf {
    let dir = Path::new("/tmp/xmlab/disks");
    fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{name}.img"));
    let f = fs::File::create(&p).unwrap();
    f.set_len(size_mib << 20).unwrap();
    p
}

/// [`scratch_disk`] of 8 MiB that starts with `marker` (for a guest to read back).
pub fn marked_disk(name: &str, marker: &str) -> PathBuf {
    let img = scratch_disk(name, 8);
    run_ok(&format!(
        "printf {marker} | dd of={} conv=notrunc status=none",
        img.display()
    ));
    img
}

/// Number of user-space segfault/trap reports in dom0's kernel log (the lab's flakiness canary).
pub fn dom0_segfaults() -> usize {
    let log = run_ok("dmesg");
    log.lines()
        .filter(|l| {
            l.contains("segfault at") || l.contains("traps:") || l.contains("general protection")
        })
        .count()
}

/// Make the volume group [`GUESTS_VG`] with the LVs the example configs name (`xmlab-vg`,
/// tests/lab/README.md); the first call in a boot makes it, later ones only check. Returns
/// xmlab-vg's summary line.
pub fn guests_vg() -> String {
    use std::sync::Mutex;
    static DONE: Mutex<Option<String>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(line) = done.as_ref() {
        return line.clone();
    }
    let out = run_timeout("xmlab-vg", 600);
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "xmlab-vg failed: {line}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    note(&line);
    *done = Some(line.clone());
    line
}

/// `/dev/xen0001_guests/<lv>`.
pub fn guest_lv(lv: &str) -> String {
    format!("/dev/{GUESTS_VG}/{lv}")
}

/// Run `script` in a running lab guest through its xenstore node `xmtest/cmd`
/// (`xmlab-guest-cmd -w`): the guest init watches that node when its command line has no
/// `xmtest.cmd=` (e.g. a guest booted through pygrub). Returns the output framed on the
/// guest's console and its exit status; panics if the command cannot be delivered or gets
/// no answer within `timeout`.
pub fn guest_cmd(domid: u32, script: &str, timeout: Duration) -> CmdOutput {
    let out = Command::new("xmlab-guest-cmd")
        .args([
            "-w",
            &timeout.as_secs().max(1).to_string(),
            &domid.to_string(),
            script,
        ])
        .output()
        .expect("run xmlab-guest-cmd");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.is_empty() && out.status.code().is_some(),
        "xmlab-guest-cmd {domid}: {err}"
    );
    CmdOutput {
        text: String::from_utf8_lossy(&out.stdout).into_owned(),
        rc: out.status.code().unwrap_or(-1),
    }
}

/// Output of the guest command (between `XMTEST-CMD-BEGIN` and `XMTEST-CMD-END rc=N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    pub text: String,
    pub rc: i32,
}

impl CmdOutput {
    /// Whether the command printed `line` (a whole line, trimmed): other console output, such
    /// as a guest's background counter, may be mixed in with the command's.
    pub fn has_line(&self, line: &str) -> bool {
        self.text.lines().any(|l| l.trim() == line)
    }
}

/// Parse the last framed command output out of console text.
pub fn parse_cmd_output(console: &str) -> Option<CmdOutput> {
    let console = console.replace('\r', "");
    let begin = console.rfind(CMD_BEGIN)?;
    let rest = &console[begin + CMD_BEGIN.len()..];
    let end = rest.find(CMD_END)?;
    let rc_str: String = rest[end + CMD_END.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    Some(CmdOutput {
        text: rest[..end].trim_start_matches('\n').to_string(),
        rc: rc_str.parse().ok()?,
    })
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A PV guest of the lab (Debian kernel + the lab's busybox initramfs), as an xl/xm config.
#[derive(Debug, Clone)]
pub struct Guest {
    pub name: String,
    pub memory_mib: u32,
    pub vcpus: u32,
    /// Shell script the guest runs after boot (`xmtest.cmd`, base64 on the kernel command line;
    /// keep it short: Xen limits a PV command line to 1024 bytes).
    pub cmd: Option<String>,
    /// `poweroff`/`reboot`/`halt` after the command; `None` = stay up.
    pub then: Option<String>,
    /// eth0 address (default 10.99.0.<100+domid>/24).
    pub ip: Option<String>,
    pub vifs: Vec<String>,
    pub disks: Vec<String>,
    /// Extra kernel arguments (default `quiet`).
    pub kernel_args: String,
    /// Extra config lines, verbatim.
    pub extra_cfg: Vec<String>,
}

impl Guest {
    pub fn new(name: &str) -> Guest {
        Guest {
            name: name.to_string(),
            memory_mib: 128,
            vcpus: 1,
            cmd: None,
            then: None,
            ip: None,
            vifs: vec![],
            disks: vec![],
            kernel_args: "quiet".to_string(),
            extra_cfg: vec![],
        }
    }
    pub fn memory(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }
    pub fn vcpus(mut self, n: u32) -> Self {
        self.vcpus = n;
        self
    }
    pub fn cmd(mut self, script: &str) -> Self {
        self.cmd = Some(script.to_string());
        self
    }
    /// Power off (or `reboot`/`halt`) by itself after the command.
    pub fn then(mut self, action: &str) -> Self {
        self.then = Some(action.to_string());
        self
    }
    pub fn ip(mut self, cidr: &str) -> Self {
        self.ip = Some(cidr.to_string());
        self
    }
    /// A vif on the lab bridge.
    pub fn vif(self) -> Self {
        self.vif_spec(&format!("bridge={BRIDGE}"))
    }
    pub fn vif_spec(mut self, spec: &str) -> Self {
        self.vifs.push(spec.to_string());
        self
    }
    /// A disk spec as in xm/xl configs, e.g. `file:/tmp/x.img,xvdb,w`.
    pub fn disk(mut self, spec: &str) -> Self {
        self.disks.push(spec.to_string());
        self
    }
    pub fn kernel_args(mut self, args: &str) -> Self {
        self.kernel_args = args.to_string();
        self
    }
    /// An extra config line, verbatim (e.g. `on_poweroff = "destroy"`).
    pub fn cfg(mut self, line: &str) -> Self {
        self.extra_cfg.push(line.to_string());
        self
    }

    /// The guest's kernel command line (`extra`).
    pub fn cmdline(&self) -> String {
        let mut s = format!("console=hvc0 {}", self.kernel_args);
        if let Some(c) = &self.cmd {
            write!(s, " xmtest.cmd={}", base64(c.as_bytes())).unwrap();
        }
        if let Some(t) = &self.then {
            write!(s, " xmtest.then={t}").unwrap();
        }
        if let Some(ip) = &self.ip {
            write!(s, " xmtest.ip={ip}").unwrap();
        }
        s.trim().to_string()
    }

    /// The config file text (valid for both xl and xm).
    pub fn config_text(&self) -> String {
        let list = |v: &[String]| {
            v.iter()
                .map(|x| format!("'{x}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = String::new();
        writeln!(s, "name = \"{}\"", self.name).unwrap();
        writeln!(s, "kernel = \"{GUEST_KERNEL}\"").unwrap();
        writeln!(s, "ramdisk = \"{GUEST_RAMDISK}\"").unwrap();
        writeln!(s, "memory = {}", self.memory_mib).unwrap();
        writeln!(s, "vcpus = {}", self.vcpus).unwrap();
        writeln!(s, "extra = \"{}\"", self.cmdline()).unwrap();
        if !self.vifs.is_empty() {
            writeln!(s, "vif = [ {} ]", list(&self.vifs)).unwrap();
        }
        if !self.disks.is_empty() {
            writeln!(s, "disk = [ {} ]", list(&self.disks)).unwrap();
        }
        for l in &self.extra_cfg {
            writeln!(s, "{l}").unwrap();
        }
        s
    }

    /// Write the config to `/tmp/xmlab/cfg/<name>.cfg` and return its path.
    pub fn write_config(&self) -> PathBuf {
        write_config_file(&self.name, &self.config_text())
    }

    /// `xl create` the guest; the returned handle destroys it on drop if it still exists.
    pub fn start(&self) -> Running {
        let cfg = self.write_config();
        let t = Instant::now();
        xl_ok(&["create", &cfg.to_string_lossy()]);
        note(&format!(
            "xl create {} took {:.2} s",
            self.name,
            t.elapsed().as_secs_f64()
        ));
        Running {
            name: self.name.clone(),
        }
    }
}

/// Write a PV guest config for `name` (lab kernel + initramfs, 128 MiB, console on hvc0) plus
/// the verbatim config lines in `extra`; returns the config file's path.
pub fn guest_config(name: &str, extra: &str) -> String {
    let mut g = Guest::new(name);
    g.extra_cfg.extend(extra.lines().map(str::to_string));
    g.write_config().to_string_lossy().into_owned()
}

/// A created domain. Dropping it destroys the domain if it still exists (so a failing test
/// does not leave guests behind for the next one).
#[derive(Debug)]
pub struct Running {
    pub name: String,
}

impl Running {
    /// Adopt a domain created some other way (e.g. by `xm create`).
    pub fn adopt(name: &str) -> Running {
        Running {
            name: name.to_string(),
        }
    }
    pub fn domid(&self) -> Option<u32> {
        domid(&self.name)
    }
    pub fn console_log(&self) -> PathBuf {
        console_log(&self.name)
    }
    pub fn console_text(&self) -> String {
        console_text(&self.name)
    }
    /// Wait for `marker` on the console.
    pub fn wait_console(&self, marker: &str, timeout: Duration) -> String {
        let t = Instant::now();
        let text = wait_console(&self.name, marker, timeout);
        note(&format!(
            "{}: `{marker}` on the console after {:.2} s",
            self.name,
            t.elapsed().as_secs_f64()
        ));
        text
    }
    /// Wait for the guest init's "up" marker (devices configured).
    pub fn wait_up(&self, timeout: Duration) -> String {
        self.wait_console(GUEST_UP, timeout)
    }
    /// Run `script` in the running guest through xenstore ([`guest_cmd`]).
    pub fn guest_cmd(&self, script: &str, timeout: Duration) -> CmdOutput {
        let id = self
            .domid()
            .unwrap_or_else(|| panic!("guest {} is not running", self.name));
        guest_cmd(id, script, timeout)
    }
    /// Wait for the guest's command to finish and return its output.
    pub fn wait_cmd(&self, timeout: Duration) -> CmdOutput {
        let text = self.wait_console(CMD_END, timeout);
        parse_cmd_output(&text)
            .unwrap_or_else(|| panic!("guest {}: cannot parse command output", self.name))
    }
    pub fn wait_gone(&self, timeout: Duration) {
        let t = Instant::now();
        wait_domain_gone(&self.name, timeout);
        note(&format!(
            "{}: gone after {:.2} s",
            self.name,
            t.elapsed().as_secs_f64()
        ));
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if domain_exists(&self.name) {
            let _ = xl(&["destroy", &self.name]);
        }
    }
}

/// `xm ARGS`, which must succeed; its stdout.
pub fn xm_ok(args: &[&str]) -> String {
    let out = xm(args);
    assert!(
        out.status.success(),
        "xm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `xm ARGS`, which must fail with exit code `code`; its stderr.
pub fn xm_fails(args: &[&str], code: i32) -> String {
    let out = xm(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "xm {args:?}: {err}");
    err
}

/// `xm create` of `guest`'s config (named `name`), waited for until the guest is up.
pub fn xm_created(name: &str, guest: Guest) -> Running {
    let cfg = guest.write_config();
    xm_ok(&["create", &cfg.to_string_lossy()]);
    let g = Running::adopt(name);
    g.wait_up(Duration::from_secs(120));
    g
}

/// `xm` built with `--features failpoints` (run-tests ships it next to `xm`); see
/// `xm/src/xen/failpoint.rs`: `FAILPOINTS=STEP=return` fails a step of a create,
/// `STEP=return(hang)` stops there for a kill -9.
pub const XM_FAILPOINTS: &str = "/xmlab/payload/bin/xm-failpoints";

/// Is [`XM_FAILPOINTS`] there? (Panics naming what to do when not.)
pub fn failpoints_available() -> bool {
    if Path::new(XM_FAILPOINTS).exists() {
        return true;
    }
    // run-tests builds it with the ordinary xm; only a lab run by hand may lack it.
    panic!(
        "{XM_FAILPOINTS} missing: tests/lab/run-tests ships it (cargo build -p xm --features failpoints)"
    );
}

/// The host's scheduler as `xl info` names it.
pub fn scheduler() -> String {
    xl_ok(&["info"])
        .lines()
        .find_map(|l| l.strip_prefix("xen_scheduler"))
        .and_then(|v| v.split(':').nth(1))
        .map(|v| v.trim().to_string())
        .expect("xl info has xen_scheduler")
}

/// (weight, cap) of `name` from `xl sched-credit -d` / `xl sched-credit2 -d`.
pub fn weight_cap(sched: &str, name: &str) -> (u32, u32) {
    let cmd = match sched {
        "credit" => "sched-credit",
        "credit2" => "sched-credit2",
        other => panic!("no weight/cap command for {other}"),
    };
    let text = xl_ok(&[cmd, "-d", name]);
    // Name  ID  Weight  Cap
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("{text}"))
        .split_whitespace()
        .collect();
    (row[2].parse().unwrap(), row[3].parse().unwrap())
}

/// Everything a create may leave: domains and their xenstore directories, loop devices, vif
/// interfaces, monitor processes, a bootloader's output directories, PCI claims, QEMUs.
#[derive(Debug)]
pub struct Leftovers {
    store: BTreeSet<String>,
    loops: String,
    links: BTreeSet<String>,
    monitors: Vec<(u32, u32)>,
    bootloader_dirs: BTreeSet<String>,
    pci_claims: BTreeSet<String>,
    /// Device-model processes (`qemu-system-*`), by pid.
    qemus: BTreeSet<u32>,
}

/// The pids of running `qemu-system-*` processes (device models).
pub fn qemus() -> BTreeSet<u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with("qemu-system"))
        })
        .collect()
}

impl Leftovers {
    pub fn now() -> Leftovers {
        let links = run_ok("ip -o link show")
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
            .filter(|n| n.starts_with("vif"))
            .collect();
        let bootloader_dirs = fs::read_dir("/var/run/xen")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("xm-bootloader."))
            .collect();
        // libxl's (and xm's) record of which domain holds a PCI function.
        let claims = run("xenstore-ls -f /libxl/pci");
        let pci_claims = String::from_utf8_lossy(&claims.stdout)
            .lines()
            .filter(|l| l.contains("/domid = "))
            .map(str::to_string)
            .collect();
        Leftovers {
            store: store_snapshot(),
            loops: run_ok("losetup -a | sort"),
            links,
            monitors: monitors(),
            bootloader_dirs,
            pci_claims,
            qemus: qemus(),
        }
    }

    /// Nothing here that `before` did not have. (Something of an earlier test may have gone
    /// since: its domain was destroyed, and its monitor, backends and loop devices take a
    /// moment to follow.)
    pub fn adds_nothing_to(&self, before: &Leftovers) -> bool {
        self.store.is_subset(&before.store)
            && self
                .loops
                .lines()
                .all(|l| before.loops.lines().any(|b| b == l))
            && self.links.is_subset(&before.links)
            && self.monitors.iter().all(|m| before.monitors.contains(m))
            && self.bootloader_dirs.is_subset(&before.bootloader_dirs)
            && self.pci_claims.is_subset(&before.pci_claims)
            && self.qemus.is_subset(&before.qemus)
    }
}

/// Waits for the leftovers to be as `before` (a destroyed domain's backends and hotplug
/// scripts finish in the background), or panics naming the difference.
pub fn wait_clean(before: &Leftovers, what: &str) {
    let mut last = None;
    let clean = (0..100).any(|_| {
        let now = Leftovers::now();
        if now.adds_nothing_to(before) {
            return true;
        }
        last = Some(now);
        std::thread::sleep(Duration::from_millis(200));
        false
    });
    assert!(clean, "{what} left:\n{last:#?}\nbefore:\n{before:#?}");
}

/// The domids `xm list` shows, by its ID column.
pub fn xm_list_ids() -> BTreeSet<u32> {
    let out = xm(&["list"]);
    assert!(
        out.status.success(),
        "xm list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.get(40..46).and_then(|id| id.trim().parse().ok()))
        .collect()
}

/// `xm create CFG` with failpoint `step` failing: asserts it exits 1 with an error naming the
/// step, and returns that error line. (The caller checks what is left.)
pub fn create_failing_at(step: &str, cfg: &Path) -> String {
    let out = run(&format!(
        "FAILPOINTS='{step}=return' {XM_FAILPOINTS} create {}",
        cfg.display()
    ));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{step}: {err}");
    let line = err.lines().find(|l| l.starts_with("Error: ")).unwrap_or("");
    assert!(
        line.contains(step) && line.contains("injected failure"),
        "{step}: the error names the step: {err}"
    );
    line.to_string()
}

/// `xm create CFG` stopped at failpoint `step` and killed with SIGKILL; then every domain
/// `xm list` shows that `ids_before` did not have is destroyed with `xm destroy` (which must
/// succeed). Returns those domids. (The caller checks what is left.)
pub fn create_killed_at(step: &str, cfg: &Path, ids_before: &BTreeSet<u32>) -> Vec<u32> {
    xm_killed_at(step, &format!("create -q {}", cfg.display()), ids_before)
}

/// Waits until the xm whose stderr goes to `err_file` stops at failpoint `step`
/// (`return(hang)` says so there).
fn wait_hanging(step: &str, err_file: &str) {
    wait_until(Duration::from_secs(120), &format!("{step} reached"), || {
        fs::read_to_string(err_file)
            .ok()
            .filter(|t| t.contains("hanging"))
    });
}

/// [`create_killed_at`] for any xm command line `args` (shell words).
pub fn xm_killed_at(step: &str, args: &str, ids_before: &BTreeSet<u32>) -> Vec<u32> {
    fs::create_dir_all("/tmp/xmlab").unwrap();
    let err_file = format!("/tmp/xmlab/kill-{}.err", unique_name("k"));
    let pid = run_ok(&format!(
        "FAILPOINTS='{step}=return(hang)' {XM_FAILPOINTS} {args} >/dev/null 2>{err_file} & echo $!"
    ));
    let pid = pid.trim();
    wait_hanging(step, &err_file);
    run_ok(&format!("kill -9 {pid}"));
    // Whatever is left shows in xm list, and xm destroy takes all of it away.
    let left: Vec<u32> = xm_list_ids().difference(ids_before).copied().collect();
    for id in &left {
        let out = xm(&["destroy", &id.to_string()]);
        assert!(
            out.status.success(),
            "{step}: destroy {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    left
}

/// `xm-failpoints ARGS` (words split at spaces) stopped at failpoint `step`, then sent
/// `signal` (`INT`, `TERM`, `HUP`): what a Ctrl-C, a `kill` or a closed terminal does there.
/// Waits for it to exit (it should stop at its next step and undo); its exit code and stderr.
pub fn xm_interrupted_at(step: &str, args: &str, signal: &str) -> (Option<i32>, String) {
    fs::create_dir_all("/tmp/xmlab").unwrap();
    let err_file = format!("/tmp/xmlab/int-{}.err", unique_name("i"));
    let mut child = Command::new(XM_FAILPOINTS)
        .args(args.split_whitespace())
        .env("FAILPOINTS", format!("{step}=return(hang)"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap();
    wait_hanging(step, &err_file);
    run_ok(&format!("kill -{signal} {}", child.id()));
    let status = wait_until(
        Duration::from_secs(300),
        &format!("xm to stop after SIG{signal} at {step}"),
        || child.try_wait().unwrap(),
    );
    (
        status.code(),
        fs::read_to_string(&err_file).unwrap_or_default(),
    )
}

/// A running `xm` (e.g. `create -c`, `console`) with its output collected in the background:
/// what a user at the console would see. [`XmSession::start`] gives it a pipe for stdin (no
/// terminal), [`XmSession::start_on_terminal`] a pseudo-terminal for stdin, stdout and stderr,
/// as a user's shell would.
pub struct XmSession {
    pub child: std::process::Child,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    input: std::sync::Mutex<Box<dyn std::io::Write + Send>>,
}

impl XmSession {
    pub fn start(args: &[&str]) -> XmSession {
        use std::process::Stdio;
        let mut child = Command::new(xm_path().expect("xm in payload"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn xm");
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
        XmSession::collect(child, stdout, Box::new(stdin))
    }

    /// `xm ARGS` on a new 80x24 pseudo-terminal (`TERM=vt100`), as if typed at a shell.
    pub fn start_on_terminal(args: &[&str]) -> XmSession {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .expect("open a pseudo-terminal");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let size = rustix::termios::Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&master, size).expect("set the terminal's size");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let name = PathBuf::from(name.to_string_lossy().into_owned());
        let open = || {
            fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&name)
                .unwrap_or_else(|e| panic!("{}: {e}", name.display()))
        };
        let child = Command::new(xm_path().expect("xm in payload"))
            .args(args)
            .env("TERM", "vt100")
            .stdin(open())
            .stdout(open())
            .stderr(open())
            .spawn()
            .expect("spawn xm");
        let reader = fs::File::from(master.try_clone().expect("dup the terminal"));
        XmSession::collect(child, reader, Box::new(fs::File::from(master)))
    }

    fn collect(
        child: std::process::Child,
        mut output: impl std::io::Read + Send + 'static,
        input: Box<dyn std::io::Write + Send>,
    ) -> XmSession {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // A terminal's master reads EIO once the last process holding it has gone.
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        XmSession {
            child,
            out,
            input: std::sync::Mutex::new(input),
        }
    }

    /// Everything xm printed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Waits for `marker` in xm's output; all of it.
    pub fn wait_for(&self, marker: &str, timeout: Duration) -> String {
        wait_until(timeout, &format!("`{marker}` on xm's console"), || {
            let t = self.text();
            t.contains(marker).then_some(t)
        })
    }

    /// Types `bytes` at xm.
    pub fn type_in(&self, bytes: &[u8]) {
        let mut input = self.input.lock().unwrap();
        input.write_all(bytes).unwrap();
        input.flush().unwrap();
    }

    /// Types Ctrl-] and waits for xm to exit; its exit code.
    pub fn detach(mut self) -> Option<i32> {
        self.type_in(&[0x1d]);
        let status = wait_until(Duration::from_secs(10), "xm to exit after Ctrl-]", || {
            self.child.try_wait().unwrap()
        });
        status.code()
    }
}

/// The counter some tests run in a guest ([`start_ticks`]): `XMTICK N` on its console, once
/// a second, from 0.
pub const TICK: &str = "XMTICK ";

/// The counter's values in console text, in the order logged.
pub fn ticks(console: &str) -> Vec<u64> {
    console
        .lines()
        .filter_map(|l| l.trim().strip_prefix(TICK))
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// The last counter value on `name`'s console.
pub fn last_tick(name: &str) -> Option<u64> {
    ticks(&console_text(name)).last().copied()
}

/// Starts the counter in a running guest (in the background, on its console) and waits for
/// a few ticks; the last one seen.
pub fn start_ticks(g: &Running) -> u64 {
    let out = g.guest_cmd(
        "(i=0; while :; do echo XMTICK $i; i=$((i+1)); sleep 1; done) >/dev/console 2>&1 &\necho",
        Duration::from_secs(60),
    );
    assert_eq!(out.rc, 0, "{}", out.text);
    wait_until(Duration::from_secs(60), "the counter", || {
        last_tick(&g.name).filter(|&t| t >= 2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn parses_cmd_output() {
        let c = "boot\r\nXMTEST-CMD-BEGIN\r\n32768\r\nXMTEST-CMD-END rc=3\r\n";
        assert_eq!(
            parse_cmd_output(c),
            Some(CmdOutput {
                text: "32768\n".into(),
                rc: 3
            })
        );
        assert_eq!(parse_cmd_output("XMTEST-CMD-BEGIN\nx"), None);
    }

    #[test]
    fn config_text_has_lab_paths() {
        let t = Guest::new("g")
            .vif()
            .disk("file:/tmp/a.img,xvdb,w")
            .cmd("echo hi")
            .then("poweroff")
            .config_text();
        assert!(t.contains("kernel = \"/xmlab/guest/vmlinux\""));
        assert!(t.contains("vif = [ 'bridge=xenbr0' ]"));
        assert!(t.contains("disk = [ 'file:/tmp/a.img,xvdb,w' ]"));
        assert!(t.contains("xmtest.cmd=ZWNobyBoaQ== xmtest.then=poweroff"));
    }
}
