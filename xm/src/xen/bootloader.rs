//! The PV bootloader (`bootloader = "pygrub"`): a dom0 program that reads the guest's first
//! disk, picks a kernel from the guest's own GRUB menu (`menu.lst`/`grub.conf` of the
//! grub-legacy era, or grub 2's `grub.cfg`), and copies the kernel and initrd out for the
//! domain builder. It is run as libxl 4.17 runs it:
//!
//! ```text
//! BOOTLOADER [--kernel=K] [--ramdisk=R] [--args=CMDLINE] --output=FILE
//!            --output-format=simple0 --output-directory=DIR [bootloader_args...] DISK
//! ```
//!
//! `FILE` then holds `kernel PATH\0ramdisk PATH\0args TEXT\0\0`. The files it names are in
//! `DIR`; xm opens them and removes `DIR` at once, and the builder reads them through
//! `/proc/self/fd`, so a create killed after the bootloader leaves no files behind (only one
//! killed while the bootloader runs can leave `DIR`; the next create or destroy removes it). The config's
//! `root=`/`extra` go in as `--args`; pygrub appends them to the menu entry's arguments, as
//! xend's did. Without a terminal to show its menu on, the bootloader runs with `-q` and a
//! bound on its time; with `xm create -c` on a terminal it runs on that terminal, menu and all.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ControlError;
use super::helper::{env_seconds, run_bounded};

/// Where bootloader output directories go (libxl: `/var/run/xen/bootloader.DOMID.d`).
const RUN_DIR: &str = "/var/run/xen";
/// The prefix of xm's output directories there: `xm-bootloader.PID.d`.
const DIR_PREFIX: &str = "xm-bootloader.";

/// How long a bootloader without a terminal may run, unless `$XM_BOOTLOADER_TIMEOUT` (seconds)
/// says otherwise. pygrub reads a few MiB from the disk; this is for one stuck on a device.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// The bootloader part of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootloader {
    /// The program as the config names it.
    pub program: PathBuf,
    /// `bootloader_args` (xm's `bootargs`, `-q` unless `xm create -c`), split as a shell would.
    pub args: Vec<String>,
    /// The dom0 path of the first disk (a block device or an image file).
    pub disk: String,
    /// Kernel and ramdisk paths inside the guest's disk (the config's `kernel`/`ramdisk`), for
    /// the bootloader to use instead of its menu's choice.
    pub kernel: Option<String>,
    pub ramdisk: Option<String>,
}

/// What the bootloader chose: `kernel` and `ramdisk` are `/proc/self/fd/N` paths of files
/// this holds open (their directory is gone), readable until this is dropped.
#[derive(Debug)]
pub struct Booted {
    pub kernel: PathBuf,
    pub ramdisk: Option<PathBuf>,
    pub cmdline: String,
    /// The files the bootloader wrote (removed now), for the record and for messages.
    pub kernel_written: PathBuf,
    pub ramdisk_written: Option<PathBuf>,
    dir: PathBuf,
    open: Vec<std::fs::File>,
}

