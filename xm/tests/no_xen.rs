//! Commands that need the hypervisor, run where there is none (the build host, CI): one clear
//! `Error:` line and exit 1, no backtrace. On a real dom0 this is the lab's job instead.

use std::path::Path;
use std::process::Command;

fn xm(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_xm"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn without_xen_every_domain_command_says_so_in_one_line() {
    if Path::new("/dev/xen/privcmd").exists() || Path::new("/proc/xen/privcmd").exists() {
        println!("skipped: this host is a Xen dom0 (the lab tests cover it)");
        return;
    }
    let line = "Error: this is not a Xen dom0: /dev/xen/privcmd missing\n";
    for args in [
        &["list"][..],
        &["list", "-l", "x"],
        &["destroy", "x"],
        &["pause", "1"],
        &["unpause", "1"],
        &["domid", "x"],
        &["domname", "0"],
        &["console", "x"],
        &["shutdown", "-w", "x"],
        &["reboot", "-a"],
        &["info"],
    ] {
        let (out, err, rc) = xm(args);
        assert_eq!(
            (out.as_str(), err.as_str(), rc),
            ("", line, 1),
            "xm {args:?}"
        );
    }
}

#[test]
fn unknown_subcommands_and_bad_options_exit_1() {
    let (_, err, rc) = xm(&["frobnicate"]);
    assert_eq!(rc, 1);
    assert!(err.contains("frobnicate"), "{err}");
    let (_, _, rc) = xm(&["list", "--no-such-option"]);
    assert_eq!(rc, 1);
}
