//! `xm create`, `xm list`, `xm destroy`, `xm pause`/`unpause` on the real Xen 4.17 in the lab,
//! side by side with Debian's `xl`. Runs inside dom0 (tests/lab/run-tests); skipped elsewhere.

use lab_tests::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const BOOT: Duration = Duration::from_secs(90);

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `xm create` a lab guest from its config file; returns the handle that destroys it on drop.
fn xm_create(g: &Guest, extra_args: &[&str]) -> Running {
    let cfg = g.write_config();
    let cfg = cfg.to_string_lossy();
    let mut args = vec!["create"];
    args.extend_from_slice(extra_args);
    args.push(&cfg);
    let t = Instant::now();
    let out = xm(&args);
    note(&format!(
        "xm create took {:.2} s",
        t.elapsed().as_secs_f64()
    ));
    assert!(
        out.status.success(),
        "xm create failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    let id = domid(&g_name(g)).expect("xl does not see the domain xm created");
    assert_eq!(
        stdout(&out).lines().last(),
        Some(format!("Started domain {} (id={id})", g_name(g)).as_str())
    );
    Running::adopt(&g_name(g))
}

fn g_name(g: &Guest) -> String {
    g.config_text()
        .lines()
        .find_map(|l| {
            l.strip_prefix("name = \"")
                .map(|r| r.trim_end_matches('"').to_string())
        })
        .unwrap()
}

/// The `xm list` row of `name`, split into its columns.
fn xm_list_row(name: &str) -> Vec<String> {
    let out = xm(&["list", name]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Name                                        ID   Mem VCPUs      State   Time(s)")
    );
    lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Paths under `/local/domain/N` with their permissions, numbers normalised.
fn store_shape(domid: u32) -> BTreeSet<String> {
    let text = run_ok(&format!("xenstore-ls -p /local/domain/{domid}"));
    let mut stack: Vec<String> = Vec::new();
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let depth = line.len() - line.trim_start().len();
        let Some((key, rest)) = line.trim_start().split_once(" = ") else {
            continue;
        };
        stack.truncate(depth);
        stack.push(key.to_string());
        let perms = rest
            .rsplit_once("  (")
            .map(|(_, p)| p.trim_end_matches(')'))
            .unwrap_or("");
        let perms = perms.replace(&domid.to_string(), "N");
        out.insert(format!("{} {perms}", stack.join("/")));
    }
    out
}

#[test]
fn xm_create_boots_guest_then_list_and_destroy() {
    require_lab!();
    let name = unique_name("xmc");
    let g = Guest::new(&name).memory(160).vcpus(2);
    let running = xm_create(&g, &[]);
    running.wait_up(BOOT);

    let row = xm_list_row(&name);
    assert_eq!(row[0], name);
    assert_eq!(row[2], "160", "Mem column: {row:?}");
    assert_eq!(row[3], "2", "VCPUs column: {row:?}");
    assert!(!row[4].contains('p'), "guest should run, state {}", row[4]);

    // xm and xl agree on every domain's id, name, memory and vcpus.
    let xm_all = stdout(&xm(&["list"]));
    let xl_all = xl_ok(&["list"]);
    let cols = |t: &str| -> BTreeSet<(String, String, String)> {
        t.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[0].to_string(), f[1].to_string(), f[3].to_string())
            })
            .collect()
    };
    assert_eq!(
        cols(&xm_all),
        cols(&xl_all),
        "xm list:\n{xm_all}\nxl list:\n{xl_all}"
    );

    let id = running.domid().unwrap();
    // -l: xend's (domain ...) SXP.
    let long = stdout(&xm(&["list", "-l", &name]));
    assert!(long.starts_with("(domain\n"), "{long}");
    assert!(long.contains(&format!("    (domid {id})\n")), "{long}");
    assert!(long.contains(&format!("    (name {name})\n")), "{long}");
    assert!(long.contains("    (memory 160)\n"), "{long}");
    assert!(long.contains("    (on_reboot restart)\n"), "{long}");
    let vm = run_ok(&format!("xenstore-read /local/domain/{id}/vm"));
    let out = xm(&["destroy", &name]);
    assert!(out.status.success(), "{}", stderr(&out));
    running.wait_gone(Duration::from_secs(10));
    assert!(
        !run(&format!("xenstore-exists /local/domain/{id}"))
            .status
            .success()
    );
    assert!(
        !run(&format!("xenstore-exists {}", vm.trim()))
            .status
            .success()
    );
    assert!(
        !run(&format!("xenstore-exists /libxl/{id}"))
            .status
            .success()
    );
}

#[test]
fn xm_create_paused_stays_paused_until_unpause() {
    require_lab!();
    let name = unique_name("xmp");
    let g = Guest::new(&name);
    let running = xm_create(&g, &["-p"]);
    assert_eq!(xm_list_row(&name)[4], "--p---");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !running.console_text().contains(GUEST_UP),
        "a paused guest printed its marker"
    );
    let out = xm(&["unpause", &name]);
    assert!(out.status.success(), "{}", stderr(&out));
    running.wait_up(BOOT);
    let out = xm(&["pause", &name]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A paused guest that had run keeps its blocked flag too (Xen reports both): `-bp---`.
    let state = &xm_list_row(&name)[4];
    assert!(
        state == "--p---" || state == "-bp---",
        "state after pause: {state}"
    );
    assert!(xm(&["destroy", &name]).status.success());
    running.wait_gone(Duration::from_secs(10));
}

