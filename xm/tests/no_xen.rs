//! Commands that need the hypervisor, run where there is none (the build host, CI): one clear
//! `Error:` line and exit 1, no backtrace. On a real dom0 this is the lab's job instead.

mod common;
use common::*;
use std::path::Path;

#[test]
fn without_xen_every_domain_command_says_so_in_one_line() {
    if on_dom0() {
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
        &["mem-set", "x", "512"],
        &["mem-max", "x", "1g"],
        &["vcpu-set", "x", "1"],
        &["vcpu-list"],
        &["vcpu-pin", "x", "all", "all"],
        &["uptime"],
        &["rename", "x", "y"],
        &["sysrq", "x", "s"],
        &["reset", "x"],
        &["sched-credit"],
        &["sched-credit2", "-d", "x", "-w", "5"],
        &["dmesg"],
        &["debug-keys", "q"],
        // A unique prefix is its command.
        &["li"],
        &["vcpu-l", "x"],
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
    let (out, err, rc) = xm(&["frobnicate"]);
    assert_eq!(rc, 1);
    assert_eq!(err, "Error: Subcommand frobnicate not found!\n");
    assert!(out.starts_with("Usage: xm <subcommand> [args]\n"), "{out}");
    // Prefixes as xm 4.1 resolved them, against its whole table: `sh` is shell or shutdown,
    // `she` is xm's shell, which xm-rs lacks.
    for word in ["sh", "she", "vn"] {
        let (_, err, rc) = xm(&[word, "x"]);
        assert_eq!(
            (err, rc),
            (format!("Error: Subcommand {word} not found!\n"), 1)
        );
    }
    // Bare xm: the common commands, exit 1; xm help: all of them, exit 0.
    let (bare, _, rc) = xm(&[]);
    assert_eq!(rc, 1);
    assert!(bare.contains("\nCommon 'xm' commands:\n\n"), "{bare}");
    assert!(bare.ends_with("For a complete list of subcommands run 'xm help'.\n"));
    let (long, _, rc) = xm(&["help"]);
    assert_eq!(rc, 0);
    for line in [
        " list                 List information about all/some domains.          \n",
        " vcpu-set             Set the number of active VCPUs for allowed for    \n                      the domain.\n",
        " sched-credit         Get/set credit scheduler parameters.              \n",
    ] {
        assert!(long.contains(line), "{long}");
    }
    assert!(
        !long.contains(" monitor "),
        "the monitor is not a user's command"
    );
    // xm's deprecated aliases still run their command, after xm's line.
    if !Path::new("/dev/xen/privcmd").exists() {
        let (_, err, rc) = xm(&["balloon", "x", "512"]);
        assert_eq!(rc, 1);
        assert_eq!(
            err,
            "Command balloon is deprecated.  Please use xm mem-set instead.\n\
             Error: this is not a Xen dom0: /dev/xen/privcmd missing\n"
        );
    }
    // A refused command line: xm's words, then the command's help, exit 1.
    let (out, err, rc) = xm(&["list", "--no-such-option"]);
    assert_eq!(rc, 1);
    assert_eq!(err, "Error: option --no-such-option not recognized\n\n");
    assert!(
        out.starts_with("Usage: xm list [options] [Domain, ...]\n"),
        "{out}"
    );
    let (out, err, rc) = xm(&["destroy"]);
    assert_eq!(
        (err.as_str(), rc),
        ("Error: 'xm destroy' requires 1 argument.\n\n", 1)
    );
    assert_eq!(
        out,
        "Usage: xm destroy <Domain>\n\nTerminate a domain immediately.\n"
    );
    // xm CMD --help (or a prefix's): xm's layout, a usage exit.
    let (out, _, rc) = xm(&["shut", "ce", "--help"]);
    assert_eq!(rc, 1);
    assert!(
        out.starts_with("Usage: xm shutdown <Domain> [-waRH]\n\nShutdown a domain.\n  -a, --all  "),
        "{out}"
    );
}

/// Values out of range are refused when the config is turned into a plan, before the
/// hypervisor is asked anything: on a host without Xen the error is about the value, not Xen.
#[test]
fn out_of_range_numbers_are_refused_before_anything_is_built() {
    let dir = std::env::temp_dir().join(format!("xm-ranges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[(&str, &str)] = &[
        ("memory = 0", "memory = 0: must be 1.."),
        ("memory = -5", "memory = -5: must be 1.."),
        (
            "memory = 256\nmaxmem = 128",
            "maxmem = 128 is below memory = 256: maxmem must be at least memory",
        ),
        ("cpu_weight = 0", "cpu_weight = 0: must be 1..65535"),
        ("cpu_weight = 70000", "cpu_weight = 70000: must be 1..65535"),
        (
            "vcpus = 2\ncpu_cap = 201",
            "cpu_cap (percent of one cpu, 100 per vcpu) = 201: must be 0..200",
        ),
        (
            "cpu_cap = -1",
            "cpu_cap (percent of one cpu, 100 per vcpu) = -1: must be 0..100",
        ),
        ("vcpus = 0", "vcpus = 0: must be 1..4096"),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let cfg = dir.join(format!("r{i}.cfg"));
        std::fs::write(
            &cfg,
            format!("name = 'r{i}'\nkernel = '/bin/true'\nmemory = 64\n{body}\n"),
        )
        .unwrap();
        let (_, err, rc) = xm(&["create", "-q", cfg.to_str().unwrap()]);
        assert_eq!(rc, 1, "{body}: {err}");
        assert!(err.contains(want), "{body}: want {want:?} in {err:?}");
        assert!(!err.contains("privcmd"), "{body}: reached Xen: {err}");
    }
    // The limits themselves are accepted (the error is then that there is no Xen).
    let cfg = dir.join("ok.cfg");
    std::fs::write(
        &cfg,
        "name = 'ok'\nkernel = '/bin/true'\nmemory = 64\nmaxmem = 64\nvcpus = 2\n\
         cpu_weight = 65535\ncpu_cap = 200\n",
    )
    .unwrap();
    let (_, err, rc) = xm(&["create", "-q", cfg.to_str().unwrap()]);
    if !Path::new("/dev/xen/privcmd").exists() {
        assert_eq!(
            (err.as_str(), rc),
            (
                "Error: this is not a Xen dom0: /dev/xen/privcmd missing\n",
                1
            )
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the plan refuses names the file, line and column of the setting, as the config
/// language's own errors do (unless the command line set it), and settings xm-rs takes but
/// does not apply each get a warning.
#[test]
fn plan_errors_point_at_the_setting_and_unapplied_settings_are_warned() {
    let dir = std::env::temp_dir().join(format!("xm-plan-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let head = "name = 'p'\nkernel = '/bin/true'\nmemory = 64\n";
    let cases: &[(&str, &str)] = &[
        (
            "vcpus = 0\n",
            "p.cfg:4:1: vcpus = 0: must be 1..4096\n    vcpus = 0\n    ^",
        ),
        (
            "vtpm = ['instance=1,backend=0']\n",
            "p.cfg:4:1: vtpm devices are not supported yet by xm-rs create",
        ),
        (
            "pool = 'Pool-1'\n",
            "p.cfg:4:1: pool = 'Pool-1': xm-rs starts domains in Pool-0 only",
        ),
        (
            "vif = [ 'bridge=xenbr0',\n        'bridge=xenbr1,backend=1' ]\n",
            "p.cfg:5:24: vif with backend=1: only Domain-0 can be the backend",
        ),
        (
            "disk = [ 'phy:/dev/vg/a,xvda,w', 'phy:/dev/vg/b,xvdb,w,backend=2' ]\n",
            "p.cfg:4:35: disk 'phy:/dev/vg/b,xvdb,w': only Domain-0 can be the backend",
        ),
        ("\ncpus = 'x'\n", "p.cfg:5:1: cpus = 'x': not a cpu list"),
    ];
    let cfg = dir.join("p.cfg");
    for (body, want) in cases {
        std::fs::write(&cfg, format!("{head}{body}")).unwrap();
        let (_, err, rc) = xm(&["create", "-q", cfg.to_str().unwrap()]);
        assert_eq!(rc, 1, "{body}: {err}");
        assert!(err.contains(want), "{body}: want {want:?} in {err:?}");
        assert!(!err.contains("privcmd"), "{body}: reached Xen: {err}");
    }
    // network-attach refuses the same backend with the same words, before Xen is asked.
    let (_, err, rc) = xm(&["network-attach", "p", "bridge=xenbr0", "backend=1"]);
    assert_eq!(
        (err.as_str(), rc),
        (
            "Error: vif with backend=1: only Domain-0 can be the backend\n",
            1
        )
    );
    // Set on the command line: no line to point at.
    std::fs::write(&cfg, format!("{head}vcpus = 1\n")).unwrap();
    let (_, err, _) = xm(&["create", "-q", cfg.to_str().unwrap(), "vcpus=0"]);
    assert_eq!(err, "Error: vcpus = 0: must be 1..4096\n");
    // Pool-0 is where every domain starts: accepted.
    std::fs::write(&cfg, format!("{head}pool = 'Pool-0'\n")).unwrap();
    let (_, err, _) = xm(&["create", "-q", cfg.to_str().unwrap()]);
    assert!(!err.contains("pool"), "{err}");

    std::fs::write(
        &cfg,
        format!("{head}cpu = 1\ntsc_mode = 2\nnomigrate = 1\ncpuid = ['0:eax=0x1']\n"),
    )
    .unwrap();
    let (_, err, _) = xm(&["create", "-q", cfg.to_str().unwrap()]);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("Warning: ")).collect();
    assert_eq!(warnings.len(), 4, "{err}");
    for name in ["cpu = 1 ", "tsc_mode = 2 ", "nomigrate = 1 ", "cpuid "] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(name) && w.contains("is not applied")),
            "{name}: {err}"
        );
    }
    // Their defaults say nothing.
    std::fs::write(&cfg, format!("{head}tsc_mode = 0\nnomigrate = 0\n")).unwrap();
    let (_, err, _) = xm(&["create", "-q", cfg.to_str().unwrap()]);
    assert!(!err.contains("Warning"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
