//! CPython 2.7's dict iteration order. Python 2 dicts iterate in hash-table slot order, and that
//! order shows in `str(d)`, `d.keys()` and `for k in d`. We keep the entries in a Vec (in
//! iteration order) and simulate the slot table beside it: the same string/int/tuple hashes,
//! probe sequence, dummies, fill factor and resizes as `Objects/dictobject.c`.

use super::err::{PyErr, PyResult};
use super::val::{MAX_DATA_DEPTH, Val};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Empty,
    Dummy,
    Live(i64),
}

/// The simulated slot table of one dict.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    fill: usize,
    used: usize,
}

const MINSIZE: usize = 8;
const PERTURB_SHIFT: u32 = 5;

impl Default for Table {
    fn default() -> Self {
        Table {
            slots: vec![Slot::Empty; MINSIZE],
            fill: 0,
            used: 0,
        }
    }
}

impl Table {
    /// A table presized as `_PyDict_NewPresized(n)` (dict displays with more than 5 items).
    pub fn presized(n: usize) -> Table {
        let mut t = Table::default();
        if n > 5 {
            t.slots = vec![Slot::Empty; new_size(n)];
        }
        t
    }

    /// Number of slots (the cost of scanning the table).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn mask(&self) -> u64 {
        (self.slots.len() - 1) as u64
    }

    /// `lookdict` for a key that is not in the table: the first dummy on the probe path, or the
    /// empty slot that ends it.
    fn free_slot(&self, hash: i64) -> usize {
        let mask = self.mask();
        let mut i = (hash as u64) & mask;
        let mut freeslot = None;
        match self.slots[i as usize] {
            Slot::Empty => return i as usize,
            Slot::Dummy => freeslot = Some(i as usize),
            Slot::Live(_) => {}
        }
        let mut perturb = hash as u64;
        loop {
            i = (i << 2)
                .wrapping_add(i)
                .wrapping_add(perturb)
                .wrapping_add(1);
            let j = (i & mask) as usize;
            match self.slots[j] {
                Slot::Empty => return freeslot.unwrap_or(j),
                Slot::Dummy => {
                    freeslot.get_or_insert(j);
                }
                Slot::Live(_) => {}
            }
            perturb >>= PERTURB_SHIFT;
        }
    }

    /// `insertdict_clean`: probe for an empty slot only.
    fn clean_slot(&self, hash: i64) -> usize {
        let mask = self.mask();
        let mut i = (hash as u64) & mask;
        let mut perturb = hash as u64;
        while self.slots[(i & mask) as usize] != Slot::Empty {
            i = (i << 2)
                .wrapping_add(i)
                .wrapping_add(perturb)
                .wrapping_add(1);
            perturb >>= PERTURB_SHIFT;
        }
        (i & mask) as usize
    }

    fn live_before(&self, slot: usize) -> usize {
        self.slots[..slot]
            .iter()
            .filter(|s| matches!(s, Slot::Live(_)))
            .count()
    }

    /// The `k`-th live slot.
    fn live_slot(&self, k: usize) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Slot::Live(_)))
            .nth(k)
            .map(|(i, _)| i)
    }

    /// `dictresize(minused)`: re-insert the live entries in slot order. Returns, for each entry
    /// (in the old order), its new slot.
    fn resize(&mut self, minused: usize) -> Vec<usize> {
        let hashes: Vec<i64> = self
            .slots
            .iter()
            .filter_map(|s| {
                if let Slot::Live(h) = s {
                    Some(*h)
                } else {
                    None
                }
            })
            .collect();
        self.slots = vec![Slot::Empty; new_size(minused)];
        let mut placed = Vec::with_capacity(hashes.len());
        for h in &hashes {
            let j = self.clean_slot(*h);
            self.slots[j] = Slot::Live(*h);
            placed.push(j);
        }
        self.fill = hashes.len();
        self.used = hashes.len();
        placed
    }
}

fn new_size(minused: usize) -> usize {
    let mut n = MINSIZE;
    while n <= minused && n < (1 << 40) {
        n <<= 1;
    }
    n
}

/// Put `entry` (a key that is not in the dict) where CPython would, keeping `entries` in slot
/// order. `resize_check` is PyDict_SetItem's grow-after-insert (off for PyDict_Merge).
pub(crate) fn insert_new<T>(
    t: &mut Table,
    entries: &mut Vec<T>,
    hash: i64,
    entry: T,
    resize_check: bool,
) {
    let j = t.free_slot(hash);
    if t.slots[j] == Slot::Empty {
        t.fill += 1;
    }
    t.slots[j] = Slot::Live(hash);
    t.used += 1;
    let at = t.live_before(j).min(entries.len());
    entries.insert(at, entry);
    if resize_check && t.fill * 3 >= t.slots.len() * 2 {
        let minused = if t.used > 50_000 { 2 } else { 4 } * t.used;
        resize_entries(t, entries, minused);
    }
}

fn resize_entries<T>(t: &mut Table, entries: &mut Vec<T>, minused: usize) {
    let placed = t.resize(minused);
    let mut tagged: Vec<(usize, T)> = placed.into_iter().zip(entries.drain(..)).collect();
    tagged.sort_by_key(|(slot, _)| *slot);
    entries.extend(tagged.into_iter().map(|(_, e)| e));
}

