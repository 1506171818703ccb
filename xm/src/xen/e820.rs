//! The memory map of a PV guest that is given PCI functions (`e820_host`, which xl turns on
//! for every PV guest with a `pci` line). By default Xen shows a PV guest one RAM region from
//! 0 up; the guest's kernel then takes every address above it for its own PCI space and
//! refuses the real BARs of a passed-through device ("Could not claim resource ... Try using
//! e820_host=1"). With a map shaped like the host's — its reserved/ACPI regions, the host's
//! PCI hole left free — the guest claims the BARs at their machine addresses.
//!
//! The guest's map, from the host's (as `xc_get_machine_memory_map` reports it):
//! - everything starting at or below 1 MiB is dropped: the guest's RAM starts at 0;
//! - the guest's RAM runs from 0 to its size, or to the first reserved/ACPI/NVS region above
//!   1 MiB (the start of the host's hole) if that comes first; RAM cut off there goes above
//!   4 GiB, with the room a balloon may grow into (`maxmem` over `memory`);
//! - the host's RAM below 4 GiB past the guest's RAM becomes unusable (Linux would take a
//!   gap for PCI space), and so does the space from the guest's RAM to the hole;
//! - the host's reserved, ACPI and NVS regions are kept as they are.

/// One region of a memory map (`struct e820entry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
}

impl Region {
    fn end(&self) -> u64 {
        self.addr.saturating_add(self.size)
    }
}

pub const RAM: u32 = 1;
pub const RESERVED: u32 = 2;
pub const ACPI: u32 = 3;
pub const NVS: u32 = 4;
pub const UNUSABLE: u32 = 5;
/// The most regions a map may have (`E820MAX`).
pub const MAX_REGIONS: usize = 128;

const MIB: u64 = 1 << 20;
const GIB_4: u64 = 1 << 32;

