//! Domains as xm shows them: a row per domain (name, id, memory, vcpus, state, cpu time),
//! gathered from the hypervisor's domain list and the names and memory targets in xenstore,
//! and the lookup of a domain named by name or numeric id.

use super::xc::{DomId, DomainInfo};

/// One line of `xm list`.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainSummary {
    pub name: String,
    pub domid: DomId,
    /// The memory target in MiB (xend's `memory_dynamic_max`).
    pub mem_mib: u64,
    pub vcpus: u32,
    /// The six-letter `rbpscd` state.
    pub state: String,
    /// Seconds of CPU time.
    pub cpu_time: f64,
    pub uuid: [u8; 16],
}

/// xm's `rbpscd` string: running, blocked, paused, shutdown, crashed, dying — the first letter
/// for a set flag, `-` otherwise (xend's `_get_old_state_string`, fed by libxenctrl's flags,
/// where a crashed domain is also shut down).
pub fn state_string(info: &DomainInfo) -> String {
    [
        (info.running, 'r'),
        (info.blocked, 'b'),
        (info.paused, 'p'),
        (info.shutdown, 's'),
        (info.crashed(), 'c'),
        (info.dying, 'd'),
    ]
    .iter()
    .map(|&(set, c)| if set { c } else { '-' })
    .collect()
}

/// The name xm shows for a domain with no name in xenstore.
pub const UNNAMED: &str = "??";

/// The name xm shows for a domain: its xenstore name, else `Domain-0` for dom0 and
/// [`UNNAMED`] for the rest.
pub fn shown_name(domid: DomId, name: Option<String>) -> String {
    name.unwrap_or_else(|| {
        if domid == 0 {
            "Domain-0".to_string()
        } else {
            UNNAMED.to_string()
        }
    })
}

/// Builds the row for one domain. `name` and `target_kib` come from xenstore
/// (`/local/domain/N/name`, `/local/domain/N/memory/target`) and may be missing.
pub fn summarize(
    info: &DomainInfo,
    name: Option<String>,
    target_kib: Option<u64>,
) -> DomainSummary {
    let name = shown_name(info.domid, name);
    // Without a target (dom0 under some toolstacks), fall back to what the domain holds.
    let mem_mib = match target_kib {
        Some(kib) => kib / 1024,
        None => info.tot_pages * 4 / 1024,
    };
    DomainSummary {
        name,
        domid: info.domid,
        mem_mib,
        vcpus: info.online_vcpus,
        state: state_string(info),
        cpu_time: info.cpu_time as f64 / 1e9,
        uuid: info.uuid,
    }
}

/// xm's `uptime` header.
pub fn uptime_header() -> String {
    format!("{:<33} {:>4} {} ", "Name", "ID", "Uptime")
}

/// An uptime as xm wrote it: `[N day(s), ]H:MM` and, unless `short`, `:SS` (rounded to the
/// second).
pub fn uptime_text(seconds: f64, short: bool) -> String {
    let mut s = seconds.round().max(0.0) as u64;
    let days = s / 86400;
    s %= 86400;
    let (hours, minutes, secs) = (s / 3600, s % 3600 / 60, s % 60);
    let mut text = String::new();
    if days > 0 {
        text.push_str(&format!("{days} day{}, ", if days > 1 { "s" } else { "" }));
    }
    text.push_str(&format!("{hours:2}:{minutes:02}"));
    if !short {
        text.push_str(&format!(":{secs:02}"));
    }
    text
}

/// xm's `uptime` line; with `short` (`-s`), ` HH:MM:SS up UPTIME, NAME (ID)` with `now` the
/// local time of day.
pub fn uptime_row(name: &str, domid: DomId, seconds: f64, short: Option<&str>) -> String {
    match short {
        Some(now) => format!(" {now} up {}, {name} ({domid})", uptime_text(seconds, true)),
        None => format!("{name:<32} {domid:>5} {}", uptime_text(seconds, false)),
    }
}

/// xm's header line for `xm list`.
pub fn list_header() -> String {
    format!(
        "{:<40} {:>5} {:>5} {:>5} {:>10} {:>9}",
        "Name", "ID", "Mem", "VCPUs", "State", "Time(s)"
    )
}

/// One `xm list` row, byte-exact with xm's `"%-40s %5s %5d %5d %10s %8.1f"`.
pub fn list_row(d: &DomainSummary) -> String {
    format!(
        "{:<40} {:>5} {:>5} {:>5} {:>10} {:>8.1}",
        d.name, d.domid, d.mem_mib, d.vcpus, d.state, d.cpu_time
    )
}

/// Sorts rows as xend did: by name, byte order (Python 2 `cmp` on str).
pub fn sort_by_name(rows: &mut [DomainSummary]) {
    rows.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
}

