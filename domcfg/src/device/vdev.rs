//! Virtual block device names to device numbers: xen.util.blkif's `blkdev_name_to_number`
//! (`xvda`, `sdb1`, `hdc`, `0x301`, `769`) and libxl's `d<DISK>p<PART>` form.

/// xen.util.blkif `blkdev_name_to_number`: `xvdaN`, `sdX[N]`, `hdX[N]`, `0x301`, `769`.
/// Returns the number and `true` for the extended (`virtual-device-ext`) xvd range.
pub fn blkdev_name_to_number(name: &str) -> Option<(u32, bool)> {
    let dev = name.strip_prefix("/dev/").unwrap_or(name);
    let letters = |s: &str| -> Option<(Vec<u32>, u32)> {
        let split = s.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(s.len());
        let (l, n) = s.split_at(split);
        let part = if n.is_empty() {
            0
        } else if !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 2 {
            n.parse().ok()?
        } else {
            return None;
        };
        Some((l.bytes().map(|b| u32::from(b - b'a')).collect(), part))
    };
    if name.starts_with('/') && !name.starts_with("/dev/") {
        return None;
    }
    if let Some(rest) = dev.strip_prefix("xvd") {
        let (l, part) = letters(rest)?;
        if part > 15 {
            return None;
        }
        return match l.as_slice() {
            [a] if *a <= 15 => Some(((202 << 8) + (a << 4) + part, false)),
            [a] => Some(((1 << 28) + (a << 8) + part, true)),
            [a, b] if *a <= 8 => Some(((1 << 28) + (((a + 1) * 26 + b) << 8) + part, true)),
            _ => None,
        };
    }
    if let Some(rest) = dev.strip_prefix("sd") {
        const SCSI_MAJOR: [u32; 16] = [
            8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135,
        ];
        let (l, part) = letters(rest)?;
        if part > 15 {
            return None;
        }
        let index = match l.as_slice() {
            [a] => *a,
            [a, b] if *a <= 8 => (a + 1) * 26 + b,
            _ => return None,
        };
        let major = SCSI_MAJOR.get((index / 16) as usize)?;
        return Some((major * 256 + (index % 16) * 16 + part, false));
    }
    if let Some(rest) = dev.strip_prefix("hd") {
        const IDE_MAJOR: [u32; 10] = [3, 22, 33, 34, 56, 57, 88, 89, 90, 91];
        let (l, part) = letters(rest)?;
        return match l.as_slice() {
            [a] if *a < 20 && part <= 63 => Some((
                IDE_MAJOR[(a / 2) as usize] * 256 + (a % 2) * 64 + part,
                false,
            )),
            _ => None,
        };
    }
    // Numeric forms are matched against the name as given, as xend did.
    if let Some(hex) = name.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return u32::from_str_radix(hex, 16).ok().map(|n| (n, false));
        }
        return None;
    }
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name.parse().ok().map(|n| (n, false));
    }
    None
}

/// libxl's `d<DISK>p<PART>` device name (disk < 2^20, partition < 256).
pub(super) fn xl_dp_number(name: &str) -> Option<u32> {
    let (disk, part) = name.strip_prefix('d')?.split_once('p')?;
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 7 {
            return None;
        }
        s.parse().ok()
    };
    let (disk, part) = (num(disk)?, num(part)?);
    if disk >= 1 << 20 || part >= 256 {
        return None;
    }
    Some(if disk <= 15 && part <= 15 {
        (202 << 8) | (disk << 4) | part
    } else {
        (1 << 28) | (disk << 8) | part
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_match_blkif() {
        let n = |s| blkdev_name_to_number(s).map(|x| x.0);
        assert_eq!(n("xvda"), Some(202 << 8));
        assert_eq!(n("xvda1"), Some((202 << 8) + 1));
        assert_eq!(n("xvdc2"), Some((202 << 8) + (2 << 4) + 2));
        assert_eq!(n("xvdp15"), Some((202 << 8) + (15 << 4) + 15));
        assert_eq!(
            blkdev_name_to_number("xvdq"),
            Some(((1 << 28) + (16 << 8), true))
        );
        assert_eq!(n("xvdaa"), Some((1 << 28) + (26 << 8)));
        assert_eq!(n("xvda16"), None);
        assert_eq!(n("xvda0"), None);
        assert_eq!(n("sda"), Some(8 * 256));
        assert_eq!(n("sda1"), Some(8 * 256 + 1));
        assert_eq!(n("sdq"), Some(65 * 256));
        assert_eq!(n("sdaa"), Some(65 * 256 + 10 * 16));
        assert_eq!(n("hda"), Some(3 * 256));
        assert_eq!(n("hdb1"), Some(3 * 256 + 65));
        assert_eq!(n("hdc"), Some(22 * 256));
        assert_eq!(n("hda63"), Some(3 * 256 + 63));
        assert_eq!(n("hda64"), None);
        assert_eq!(n("/dev/hda1"), Some(769));
        assert_eq!(n("0x301"), Some(769));
        assert_eq!(n("769"), Some(769));
        assert_eq!(n(" xvda"), None);
        assert_eq!(n(""), None);
    }
}
