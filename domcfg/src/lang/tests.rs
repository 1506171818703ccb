//! Unit tests of the config language, one construct at a time.

use super::*;

pub(crate) struct FakeHost;

impl Host for FakeHost {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "6.1.0-xen", "#1 SMP", "x86_64"].map(String::from)
    }
    fn path_exists(&self, path: &str) -> bool {
        path == "/boot/vmlinuz" || path == "/etc/xen"
    }
}

fn run_src(src: &str) -> Result<Vec<(String, Value)>, ConfigError> {
    run(src, "t.cfg", &[], &FakeHost, &Limits::default())
}

fn get(src: &str, name: &str) -> Value {
    let vars = run_src(src).unwrap_or_else(|e| panic!("{src:?} failed: {e}"));
    vars.into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} not set"))
}

fn err(src: &str) -> String {
    match run_src(src) {
        Ok(_) => panic!("{src:?} should fail"),
        Err(e) => e.to_string(),
    }
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

#[test]
fn xmexample2_with_vmid() {
    let src = "def vmid_check(var, val):\n    val = int(val)\n    if val <= 0:\n        raise ValueError\n    return val\n\nxm_vars.var('vmid',\n            use=\"Virtual machine id. Integer greater than 0.\",\n            check=vmid_check)\nxm_vars.check()\nname = \"VM%d\" % vmid\ndisk = [ 'phy:sda%d,sda1,w' % (7+vmid),\n         'phy:sda6,sda6,r' ]\nvcpus = 4 # a comment\n";
    let vars = run(
        src,
        "xmexample2",
        &[("vmid".into(), s("3"))],
        &FakeHost,
        &Limits::default(),
    )
    .unwrap();
    let get = |n: &str| {
        vars.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("vmid"), Value::Int(3));
    assert_eq!(get("name"), s("VM3"));
    assert_eq!(
        get("disk"),
        Value::List(vec![s("phy:sda10,sda1,w"), s("phy:sda6,sda6,r")])
    );
    assert_eq!(get("vcpus"), Value::Int(4));
    assert_eq!(vars[0].0, "vmid");
}
