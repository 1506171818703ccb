//! Many `xm create`s at once, as an admin's scripts start them: a name is claimed atomically
//! (one domain per name however many creates race for it; the losers fail with xm's error and
//! leave nothing), and creates of distinct names do not get in each other's way.

use std::collections::BTreeSet;
use std::process::Output;

use lab_tests::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `xm create -q -p CFG` for every config at once; the outputs in the same order.
fn create_at_once(cfgs: &[std::path::PathBuf]) -> Vec<Output> {
    std::thread::scope(|s| {
        let handles: Vec<_> = cfgs
            .iter()
            .map(|cfg| s.spawn(move || xm(&["create", "-q", "-p", &cfg.to_string_lossy()])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Domain ids whose name is `name`, from `xl list`.
fn ids_named(name: &str) -> Vec<String> {
    xl_ok(&["list"])
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&name)).then(|| f[1].to_string())
        })
        .collect()
}

#[test]
fn five_creates_of_one_name_at_once_give_one_domain() {
    require_lab!();
    let name = unique_name("race");
    let cfg = pvgrub_config_with(&name, "memory = 32\n");
    let before = store_snapshot();
    let outs = create_at_once(&vec![cfg; 5]);
    let _guard = Running::adopt(&name);
    let ids = ids_named(&name);
    assert_eq!(ids.len(), 1, "domains named {name}: {ids:?}");
    let winners = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        winners,
        1,
        "{:#?}",
        outs.iter().map(stderr).collect::<Vec<_>>()
    );
    let refusal = format!("Error: Domain '{name}' already exists with ID '{}'", ids[0]);
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(o).contains(&refusal), "{}", stderr(o));
    }
    // What was added is the winner's, and only that: the domain, its home, /libxl, /vm and
    // the backend of its console.
    let added: BTreeSet<String> = store_snapshot().difference(&before).cloned().collect();
    let vm = run_ok(&format!("xenstore-read /local/domain/{}/vm", ids[0]));
    let want: BTreeSet<String> = [
        format!("domain {name}"),
        format!("/local/domain/{}", ids[0]),
        format!("/libxl/{}", ids[0]),
        format!("/local/domain/0/backend/console/{}", ids[0]),
        vm.trim().to_string(),
    ]
    .into_iter()
    .collect();
    assert_eq!(added, want, "the losers left something behind");
}

#[test]
fn ten_creates_of_distinct_names_at_once_all_succeed() {
    require_lab!();
    let names: Vec<String> = (0..10).map(|_| unique_name("par")).collect();
    let cfgs: Vec<_> = names
        .iter()
        .map(|n| pvgrub_config_with(n, "memory = 32\n"))
        .collect();
    let outs = create_at_once(&cfgs);
    let _guards: Vec<Running> = names.iter().map(|n| Running::adopt(n)).collect();
    for (name, o) in names.iter().zip(&outs) {
        assert!(o.status.success(), "{name}: {}", stderr(o));
        assert_eq!(ids_named(name).len(), 1, "{name}");
    }
    // And `xm list` shows each once, while they are all there.
    let list = String::from_utf8_lossy(&xm(&["list"]).stdout).into_owned();
    for name in &names {
        let rows = list
            .lines()
            .filter(|l| l.starts_with(&format!("{name} ")))
            .count();
        assert_eq!(rows, 1, "{name} in:\n{list}");
    }
}

/// Creates at once that each attach a file disk and a vif: every hotplug script runs beside
/// the others, and each domain gets a loop device and a vif of its own. Three, not more:
/// Debian's block script is slow when several run at once under the lab's emulation (with
/// five at once, `xl create` fails all five on libxl's hotplug timeout, and the fifth xm
/// create needs over 120 s), which would measure the script, not the toolstack.
#[test]
fn three_creates_with_disks_and_vifs_at_once_get_their_own_devices() {
    require_lab!();
    let names: Vec<String> = (0..3).map(|_| unique_name("dev")).collect();
    let cfgs: Vec<_> = names
        .iter()
        .map(|n| {
            let disk = scratch_disk(n, 16);
            Guest::new(n)
                .memory(96)
                .disk(&format!("file:{},xvdb,w", disk.display()))
                .vif()
                .write_config()
        })
        .collect();
    let outs = create_at_once(&cfgs);
    let _guards: Vec<Running> = names.iter().map(|n| Running::adopt(n)).collect();
    for (name, o) in names.iter().zip(&outs) {
        assert!(o.status.success(), "{name}: {}", stderr(o));
    }
    // One loop device per disk file, and a vifN.0 per domain on the bridge.
    let loops = run_ok("losetup -a");
    for name in &names {
        let backing = loops.lines().filter(|l| l.contains(name.as_str())).count();
        assert_eq!(backing, 1, "loop devices of {name}:\n{loops}");
        let id = ids_named(name)[0].clone();
        assert!(
            run(&format!("ip link show vif{id}.0")).status.success(),
            "vif{id}.0 of {name}"
        );
    }
}