/// Which domain a user's word names, as an index into `domids`: a numeric id if the word is
/// all digits and such a domain exists, otherwise an exact name match (xend's
/// `domain_lookup_nr`). `names` (in the order of `domids`) is asked for only when the word is
/// not a live id.
pub fn pick(word: &str, domids: &[DomId], names: impl FnOnce() -> Vec<String>) -> Option<usize> {
    if let Ok(id) = word.parse::<DomId>()
        && let Some(i) = domids.iter().position(|d| *d == id)
    {
        return Some(i);
    }
    names().iter().position(|n| n == word)
}

/// The row a user's word names ([`pick`]).
pub fn lookup<'a>(rows: &'a [DomainSummary], word: &str) -> Option<&'a DomainSummary> {
    let domids: Vec<DomId> = rows.iter().map(|r| r.domid).collect();
    pick(word, &domids, || {
        rows.iter().map(|r| r.name.clone()).collect()
    })
    .map(|i| &rows[i])
}

/// The canonical text form of a domain handle, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn uuid_string(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::super::xc::Shutdown;
    use super::*;

    fn info(domid: DomId) -> DomainInfo {
        DomainInfo {
            domid,
            uuid: [0; 16],
            running: false,
            blocked: false,
            paused: false,
            shutdown: false,
            dying: false,
            hvm: false,
            shutdown_reason: Shutdown::Poweroff,
            tot_pages: 262144,
            max_pages: 262400,
            cpu_time: 5_068_600_000_000,
            online_vcpus: 2,
            max_vcpu_id: 1,
            cpupool: 0,
        }
    }

    #[test]
    fn header_and_rows_match_xm_bytes() {
        // The layout xm 4.1 printed (research §2), byte for byte.
        assert_eq!(
            list_header(),
            "Name                                        ID   Mem VCPUs      State   Time(s)"
        );
        let mut dom0 = info(0);
        dom0.running = true;
        let row = summarize(&dom0, None, Some(1024 * 1024));
        assert_eq!(
            list_row(&row),
            "Domain-0                                     0  1024     2     r-----   5068.6"
        );
        let mut g = info(3);
        g.blocked = true;
        g.cpu_time = 7_600_000_000;
        let row = summarize(&g, Some("guest1".into()), Some(256 * 1024));
        assert_eq!(
            list_row(&row),
            "guest1                                       3   256     2     -b----      7.6"
        );
    }

    #[test]
    fn state_letters_follow_rbpscd() {
        let mut i = info(5);
        i.paused = true;
        assert_eq!(state_string(&i), "--p---");
        i.paused = false;
        i.shutdown = true;
        i.shutdown_reason = Shutdown::Crash;
        assert_eq!(state_string(&i), "---sc-");
        i.shutdown_reason = Shutdown::Poweroff;
        i.dying = true;
        assert_eq!(state_string(&i), "---s-d");
    }

    #[test]
    fn memory_falls_back_to_pages_without_target() {
        let row = summarize(&info(7), Some("x".into()), None);
        assert_eq!(row.mem_mib, 1024);
        assert_eq!(summarize(&info(9), None, None).name, UNNAMED);
    }

    #[test]
    fn rows_sort_bytewise_and_lookup_takes_ids_then_names() {
        let mut rows = vec![
            summarize(&info(2), Some("web".into()), None),
            summarize(&info(0), None, None),
            summarize(&info(1), Some("Zed".into()), None),
            summarize(&info(4), Some("7".into()), None),
        ];
        sort_by_name(&mut rows);
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["7", "Domain-0", "Zed", "web"]);
        assert_eq!(lookup(&rows, "2").map(|d| d.name.as_str()), Some("web"));
        assert_eq!(lookup(&rows, "7").map(|d| d.domid), Some(4));
        assert_eq!(lookup(&rows, "Zed").map(|d| d.domid), Some(1));
        assert!(lookup(&rows, "nope").is_none());
    }

    #[test]
    fn uuid_prints_canonically() {
        let u = [
            0xd9, 0xa1, 0xb3, 0x62, 0xc8, 0x34, 0x67, 0xab, 0x4e, 0x9d, 0xd4, 0xb7, 0x06, 0x69,
            0x92, 0x97,
        ];
        assert_eq!(uuid_string(&u), "d9a1b362-c834-67ab-4e9d-d4b706699297");
    }

    #[test]
    fn uptimes_are_xm_41s_layout() {
        assert_eq!(
            uptime_header(),
            "Name                                ID Uptime "
        );
        assert_eq!(
            uptime_row("ce", 3, 3725.4, None),
            "ce                                   3  1:02:05"
        );
        assert_eq!(
            uptime_row("Domain-0", 0, 2.0 * 86400.0 + 59.6, None),
            "Domain-0                             0 2 days,  0:01:00"
        );
        assert_eq!(uptime_text(86400.0 + 7200.0, false), "1 day,  2:00:00");
        assert_eq!(
            uptime_row("se", 12, 600.0, Some("10:11:12")),
            " 10:11:12 up  0:10, se (12)"
        );
    }
}
