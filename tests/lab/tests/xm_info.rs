//! `xm info` on the real Xen 4.17 in the lab, against Debian's `xl info` from the same boot.

use lab_tests::*;
use std::collections::BTreeMap;

/// `key : value` lines as a map, and the keys in order.
fn parse(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut map = BTreeMap::new();
    let mut order = Vec::new();
    for line in text.lines() {
        let (k, v) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a `key : value` line: {line:?}"));
        let k = k.trim_end().to_string();
        map.insert(k.clone(), v.strip_prefix(' ').unwrap_or(v).to_string());
        order.push(k);
    }
    (map, order)
}

/// xend's `XendNode.info()` keys, in its order (node, physinfo, xeninfo, xend).
const XEND_KEYS: [&str; 29] = [
    "system",
    "host",
    "release",
    "version",
    "machine",
    "nr_cpus",
    "nr_nodes",
    "cores_per_socket",
    "threads_per_core",
    "cpu_mhz",
    "hw_caps",
    "virt_caps",
    "total_memory",
    "free_memory",
    "free_cpus",
    "xen_major",
    "xen_minor",
    "xen_extra",
    "xen_caps",
    "xen_scheduler",
    "xen_pagesize",
    "platform_params",
    "xen_changeset",
    "xen_commandline",
    "cc_compiler",
    "cc_compile_by",
    "cc_compile_domain",
    "cc_compile_date",
    "xend_config_format",
];

#[test]
fn xm_info_has_xends_keys_and_agrees_with_xl_info() {
    require_lab!();
    let out = xm(&["info"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (xm_info, order) = parse(&text);
    assert_eq!(order, XEND_KEYS, "{text}");
    // xm's layout: the key left-aligned in 23 columns, then ": ".
    for line in text.lines() {
        assert_eq!(&line[23..25], ": ", "{line:?}");
    }

    let (xl_info, _) = parse(&xl_ok(&["info"]));
    // Every key both print with the same meaning. Not compared: what xl lacks or formats
    // otherwise (system, cpu_mhz, virt_caps), what moves between the calls (free_memory).
    let differ = ["system", "cpu_mhz", "virt_caps", "free_memory"];
    for key in XEND_KEYS.iter().filter(|k| !differ.contains(k)) {
        assert_eq!(
            xm_info.get(*key),
            xl_info.get(*key),
            "{key}: xm info vs xl info"
        );
    }
    // xl prints MHz with three decimals; xm printed whole MHz.
    let xl_mhz = xl_info["cpu_mhz"].split('.').next().unwrap().to_string();
    assert_eq!(xm_info["cpu_mhz"], xl_mhz);
    assert_eq!(xm_info["system"], "Linux");
    assert_eq!(xm_info["xen_major"], "4");
    assert_eq!(xm_info["xend_config_format"], "4");
    let total: u64 = xm_info["total_memory"].parse().unwrap();
    let free: u64 = xm_info["free_memory"].parse().unwrap();
    assert!(free > 0 && free < total, "free {free} of {total} MiB");
}
