//! Random bytes for what must differ from domain to domain on a host: UUIDs (domain
//! handles) and MACs.

use std::time::{SystemTime, UNIX_EPOCH};

/// `N` random bytes from the kernel's generator (time and pid if it cannot be read: unique
/// enough for a domain handle or a MAC on one host).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use std::io::Read;
    let mut u = [0u8; N];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut u));
    if filled.is_err() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let seed = [
            now.as_nanos().to_le_bytes(),
            u128::from(std::process::id()).to_le_bytes(),
        ];
        for (b, s) in u.iter_mut().zip(seed.concat().into_iter().cycle()) {
            *b = s;
        }
    }
    u
}

/// A random version-4 UUID.
pub fn random_uuid() -> [u8; 16] {
    let mut u: [u8; 16] = random_bytes();
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_uuids_are_version_4_and_differ() {
        let a = random_uuid();
        let b = random_uuid();
        assert_ne!(a, b);
        assert_eq!(a[6] >> 4, 4);
        assert_eq!(a[8] >> 6, 0b10);
    }
}
