//! A running domain's virtual CPUs: what each runs on and may run on (`xm vcpu-list`), how
//! many are online (`xm vcpu-set`: the guest watches `cpu/N/availability` and takes vcpus
//! off- or online itself), and which physical cpus each may use (`xm vcpu-pin`).

use super::domain_plan::update_plan_in;
use super::error::ControlError;
use super::host::Host;
use super::xc::{DomId, VcpuInfo};

/// One vcpu: Xen's view and its hard affinity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vcpu {
    pub info: VcpuInfo,
    pub affinity: Vec<u32>,
}

/// Every vcpu of `domid` (`0..=max_vcpu_id`).
pub fn list(host: &Host, domid: DomId, max_vcpu_id: u32) -> Result<Vec<Vcpu>, ControlError> {
    (0..=max_vcpu_id)
        .map(|n| {
            Ok(Vcpu {
                info: host.xc.vcpu_info(domid, n)?,
                affinity: host.xc.vcpu_hard_affinity(domid, n)?,
            })
        })
        .collect()
}

/// `xm vcpu-set`: `count` vcpus online (the first ones), the rest offline, of the domain's
/// `max` (its `maxvcpus`).
pub fn set_online(host: &Host, domid: DomId, count: u32, max: u32) -> Result<(), ControlError> {
    if count == 0 {
        return Err(ControlError::Invalid(
            "a domain needs at least 1 vcpu".into(),
        ));
    }
    if count > max {
        return Err(ControlError::Invalid(format!(
            "cannot set {count} vcpus: domain {domid} has at most {max} (its maxvcpus)"
        )));
    }
    host.xs.transaction(|tx| {
        for n in 0..max {
            let state = if n < count { "online" } else { "offline" };
            tx.write(
                &format!("/local/domain/{domid}/cpu/{n}/availability"),
                state,
            )?;
        }
        update_plan_in(tx, domid, |p| p.vcpus = count)
    })?;
    Ok(())
}

/// `xm vcpu-pin`: vcpu `vcpu` (all of them with `None`) may run on `cpus` only.
pub fn pin(
    host: &Host,
    domid: DomId,
    vcpu: Option<u32>,
    max_vcpu_id: u32,
    cpus: &[u32],
) -> Result<(), ControlError> {
    if let Some(v) = vcpu.filter(|&v| v > max_vcpu_id) {
        return Err(ControlError::Invalid(format!(
            "domain {domid} has no vcpu {v} (its vcpus are 0-{max_vcpu_id})"
        )));
    }
    for n in vcpu.map_or(0..=max_vcpu_id, |v| v..=v) {
        host.xc.vcpu_set_hard_affinity(domid, n, cpus)?;
    }
    Ok(())
}

/// xm's cpu list (its `cpu_make_map`, also the syntax of a config's `cpus`): numbers and
/// ranges separated by commas (`0-3,6`), where `^N` takes one out of what came before it
/// (`0-3,^2`); blank parts are skipped. With `nr_cpus`, `all` is every cpu and a cpu the host
/// does not have is an error; without it, a range may span at most 4096 cpus. Errors say why.
pub fn cpu_list(text: &str, nr_cpus: Option<u32>) -> Result<Vec<u32>, String> {
    if let (Some(nr), "all") = (nr_cpus, text.trim()) {
        return Ok((0..nr).collect());
    }
    let number = |s: &str| -> Result<u32, String> {
        let n: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("'{}' is not a cpu number", s.trim()))?;
        match nr_cpus {
            Some(nr) if n >= nr => Err(format!("this host has cpus 0-{}", nr.saturating_sub(1))),
            _ => Ok(n),
        }
    };
    let mut cpus = std::collections::BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(n) = part.strip_prefix('^') {
            cpus.remove(&number(n)?);
        } else if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (number(a)?, number(b)?);
            if a > b {
                return Err(format!("'{part}' runs backwards"));
            }
            if b - a > 4096 {
                return Err(format!("'{part}' spans more than 4096 cpus"));
            }
            cpus.extend(a..=b);
        } else {
            cpus.insert(number(part)?);
        }
    }
    Ok(cpus.into_iter().collect())
}

/// The cpus `xm vcpu-pin` was given: a [`cpu_list`] of this host's `nr_cpus` cpus (or `all`)
/// that leaves at least one.
pub fn parse_cpus(text: &str, nr_cpus: u32) -> Result<Vec<u32>, ControlError> {
    let bad = |why: &str| ControlError::Invalid(format!("invalid cpu list '{text}': {why}"));
    let cpus = cpu_list(text, Some(nr_cpus)).map_err(|why| bad(&why))?;
    if cpus.is_empty() {
        return Err(bad("no cpus left"));
    }
    Ok(cpus)
}