/// The map of a guest with `ram_kib` of RAM that may balloon up by `balloon_kib`, shaped like
/// `host` (see the module's docs).
pub fn guest_map(host: &[Region], ram_kib: u64, balloon_kib: u64) -> Vec<Region> {
    let host: Vec<Region> = host
        .iter()
        .filter(|r| r.addr > MIB && r.size > 0)
        .copied()
        .collect();
    let firmware = |r: &&Region| r.kind != RAM && r.kind != UNUSABLE;
    let hole = host.iter().filter(firmware).map(|r| r.addr).min();
    let ram_bytes = ram_kib.saturating_mul(1024);
    let ram_end = hole.map_or(ram_bytes, |h| ram_bytes.min(h));
    let mut map = vec![Region {
        addr: 0,
        size: ram_end,
        kind: RAM,
    }];
    for r in &host {
        if r.end() <= ram_end {
            continue;
        }
        match r.kind {
            UNUSABLE => {}
            RAM if r.addr < GIB_4 => {
                let addr = r.addr.max(ram_end);
                map.push(Region {
                    addr,
                    size: r.end() - addr,
                    kind: UNUSABLE,
                });
            }
            RAM => {}
            _ => map.push(*r),
        }
    }
    // The space between the guest's RAM and the hole is not PCI space either.
    if let Some(hole) = hole.filter(|&h| h > ram_end) {
        match map
            .iter_mut()
            .find(|r| r.kind == UNUSABLE && r.addr == ram_end)
        {
            Some(r) => r.size = hole - ram_end,
            None => map.push(Region {
                addr: ram_end,
                size: hole - ram_end,
                kind: UNUSABLE,
            }),
        }
    }
    map.sort_by_key(|r| r.addr);
    let extra = (ram_bytes - ram_end).saturating_add(balloon_kib.saturating_mul(1024));
    if extra > 0 {
        // From 4 GiB, past any region kept there.
        let mut addr = GIB_4;
        for r in &map {
            if r.addr < addr.saturating_add(extra) && r.end() > addr {
                addr = r.end();
            }
        }
        map.push(Region {
            addr,
            size: extra,
            kind: RAM,
        });
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(addr: u64, end: u64, kind: u32) -> Region {
        Region {
            addr,
            size: end - addr,
            kind,
        }
    }

    /// The lab's PCI machine as Xen reports it (QEMU q35, 5.5 GiB).
    fn q35() -> Vec<Region> {
        vec![
            r(0, 0x9fc00, RAM),
            r(0x9fc00, 0xa0000, RESERVED),
            r(0xf0000, 0x100000, RESERVED),
            r(0x100000, 0x7ffdf000, RAM),
            r(0x7ffdf000, 0x8000_0000, RESERVED),
            r(0xb000_0000, 0xc000_0000, RESERVED),
            r(0xfed1c000, 0xfed20000, RESERVED),
            r(0xfeffc000, 0xff00_0000, RESERVED),
            r(0xfffc0000, GIB_4, RESERVED),
            r(GIB_4, 0x1_e000_0000, RAM),
            r(0xfd_0000_0000, 0x100_0000_0000, RESERVED),
        ]
    }

    #[test]
    fn a_small_guest_gets_its_ram_low_and_the_hosts_hole_stays_free() {
        let map = guest_map(&q35(), 128 * 1024, 0);
        assert_eq!(
            map,
            vec![
                r(0, 128 * MIB, RAM),
                r(128 * MIB, 0x7ffdf000, UNUSABLE),
                r(0x7ffdf000, 0x8000_0000, RESERVED),
                r(0xb000_0000, 0xc000_0000, RESERVED),
                r(0xfed1c000, 0xfed20000, RESERVED),
                r(0xfeffc000, 0xff00_0000, RESERVED),
                r(0xfffc0000, GIB_4, RESERVED),
                r(0xfd_0000_0000, 0x100_0000_0000, RESERVED),
            ]
        );
        // The BARs' hole (here 0xc0000000..0xfed1c000) is in no region.
        assert!(
            map.iter()
                .all(|m| m.end() <= 0xc000_0000 || m.addr >= 0xfed1c000)
        );
    }

    #[test]
    fn ram_beyond_the_hole_moves_above_4_gib_with_the_balloons_room() {
        // 3 GiB on a host whose hole starts just below 2 GiB; maxmem 1 GiB above memory.
        let map = guest_map(&q35(), 3 * 1024 * 1024, 1024 * 1024);
        assert_eq!(map[0], r(0, 0x7ffdf000, RAM));
        assert!(!map.iter().any(|m| m.kind == UNUSABLE), "{map:?}");
        let high = *map.last().unwrap();
        assert_eq!(high.kind, RAM);
        assert_eq!(high.addr, GIB_4);
        assert_eq!(high.size, 3 * 1024 * MIB - 0x7ffdf000 + 1024 * MIB);
        let ram: u64 = map.iter().filter(|m| m.kind == RAM).map(|m| m.size).sum();
        assert_eq!(ram, 4 * 1024 * MIB);
    }

    #[test]
    fn a_region_kept_at_4_gib_is_stepped_over() {
        let host = vec![
            r(0x100000, 0x8000_0000, RAM),
            r(0xc000_0000, 0xc010_0000, RESERVED),
            r(GIB_4, GIB_4 + MIB, RESERVED),
        ];
        let map = guest_map(&host, 4 * 1024 * 1024, 0);
        assert_eq!(
            map,
            vec![
                r(0, 0xc000_0000, RAM),
                r(0xc000_0000, 0xc010_0000, RESERVED),
                r(GIB_4, GIB_4 + MIB, RESERVED),
                r(GIB_4 + MIB, GIB_4 + MIB + GIB_4 - 0xc000_0000, RAM),
            ]
        );
    }

    #[test]
    fn regions_never_overlap_and_stay_few() {
        for ram_mib in [1u64, 64, 2047, 2048, 4096, 70000] {
            for balloon_mib in [0u64, 512] {
                let map = guest_map(&q35(), ram_mib * 1024, balloon_mib * 1024);
                assert!(map.len() <= MAX_REGIONS);
                let mut sorted = map.clone();
                sorted.sort_by_key(|m| m.addr);
                for w in sorted.windows(2) {
                    assert!(w[0].end() <= w[1].addr, "{ram_mib}: {w:?}");
                }
                let ram: u64 = map.iter().filter(|m| m.kind == RAM).map(|m| m.size).sum();
                assert_eq!(ram, (ram_mib + balloon_mib) * MIB, "{ram_mib}: {map:?}");
            }
        }
    }

    #[test]
    fn a_host_without_firmware_regions_gives_one_ram_region() {
        // (The host's RAM from 1 MiB is under the guest's RAM, and dropped with the rest.)
        let map = guest_map(&[r(0x100000, 0x4000_0000, RAM)], 256 * 1024, 0);
        assert_eq!(map, vec![r(0, 256 * MIB, RAM)]);
    }
}
