//! Every key of xl.cfg(5) (Xen 4.17 and 4.20, `domcfg/data/xl-cfg-keys.tsv`) set in a PV
//! config, run through `xm create` where there is no Xen: the key does what
//! `domcfg::xlkeys::disposition` says of it. Applied keys are taken (xl's names are checked for
//! their effect in the dry run), keys for other guest types pass without a word (as in xl), and
//! the rest are warned about or refused by name, before anything is built. A key with no
//! disposition fails the test.

mod common;
use common::*;

use domcfg::xlkeys::{XlKey, disposition};

const KEYS_TSV: &str = include_str!("../../domcfg/data/xl-cfg-keys.tsv");

/// A value for `key` that is set and not xl's default, in the config language.
fn sample(key: &str, kind: &str) -> &'static str {
    match key {
        "cpuid" => "['0:eax=0x1']",
        "pool" => "'Pool-1'",
        "vtpm" => "['instance=1,backend=0']",
        "vfb" => "['type=vnc']",
        "vif2" => "['bridge=xenbr0']",
        "ioports" => "['2f8-2ff']",
        "type" => "'pv'",
        "tsc_mode" => "'native'",
        "on_watchdog" | "on_soft_reset" => "'preserve'",
        _ => match kind {
            "number" => "2",
            "boolean" | "list|boolean" | "boolean|string" => "1",
            "list" => "['x']",
            _ => "'x'",
        },
    }
}

#[test]
fn every_xl_key_is_applied_inert_warned_or_refused() {
    if on_dom0() {
        println!("skipped: this host is a Xen dom0 (create would build the domain)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("xm-xl-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("k.cfg");
    let mut counts = [0usize; 4];
    let mut wrong = Vec::new();
    for line in KEYS_TSV.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (key, kind) = (cols[0], cols[2]);
        let Some(d) = disposition(key) else {
            panic!("xl key {key} is neither applied, inert, warned nor refused");
        };
        let value = sample(key, kind);
        std::fs::write(
            &cfg,
            format!("name = 'k'\nkernel = '/bin/true'\nmemory = 64\n{key} = {value}\n"),
        )
        .unwrap();
        let (_, err, rc) = xm(&["create", "-q", cfg.to_str().unwrap()]);
        let named = |l: &&str| l.contains(&format!("{key} = ")) || l.contains(&format!("{key} "));
        let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("Warning: ")).collect();
        let reached_xen = err.contains("not a Xen dom0");
        match d {
            XlKey::Applied => counts[0] += 1,
            XlKey::Inert(_) => {
                counts[1] += 1;
                if !(warnings.is_empty() && reached_xen) {
                    wrong.push(format!("{key} = {value}: inert, yet: {err}"));
                }
            }
            XlKey::Warned(why) => {
                counts[2] += 1;
                if !(warnings.iter().any(named) && reached_xen) {
                    wrong.push(format!("{key} = {value}: no warning naming it: {err}"));
                } else if domcfg::options::lookup(key).is_none() && !err.contains(why) {
                    wrong.push(format!(
                        "{key} = {value}: the warning does not say why: {err}"
                    ));
                }
            }
            XlKey::Refused(_) => {
                counts[3] += 1;
                if rc != 1 || reached_xen {
                    wrong.push(format!("{key} = {value}: not refused: {err}"));
                } else if !err.lines().any(|l| l.starts_with("Error: ") && named(&l)) {
                    wrong.push(format!(
                        "{key} = {value}: the error does not name it: {err}"
                    ));
                }
                // A dry run still shows the config, as xm's did.
                let (out, err, rc) = xm(&["create", "-n", cfg.to_str().unwrap()]);
                if rc != 0 || !out.contains("(vm\n") {
                    wrong.push(format!("{key} = {value}: no dry run: {err}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    println!(
        "xl keys: {} applied, {} without effect on PV, {} warned, {} refused",
        counts[0], counts[1], counts[2], counts[3]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn xls_names_for_xms_settings_take_effect() {
    let dir = std::env::temp_dir().join(format!("xm-xl-applied-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("a.cfg");
    let head = "name = 'a'\nkernel = '/bin/true'\nmemory = 64\nvcpus = 2\n";
    let dry = |body: &str| {
        std::fs::write(&cfg, format!("{head}{body}")).unwrap();
        let (out, err, rc) = xm(&["create", "-n", cfg.to_str().unwrap()]);
        assert_eq!(rc, 0, "{body}: {err}");
        out
    };
    // xl's cap is xm's cpu_cap; xm's own name wins where both are set.
    assert!(dry("cap = 50\n").contains("(cpu_cap 50)"));
    assert!(dry("cap = 50\ncpu_cap = 20\n").contains("(cpu_cap 20)"));
    // xl's bootloader_args (a list) are the bootloader's arguments.
    let out = dry("bootloader = 'pygrub'\nbootloader_args = ['--entry=1', '-q']\n");
    assert!(out.contains("(bootloader_args '--entry=1 -q')"), "{out}");
    // maxvcpus: vcpus online out of the maximum.
    let out = dry("maxvcpus = 4\n");
    assert!(!out.contains("Warning"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
