//! Throughput of loading configs: every file of `tests/corpus/` (and `examples/`) evaluated,
//! turned into a `DomainConfig` and rendered as SXP, from memory (no file I/O in the loop).
//!
//! `cargo bench -p domcfg --bench load_corpus`; criterion reports configs/s as `elem/s`.
//! Configs that do not load as xm configs (most of the xl corpus uses xl's device syntax)
//! still count: they run through the evaluator until the error.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domcfg::lang::{Host, Limits};
use domcfg::load::{LoadRequest, eval};
use domcfg::options::Options;
use domcfg::sxp;

struct BenchHost;

impl Host for BenchHost {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "6.1.0", "#1 SMP", "x86_64"].map(String::from)
    }
    fn path_exists(&self, _: &str) -> bool {
        true
    }
}

fn collect(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("SOURCES")
        {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), text));
        }
    }
}

fn load_corpus(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut configs = Vec::new();
    collect(&root.join("tests/corpus"), &mut configs);
    let options = Options::new();
    let limits = Limits::default();
    let req = |name: &'static str| LoadRequest {
        config_name: name,
        search_path: ".",
        options: &options,
        cwd: Path::new("/etc/xen"),
        display: None,
        xauthority: "/root/.Xauthority",
        host: &BenchHost,
        limits: &limits,
        pygrub_paths: &[],
    };
    let run_all = || {
        let mut loaded = 0;
        for (name, text) in &configs {
            // vmid for xmexample2/3; harmless elsewhere.
            let mut o = options.clone();
            o.apply_arg("vmid=1").unwrap();
            let r = LoadRequest {
                options: &o,
                ..req("bench")
            };
            if let Ok(b) = eval(name, text.clone(), &r) {
                loaded += 1;
                std::hint::black_box(sxp::render(&b.config));
            }
        }
        loaded
    };
    let loaded = run_all();
    eprintln!(
        "corpus: {} configs, {loaded} load as xm configs",
        configs.len()
    );

    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Elements(configs.len() as u64));
    group.bench_function("corpus", |b| b.iter(run_all));
    group.finish();
}

criterion_group!(benches, load_corpus);
criterion_main!(benches);
