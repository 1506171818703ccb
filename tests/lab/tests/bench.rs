//! Benchmark, on demand (`tests/lab/run-tests --bench`): `xm create` vs `xl create` (same config,
//! no devices), `xm list` vs `xl list` with 1 and 30+ domains, and `xm save`/`restore` vs
//! `xl save`/`restore` of a 128 MiB guest, in one lab boot. Prints the medians and the ratios;
//! asserts only that both tools did their job, never a time.

use lab_tests::*;
use std::time::{Duration, Instant};

fn report(what: &str, xm_s: f64, xl_s: f64) {
    println!(
        "BENCH {what}: xm {:.1} ms, xl {:.1} ms, ratio xm/xl {:.3}",
        xm_s * 1e3,
        xl_s * 1e3,
        xm_s / xl_s
    );
}

/// Median `xm list` and `xl list` times, the two tools alternating so that whatever else dom0
/// is doing weighs on both alike.
fn list_times(rounds: usize) -> (f64, f64) {
    let xm_bin = xm_path().expect("xm in payload");
    let xm_bin = xm_bin.to_string_lossy();
    let (mut xm_t, mut xl_t) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        xm_t.push(exec_time(&xm_bin, &["list"]));
        xl_t.push(exec_time("xl", &["list"]));
    }
    (median(xm_t), median(xl_t))
}

/// What starting a process costs here at all: `xm --version` and `xl help` do no Xen work.
fn startup_times(rounds: usize) -> (f64, f64) {
    let xm_bin = xm_path().expect("xm in payload");
    let xm_bin = xm_bin.to_string_lossy();
    let xm_t = median(
        (0..rounds)
            .map(|_| exec_time(&xm_bin, &["--version"]))
            .collect(),
    );
    let true_t = median((0..rounds).map(|_| exec_time("true", &[])).collect());
    (xm_t, true_t)
}

/// Median `xm create -p` and `xl create -p` times over 5 rounds, the tools alternating; each
/// domain is destroyed right after.
fn create_times(tag: &str, config: impl Fn(&str) -> std::path::PathBuf) -> (f64, f64) {
    let xm_bin = xm_path().expect("xm in payload");
    let (mut xm_c, mut xl_c) = (Vec::new(), Vec::new());
    for i in 0..5 {
        for (tool, times) in [("xm", &mut xm_c), ("xl", &mut xl_c)] {
            let name = format!("bench-{tag}-{tool}-{i}");
            let cfg = config(&name);
            let cfg = cfg.to_string_lossy();
            let program = if tool == "xm" {
                xm_bin.to_string_lossy().into_owned()
            } else {
                "xl".to_string()
            };
            times.push(exec_time(&program, &["create", "-q", "-p", &cfg]));
            xl_ok(&["destroy", &name]);
        }
    }
    (median(xm_c), median(xl_c))
}

