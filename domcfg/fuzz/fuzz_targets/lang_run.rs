//! `domcfg::lang::run` on arbitrary UTF-8 with small limits: it must never panic, overflow the
//! stack, hang or allocate without bound.
//!
//! Run (stable toolchain): `RUSTC_BOOTSTRAP=1 cargo fuzz run lang_run -- -dict=lang.dict`
//! seeded from the config corpus: see README.md.
#![no_main]

use domcfg::Value;
use domcfg::lang::{Host, Limits, run};
use libfuzzer_sys::fuzz_target;

struct FuzzHost;

impl Host for FuzzHost {
    fn uname(&self) -> [String; 5] {
        ["Linux", "fuzz", "6.1.0", "#1", "x86_64"].map(String::from)
    }
    fn path_exists(&self, path: &str) -> bool {
        path.len() % 2 == 0
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let limits = Limits {
        max_steps: 50_000,
        max_str_len: 64 << 10,
        max_list_len: 10_000,
        max_depth: 32,
        max_source_len: 64 << 10,
    };
    let vars = [("vmid".to_string(), Value::Str("1".into()))];
    if let Err(e) = run(src, "fuzz.cfg", &vars, &FuzzHost, &limits) {
        // Errors must render.
        let _ = e.to_string();
    }
});
