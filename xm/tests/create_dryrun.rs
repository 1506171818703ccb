//! `xm create -n` end to end: the built binary on the seed's example configs.

use std::path::PathBuf;
use std::process::Command;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// (stdout, stderr, exit status) of `xm ARGS` run in `examples/`.
fn xm(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_xm"))
        .args(args)
        .current_dir(examples())
        .env("HOME", "/root")
        .env_remove("XAUTHORITY")
        .env_remove("DISPLAY")
        .output()
        .expect("run xm");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn dry_run_prints_xms_sxp() {
    let (out, err, rc) = xm(&["create", "-n", "ce.ngc6475"]);
    assert_eq!((err.as_str(), rc), ("", 0));
    assert!(
        out.starts_with("Using config file \"./ce.ngc6475\".\n(vm\n    (name ce.ngc6475)\n"),
        "{out}"
    );
    for line in [
        "    (memory 1024)\n",
        "    (vcpus 2)\n    (cpus '')\n    (cpu_cap 0)\n    (cpu_weight 512)\n",
        "    (bootloader /usr/lib/xen-3.0.3-1/bin/pygrub)\n    (bootloader_args -q)\n",
        "            (args 'mem=1073741824')\n",
        "                (key 0000:06:02.0)\n",
        "    (device (vif (ip 194.190.165.216)))\n)\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(out.ends_with(")\n"));
}

#[test]
fn quiet_and_console_change_what_xm_printed() {
    let (out, _, rc) = xm(&["create", "se.ngc6475", "-q", "-c", "-n"]);
    assert_eq!(rc, 0);
    assert!(out.starts_with("(vm\n"), "{out}");
    // -c makes pygrub interactive: empty bootloader_args.
    assert!(out.contains("    (bootloader_args '')\n"), "{out}");
    assert_eq!(
        out.matches("(device (vbd").count() + out.matches("        (vbd").count(),
        6,
        "{out}"
    );
}

#[test]
fn command_line_options_win_and_vars_reach_the_script() {
    let (out, err, rc) = xm(&[
        "create",
        "-n",
        "wn.tmpl",
        "vmid=7",
        "memory=2048",
        "name=wn-test",
    ]);
    assert_eq!((err.as_str(), rc), ("", 0), "{out}");
    assert!(
        out.contains("    (name wn-test)\n    (memory 2048)\n"),
        "{out}"
    );
    assert!(
        out.contains("(uname phy:xen0001_guests/wn007.root)"),
        "{out}"
    );
    assert!(out.contains("(ip 10.165.2.7)"), "{out}");

    let (out, err, rc) = xm(&["create", "-n", "wn.tmpl", "vmid=300"]);
    assert_eq!(rc, 1, "{out}");
    assert!(err.starts_with("Error: ") && err.contains("vmid"), "{err}");
}

#[test]
fn json_dry_run_is_the_typed_config() {
    let (out, err, rc) = xm(&["create", "--json", "-n", "ce.ngc6475"]);
    assert_eq!((err.as_str(), rc), ("", 0));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(v["name"], "ce.ngc6475");
    assert_eq!(v["memory"], 1024);
    assert_eq!(v["cpus"], "");
    assert_eq!(v["devices"]["disks"][1]["vdev"], "xvdc2");
    assert_eq!(v["devices"]["pci"][0]["bus"], 6);
    assert_eq!(v["on_crash"], "restart");
}

#[test]
fn errors_are_xms_and_exit_1() {
    let (out, err, rc) = xm(&["create", "-n", "ce.ngc6475", "memory=abc"]);
    assert_eq!(
        (out.as_str(), err.as_str(), rc),
        ("", "Error: Invalid value: abc\n", 1)
    );

    let (_, err, rc) = xm(&["create", "-n", "no-such-guest"]);
    assert_eq!(rc, 1);
    assert!(
        err.starts_with("Error: Unable to open config file: no-such-guest\n"),
        "{err}"
    );

    // The seed's kernel is not on the test host: xm refused it, and so do we, with its line.
    let (out, err, rc) = xm(&["create", "-n", "SL4.7_001.orig"]);
    assert_eq!(rc, 1);
    assert_eq!(out, "Using config file \"./SL4.7_001.orig\".\n");
    assert!(
        err.starts_with("Error: ./SL4.7_001.orig:1:1: Cannot find kernel \"/boot/vmlinuz\"\n"),
        "{err}"
    );

    // A real create checks what it can before touching the hypervisor: here, a bootloader
    // that is not there (and is not a pygrub that the host's could stand in for).
    let (_, err, rc) = xm(&["create", "ce.ngc6475", "bootloader=/usr/lib/no-such-loader"]);
    assert_eq!(
        (err.as_str(), rc),
        (
            "Error: bootloader /usr/lib/no-such-loader does not exist\n",
            1
        )
    );
}

#[test]
fn sxp_config_is_printed_as_xm_parsed_it() {
    let dir = std::env::temp_dir().join(format!("xm-create-F-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("guest.sxp");
    std::fs::write(
        &file,
        "# saved\n(vm (name 'guest') (memory 256) (image (linux (root '/dev/xvda1 ro'))))\n",
    )
    .unwrap();
    let path = file.to_string_lossy().into_owned();
    let (out, err, rc) = xm(&["create", "-n", "-F", &path]);
    assert_eq!((err.as_str(), rc), ("", 0));
    assert_eq!(
        out,
        "(vm (name guest) (memory 256) (image (linux (root '/dev/xvda1 ro'))))\n"
    );
    // `xm new` takes -F the same way: printed with -n, refused without (it never falls back
    // to the default config, xmdefconfig).
    let (new_out, _, rc) = xm(&["new", "-n", "-F", &path]);
    assert_eq!((new_out, rc), (out, 0));
    for cmd in ["create", "new"] {
        let (_, err, rc) = xm(&[cmd, "-F", &path]);
        assert_eq!(rc, 1, "{cmd}");
        assert!(
            err.contains("SXP config (-F) is not supported"),
            "{cmd}: {err}"
        );
    }
    std::fs::write(&file, "(vm (name guest)").unwrap();
    let (_, err, rc) = xm(&["create", "-n", "-F", &path]);
    assert_eq!(rc, 1);
    assert!(
        err.starts_with("Error: ") && err.contains("unclosed"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
