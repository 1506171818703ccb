//! Every config in the workspace's `examples/` dry-runs cleanly. A template documents its
//! variables in a comment line `xm create ... FILE VAR=VAL...`; those words are used.
//! Kernels named by the examples are taken to exist (the seed's `/boot/vmlinuz` is not on
//! the test host; for a real user a missing kernel is an error, as in xm).

use std::path::PathBuf;

use domcfg::lang::{Host, Limits};
use domcfg::load::{LoadRequest, load};
use domcfg::options::Options;
use domcfg::sxp;

struct EveryPathExists;

impl Host for EveryPathExists {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "6.1.0-xen", "#1 SMP", "x86_64"].map(String::from)
    }
    fn path_exists(&self, _: &str) -> bool {
        true
    }
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn dry_run(
    file: &str,
    words: &[String],
) -> Result<(domcfg::DomainConfig, String), domcfg::ConfigError> {
    let mut options = Options::new();
    for w in words {
        options.apply_arg(w)?;
    }
    let limits = Limits::default();
    let dir = examples();
    let req = LoadRequest {
        config_name: file,
        search_path: ".",
        options: &options,
        cwd: &dir,
        display: None,
        xauthority: "/root/.Xauthority",
        host: &EveryPathExists,
        limits: &limits,
        pygrub_paths: &[],
    };
    let loaded = load(&req)?;
    let text = sxp::render(&loaded.config);
    Ok((loaded.config, text))
}

/// The `VAR=VAL` words of a usage comment such as `#   xm create -c wn.tmpl vmid=7`.
fn documented_vars(text: &str, file: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('#') && l.contains("xm create") && l.contains(file))
        .flat_map(|l| {
            l.split_whitespace()
                .filter(|w| w.contains('='))
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_example_dry_runs() {
    let mut names: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.ends_with(".md"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let text = std::fs::read_to_string(examples().join(name)).unwrap();
        let words = documented_vars(&text, name);
        let (config, sxp_text) = dry_run(name, &words).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(sxp_text.starts_with("(vm\n"), "{name}");
        assert!(!config.devices.disks.is_empty(), "{name}");
    }
}

#[test]
fn seed_configs_keep_their_meaning() {
    let (sl, text) = dry_run("SL4.7_001.orig", &[]).unwrap();
    assert_eq!(sl.name, "SL4.7_001");
    assert_eq!(
        sl.image
            .ramdisk
            .as_deref()
            .map(|r| r.ends_with("/examples/initrd.img")),
        Some(true)
    );
    assert_eq!(sl.devices.pci[0].bdf(), "0000:06:02.0");
    assert_eq!(
        sl.devices.disks[0].params().as_deref(),
        Some("/dev/xen0001_guests/SL4.7_001")
    );
    assert!(text.contains("(key 0000:06:02.0)"));

    let (ce, text) = dry_run("ce.ngc6475", &[]).unwrap();
    assert!(ce.cpus.as_ref().unwrap().is_unpinned());
    assert!(text.contains("    (cpus '')\n"));
    assert_eq!(
        (ce.vcpus, ce.cpu_cap, ce.cpu_weight),
        (2, Some(0), Some(512))
    );

    let (se, _) = dry_run("se.ngc6475", &[]).unwrap();
    let vdevs: Vec<&str> = se.devices.disks.iter().map(|d| d.vdev.as_str()).collect();
    assert_eq!(
        vdevs,
        ["xvdd1", "xvdd2", "xvdd3", "xvdd4", "xvdd5", "xvdd6"]
    );
    assert_eq!(se.memory, 512);
}

#[test]
fn worker_template_derives_everything_from_vmid() {
    let (wn, _) = dry_run("wn.tmpl", &["vmid=7".into()]).unwrap();
    assert_eq!(wn.name, "wn007");
    assert_eq!(wn.devices.vifs[0].ip(), Some("10.165.2.7"));
    assert_eq!(wn.devices.vifs[0].mac(), Some("00:16:3e:a5:02:07"));
    assert_eq!(wn.devices.disks[0].uname, "phy:xen0001_guests/wn007.root");
    let (wn, _) = dry_run("wn.tmpl", &["vmid=42".into()]).unwrap();
    assert_eq!(wn.name, "wn042");
    assert_eq!(wn.devices.vifs[0].mac(), Some("00:16:3e:a5:02:2a"));
    // The template's check refuses a missing or out-of-range vmid.
    assert!(dry_run("wn.tmpl", &[]).is_err());
    assert!(dry_run("wn.tmpl", &["vmid=0".into()]).is_err());
}