#[test]
fn xm_store_layout_matches_xl() {
    require_lab!();
    let xm_name = unique_name("lay");
    let xl_name = unique_name("lay");
    let xm_guest = xm_create(&Guest::new(&xm_name), &["-p"]);
    let xl_guest = Guest::new(&xl_name).start();
    // xl unpauses; pause it so neither guest has written anything of its own yet.
    let _ = xl(&["pause", &xl_name]);
    let a = store_shape(xm_guest.domid().unwrap());
    let b = store_shape(xl_guest.domid().unwrap());
    let only_xm: Vec<_> = a.difference(&b).collect();
    let only_xl: Vec<_> = b.difference(&a).collect();
    assert!(
        only_xm.is_empty() && only_xl.is_empty(),
        "only xm: {only_xm:#?}\nonly xl: {only_xl:#?}"
    );
}

/// Destroys domains by id on drop (for domains whose names read as numbers: `xl destroy 0`
/// would mean Domain-0).
struct DestroyIds(Vec<u32>);

impl Drop for DestroyIds {
    fn drop(&mut self) {
        for id in &self.0 {
            let _ = xl(&["destroy", &id.to_string()]);
        }
    }
}

#[test]
fn numeric_words_name_a_live_domid_first_then_a_domain_name() {
    require_lab!();
    // A domain named "0" (Domain-0's id) and one named like no live id.
    let by_name = format!("{}", 900_000 + std::process::id() % 1000);
    let mut made = DestroyIds(Vec::new());
    for name in ["0", by_name.as_str()] {
        let cfg = pvgrub_config(name);
        let out = xm(&["create", "-q", "-p", &cfg.to_string_lossy()]);
        assert!(out.status.success(), "{}", stderr(&out));
        // `xl domid` matches names only.
        made.0
            .push(domid(name).expect("xl sees the domain xm created"));
    }
    let (named_zero, named_number) = (made.0[0], made.0[1]);
    assert_ne!(named_zero, 0);
    // "0" is Domain-0's id, so it means Domain-0 (xend's domain_lookup_nr).
    assert_eq!(stdout(&xm(&["domid", "0"])).trim(), "0");
    assert_eq!(stdout(&xm(&["domname", "0"])).trim(), "Domain-0");
    assert_eq!(xm_list_row("0")[0], "Domain-0");
    // A number that is no live id falls back to the names.
    assert_eq!(
        stdout(&xm(&["domid", &by_name])).trim(),
        named_number.to_string()
    );
    assert_eq!(xm_list_row(&by_name)[1], named_number.to_string());
    // The domain named "0" is reachable by its own id, and destroyed by it.
    assert_eq!(
        stdout(&xm(&["domname", &named_zero.to_string()])).trim(),
        "0"
    );
    let out = xm(&["destroy", &named_zero.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(domid("0").is_none(), "the domain named 0 is gone");
    assert!(
        run_ok("xl list").contains("Domain-0"),
        "and Domain-0 is still there"
    );
}

#[test]
fn unknown_domain_exits_3() {
    require_lab!();
    for args in [
        &["list", "no-such-dom"][..],
        &["destroy", "no-such-dom"],
        &["pause", "4242"],
    ] {
        let out = xm(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let word = args[1];
        assert_eq!(
            stderr(&out),
            format!("Error: Domain '{word}' does not exist.\n")
        );
    }
}

#[test]
fn failed_creates_leave_nothing_behind() {
    require_lab!();
    let keep = Guest::new(&unique_name("dup"));
    let _dup = xm_create(&keep, &["-p"]);
    let before = store_snapshot();
    let big_mem = {
        let info = xl_ok(&["info"]);
        let free: u64 = info
            .lines()
            .find(|l| l.starts_with("free_memory"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        free + 512
    };
    let not_elf = "/xmlab/guest/not-a-kernel";
    std::fs::write(not_elf, b"this is not an ELF kernel\n").unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            Guest::new(&unique_name("nok"))
                .cfg("kernel = \"/nonexistent/vmlinuz\"")
                .config_text(),
            "/nonexistent/vmlinuz",
        ),
        (
            Guest::new(&unique_name("elf"))
                .cfg(&format!("kernel = \"{not_elf}\""))
                .config_text(),
            "not a kernel",
        ),
        (
            Guest::new(&unique_name("mem"))
                .memory(big_mem as u32)
                .config_text(),
            "memory",
        ),
        (Guest::new(&g_name(&keep)).config_text(), "already exists"),
    ];
    for (i, (cfg, expect)) in cases.iter().enumerate() {
        let path = format!("/tmp/xmlab/cfg/fail-{i}.cfg");
        std::fs::write(&path, cfg).unwrap();
        let out = xm(&["create", &path]);
        assert_ne!(out.status.code(), Some(0), "case {i} succeeded:\n{cfg}");
        // libxenctrl may log its own lines first (as it does for xl); then comes ours.
        let err = stderr(&out);
        let ours = err.lines().find(|l| l.starts_with("Error: ")).unwrap_or("");
        assert!(ours.contains(expect), "case {i}: {err}");
        // Earlier tests' domains may still be going away; nothing may have been added.
        let after = store_snapshot();
        let added: Vec<_> = after.difference(&before).collect();
        assert!(added.is_empty(), "case {i} left {added:?} behind: {err}");
    }
}