impl Booted {
    /// Opens `path` and keeps it open; the `/proc/self/fd` path that reads it.
    fn hold(&mut self, path: &Path) -> Result<PathBuf, ControlError> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path).map_err(|e| ControlError::File {
            path: path.display().to_string(),
            message: format!("the bootloader's output: {e}"),
        })?;
        let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        self.open.push(file);
        Ok(fd)
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Places this host may keep its pygrub, for the Xen release xm was built for (one list with
/// `xm create -n`'s lookup of a bare `pygrub`).
pub fn pygrub_paths() -> Vec<String> {
    domcfg::config::pygrub_paths(super::xc::XEN_RELEASE)
}

impl Bootloader {
    /// Checks the program exists. A missing one named `pygrub` (configs from Xen 3's days
    /// name `/usr/lib/xen-3.0.3-1/bin/pygrub`) becomes this host's pygrub, and the returned
    /// warning says so; any other missing bootloader is an error.
    pub fn resolve(&mut self) -> Result<Option<String>, ControlError> {
        let candidates: Vec<PathBuf> = pygrub_paths().into_iter().map(PathBuf::from).collect();
        self.resolve_with(&candidates, &|p| p.is_file())
    }

    fn resolve_with(
        &mut self,
        candidates: &[PathBuf],
        exists: &dyn Fn(&Path) -> bool,
    ) -> Result<Option<String>, ControlError> {
        if exists(&self.program) {
            return Ok(None);
        }
        let configured = self.program.display().to_string();
        if self.program.file_name().is_some_and(|n| n == "pygrub") {
            if let Some(found) = candidates.iter().find(|c| exists(c)) {
                let bare = self.program.as_os_str() == "pygrub";
                self.program = found.clone();
                // A bare `pygrub` asks for the host's (xm looked it up in Xen's directories;
                // Debian 13 has no /usr/bin/pygrub): nothing to warn about.
                if bare {
                    return Ok(None);
                }
                return Ok(Some(format!(
                    "bootloader {configured} does not exist: using this host's {}",
                    found.display()
                )));
            }
            return Err(ControlError::Bootloader(format!(
                "bootloader {configured} does not exist, and this host has no pygrub \
                 (looked in {})",
                candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Err(ControlError::Bootloader(format!(
            "bootloader {configured} does not exist"
        )))
    }

    /// Runs the bootloader on the disk. `cmdline` is the config's kernel command line (handed
    /// over as `--args`); `terminal`: the user asked for the console (`xm create -c`), so the
    /// bootloader may show its menu if stdin and stdout are a terminal.
    pub fn run(&self, cmdline: &str, terminal: bool) -> Result<Booted, ControlError> {
        sweep_stale_dirs();
        let dir = PathBuf::from(format!("{RUN_DIR}/{DIR_PREFIX}{}.d", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let made = std::fs::create_dir_all(RUN_DIR).and_then(|()| {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(0o700).create(&dir)
        });
        made.map_err(|e| ControlError::File {
            path: dir.display().to_string(),
            message: format!("cannot make the bootloader's directory: {e}"),
        })?;
        // From here on, dropping `booted` removes the directory, whatever happens.
        let mut booted = Booted {
            kernel: PathBuf::new(),
            ramdisk: None,
            cmdline: String::new(),
            kernel_written: PathBuf::new(),
            ramdisk_written: None,
            dir,
            open: Vec::new(),
        };
        let output = booted.dir.join("output");
        std::fs::write(&output, b"").map_err(|e| ControlError::File {
            path: output.display().to_string(),
            message: e.to_string(),
        })?;
        let interactive = terminal
            && !self.args.iter().any(|a| a == "-q" || a == "--quiet")
            && std::io::stdin().is_terminal()
            && std::io::stdout().is_terminal();
        let mut cmd = Command::new(&self.program);
        cmd.args(self.command_args(cmdline, &output, &booted.dir, interactive));
        let what = format!("bootloader {} on {}", self.program.display(), self.disk);
        if interactive {
            // The user's terminal, menu and all, for as long as the user takes.
            let status = cmd
                .status()
                .map_err(|e| ControlError::Bootloader(format!("{what}: {e}")))?;
            if !status.success() {
                return Err(ControlError::Bootloader(format!(
                    "{what} failed ({status})"
                )));
            }
        } else {
            let (status, stderr) = run_bounded(cmd, timeout())
                .map_err(|e| ControlError::Bootloader(format!("{what}: {e}")))?;
            if !status.success() {
                return Err(ControlError::Bootloader(format!(
                    "{what} failed ({status}): {}",
                    last_words(&stderr)
                )));
            }
        }
        let text = std::fs::read(&output).map_err(|e| ControlError::File {
            path: output.display().to_string(),
            message: e.to_string(),
        })?;
        let chosen =
            parse_simple0(&text).map_err(|e| ControlError::Bootloader(format!("{what}: {e}")))?;
        // Only files the bootloader put in our directory are used (and later removed).
        for path in std::iter::once(&chosen.kernel).chain(chosen.ramdisk.as_ref()) {
            if !path.starts_with(&booted.dir) {
                return Err(ControlError::Bootloader(format!(
                    "{what}: it named {}, outside its output directory {}",
                    path.display(),
                    booted.dir.display()
                )));
            }
        }
        booted.kernel = booted.hold(&chosen.kernel)?;
        booted.ramdisk = match &chosen.ramdisk {
            Some(r) => Some(booted.hold(r)?),
            None => None,
        };
        booted.cmdline = chosen.args;
        booted.kernel_written = chosen.kernel;
        booted.ramdisk_written = chosen.ramdisk;
        // Nothing of the bootloader's stays on disk from here on, however xm ends.
        let _ = std::fs::remove_dir_all(&booted.dir);
        Ok(booted)
    }

    /// The bootloader's arguments, in libxl 4.17's order.
    fn command_args(
        &self,
        cmdline: &str,
        output: &Path,
        dir: &Path,
        interactive: bool,
    ) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(k) = &self.kernel {
            args.push(format!("--kernel={k}"));
        }
        if let Some(r) = &self.ramdisk {
            args.push(format!("--ramdisk={r}"));
        }
        if !cmdline.is_empty() {
            args.push(format!("--args={cmdline}"));
        }
        args.push(format!("--output={}", output.display()));
        args.push("--output-format=simple0".to_string());
        args.push(format!("--output-directory={}", dir.display()));
        args.extend(self.args.iter().cloned());
        let quiet = self.args.iter().any(|a| a == "-q" || a == "--quiet");
        if !interactive && !quiet {
            // No terminal for a menu: take the default entry.
            args.push("-q".to_string());
        }
        args.push(self.disk.clone());
        args
    }
}

/// [`TIMEOUT`], or `$XM_BOOTLOADER_TIMEOUT` seconds where that is a positive number.
fn timeout() -> Duration {
    env_seconds("XM_BOOTLOADER_TIMEOUT", TIMEOUT)
}

/// Removes output directories of earlier xm processes that are gone (killed while their
/// bootloader ran, or before the build that ends their use), so none piles up. Every xm
/// command that opens the host calls it (a readdir of a directory of a few entries).
pub fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(RUN_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|n| n.strip_suffix(".d"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The bootloader's last word on stderr (pygrub ends a Python traceback with the exception,
/// e.g. `RuntimeError: Unable to find partition containing kernel`).
fn last_words(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map_or_else(|| "it gave no reason".to_string(), str::to_string)
}

/// What `--output-format=simple0` says.
#[derive(Debug, PartialEq, Eq)]
struct Chosen {
    kernel: PathBuf,
    ramdisk: Option<PathBuf>,
    args: String,
}

/// Parses `kernel PATH\0[ramdisk PATH\0][args TEXT\0]\0`.
fn parse_simple0(bytes: &[u8]) -> Result<Chosen, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "its output is not text".to_string())?;
    let (mut kernel, mut ramdisk, mut args) = (None, None, String::new());
    for item in text.split('\0').filter(|i| !i.is_empty()) {
        let (key, value) = item.split_once(' ').unwrap_or((item, ""));
        match key {
            "kernel" if !value.is_empty() => kernel = Some(PathBuf::from(value)),
            "ramdisk" if !value.is_empty() => ramdisk = Some(PathBuf::from(value)),
            "args" => args = value.to_string(),
            _ => {} // libxl ignores what it does not know, too.
        }
    }
    let kernel = kernel.ok_or_else(|| {
        if text.is_empty() {
            "it chose no kernel (no output)".to_string()
        } else {
            format!("it chose no kernel (output {text:?})")
        }
    })?;
    Ok(Chosen {
        kernel,
        ramdisk,
        args,
    })
}

/// Splits `bootloader_args` as a POSIX shell would split words (xend used `shlex.split`):
/// blanks separate, single and double quotes group, a backslash escapes.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed quote in {text:?}")),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(format!("unclosed quote in {text:?}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed quote in {text:?}")),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                if let Some(c) = chars.next() {
                    w.push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loader(program: &str, args: &[&str]) -> Bootloader {
        Bootloader {
            program: PathBuf::from(program),
            args: args.iter().map(|a| a.to_string()).collect(),
            disk: "/dev/xen0001_guests/ce.ngc6475.boot".into(),
            kernel: None,
            ramdisk: None,
        }
    }

    #[test]
    fn simple0_output_is_parsed() {
        let c = parse_simple0(
            b"kernel /var/run/xen/d/boot_kernel.x\0ramdisk /var/run/xen/d/boot_ramdisk.y\0args console=hvc0 root=/dev/xvdc2 ro\0\0",
        )
        .unwrap();
        assert_eq!(c.kernel, PathBuf::from("/var/run/xen/d/boot_kernel.x"));
        assert_eq!(
            c.ramdisk,
            Some(PathBuf::from("/var/run/xen/d/boot_ramdisk.y"))
        );
        assert_eq!(c.args, "console=hvc0 root=/dev/xvdc2 ro");
        let c = parse_simple0(b"kernel /k\0\0").unwrap();
        assert_eq!((c.ramdisk, c.args.as_str()), (None, ""));
        assert!(parse_simple0(b"").unwrap_err().contains("no kernel"));
        assert!(parse_simple0(b"ramdisk /r\0\0").is_err());
        assert!(parse_simple0(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn arguments_follow_libxl_and_add_q_without_a_terminal() {
        let mut b = loader("/usr/lib/xen-4.17/bin/pygrub", &[]);
        b.kernel = Some("/boot/vmlinuz-x".into());
        let args = b.command_args(
            "root=/dev/xvdc2 ro",
            Path::new("/d/output"),
            Path::new("/d"),
            false,
        );
        assert_eq!(
            args,
            [
                "--kernel=/boot/vmlinuz-x",
                "--args=root=/dev/xvdc2 ro",
                "--output=/d/output",
                "--output-format=simple0",
                "--output-directory=/d",
                "-q",
                "/dev/xen0001_guests/ce.ngc6475.boot",
            ]
        );
        // With the menu on a terminal, no -q; an explicit -q is passed once.
        let b = loader("/p", &["--entry=1"]);
        let args = b.command_args("", Path::new("/d/o"), Path::new("/d"), true);
        assert!(!args.contains(&"-q".to_string()));
        assert!(args.contains(&"--entry=1".to_string()));
        let b = loader("/p", &["-q"]);
        let args = b.command_args("", Path::new("/d/o"), Path::new("/d"), false);
        assert_eq!(args.iter().filter(|a| *a == "-q").count(), 1);
    }

    #[test]
    fn a_missing_pygrub_becomes_the_hosts_with_a_warning() {
        let host = [PathBuf::from("/usr/lib/xen-4.17/bin/pygrub")];
        let exists = |p: &Path| p == Path::new("/usr/lib/xen-4.17/bin/pygrub");
        let mut b = loader("/usr/lib/xen-3.0.3-1/bin/pygrub", &[]);
        let warning = b.resolve_with(&host, &exists).unwrap().unwrap();
        assert_eq!(
            warning,
            "bootloader /usr/lib/xen-3.0.3-1/bin/pygrub does not exist: using this host's \
             /usr/lib/xen-4.17/bin/pygrub"
        );
        assert_eq!(b.program, host[0]);
        // An existing one is used as it is, without a word.
        assert_eq!(b.resolve_with(&host, &exists).unwrap(), None);
        // Any other missing bootloader is an error, and so is pygrub on a host without one.
        let mut other = loader("/usr/bin/grub-loader", &[]);
        let e = other.resolve_with(&host, &exists).unwrap_err().to_string();
        assert!(e.contains("/usr/bin/grub-loader does not exist"), "{e}");
        let mut b = loader("/opt/pygrub", &[]);
        let e = b.resolve_with(&host, &|_| false).unwrap_err().to_string();
        assert!(e.contains("this host has no pygrub"), "{e}");
        // A bare `pygrub` is the host's, found without a warning.
        let mut b = loader("pygrub", &[]);
        assert_eq!(b.resolve_with(&host, &exists).unwrap(), None);
        assert_eq!(b.program, host[0]);
        let mut b = loader("pygrub", &[]);
        let e = b.resolve_with(&host, &|_| false).unwrap_err().to_string();
        assert!(e.contains("this host has no pygrub"), "{e}");
    }

    #[test]
    fn bootloader_args_split_like_a_shell() {
        assert_eq!(split_args("-q").unwrap(), ["-q"]);
        assert_eq!(split_args("").unwrap(), Vec::<String>::new());
        assert_eq!(
            split_args(r#"--entry="Scientific Linux (2.6.9)" -q 'a b'\ c"#).unwrap(),
            ["--entry=Scientific Linux (2.6.9)", "-q", "a b c"]
        );
        assert!(split_args("'open").is_err());
    }

    #[test]
    fn last_words_are_the_exception_line() {
        let tb = "Traceback (most recent call last):\n  File \"pygrub\", line 1\nRuntimeError: Unable to find partition containing kernel\n\n";
        assert_eq!(
            last_words(tb),
            "RuntimeError: Unable to find partition containing kernel"
        );
        assert_eq!(last_words(""), "it gave no reason");
    }
}
