//! A running domain's memory: its balloon target (`xm mem-set`: the guest's balloon driver
//! watches `memory/target` and gives pages back or takes them) and its maximum (`xm mem-max`:
//! `memory/static-max` and Xen's page limit), as libxl sets them. The kept plan follows, so a
//! restart (`on_reboot = 'restart'`) builds the domain with the new sizes.

use super::domain_plan::update_plan_in;
use super::error::ControlError;
use super::host::Host;
use super::xc::DomId;

/// Kept above a domain's target in Xen's page limit (libxl's `LIBXL_MAXMEM_CONSTANT`).
pub const MAXMEM_SLACK_KIB: u64 = 1024;

/// A size as xm read it (`int_unit`): digits with an optional unit `b`, `k`, `m`, `g` or `t`
/// (any case), MiB without one; the result in MiB, rounded down.
pub fn parse_mib(text: &str) -> Result<u64, ControlError> {
    let bad = || {
        ControlError::Invalid(format!(
            "invalid memory size '{text}': a number of MiB, or with a unit (b, k, m, g, t)"
        ))
    };
    let t = text.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift: i32 = match c.to_ascii_lowercase() {
                'b' => -20,
                'k' => -10,
                'm' => 0,
                'g' => 10,
                't' => 20,
                _ => return Err(bad()),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    if shift >= 0 {
        n.checked_shl(shift as u32)
            .filter(|v| v >> shift == n)
            .ok_or_else(bad)
    } else {
        Ok(n >> (-shift))
    }
}

fn read_kib(host: &Host, path: &str) -> Option<u64> {
    let v = host.xs.try_read(path).ok()??;
    String::from_utf8_lossy(&v).trim().parse().ok()
}

/// `xm mem-set`: the balloon target of `domid`, at most its maximum.
pub fn set_target(host: &Host, domid: DomId, mib: u64) -> Result<(), ControlError> {
    if mib == 0 {
        return Err(ControlError::Invalid(
            "a memory target must be at least 1 MiB".into(),
        ));
    }
    let home = format!("/local/domain/{domid}");
    let target_kib = mib * 1024;
    let vm = host.xs.try_read(&format!("{home}/vm"))?;
    let over = host.xs.transaction(|tx| {
        let max = tx
            .try_read(&format!("{home}/memory/static-max"))?
            .and_then(|v| String::from_utf8_lossy(&v).trim().parse::<u64>().ok());
        if let Some(max) = max.filter(|&m| target_kib > m) {
            return Ok(Some(max));
        }
        tx.write(&format!("{home}/memory/target"), target_kib.to_string())?;
        if let Some(vm) = &vm {
            let vm = String::from_utf8_lossy(vm);
            tx.write(&format!("{vm}/memory"), mib.to_string())?;
        }
        update_plan_in(tx, domid, |p| p.memory_mib = mib)?;
        Ok(None)
    })?;
    if let Some(max) = over {
        return Err(ControlError::Invalid(format!(
            "memory target {mib} MiB is above domain {domid}'s maximum of {} MiB \
             (raise it first: xm mem-max)",
            max / 1024
        )));
    }
    // Room in Xen's limit for the balloon to grow into (lowering it is how Xen lets a
    // shrinking domain keep what it holds until it gives it back).
    host.xc
        .domain_setmaxmem(domid, target_kib + MAXMEM_SLACK_KIB)?;
    Ok(())
}

/// `xm mem-max`: the most memory `domid` may have, at least its current target.
pub fn set_max(host: &Host, domid: DomId, mib: u64) -> Result<(), ControlError> {
    let home = format!("/local/domain/{domid}");
    let max_kib = mib * 1024;
    let target = read_kib(host, &format!("{home}/memory/target"));
    if let Some(t) = target.filter(|&t| max_kib < t) {
        return Err(ControlError::Invalid(format!(
            "maximum memory {mib} MiB is below domain {domid}'s target of {} MiB \
             (lower it first: xm mem-set)",
            t / 1024
        )));
    }
    let vm = host.xs.try_read(&format!("{home}/vm"))?;
    host.xs.transaction(|tx| {
        tx.write(&format!("{home}/memory/static-max"), max_kib.to_string())?;
        if let Some(vm) = &vm {
            let vm = String::from_utf8_lossy(vm);
            tx.write(&format!("{vm}/maxmem"), mib.to_string())?;
        }
        update_plan_in(tx, domid, |p| p.maxmem_mib = mib)
    })?;
    host.xc
        .domain_setmaxmem(domid, max_kib + MAXMEM_SLACK_KIB)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_xm_read_them() {
        assert_eq!(parse_mib("256").unwrap(), 256);
        assert_eq!(parse_mib("256m").unwrap(), 256);
        assert_eq!(parse_mib("256M").unwrap(), 256);
        assert_eq!(parse_mib("2g").unwrap(), 2048);
        assert_eq!(parse_mib("1t").unwrap(), 1 << 20);
        assert_eq!(parse_mib("131072k").unwrap(), 128);
        assert_eq!(parse_mib("1500k").unwrap(), 1);
        assert_eq!(parse_mib("1048576b").unwrap(), 1);
        for bad in [
            "",
            "m",
            "-5",
            "1.5g",
            "12x",
            "0x10",
            "99999999999999999999t",
            "1 g",
        ] {
            assert!(parse_mib(bad).is_err(), "{bad}");
        }
    }
}