/// What xenstored answers cost here: the floor under any `list` (xm reads each domain's name
/// and memory target, xl its name). Medians of 5.
fn xenstored_costs() {
    let xs = xenstore::Xs::open().expect("xenstored");
    let domids = xs.directory("/local/domain").expect("/local/domain");
    let paths: Vec<String> = domids
        .iter()
        .flat_map(|d| {
            [
                format!("/local/domain/{d}/name"),
                format!("/local/domain/{d}/memory/target"),
            ]
        })
        .collect();
    let time = |f: &dyn Fn()| {
        median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let pipelined = time(&|| {
        let _ = xs.read_many(&paths);
    });
    let serial = time(&|| {
        for p in &paths {
            let _ = xs.try_read(p);
        }
    });
    let n = paths.len() as f64;
    println!(
        "BENCH xenstored: {} reads pipelined {:.1} ms ({:.2} ms each), one at a time {:.1} ms ({:.2} ms each)",
        paths.len(),
        pipelined * 1e3,
        pipelined * 1e3 / n,
        serial * 1e3,
        serial * 1e3 / n
    );
}

/// Median save and restore times of a booted 128 MiB guest (no devices), xm's and xl's, the
/// tools alternating; also the file's size and what copying it costs (the floor of writing
/// and reading the stream through dom0's memory).
fn save_restore_times(rounds: usize) {
    let xm_bin = xm_path().expect("xm in payload");
    let xm_bin = xm_bin.to_string_lossy().into_owned();
    std::fs::create_dir_all("/tmp/xmlab/save").unwrap();
    let (mut times, mut size) = ([Vec::new(), Vec::new(), Vec::new(), Vec::new()], 0);
    let mut copy = Vec::new();
    for round in 0..rounds {
        for (tool, slot) in [(xm_bin.as_str(), 0), ("xl", 2)] {
            let name = format!("bench-save-{slot}-{round}");
            let cfg = Guest::new(&name).write_config();
            let cfg = cfg.to_string_lossy();
            let _ = exec_time(tool, &["create", "-q", &cfg]);
            let g = Running::adopt(&name);
            g.wait_up(Duration::from_secs(120));
            let file = format!("/tmp/xmlab/save/{name}");
            times[slot].push(exec_time(tool, &["save", &name, &file]));
            size = std::fs::metadata(&file).unwrap().len();
            if slot == 0 {
                copy.push(exec_time("cp", &[&file, "/tmp/xmlab/save/copy"]));
                std::fs::remove_file("/tmp/xmlab/save/copy").unwrap();
            }
            times[slot + 1].push(exec_time(tool, &["restore", &file]));
            std::fs::remove_file(&file).unwrap();
            xl_ok(&["destroy", &name]);
            g.wait_gone(Duration::from_secs(60));
        }
    }
    // Where an xm save and restore spend their time.
    let name = "bench-save-trace";
    let cfg = Guest::new(name).write_config();
    xm_ok(&["create", "-q", &cfg.to_string_lossy()]);
    let g = Running::adopt(name);
    g.wait_up(Duration::from_secs(120));
    let file = format!("/tmp/xmlab/save/{name}");
    for args in [
        vec!["save", name, file.as_str()],
        vec!["restore", file.as_str()],
    ] {
        let out = std::process::Command::new(xm_path().unwrap())
            .env("XM_TRACE_CREATE", "1")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success());
        print!(
            "BENCH {} steps:\n{}",
            args[0],
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_file(&file).unwrap();
    xl_ok(&["destroy", name]);
    g.wait_gone(Duration::from_secs(60));
    let [xm_save, xm_restore, xl_save, xl_restore] = times.map(median);
    report("save, 128 MiB guest", xm_save, xl_save);
    report("restore, 128 MiB guest", xm_restore, xl_restore);
    println!(
        "BENCH save file: {:.1} MiB; copying it in dom0 takes {:.1} ms",
        size as f64 / (1 << 20) as f64,
        median(copy) * 1e3
    );
}

#[test]
fn bench_create_and_list_against_xl() {
    require_lab!();
    let (xm_start, true_start) = startup_times(15);
    println!(
        "BENCH process start: xm --version {:.1} ms, /bin/true {:.1} ms",
        xm_start * 1e3,
        true_start * 1e3
    );
    let (a, b) = list_times(15);
    report("list, 1 domain", a, b);
    save_restore_times(3);

    // Creates: paused, no devices, the same config for both tools; destroyed right after.
    // First with the lab's Linux guest (loading its 57 MiB image is most of either tool's
    // time), then with Debian's 2 MiB PV GRUB image, where the toolstacks' own work dominates.
    let (a, b) = create_times("linux", |name| Guest::new(name).memory(96).write_config());
    report("create, Linux kernel (paused, no devices)", a, b);
    let (a, b) = create_times("pvgrub", pvgrub_config);
    report("create, PV GRUB kernel (paused, no devices)", a, b);
    // Where an xm create spends its time.
    for (name, cfg) in [
        (
            "bench-trace",
            Guest::new("bench-trace").memory(96).write_config(),
        ),
        ("bench-trace-pvgrub", pvgrub_config("bench-trace-pvgrub")),
    ] {
        let out = std::process::Command::new(xm_path().unwrap())
            .env("XM_TRACE_CREATE", "1")
            .args(["create", "-q", "-p", &cfg.to_string_lossy()])
            .output()
            .unwrap();
        assert!(out.status.success());
        print!(
            "BENCH create steps ({name}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        xl_ok(&["destroy", name]);
    }

    // 32 paused domains (the guest kernel needs ~84 MiB to be built), created with xl: the
    // list side is what is measured.
    let mut guests = Vec::new();
    for i in 0..32 {
        let name = format!("bench-many-{i:02}");
        let cfg = Guest::new(&name).memory(96).write_config();
        xl_ok(&["create", "-q", "-p", &cfg.to_string_lossy()]);
        guests.push(Running::adopt(&name));
    }
    let listed = String::from_utf8_lossy(&xm(&["list"]).stdout)
        .lines()
        .count();
    assert_eq!(listed, 1 + 1 + 32, "header + Domain-0 + 32 guests");
    let (a, b) = list_times(15);
    report("list, 33 domains", a, b);
    xenstored_costs();
    drop(guests);
    std::thread::sleep(Duration::from_millis(100));
}
