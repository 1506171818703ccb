//! Every xl.cfg of the corpus (`tests/corpus/libvirt-xl/`, libvirt's xl test configs) loads
//! and dry-runs: xl's disk syntax, `type`, `tsc_mode` names, pci options, and the keys xm
//! ignored. Files the configs name (`/tmp/vmlinuz`) are taken to exist, as the CLI would
//! check them on the real host.

use std::path::{Path, PathBuf};

use domcfg::DomainConfig;
use domcfg::lang::{Host, Limits};
use domcfg::load::{LoadRequest, load};
use domcfg::options::Options;
use domcfg::sxp;

struct EveryPathExists;

impl Host for EveryPathExists {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "6.1.0-xen-amd64", "#1 SMP", "x86_64"].map(String::from)
    }
    fn path_exists(&self, _: &str) -> bool {
        true
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/libvirt-xl")
}

fn dry_run(name: &str) -> Result<(DomainConfig, String), String> {
    let options = Options::new();
    let limits = Limits::default();
    let cwd = dir();
    let req = LoadRequest {
        config_name: name,
        search_path: ".",
        options: &options,
        cwd: &cwd,
        display: None,
        xauthority: "/root/.Xauthority",
        host: &EveryPathExists,
        limits: &limits,
        pygrub_paths: &[],
    };
    let loaded = load(&req).map_err(|e| e.to_string())?;
    let text = sxp::render(&loaded.config);
    Ok((loaded.config, text))
}

#[test]
fn every_libvirt_xl_config_dry_runs() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 48, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        match dry_run(name) {
            Ok((config, text)) => {
                assert!(text.starts_with("(vm\n"), "{name}");
                // Every disk entry became a vbd with a device xm could number.
                let entries = text.matches("(device (vbd").count()
                    + text.matches("(device (tap").count()
                    + text.matches("(device\n        (vbd").count()
                    + text.matches("(device\n        (tap").count();
                assert_eq!(entries, config.devices.disks.len(), "{name}:\n{text}");
                for d in &config.devices.disks {
                    assert!(d.device_number().is_some(), "{name}: {d:?}");
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

/// Each disk as (uname, vdev, mode).
fn disk_triples(c: &DomainConfig) -> Vec<(&str, &str, &str)> {
    c.devices
        .disks
        .iter()
        .map(|d| (d.uname.as_str(), d.vdev.as_str(), d.mode.as_str()))
        .collect()
}

#[test]
fn xl_disks_keep_their_meaning() {
    let (c, text) = dry_run("test-new-disk.cfg").unwrap();
    assert_eq!(
        disk_triples(&c),
        [
            ("phy:/dev/HostVG/XenGuest2", "hda", "w"),
            (
                "tap:qcow2:/var/lib/libvirt/images/XenGuest2-home",
                "hdb",
                "w"
            ),
            ("tap:aio:/root/boot.iso", "hdc:cdrom", "r"),
        ]
    );
    assert!(
        text.contains("    (device (vbd (uname phy:/dev/HostVG/XenGuest2) (dev hda) (mode w)))\n")
    );

    // Positional forms, empty fields and all.
    let (c, _) = dry_run("test-disk-positional-parms-partial.cfg").unwrap();
    assert_eq!(
        disk_triples(&c),
        [
            ("phy:/dev/HostVG/XenGuest2", "hda", "w"),
            ("file:/var/lib/libvirt/images/XenGuest2-home", "hdb", "w"),
            ("file:/root/boot.iso", "hdc:cdrom", "r"),
        ]
    );

    // libvirt's target-first spec.
    let (c, _) = dry_run("test-disk-qed.cfg").unwrap();
    let xl = c.devices.disks[0].xl.as_ref().unwrap();
    assert_eq!(
        xl.target.as_deref(),
        Some("/var/lib/libvirt/images/XenGuest2")
    );
    assert_eq!(
        c.devices.disks[0].uname,
        "tap:qed:/var/lib/libvirt/images/XenGuest2"
    );

    // A target with xl's escapes and colons stays whole.
    let (c, _) = dry_run("test-rbd-multihost-noauth.cfg").unwrap();
    assert!(
        c.devices.disks[1]
            .uname
            .starts_with("tap:aio:rbd:pool/image:auth_supported=none:mon_host=")
    );
}

#[test]
fn xl_types_and_kernel_lines() {
    let (c, _) = dry_run("test-fullvirt-type.cfg").unwrap();
    assert_eq!(c.image.builder, "hvm");
    let (c, _) = dry_run("test-paravirt-type.cfg").unwrap();
    assert_eq!(
        (c.image.builder.as_str(), c.image.args.as_str()),
        ("linux", "root=/dev/xvda1 console=hvc0")
    );
    let (c, _) = dry_run("test-pvh-type.cfg").unwrap();
    assert_eq!(c.image.builder, "linux");
    let (c, _) = dry_run("test-fullvirt-tsc-timer.cfg").unwrap();
    assert_eq!(c.image.tsc_mode, 2);
    let (c, _) = dry_run("test-fullvirt-pci.cfg").unwrap();
    assert_eq!(c.devices.pci.len(), 2);
}
