//! No input makes load + render panic: every corpus config, the examples and the device-spec
//! parsers, each mutated many times with a deterministic generator (byte flips, deletions,
//! insertions of the characters these formats care about). Failing is fine; panicking is not.

use std::path::{Path, PathBuf};

use domcfg::device::{
    DiskSpec, IoPorts, PciDev, VfbSpec, VifSpec, VtpmSpec, VusbSpec, vfb::VfbDefaults,
};
use domcfg::lang::{Host, Limits};
use domcfg::load::{LoadRequest, eval};
use domcfg::options::Options;
use domcfg::sxp;

struct H;

impl Host for H {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "6.1.0", "#1", "x86_64"].map(String::from)
    }
    fn path_exists(&self, p: &str) -> bool {
        p.len() & 1 == 0
    }
}

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = b" ,:=.-@*!'\"()[]{}%#\\\n\t0123456789abcdefxyzLu";

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let pos = rng.below(b.len() + 1);
        match rng.below(4) {
            0 if pos < b.len() => {
                b.remove(pos);
            }
            1 if pos < b.len() => b[pos] = INTERESTING[rng.below(INTERESTING.len())],
            2 => b.insert(pos, INTERESTING[rng.below(INTERESTING.len())]),
            _ => {
                let n = rng.below(8);
                let from = rng.below(b.len() + 1);
                let chunk: Vec<u8> = b[from..(from + n).min(b.len())].to_vec();
                b.splice(pos..pos, chunk);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if !p.to_string_lossy().contains("SOURCES") {
            out.push(p);
        }
    }
}

#[test]
fn mutated_configs_never_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("tests/corpus"), &mut paths);
    files(&root.join("../examples"), &mut paths);
    paths.sort();
    let limits = Limits {
        max_steps: 20_000,
        ..Limits::default()
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut loaded = 0;
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        for round in 0..40 {
            let mut options = Options::new();
            let _ = options.apply_arg(&mutate(&mut rng, "vmid=7"));
            let req = LoadRequest {
                config_name: "fuzz.cfg",
                search_path: ".",
                options: &options,
                cwd: Path::new("/etc/xen"),
                display: if round % 2 == 0 { None } else { Some(":0") },
                xauthority: "/root/.Xauthority",
                host: &H,
                limits: &limits,
                pygrub_paths: &[],
            };
            let source = if round == 0 {
                text.clone()
            } else {
                mutate(&mut rng, &text)
            };
            if let Ok(built) = eval("fuzz.cfg", source, &req) {
                loaded += 1;
                let text = sxp::render(&built.config);
                // What we print, xend's parser reads back.
                assert_eq!(sxp::parse(&text).map(|v| v.len()), Ok(1), "{text}");
                let _ = serde_json::to_string(&built.config).unwrap();
            }
        }
    }
    assert!(
        loaded > paths.len(),
        "too few mutants loaded ({loaded}): the test would prove little"
    );
}

#[test]
fn mutated_device_specs_never_panic() {
    let seeds = [
        "phy:xen0001_guests/ce.ngc6475.boot,xvdc1,w",
        "tap2:tapdisk:aio:/root/some.img,xvda,w!,1,x86_32-abi",
        ",hdc:cdrom,r",
        "format=qcow2,vdev=hdb,access=ro,backendtype=qdisk,devtype=cdrom,target=/i,x",
        "target=/img,format=qed,vdev=hda,access=rw, discard,colo-port=9",
        "nbd:h 1,xvda,w,direct-io-safe",
        "/dev/vg/lv,,d0p1,,cdrom",
        "0001:0c:1b.2@1f,msitranslate=1,power_mgmt=no",
        "06.02.0",
        "08:00.0-3,5=7",
        "mac=00:16:3e:66:92:9c, bridge=xenbr1, rate=10Mb/s@20ms, type=ioemu",
        "type=vnc,vncunused=0,vncdisplay=25,vnclisten=127.0.0.1",
        "02f8-02ff",
        "instance=1,backend=0",
        "usbver=2,numports=4,port_1=1-1",
        "(vm (name 'a\\x41\\101') (image (linux (kernel /k))) \"x\\\"y\")",
    ];
    let defaults = VfbDefaults {
        keymap: Some("de"),
        display: None,
        xauthority: "/root/.Xauthority",
    };
    let mut rng = Rng(42);
    for seed in seeds {
        for _ in 0..3000 {
            let s = mutate(&mut rng, seed);
            let _ = DiskSpec::parse(&s).map(|d| {
                (
                    d.params(),
                    d.device_number(),
                    d.tap_driver().map(str::to_string),
                )
            });
            let _ = PciDev::parse_spec(&s).map(|v| v.iter().map(PciDev::bdf).count());
            let _ = VifSpec::parse(&s).map(|v| v.rate());
            let _ = VfbSpec::parse(&s, &defaults);
            let _ = IoPorts::parse(&s).map(|p| p.range());
            let _ = VtpmSpec::parse(&s);
            let _ = VusbSpec::parse(&s);
            if let Ok(v) = sxp::parse(&s) {
                for x in &v {
                    let _ = sxp::render(x);
                }
            }
        }
    }
}
