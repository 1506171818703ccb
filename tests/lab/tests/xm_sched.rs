//! `cpu_weight` and `cpu_cap` on whatever scheduler the lab's Xen runs: credit2, Xen 4.17's
//! default (the plain boot), and credit (`tests/run` runs this file in the PCI machine too,
//! whose Xen it boots with `sched=credit`). Values are read back with xl's own scheduler command.

use lab_tests::*;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn weight_and_cap_reach_the_domains_scheduler() {
    require_lab!();
    let sched = scheduler();
    note(&format!("scheduler: {sched}"));
    // tests/run says which boot this is; by hand, either will do.
    match std::env::var("XM_LAB_EXPECT_SCHED") {
        Ok(want) => assert_eq!(sched, want, "the boot's scheduler"),
        Err(_) => assert!(sched == "credit" || sched == "credit2", "{sched}"),
    }
    // Both, one alone (the other keeps the scheduler's default), and the seed CE's weight.
    for (extra, want) in [
        ("vcpus = 2\ncpu_weight = 512\ncpu_cap = 150\n", (512, 150)),
        ("cpu_cap = 50\n", (256, 50)),
        ("cpu_weight = 512\n", (512, 0)),
    ] {
        let name = unique_name("sch");
        let cfg = pvgrub_config_with(&name, extra);
        let out = xm(&["create", "-p", &cfg.to_string_lossy()]);
        let _guard = Running::adopt(&name);
        assert!(out.status.success(), "{sched}: {extra}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("Warning"),
            "{sched} has weight and cap: {}",
            stderr(&out)
        );
        assert_eq!(weight_cap(&sched, &name), want, "{sched}: {extra}");
        // The record says the same, from the domain's own scheduler (credit2 too).
        let long = xm_ok(&["list", "-l", &name]);
        for (key, v) in [("cpu_weight", want.0), ("cpu_cap", want.1)] {
            assert!(long.contains(&format!("({key} {v})")), "{sched}: {long}");
        }
    }
}

/// A cap beyond 100 per vcpu is the config's error, named before anything is built.
#[test]
fn cap_beyond_the_vcpus_is_refused_before_a_domain_exists() {
    require_lab!();
    let name = unique_name("scx");
    let before = store_snapshot();
    let cfg = pvgrub_config_with(&name, "vcpus = 1\ncpu_cap = 101\n");
    let out = xm(&["create", "-p", &cfg.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cpu_cap (percent of one cpu, 100 per vcpu) = 101: must be 0..100"),
        "{}",
        stderr(&out)
    );
    // Nothing added (an earlier test's domain may still be going away meanwhile).
    let added: Vec<String> = store_snapshot().difference(&before).cloned().collect();
    assert!(added.is_empty(), "{added:?}");
}

#[test]
fn xm_sched_commands_set_what_xl_reads_and_refuse_the_other_scheduler() {
    require_lab!();
    let sched = scheduler();
    let (mine, other) = if sched == "credit" {
        ("sched-credit", "sched-credit2")
    } else {
        ("sched-credit2", "sched-credit")
    };
    let name = unique_name("schc");
    let cfg = pvgrub_config_with(&name, "vcpus = 2\n");
    let out = xm(&["create", "-p", &cfg.to_string_lossy()]);
    let _guard = Running::adopt(&name);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = xm(&[mine, "-d", &name, "-w", "700"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(weight_cap(&sched, &name).0, 700);
    // A cap, on either scheduler (xl's sched-credit2 -c; xm 4.1's credit2 had none).
    let out = xm(&[mine, "-d", &name, "-c", "120"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(weight_cap(&sched, &name), (700, 120));
    let out = xm(&[mine, "-d", &name, "-c", "201"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("0 (none) to 200"), "{}", stderr(&out));
    // The table: xm 4.1's header, a row for the domain with what xl reads.
    let table = String::from_utf8_lossy(&xm(&[mine]).stdout).into_owned();
    let header = if sched == "credit" {
        "Name                                ID Weight  Cap"
    } else {
        "Name                                ID Weight"
    };
    assert_eq!(table.lines().next(), Some(header), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(row.split_whitespace().nth(2), Some("700"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("Domain-0 ")), "{table}");

    let json = String::from_utf8_lossy(&xm(&[mine, "--json", "-d", &name]).stdout).into_owned();
    assert!(json.contains("\"weight\": 700"), "{json}");
    assert!(json.contains("\"cap\": 120"), "{json}");
    let out = xm(&[mine, "-d", &name, "-w", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("weight 0 is out of range"));
    let out = xm(&[mine, "-w", "300"]);
    assert_eq!(stderr(&out), "Error: No domain given.\n");
    let out = xm(&[mine, "-d", "no-such-domain"]);
    assert_eq!(out.status.code(), Some(3));
    // The other scheduler's command says which one Xen runs.
    let out = xm(&[other]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("Error: Xen is running with the {sched} scheduler\n")
    );
}
