//! Soak, on demand (`tests/lab/run-tests --soak`): 200 `xm create` / `xm destroy` cycles of a
//! small paused domain, then 50 of a Linux guest with a disk and a vif, must leave dom0 as they
//! found it: the same xenstore node count, loop devices, vif interfaces, processes, and open
//! files of xenstored and xenconsoled, and no memory growth beyond page-cache noise. Prints
//! `SOAK ...` lines.

use std::time::Duration;

use lab_tests::*;

const SMALL_CYCLES: usize = 200;
const DEVICE_CYCLES: usize = 50;

/// dom0 memory growth tolerated, KiB: the page cache and slab move by a few MiB on their own.
const MEM_NOISE_KIB: i64 = 8 * 1024;
/// xenstored's own growth tolerated, KiB (its allocator keeps some memory it has used).
const XENSTORED_NOISE_KIB: i64 = 1024;

#[derive(Debug, Clone)]
struct Counts {
    store_nodes: usize,
    loops: usize,
    vifs: usize,
    processes: usize,
    xenstored_fds: usize,
    xenconsoled_fds: usize,
}

impl Counts {
    fn fields(&self) -> impl Iterator<Item = usize> {
        [
            self.store_nodes,
            self.loops,
            self.vifs,
            self.processes,
            self.xenstored_fds,
            self.xenconsoled_fds,
        ]
        .into_iter()
    }
}

#[derive(Debug, Clone)]
struct Sample {
    counts: Counts,
    mem_available_kib: i64,
    xenstored_rss_kib: i64,
}

fn pid_of(daemon: &str) -> String {
    run_ok(&format!("pidof {daemon}")).trim().to_string()
}

fn count_lines(cmd: &str) -> usize {
    run_ok(cmd).lines().filter(|l| !l.trim().is_empty()).count()
}

fn status_kib(pid: &str, key: &str) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{key} of {pid}"))
}

fn sample() -> Sample {
    // Backends and hotplug scripts of the last destroy finish in the background.
    std::thread::sleep(Duration::from_secs(2));
    let (xsd, xcd) = (pid_of("xenstored"), pid_of("xenconsoled"));
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    Sample {
        counts: Counts {
            store_nodes: count_lines("xenstore-ls -f /"),
            loops: count_lines("losetup -a"),
            vifs: count_lines("ls /sys/class/net | grep '^vif' || true"),
            processes: count_lines("ls -d /proc/[0-9]*"),
            xenstored_fds: count_lines(&format!("ls /proc/{xsd}/fd")),
            xenconsoled_fds: count_lines(&format!("ls /proc/{xcd}/fd")),
        },
        mem_available_kib: mem,
        xenstored_rss_kib: status_kib(&xsd, "VmRSS:"),
    }
}

fn cycle(cfg: &std::path::Path, name: &str) {
    let o = xm(&["create", "-q", "-p", &cfg.to_string_lossy()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = xm(&["destroy", name]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn soak_create_destroy_leaves_dom0_flat() {
    require_lab!();
    let small = "soak-small";
    let small_cfg = pvgrub_config_with(small, "memory = 32\n");
    let disk = scratch_disk("soak-disk", 16);
    let dev = "soak-dev";
    let dev_cfg = Guest::new(dev)
        .disk(&format!("file:{},xvdb,w", disk.display()))
        .vif()
        .write_config();
    // Warm up: first use of loop devices, the bridge, the daemons' buffers.
    for _ in 0..5 {
        cycle(&small_cfg, small);
        cycle(&dev_cfg, dev);
    }
    let before = sample();
    println!("SOAK before: {before:?}");
    for _ in 0..SMALL_CYCLES {
        cycle(&small_cfg, small);
    }
    let mid = sample();
    println!("SOAK after {SMALL_CYCLES} small cycles: {mid:?}");
    for _ in 0..DEVICE_CYCLES {
        cycle(&dev_cfg, dev);
    }
    let after = sample();
    println!("SOAK after {DEVICE_CYCLES} cycles with a disk and a vif: {after:?}");
    for s in [&mid, &after] {
        // Growth is what counts: a transient kernel thread gone since is no leak.
        let grew = s
            .counts
            .fields()
            .zip(before.counts.fields())
            .any(|(a, b)| a > b);
        assert!(
            !grew,
            "something grew: {:?} -> {:?}",
            before.counts, s.counts
        );
        let mem = before.mem_available_kib - s.mem_available_kib;
        let xsd = s.xenstored_rss_kib - before.xenstored_rss_kib;
        println!("SOAK growth: dom0 MemAvailable -{mem} KiB, xenstored RSS +{xsd} KiB");
        assert!(mem <= MEM_NOISE_KIB, "dom0 lost {mem} KiB");
        assert!(xsd <= XENSTORED_NOISE_KIB, "xenstored grew {xsd} KiB");
    }
}
