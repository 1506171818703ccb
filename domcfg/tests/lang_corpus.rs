//! Every config of the corpus (Xen's examples, libvirt's xm and xl test configs) evaluates
//! with `domcfg::lang::run`.

use std::path::Path;

use domcfg::Value;
use domcfg::lang::{Host, Limits, run};

struct FakeHost;

impl Host for FakeHost {
    fn uname(&self) -> [String; 5] {
        [
            "Linux",
            "dom0",
            "6.1.0-xen-amd64",
            "#1 SMP Debian",
            "x86_64",
        ]
        .map(String::from)
    }
    fn path_exists(&self, _path: &str) -> bool {
        false
    }
}

fn load(path: &Path) -> Result<Vec<(String, Value)>, String> {
    let src = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("cfg");
    let vars = vec![("vmid".to_string(), Value::Str("1".into()))];
    run(&src, name, &vars, &FakeHost, &Limits::default()).map_err(|e| e.to_string())
}

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut v: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES.txt"))
        .collect();
    v.sort();
    v
}

fn check_all(dir: &str) {
    let mut failures = Vec::new();
    let all = files(dir);
    assert!(!all.is_empty(), "no files in {dir}");
    for f in &all {
        if let Err(e) = load(f) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

fn get<'a>(vars: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

#[test]
fn xen_examples() {
    check_all("xen-examples");
}

#[test]
fn libvirt_xm() {
    check_all("libvirt-xm");
}

#[test]
fn libvirt_xl() {
    check_all("libvirt-xl");
}

fn corpus_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(rel)
}

#[test]
fn xmexample2_values() {
    let vars = load(&corpus_file("xen-examples/xmexample2")).unwrap();
    assert_eq!(get(&vars, "vmid"), Some(&Value::Int(1)));
    assert_eq!(get(&vars, "name"), Some(&Value::Str("VM1".into())));
    assert_eq!(
        get(&vars, "disk"),
        Some(&Value::List(vec![
            Value::Str("phy:sda8,sda1,w".into()),
            Value::Str("phy:sda6,sda6,r".into())
        ]))
    );
    assert_eq!(
        get(&vars, "extra"),
        Some(&Value::Str("4 VMID=1 usr=/dev/sda6".into()))
    );
}

#[test]
fn xmexample3_values() {
    let vars = load(&corpus_file("xen-examples/xmexample3")).unwrap();
    assert_eq!(
        get(&vars, "vif"),
        Some(&Value::List(vec![Value::Str("ip=192.168.1.1/24".into())]))
    );
    assert_eq!(get(&vars, "ip"), Some(&Value::Str("192.168.1.2".into())));
}

#[test]
fn xmexample_vmx_uses_uname() {
    let vars = load(&corpus_file("xen-examples/xmexample.vmx")).unwrap();
    assert_eq!(get(&vars, "arch"), Some(&Value::Str("x86_64".into())));
    assert_eq!(get(&vars, "arch_libdir"), Some(&Value::Str("lib64".into())));
    assert_eq!(
        get(&vars, "device_model"),
        Some(&Value::Str("/usr/lib64/xen/bin/qemu-dm".into()))
    );
}

#[test]
fn xmexample2_without_vmid_is_a_clear_error() {
    let src = std::fs::read_to_string(corpus_file("xen-examples/xmexample2")).unwrap();
    let e = run(&src, "xmexample2", &[], &FakeHost, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("xmexample2:"), "{e}");
    assert!(
        e.contains("vmid: TypeError: int() argument must be a string or a number, not 'NoneType'"),
        "{e}"
    );
    assert!(e.contains("vmid=VALUE"), "{e}");
}
