//! Day-2 commands on the real Xen, each checked by its effect: `mem-set` moves the guest's
//! balloon (read in the guest; `xl list` agrees) within `mem-max`; `vcpu-set` takes vcpus out
//! of and back into the guest; `vcpu-pin` is what `xl vcpu-list` shows; `uptime`; `sysrq`
//! reaches the guest's kernel; `rename` is what xl sees and survives a reboot.

use std::time::Duration;

use lab_tests::*;

const BOOT: Duration = Duration::from_secs(120);
const IN_GUEST: Duration = Duration::from_secs(60);

/// The Mem column of `TOOL list NAME` (xm's and xl's tables both have it third).
fn listed_mem(list: &str) -> u64 {
    list.lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap()
}

/// The guest's MemTotal in MiB, read in the guest.
fn mem_total_mib(g: &Running) -> u64 {
    let out = g.guest_cmd("grep MemTotal /proc/meminfo", IN_GUEST);
    let kib: u64 = out.text.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

#[test]
fn mem_set_moves_the_guests_balloon_within_mem_max() {
    require_lab!();
    let name = unique_name("mem");
    let g = xm_created(&name, Guest::new(&name).cfg("maxmem = 256"));
    let boot = mem_total_mib(&g);

    xm_ok(&["mem-set", &name, "96"]);
    wait_until(IN_GUEST, "the guest's balloon to shrink", || {
        (mem_total_mib(&g) + 24 <= boot).then_some(())
    });
    assert_eq!(listed_mem(&xm_ok(&["list", &name])), 96);
    assert_eq!(listed_mem(&xl_ok(&["list", &name])), 96);

    // Back up, beyond the boot size (maxmem is 256), with a unit.
    xm_ok(&["mem-set", &name, "200m"]);
    wait_until(IN_GUEST, "the guest's balloon to grow", || {
        (mem_total_mib(&g) >= boot + 48).then_some(())
    });
    assert_eq!(listed_mem(&xl_ok(&["list", &name])), 200);

    // Above the maximum: refused, nothing changed.
    let err = xm_fails(&["mem-set", &name, "300"], 1);
    assert!(
        err.contains("above domain") && err.contains("256 MiB"),
        "{err}"
    );
    assert_eq!(listed_mem(&xm_ok(&["list", &name])), 200);
    // A maximum below the target is refused; a higher one is what xenstore and Xen hold.
    let err = xm_fails(&["mem-max", &name, "100"], 1);
    assert!(err.contains("below domain"), "{err}");
    xm_ok(&["mem-max", &name, "1g"]);
    let id = g.domid().unwrap();
    let max = run_ok(&format!(
        "xenstore-read /local/domain/{id}/memory/static-max"
    ));
    assert_eq!(max.trim(), "1048576");
    // A target above what the guest booted with is set (the guest balloons up only as far as
    // its memory map, 256 MiB here): xm shows the target, xenstore holds it.
    xm_ok(&["mem-set", &name, "300"]);
    assert_eq!(listed_mem(&xm_ok(&["list", &name])), 300);
    let target = run_ok(&format!("xenstore-read /local/domain/{id}/memory/target"));
    assert_eq!(target.trim(), "307200");

    let err = xm_fails(&["mem-set", &name, "12x"], 1);
    assert!(err.contains("invalid memory size '12x'"), "{err}");
    xm_fails(&["mem-set", "no-such-domain", "100"], 3);
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn vcpu_set_takes_vcpus_out_of_the_guest_and_gives_them_back() {
    require_lab!();
    let name = unique_name("vcpu");
    let g = xm_created(&name, Guest::new(&name).vcpus(2));
    let cpus = |what: &str| {
        let out = g.guest_cmd(&format!("cat /sys/devices/system/cpu/{what}"), IN_GUEST);
        out.text.trim().to_string()
    };
    assert_eq!(cpus("online"), "0-1");

    xm_ok(&["vcpu-set", &name, "1"]);
    wait_until(IN_GUEST, "vcpu 1 to go offline", || {
        (cpus("online") == "0").then_some(())
    });
    let list = xm_ok(&["vcpu-list", &name]);
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert_eq!(
        rows[0],
        "Name                                ID  VCPU   CPU State   Time(s) CPU Affinity"
    );
    assert!(rows[2].starts_with(&format!("{name:<32} ")), "{list}");
    assert!(rows[2].contains("     1     -   --p  "), "{list}");

    // Back: the guest sees the vcpu again (its udev would bring it online; the lab's guest
    // has none, so the test does what udev would).
    xm_ok(&["vcpu-set", &name, "2"]);
    wait_until(IN_GUEST, "vcpu 1 to be present again", || {
        (cpus("present") == "0-1").then_some(())
    });
    g.guest_cmd("echo 1 > /sys/devices/system/cpu/cpu1/online", IN_GUEST);
    assert_eq!(cpus("online"), "0-1");

    let err = xm_fails(&["vcpu-set", &name, "3"], 1);
    assert!(err.contains("at most 2"), "{err}");
    xm_fails(&["vcpu-set", "no-such-domain", "1"], 3);
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn vcpu_pin_is_what_xl_vcpu_list_shows() {
    require_lab!();
    let name = unique_name("pin");
    let g = xm_created(&name, Guest::new(&name).vcpus(2));
    let nr_cpus: u32 = xl_ok(&["info"])
        .lines()
        .find_map(|l| l.strip_prefix("nr_cpus"))
        .and_then(|l| l.trim_start_matches([' ', ':']).trim().parse().ok())
        .unwrap();
    let last = (nr_cpus - 1).to_string();
    // xl's row: ... VCPU CPU State Time(s) HARD / SOFT.
    let xl_hard = |vcpu: usize| {
        let list = xl_ok(&["vcpu-list", &name]);
        let row: Vec<String> = list
            .lines()
            .nth(1 + vcpu)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        row[row.len() - 3].clone()
    };

    xm_ok(&["vcpu-pin", &name, "0", &last]);
    assert_eq!(xl_hard(0), last);
    assert_eq!(xl_hard(1), "all");
    let list = xm_ok(&["vcpu-list", &name]);
    let rows: Vec<&str> = list.lines().collect();
    assert!(rows[1].ends_with(&format!(" {last}")), "{list}");
    assert!(rows[2].ends_with(" any cpu"), "{list}");

    let json = xm_ok(&["vcpu-list", "--json", &name]);
    assert_eq!(json.matches("\"vcpu\": ").count(), 2, "{json}");
    assert!(json.contains(&format!("\"name\": \"{name}\"")), "{json}");
    xm_ok(&["vcpu-pin", &name, "all", "all"]);
    assert_eq!(xl_hard(0), "all");
    let err = xm_fails(&["vcpu-pin", &name, "0", &nr_cpus.to_string()], 1);
    assert!(err.contains("invalid cpu list"), "{err}");
    let err = xm_fails(&["vcpu-pin", &name, "5", "0"], 1);
    assert!(err.contains("no vcpu 5"), "{err}");
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn uptime_sysrq_and_rename_reach_the_domain() {
    require_lab!();
    let name = unique_name("adm");
    let g = xm_created(&name, Guest::new(&name).cfg("on_reboot = 'restart'"));
    let id = g.domid().unwrap();

    let up = xm_ok(&["uptime", &name]);
    let rows: Vec<&str> = up.lines().collect();
    assert_eq!(rows[0], "Name                                ID Uptime ");
    let row = rows[1];
    assert!(row.starts_with(&format!("{name:<32} {id:>5}  0:0")), "{up}");
    assert_eq!(row.len(), 32 + 1 + 5 + 1 + 8, "{up}");
    let short = xm_ok(&["uptime", "-s", &name]);
    assert!(
        short.starts_with(' ') && short.contains(" up  0:0"),
        "{short}"
    );
    assert!(
        short.trim_end().ends_with(&format!(", {name} ({id})")),
        "{short}"
    );
    let json = xm_ok(&["uptime", "--json", &name]);
    assert!(
        json.contains("\"uptime\": ") && json.contains(&format!("\"domid\": {id}")),
        "{json}"
    );
    // Dom0's comes from /proc/uptime.
    assert!(
        xm_ok(&["uptime", "Domain-0"])
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Domain-0 ")
    );

    xm_ok(&["sysrq", &name, "s"]);
    g.wait_console("Emergency Sync", IN_GUEST);
    let err = xm_fails(&["sysrq", &name, "sync"], 1);
    assert!(err.contains("one letter"), "{err}");

    let new = unique_name("ren");
    xm_ok(&["rename", &name, &new]);
    let g = Running::adopt(&new);
    assert!(xl_ok(&["list", &new]).contains(&new));
    assert_eq!(xm_ok(&["domid", &new]).trim(), id.to_string());
    xm_fails(&["list", &name], 3);
    let err = xm_fails(&["rename", &new, "Domain-0"], 1);
    assert!(err.contains("already exists"), "{err}");
    let err = xm_fails(&["rename", &new, "bad/name"], 1);
    assert!(err.contains("Invalid VM Name"), "{err}");

    // The kept plan has the new name: the restarted domain keeps it.
    xm_ok(&["reboot", &new]);
    wait_until(BOOT, "the renamed domain to come back", || {
        g.domid().filter(|&d| d != id)
    });
    assert!(xl_ok(&["list", &new]).contains(&new));
    xm_ok(&["destroy", &new]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn dmesg_shows_xens_log_and_debug_keys_reach_xen() {
    require_lab!();
    let log = xm_ok(&["dmesg"]);
    assert!(
        log.contains(&format!("Xen version {}", xen_release())),
        "{}",
        &log[..log.len().min(2000)]
    );
    let version = |t: &str| {
        t.lines()
            .find(|l| l.contains("Xen version"))
            .map(str::to_string)
    };
    assert_eq!(
        version(&log),
        version(&xl_ok(&["dmesg"])),
        "xm dmesg is xl's"
    );
    // 'q' dumps domain info into Xen's log; the answer is there.
    xm_ok(&["debug-keys", "q"]);
    wait_until(Duration::from_secs(20), "Xen's answer to 'q'", || {
        xm_ok(&["dmesg"]).contains("'q' pressed").then_some(())
    });
    // -c prints, then clears.
    let before = xm_ok(&["dmesg", "-c"]);
    assert!(before.contains("'q' pressed"));
    assert!(!xm_ok(&["dmesg"]).contains("'q' pressed"));
}

#[test]
fn reset_restarts_the_domain_as_on_reboot_says() {
    require_lab!();
    let name = unique_name("rst");
    let g = xm_created(&name, Guest::new(&name));
    let id = g.domid().unwrap();
    xm_ok(&["reset", &name]);
    wait_until(BOOT, "the domain to come back with a new id", || {
        g.domid().filter(|&d| d != id)
    });
    xm_fails(&["reset", "Domain-0"], 1);
    xm_fails(&["reset", "no-such-domain"], 3);
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn domstate_and_list_state_follow_the_domain() {
    require_lab!();
    let name = unique_name("dst");
    let g = xm_created(&name, Guest::new(&name));
    let word = xm_ok(&["domstate", &name]);
    assert!(word == "idle\n" || word == "running\n", "{word}");
    xm_ok(&["pause", &name]);
    assert_eq!(xm_ok(&["domstate", &name]), "paused\n");
    let paused = xm_ok(&["list", "--state=paused"]);
    assert!(
        paused.lines().any(|l| l.starts_with(&format!("{name} "))),
        "{paused}"
    );
    assert!(!paused.contains("Domain-0"), "{paused}");
    xm_ok(&["unpause", &name]);
    let paused = xm_ok(&["list", "--state=paused"]);
    assert!(!paused.contains(&name), "{paused}");
    assert_eq!(
        xm(&["list", "--state=paused", &name]).status.code(),
        Some(1)
    );
    assert_eq!(xm(&["list", "--state=asleep"]).status.code(), Some(1));
    assert_eq!(xm(&["domstate", "no-such-domain"]).status.code(), Some(3));
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn trigger_nmi_reaches_the_guest_and_hvm_triggers_are_refused() {
    require_lab!();
    let name = unique_name("nmi");
    let g = xm_created(&name, Guest::new(&name));
    xm_ok(&["trigger", &name, "nmi"]);
    // Linux reports a virtual NMI no driver claims as "Uhhuh. NMI received for unknown reason".
    g.wait_console("NMI received", IN_GUEST);
    let err = xm_fails(&["trigger", &name, "s3resume"], 1);
    assert!(err.contains("HVM"), "{err}");
    let err = xm_fails(&["trigger", &name, "tickle"], 1);
    assert!(err.contains("unknown trigger 'tickle'"), "{err}");
    xm_ok(&["destroy", &name]);
    g.wait_gone(Duration::from_secs(60));
}

#[test]
fn dump_core_writes_an_elf_core_of_the_guests_memory() {
    require_lab!();
    let name = unique_name("core");
    let g = xm_created(&name, Guest::new(&name).cfg("on_crash = 'destroy'"));
    let core = format!("/tmp/xmlab/{name}.core");
    let out = xm_ok(&["dump-core", &name, &core]);
    assert_eq!(out, format!("Dumping core of domain: {name} ...\n"));
    let bytes = std::fs::read(&core).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF", "an ELF file");
    // Xen's core format: an ELF core with the guest's pages (128 MiB) and Xen's notes.
    assert!(bytes.len() as u64 >= 120 << 20, "{} bytes", bytes.len());
    assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 4, "ET_CORE");
    assert!(bytes.windows(4).any(|w| w == b"Xen\0"), "Xen's ELF notes");
    std::fs::remove_file(&core).unwrap();
    // The guest runs on (it was paused for the dump only).
    let state = xm_ok(&["domstate", &name]);
    assert!(state == "idle\n" || state == "running\n", "{state}");
    // -C: the domain crashes after the dump; its on_crash (destroy, in this config) follows.
    let core = format!("/tmp/xmlab/{name}-c.core");
    xm_ok(&["dump-core", "-C", &name, &core]);
    std::fs::remove_file(&core).unwrap();
    g.wait_gone(Duration::from_secs(60));
}