/// PyDict_Merge's presize before copying `incoming` entries into a dict.
pub(crate) fn merge_presize<T>(t: &mut Table, entries: &mut Vec<T>, incoming: usize) {
    if (t.fill + incoming) * 3 >= t.slots.len() * 2 {
        resize_entries(t, entries, (t.used + incoming) * 2);
    }
}

/// Remove the `k`-th entry: its slot becomes a dummy.
pub(crate) fn remove<T>(t: &mut Table, entries: &mut Vec<T>, k: usize) -> Option<T> {
    let j = t.live_slot(k)?;
    t.slots[j] = Slot::Dummy;
    t.used = t.used.saturating_sub(1);
    (k < entries.len()).then(|| entries.remove(k))
}

/// Most values one `hash()` may visit (a tuple can share its parts: `t = (t, t)`).
const HASH_NODES: u64 = 1_000_000;

/// CPython 2.7's `hash()` (64-bit, no hash randomization); `TypeError` for lists and dicts.
/// Also returns how many values it visited, for the caller to charge to its budget.
pub(crate) fn hash_counted(v: &Val) -> PyResult<(i64, u64)> {
    let mut nodes = 0;
    let h = hash_at(v, 0, &mut nodes)?;
    Ok((h, nodes))
}

/// [`hash_counted`] for keys known to be hashable and small (0 if they are not).
pub(crate) fn hash_plain(v: &Val) -> i64 {
    hash_at(v, 0, &mut 0).unwrap_or(0)
}

fn fix(x: i64) -> i64 {
    if x == -1 { -2 } else { x }
}

fn str_hash(bytes: impl ExactSizeIterator<Item = u64>) -> i64 {
    let len = bytes.len();
    if len == 0 {
        return 0;
    }
    let mut x: u64 = 0;
    let mut first = true;
    for b in bytes {
        if first {
            x ^= b << 7;
            first = false;
        }
        x = x.wrapping_mul(1_000_003) ^ b;
    }
    x ^= len as u64;
    fix(x as i64)
}

fn float_hash(f: f64) -> i64 {
    if !f.is_finite() {
        return if f.is_nan() {
            0
        } else if f > 0.0 {
            314_159
        } else {
            -271_828
        };
    }
    if f.fract() == 0.0 {
        if f.abs() < 4.6e18 {
            return fix(f as i64);
        }
        // As a long: |v| mod (2**64 - 1), with the sign.
        let (m, e) = frexp(f.abs());
        let mant = (m * 2f64.powi(53)) as u128;
        let shift = (e - 53).max(0) as u32 % 64;
        let r = ((mant << shift) % (u64::MAX as u128)) as u64;
        let x = if f < 0.0 { r.wrapping_neg() } else { r };
        return fix(x as i64);
    }
    // frexp: f = m * 2**e with 0.5 <= |m| < 1.
    let (mut m, e) = frexp(f);
    m *= 2_147_483_648.0;
    let hipart = m as i64;
    m = (m - hipart as f64) * 2_147_483_648.0;
    fix(hipart.wrapping_add(m as i64).wrapping_add((e as i64) << 15))
}

fn frexp(f: f64) -> (f64, i32) {
    if f == 0.0 {
        return (f, 0);
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (m, e) = frexp(f * 2f64.powi(54));
        return (m, e - 54);
    }
    let e = exp - 1022;
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022u64 << 52));
    (m, e)
}

fn hash_at(v: &Val, depth: usize, nodes: &mut u64) -> PyResult<i64> {
    *nodes += 1;
    if *nodes > HASH_NODES || depth > MAX_DATA_DEPTH {
        return Err(PyErr::limit("a dict key is too large to hash"));
    }
    Ok(match v {
        Val::Int(i) | Val::Long(i) => fix(*i),
        Val::Bool(b) => i64::from(*b),
        Val::Float(f) => float_hash(*f),
        Val::Str(s) => {
            // A Python 2 str is bytes: characters below 256 are one byte each.
            if s.chars().all(|c| (c as u32) < 256) {
                str_hash(s.chars().map(|c| c as u64).collect::<Vec<_>>().into_iter())
            } else {
                str_hash(s.bytes().map(u64::from).collect::<Vec<_>>().into_iter())
            }
        }
        Val::Unicode(s) => str_hash(s.chars().map(|c| c as u64).collect::<Vec<_>>().into_iter()),
        Val::Tuple(t) => {
            let mut x: i64 = 0x345678;
            let mut mult: i64 = 1_000_003;
            let mut len = t.len() as i64;
            for item in t.iter() {
                len -= 1;
                let y = hash_at(item, depth + 1, nodes)?;
                x = (x ^ y).wrapping_mul(mult);
                mult = mult.wrapping_add(82_520 + len + len);
            }
            fix(x.wrapping_add(97_531))
        }
        Val::List(_) | Val::Dict(_) => {
            return Err(PyErr::type_err(format!(
                "unhashable type: '{}'",
                v.type_name()
            )));
        }
        // Identity hashes in CPython: any fixed value keeps us deterministic.
        other => str_hash(
            other
                .type_name()
                .bytes()
                .map(u64::from)
                .collect::<Vec<_>>()
                .into_iter(),
        ),
    })
}
