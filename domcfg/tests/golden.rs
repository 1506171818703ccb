//! Every case of `tests/golden/CASES.tsv` (what xm 4.1's `xm create -n` printed, see
//! `tests/golden/README.md`) against our load + render, from the configs in `tests/corpus/`.
//!
//! As the README says, the attribute order inside `(vif ...)`, `(vfb ...)` and the pci
//! `(dev ...)` blocks is compared as a set; everything else (entry order, quoting, line
//! breaks, indentation) must be identical. A second test holds us to byte-identical output,
//! since we reproduce CPython 2's dict order too.

use std::path::PathBuf;

use domcfg::lang::{Host, Limits};
use domcfg::load::{LoadRequest, load_file, resolve};
use domcfg::options::Options;
use domcfg::sxp::{self, Sxp};

/// The host the goldens were produced on, as far as a config can tell: every file the
/// config names exists (they were created empty), `HOME=/root`, no `$DISPLAY`.
struct GoldenHost;

impl Host for GoldenHost {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "2.6.32-5-xen-amd64", "#1 SMP", "x86_64"].map(String::from)
    }
    fn path_exists(&self, _path: &str) -> bool {
        true
    }
}

#[derive(Clone)]
struct Case {
    name: String,
    config: String,
    words: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(root().join("golden/CASES.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Case {
                name: cols[0].to_string(),
                config: cols[1].to_string(),
                words: cols
                    .get(2)
                    .map(|w| w.split_whitespace().map(String::from).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// What `xm create -n BASENAME WORDS...` prints, run in the config's directory:
/// (stdout, stderr, exit status).
fn run_case(case: &Case) -> (String, String, i32) {
    let config_path = root().join("corpus").join(&case.config);
    let cwd = config_path.parent().unwrap();
    let basename = config_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut options = Options::new();
    options.specify_switch("dryrun", None);
    for word in &case.words {
        if let Err(e) = options.apply_arg(word) {
            return (String::new(), format!("Error: {e}\n"), 1);
        }
    }
    let limits = Limits::default();
    let req = LoadRequest {
        config_name: &basename,
        search_path: ".:/etc/xen",
        options: &options,
        cwd,
        display: None,
        xauthority: "/root/.Xauthority",
        host: &GoldenHost,
        limits: &limits,
        pygrub_paths: &[],
    };
    let path = match resolve(&basename, req.search_path, cwd) {
        Ok(p) => p,
        Err(e) => return (String::new(), format!("Error: {e}\n"), 1),
    };
    let mut out = format!("Using config file \"{path}\".\n");
    match load_file(&path, &req) {
        Ok(loaded) => {
            out.push_str(&sxp::render(&loaded.config));
            (out, String::new(), 0)
        }
        Err(e) => (out, format!("Error: {e}\n"), 1),
    }
}

fn expected(case: &Case) -> (String, String, i32) {
    let read = |ext: &str| {
        std::fs::read_to_string(root().join("golden").join(format!("{}.{ext}", case.name))).unwrap()
    };
    (read("out"), read("err"), read("rc").trim().parse().unwrap())
}

/// Where we knowingly differ from xm 4.1's dry run: configs whose domain name xend would have
/// refused. xm's `-n` never reached xend, so it printed the SXP; a real `xm create` failed in
/// xend's `_checkName` with `Error: Invalid VM Name`. We check the name when the config is
/// loaded, so the dry run refuses it too.
struct Refused {
    case: &'static str,
    /// What we print on stderr (exit status 1, stdout just the `Using config file` line).
    err: &'static str,
    /// The name's line in the golden SXP, and a valid name to dry-run with instead
    /// (`name=` on the command line), so the rest of the golden is still compared.
    golden_name: &'static str,
    valid_name: &'static str,
}

const REFUSED: &[Refused] = &[Refused {
    case: "test-escape-paths",
    err: "Error: ./test-escape-paths.cfg:1:1: Invalid VM Name 'XenGuest2&test': a name may \
          hold only ASCII letters, digits and _ - . : + (xend's rule)\n    \
          name = \"XenGuest2&test\"\n    ^\n",
    golden_name: "(name 'XenGuest2&test')",
    valid_name: "XenGuest2-test",
}];

fn refused(case: &Case) -> Option<&'static Refused> {
    REFUSED.iter().find(|r| r.case == case.name)
}

/// A refused case with the valid name on the command line, and the golden with that name.
fn renamed(case: &Case, r: &Refused) -> (Case, (String, String, i32)) {
    let mut renamed = case.clone();
    renamed.words.push(format!("name={}", r.valid_name));
    let (out, err, rc) = expected(case);
    assert!(
        out.contains(r.golden_name),
        "{}: {}",
        case.name,
        r.golden_name
    );
    let out = out.replace(r.golden_name, &format!("(name {})", r.valid_name));
    (renamed, (out, err, rc))
}

#[test]
fn names_xend_refused_are_refused_on_load() {
    for r in REFUSED {
        let case = cases().into_iter().find(|c| c.name == r.case).unwrap();
        let (out, err, rc) = run_case(&case);
        let want_out = expected(&case).0;
        let using = want_out.split_inclusive('\n').next().unwrap();
        assert_eq!(
            (out.as_str(), err.as_str(), rc),
            (using, r.err, 1),
            "{}",
            r.case
        );
    }
}

/// Sort the attributes of `(vif ...)`, `(vfb ...)` and `(dev ...)` blocks.
fn normalise(x: &Sxp) -> Sxp {
    match x {
        Sxp::List(items) => {
            let mut items: Vec<Sxp> = items.iter().map(normalise).collect();
            if matches!(x.name(), Some("vif" | "vfb" | "dev")) {
                items[1..].sort_by_key(|i| i.show());
            }
            Sxp::List(items)
        }
        other => other.clone(),
    }
}

/// Compare as the README says. Returns a description of the first difference.
fn compare(got: &str, want: &str) -> Result<(), String> {
    let split = |s: &str| {
        s.split_once('\n')
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .unwrap_or((s.to_string(), String::new()))
    };
    let (got_head, got_sxp) = split(got);
    let (want_head, want_sxp) = split(want);
    if got_head != want_head {
        return Err(format!("first line: got {got_head:?}, want {want_head:?}"));
    }
    let parse = |s: &str| sxp::parse(s).map(|v| v.iter().map(normalise).collect::<Vec<_>>());
    let (g, w) = (
        parse(&got_sxp).map_err(|e| e.to_string())?,
        parse(&want_sxp).map_err(|e| e.to_string())?,
    );
    if g != w {
        return Err("different SXP content".into());
    }
    // Layout: the same lines up to the permitted reordering, which permutes whole lines of a
    // broken block or items within one line; (indent, length) of each line is invariant.
    let shape = |s: &str| {
        let mut v: Vec<(usize, usize)> = s
            .lines()
            .map(|l| (l.len() - l.trim_start().len(), l.len()))
            .collect();
        v.sort_unstable();
        v
    };
    if shape(&got_sxp) != shape(&want_sxp) || got_sxp.ends_with('\n') != want_sxp.ends_with('\n') {
        return Err("different layout (line breaks, indentation or quoting)".into());
    }
    Ok(())
}

#[test]
fn golden_cases() {
    let cases = cases();
    assert_eq!(cases.len(), 48, "CASES.tsv");
    let mut failures = Vec::new();
    for case in &cases {
        let (case, (want_out, want_err, want_rc)) = match refused(case) {
            Some(r) => renamed(case, r),
            None => (case.clone(), expected(case)),
        };
        let case = &case;
        let (out, err, rc) = run_case(case);
        let result = compare(&out, &want_out)
            .and_then(|()| {
                if err == want_err {
                    Ok(())
                } else {
                    Err(format!("stderr: got {err:?}, want {want_err:?}"))
                }
            })
            .and_then(|()| {
                if rc == want_rc {
                    Ok(())
                } else {
                    Err(format!("exit status: got {rc}, want {want_rc}"))
                }
            });
        if let Err(why) = result {
            failures.push(format!(
                "{}: {why}\n--- got\n{out}{err}--- want\n{want_out}{want_err}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_cases_are_byte_identical() {
    let mismatched: Vec<String> = cases()
        .iter()
        .filter(|case| match refused(case) {
            Some(r) => {
                let (case, want) = renamed(case, r);
                run_case(&case).0 != want.0
            }
            None => run_case(case).0 != expected(case).0,
        })
        .map(|case| case.name.clone())
        .collect();
    assert!(mismatched.is_empty(), "not byte-identical: {mismatched:?}");
}

#[test]
fn compare_allows_only_attribute_reordering() {
    let want = "Using config file \"./x\".\n(vm\n    (name x)\n    (device (vif (bridge br0) (mac 00:16:3e:00:00:01)))\n)\n";
    let reordered = "Using config file \"./x\".\n(vm\n    (name x)\n    (device (vif (mac 00:16:3e:00:00:01) (bridge br0)))\n)\n";
    assert!(compare(reordered, want).is_ok());
    let requoted = "Using config file \"./x\".\n(vm\n    (name 'x')\n    (device (vif (bridge br0) (mac 00:16:3e:00:00:01)))\n)\n";
    assert!(compare(requoted, want).is_err());
    let moved = "Using config file \"./x\".\n(vm\n    (device (vif (bridge br0) (mac 00:16:3e:00:00:01)))\n    (name x)\n)\n";
    assert!(compare(moved, want).is_err());
    let rebroken = "Using config file \"./x\".\n(vm (name x) (device (vif (bridge br0) (mac 00:16:3e:00:00:01))))\n";
    assert!(compare(rebroken, want).is_err());
}