/// An affinity as xm printed it: `any cpu` when it holds every cpu of the host, else ranges
/// (`0-1,3`), `no cpus` when empty.
pub fn affinity_text(cpus: &[u32], nr_cpus: u32) -> String {
    let mut cpus: Vec<u32> = cpus.iter().copied().filter(|&c| c < nr_cpus).collect();
    cpus.sort_unstable();
    cpus.dedup();
    if cpus.len() as u32 == nr_cpus && nr_cpus > 0 {
        return "any cpu".to_string();
    }
    if cpus.is_empty() {
        return "no cpus".to_string();
    }
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in cpus {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => ranges.push((c, c)),
        }
    }
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// xm's `vcpu-list` header.
pub fn list_header() -> String {
    format!(
        "{:<32} {:>5} {:>5} {:>5} {:>5} {:>9} {}",
        "Name", "ID", "VCPU", "CPU", "State", "Time(s)", "CPU Affinity"
    )
}

/// xm's `vcpu-list` line for one vcpu: CPU and State `-` and `--p` while offline, else the
/// cpu and `r`unning / `b`locked.
pub fn list_row(name: &str, domid: DomId, v: &Vcpu, nr_cpus: u32) -> String {
    let (cpu, state) = if v.info.online {
        let s = format!(
            "{}{}-",
            if v.info.running { 'r' } else { '-' },
            if v.info.blocked { 'b' } else { '-' }
        );
        (v.info.cpu.to_string(), s)
    } else {
        ("-".to_string(), "--p".to_string())
    };
    format!(
        "{name:<32} {domid:>5} {:>5} {cpu:>5} {state:>5}  {:>8.1} {}",
        v.info.number,
        v.info.cpu_time as f64 / 1e9,
        affinity_text(&v.affinity, nr_cpus)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vcpu(number: u32, online: bool, running: bool, cpu: u32, affinity: &[u32]) -> Vcpu {
        Vcpu {
            info: VcpuInfo {
                number,
                online,
                blocked: !running,
                running,
                cpu_time: 12_345_000_000,
                cpu,
            },
            affinity: affinity.to_vec(),
        }
    }

    #[test]
    fn rows_are_xm_41s_layout() {
        assert_eq!(
            list_header(),
            "Name                                ID  VCPU   CPU State   Time(s) CPU Affinity"
        );
        assert_eq!(
            list_row("ce", 3, &vcpu(0, true, true, 1, &[0, 1]), 2),
            "ce                                   3     0     1   r--      12.3 any cpu"
        );
        assert_eq!(
            list_row("ce", 3, &vcpu(1, true, false, 0, &[1]), 2),
            "ce                                   3     1     0   -b-      12.3 1"
        );
        assert_eq!(
            list_row("ce", 3, &vcpu(2, false, false, 0, &[0, 1]), 2),
            "ce                                   3     2     -   --p      12.3 any cpu"
        );
    }

    #[test]
    fn affinities_print_as_ranges() {
        assert_eq!(affinity_text(&[0, 1, 2, 3], 4), "any cpu");
        assert_eq!(affinity_text(&[0, 1, 3], 8), "0-1,3");
        assert_eq!(affinity_text(&[5, 0, 6, 7, 2], 16), "0,2,5-7");
        assert_eq!(affinity_text(&[], 4), "no cpus");
        // Cpus beyond the host's are not shown (Xen keeps bits for cpus that may come).
        assert_eq!(affinity_text(&[0, 1, 9, 63], 2), "any cpu");
    }

    #[test]
    fn cpu_lists_read_as_xm_read_them() {
        assert_eq!(parse_cpus("all", 4).unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(parse_cpus("1", 4).unwrap(), vec![1]);
        assert_eq!(parse_cpus("0-2,^1", 4).unwrap(), vec![0, 2]);
        assert_eq!(parse_cpus("3,0-1", 4).unwrap(), vec![0, 1, 3]);
        // As xm's cpu_make_map: `^N` takes out of what came before it.
        assert_eq!(parse_cpus("^1,0-2", 4).unwrap(), vec![0, 1, 2]);
        assert_eq!(cpu_list("0-3, ,^1", None).unwrap(), vec![0, 2, 3]);
        assert_eq!(
            cpu_list("0-5000", None).unwrap_err(),
            "'0-5000' spans more than 4096 cpus"
        );
        for bad in ["", "4", "x", "2-1", "^0", "0-9", "-1"] {
            assert!(parse_cpus(bad, 4).is_err(), "{bad}");
        }
    }
}
