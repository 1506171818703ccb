//! Unit tests of the config language, one construct at a time.

use super::*;

pub(crate) struct FakeHost;

impl Host for FakeHost {
    fn uname(&self) -> [String; 5] {
        ["Linux", "dom0", "6.1.0-xen", "#1 SMP", "x86_64"].map(String::from)
    }
    fn path_exists(&self, path: &str) -> bool {
        path == "/boot/vmlinuz" || path == "/etc/xen"
    }
}

fn run_src(src: &str) -> Result<Vec<(String, Value)>, ConfigError> {
    run(src, "t.cfg", &[], &FakeHost, &Limits::default())
}

fn get(src: &str, name: &str) -> Value {
    let vars = run_src(src).unwrap_or_else(|e| panic!("{src:?} failed: {e}"));
    vars.into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} not set"))
}

fn err(src: &str) -> String {
    match run_src(src) {
        Ok(_) => panic!("{src:?} should fail"),
        Err(e) => e.to_string(),
    }
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

#[test]
fn xmexample2_with_vmid() {
    let src = "def vmid_check(var, val):\n    val = int(val)\n    if val <= 0:\n        raise ValueError\n    return val\n\nxm_vars.var('vmid',\n            use=\"Virtual machine id. Integer greater than 0.\",\n            check=vmid_check)\nxm_vars.check()\nname = \"VM%d\" % vmid\ndisk = [ 'phy:sda%d,sda1,w' % (7+vmid),\n         'phy:sda6,sda6,r' ]\nvcpus = 4 # a comment\n";
    let vars = run(
        src,
        "xmexample2",
        &[("vmid".into(), s("3"))],
        &FakeHost,
        &Limits::default(),
    )
    .unwrap();
    let get = |n: &str| {
        vars.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("vmid"), Value::Int(3));
    assert_eq!(get("name"), s("VM3"));
    assert_eq!(
        get("disk"),
        Value::List(vec![s("phy:sda10,sda1,w"), s("phy:sda6,sda6,r")])
    );
    assert_eq!(get("vcpus"), Value::Int(4));
    assert_eq!(vars[0].0, "vmid");
}

/// Cases checked against a real CPython 2.7 (`testdata/gen.py` wrote `expected.txt`): the
/// `repr` of `r`, or for errors the exception kind.
#[test]
fn python27_differential() {
    let cases: Vec<&str> = include_str!("testdata/cases.txt")
        .split("\n----\n")
        .collect();
    let expected: Vec<&str> = include_str!("testdata/expected.txt").lines().collect();
    assert_eq!(
        cases.len(),
        expected.len(),
        "regenerate testdata/expected.txt"
    );
    let mut failures = Vec::new();
    for (case, want) in cases.iter().zip(&expected) {
        let code = format!("{}\nzz_repr = repr(r)\n", case.trim_matches('\n'));
        let got = match run(&code, "t.cfg", &[], &FakeHost, &Limits::default()) {
            Ok(vars) => match vars.iter().find(|(n, _)| n == "zz_repr") {
                Some((_, Value::Str(s))) => s.clone(),
                other => format!("?? {other:?}"),
            },
            Err(ConfigError::At { message, .. }) => format!("!{message}"),
            Err(e) => format!("!{e}"),
        };
        // Known deviations say what we give instead: `# ours: VALUE (why)`.
        let want = match case.trim_start_matches('\n').strip_prefix("# ours: ") {
            Some(rest) => rest
                .lines()
                .next()
                .unwrap_or("")
                .split(" (")
                .next()
                .unwrap_or(""),
            None => want,
        };
        let ok = if let Some(w) = want.strip_prefix('!') {
            let kind = w.split(':').next().unwrap_or(w);
            got.strip_prefix('!')
                .is_some_and(|g| g.split(':').next() == Some(kind))
        } else {
            got == *want
        };
        if ok
            && want.starts_with('!')
            && got != *want
            && std::env::var_os("LANG_MSG_DIFF").is_some()
        {
            eprintln!("message differs:\n  python: {want}\n  ours:   {got}");
        }
        if !ok {
            failures.push(format!(
                "case:\n{case}\n  python: {want}\n  ours:   {got}\n"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn located(src: &str) -> (usize, usize, String) {
    match run_src(src) {
        Err(ConfigError::At { loc, message }) => {
            assert_eq!(loc.file, "t.cfg");
            (loc.line, loc.col, message)
        }
        other => panic!("{src:?}: expected a located error, got {other:?}"),
    }
}

#[test]
fn basic_values() {
    assert_eq!(get("x = 1", "x"), Value::Int(1));
    assert_eq!(get("x = 256L", "x"), Value::Long(256));
    assert_eq!(get("x = u'a'", "x"), Value::Unicode("a".into()));
    assert_eq!(
        get("x = (1, 'a')", "x"),
        Value::Tuple(vec![Value::Int(1), s("a")])
    );
    assert_eq!(
        get("x = {'a': 1}", "x"),
        Value::Dict(vec![(s("a"), Value::Int(1))])
    );
    assert_eq!(get("x = True", "x"), Value::Bool(true));
    assert_eq!(get("x = None", "x"), Value::None);
    assert_eq!(get("x = 0.75", "x"), Value::Float(0.75));
    assert_eq!(get("x = -1", "x"), Value::Int(-1));
    assert_eq!(get("def f(): pass", "f"), Value::Opaque("function".into()));
    assert_eq!(get("import re", "re"), Value::Opaque("module".into()));
}

#[test]
fn locals_in_first_assignment_order_with_prelude() {
    let vars = run(
        "b = 1\na = 2\nb = 3\n",
        "t.cfg",
        &[("vmid".into(), s("3"))],
        &FakeHost,
        &Limits::default(),
    )
    .unwrap();
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "vmid");
    for n in [
        "sys", "os", "re", "socket", "struct", "errno", "Vars", "xm_file", "xm_help", "xm_vars",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert_eq!(&names[names.len() - 2..], ["b", "a"]);
    assert_eq!(
        vars.iter().find(|(n, _)| n == "b").unwrap().1,
        Value::Int(3)
    );
    assert_eq!(
        vars.iter().find(|(n, _)| n == "xm_file").unwrap().1,
        s("t.cfg")
    );
    assert_eq!(
        vars.iter().find(|(n, _)| n == "xm_help").unwrap().1,
        Value::Int(0)
    );
}

#[test]
fn xl_cfg_syntax() {
    let src = "name = \"x\"\ndisk = [ 'a', 'b', ]\nextra = \"a\"; extra += \" b\"\ndisk += ['c']\nmemory=512\n# no newline at the end";
    let vars = run_src(src).unwrap();
    let get = |n: &str| vars.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(get("extra"), s("a b"));
    assert_eq!(get("disk"), Value::List(vec![s("a"), s("b"), s("c")]));
    assert_eq!(get("memory"), Value::Int(512));
}

#[test]
fn crlf_and_tabs() {
    assert_eq!(
        get("if 1:\r\n\tx = 1\r\n\ty = 2\r\nz = 3\r\n", "y"),
        Value::Int(2)
    );
    assert_eq!(
        get("x = [1,\r\n 2]\r\n", "x"),
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
}

#[test]
fn vars_check_converts_in_place() {
    let src = "def c(var, val):\n    return int(val) * 2\nxm_vars.var('n', use='a number', check=c)\nxm_vars.var('m')\nxm_vars.check()\n";
    let vars = run(
        src,
        "t.cfg",
        &[("n".into(), s("21"))],
        &FakeHost,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        vars.iter().find(|(k, _)| k == "n").unwrap().1,
        Value::Int(42)
    );
    // With xm's help flag the checks do not run.
    let vars = run_with_help(src, "t.cfg", &[], &FakeHost, &Limits::default(), true).unwrap();
    assert!(vars.iter().all(|(k, _)| k != "n"));
    assert_eq!(
        vars.iter().find(|(k, _)| k == "xm_help").unwrap().1,
        Value::Int(1)
    );
}

#[test]
fn vars_check_raising_is_located_in_the_check() {
    let src = "def c(var, val):\n    val = int(val)\n    if val <= 0:\n        raise ValueError\n    return val\nxm_vars.var('vmid', check=c)\nxm_vars.check()\n";
    let e = run(
        src,
        "t.cfg",
        &[("vmid".into(), s("0"))],
        &FakeHost,
        &Limits::default(),
    )
    .unwrap_err();
    let ConfigError::At { loc, message } = e else {
        panic!()
    };
    assert_eq!((loc.line, loc.col), (4, 15));
    assert_eq!(message, "vmid: ValueError");
    let e = run(
        src,
        "t.cfg",
        &[("vmid".into(), s("x"))],
        &FakeHost,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("vmid: ValueError: invalid literal for int() with base 10: 'x'"),
        "{e}"
    );
}

#[test]
fn name_error_is_located_at_the_use() {
    let (line, col, msg) = located("a = 1\nname = \"VM%d\" % vmid\n");
    assert_eq!((line, col), (2, 17));
    assert_eq!(msg, "NameError: name 'vmid' is not defined");
    let e = err("a = 1\nname = \"VM%d\" % vmid\n");
    assert_eq!(
        e,
        "t.cfg:2:17: NameError: name 'vmid' is not defined\n    name = \"VM%d\" % vmid\n                    ^"
    );
}

#[test]
fn functions_cannot_see_config_variables() {
    let (line, _, msg) = located("x = 1\ndef f():\n    return x\ny = f()\n");
    assert_eq!(line, 3);
    assert!(
        msg.starts_with("NameError: global name 'x' is not defined"),
        "{msg}"
    );
    // Not even other top-level functions (they live in the locals, as under execfile).
    let (_, _, msg) = located("def g(): return 1\ndef f(): return g()\ny = f()\n");
    assert!(
        msg.starts_with("NameError: global name 'g' is not defined"),
        "{msg}"
    );
    // But the builtins, and names passed in.
    assert_eq!(
        get("def f(o): return len(o.uname())\nx = f(os)\n", "x"),
        Value::Int(5)
    );
}

#[test]
fn type_errors() {
    let (_, _, msg) = located("x = '%d' % '1'");
    assert_eq!(msg, "TypeError: %d format: a number is required, not str");
    let (_, _, msg) = located("x = 'a' + 1");
    assert_eq!(msg, "TypeError: cannot concatenate 'str' and 'int' objects");
    let (_, _, msg) = located("x = 1 - 'a'");
    assert_eq!(
        msg,
        "TypeError: unsupported operand type(s) for -: 'int' and 'str'"
    );
    let (_, col, msg) = located("x = [1, 2]\ny = x[1] + int(None)");
    assert_eq!(col, 12);
    assert_eq!(
        msg,
        "TypeError: int() argument must be a string or a number, not 'NoneType'"
    );
}

#[test]
fn raise_forms() {
    assert_eq!(located("raise ValueError").2, "ValueError");
    assert_eq!(
        located("raise ValueError('bad vmid')").2,
        "ValueError: bad vmid"
    );
    assert_eq!(
        located("raise ValueError, 'bad vmid'").2,
        "ValueError: bad vmid"
    );
    assert_eq!(located("raise Exception('x %d' % 3)").2, "Exception: x 3");
    assert_eq!(located("assert 1 == 2, 'no'").2, "AssertionError: no");
}

#[test]
fn syntax_errors_are_located() {
    let (line, col, msg) = located("a = 1\nb = [1, 2\nc = 3\n");
    assert_eq!(
        (line, col, msg.as_str()),
        (3, 1, "SyntaxError: expected ']', found 'c'")
    );
    let (line, _, msg) = located("a = 1\nb = [1, 2\n");
    assert_eq!(
        (line, msg.as_str()),
        (3, "SyntaxError: expected ']', found end of line")
    );
    let (line, col, msg) = located("x = 'abc\n");
    assert_eq!(
        (line, col, msg.as_str()),
        (1, 5, "SyntaxError: EOL while scanning string literal")
    );
    let (line, col, msg) = located("x = = 1");
    assert_eq!((line, col), (1, 5));
    assert_eq!(msg, "SyntaxError: invalid syntax (found '=')");
    let (line, _, msg) = located("if 1:\nx = 1\n");
    assert_eq!(
        (line, msg.as_str()),
        (2, "IndentationError: expected an indented block")
    );
    let (line, _, msg) = located("x = 1\n  y = 2\n");
    assert_eq!(
        (line, msg.as_str()),
        (2, "IndentationError: unexpected indent")
    );
    let (_, _, msg) = located("if 1:\n    x = 1\n  y = 2\n");
    assert_eq!(
        msg,
        "IndentationError: unindent does not match any outer indentation level"
    );
    let (_, _, msg) = located("x = 1 +\n");
    assert!(
        msg.starts_with("SyntaxError: invalid syntax (found end of line)"),
        "{msg}"
    );
    let (_, _, msg) = located("f(x) = 1");
    assert_eq!(msg, "SyntaxError: can't assign to function call");
    let (_, _, msg) = located("x = 08");
    assert!(msg.starts_with("SyntaxError: invalid number"), "{msg}");
    let (line, col, msg) = located("x = 1\ny = 'a' $ 2");
    assert_eq!(
        (line, col, msg.as_str()),
        (2, 9, "SyntaxError: invalid character '$'")
    );
    let (_, _, msg) = located("x = )");
    assert_eq!(msg, "SyntaxError: unmatched ')'");
}

#[test]
fn unsupported_constructs_are_named() {
    for (src, what) in [
        ("class A:\n    pass\n", "'class'"),
        ("x = 1\nclass A: pass\n", "'class'"),
        ("f = lambda x: x\n", "'lambda'"),
        ("try:\n    x = 1\nexcept:\n    pass\n", "'try'"),
        ("with open('x') as f:\n    pass\n", "'with'"),
        ("exec 'x = 1'\n", "'exec'"),
        ("global x\n", "'global'"),
        ("x = open('/etc/passwd')\n", "'open'"),
        ("x = eval('1')\n", "'eval'"),
        ("x = __import__('os')\n", "'__import__'"),
        ("x = getattr(os, 'system')\n", "'getattr'"),
        ("x = os.__dict__\n", "the attribute '__dict__'"),
        ("x = ''.__class__\n", "the attribute '__class__'"),
        ("x = (i for i in [1])\n", "a generator expression"),
        ("x = {1, 2}\n", "a set literal or comprehension"),
        ("@dec\ndef f(): pass\n", "a decorator ('@')"),
        ("def f():\n    yield 1\n", "'yield'"),
        ("def f():\n    def g(): pass\n", "'def' inside a function"),
        ("x = `1`\n", "backquote repr (`...`)"),
        ("x = 1j\n", "a complex number literal"),
    ] {
        let (_, _, msg) = located(src);
        assert_eq!(
            msg,
            format!("SyntaxError: {what} is not supported in xm configs"),
            "{src:?}"
        );
    }
    let (line, col, msg) = located("a = 1\nb = 2\nclass A:\n    pass\n");
    assert_eq!(
        (line, col, msg.as_str()),
        (3, 1, "SyntaxError: 'class' is not supported in xm configs")
    );
    assert_eq!(
        err("import subprocess"),
        "t.cfg:1:1: ImportError: No module named subprocess (xm configs may import only os, os.path, sys, re, socket, struct, errno, string)\n    import subprocess\n    ^"
    );
    assert!(
        located("os.system('rm -rf /')")
            .2
            .contains("os.system is not available in xm configs")
    );
    assert!(
        located("x = sys.argv")
            .2
            .contains("sys.argv is not available in xm configs")
    );
    assert!(
        located("x = get_current_ipaddr()")
            .2
            .contains("not supported by xm-rs")
    );
}

#[test]
fn host_is_the_only_window() {
    assert_eq!(
        get("x = os.path.exists('/boot/vmlinuz')", "x"),
        Value::Bool(true)
    );
    assert_eq!(get("x = os.path.isfile('/nope')", "x"), Value::Bool(false));
    assert_eq!(get("x = os.uname()[4]", "x"), s("x86_64"));
    assert_eq!(get("x = os.environ.get('HOME', 'none')", "x"), s("none"));
    assert_eq!(
        get("import socket\nx = socket.gethostname()", "x"),
        s("dom0")
    );
    assert!(
        located("x = os.environ['HOME']")
            .2
            .starts_with("KeyError: 'HOME'")
    );
}

#[test]
fn real_host_uname() {
    let u = RealHost.uname();
    assert!(!u[0].is_empty());
    assert!(!u[4].is_empty());
    assert!(RealHost.path_exists("/"));
}

fn small() -> Limits {
    Limits {
        max_steps: 10_000,
        max_str_len: 1000,
        max_list_len: 100,
        max_depth: 10,
        max_source_len: 10_000,
    }
}

fn limit_err(src: &str, limits: &Limits) -> String {
    match run(src, "t.cfg", &[], &FakeHost, limits) {
        Ok(_) => panic!("{src:?} should hit a limit"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn limits_fail_at_once() {
    let d = Limits::default();
    let t = std::time::Instant::now();
    assert!(
        limit_err("x = 'a' * 10**10", &d)
            .contains("LimitError: a string of 1 x 10000000000 items exceeds the limit")
    );
    assert!(limit_err("x = [0] * 10**10", &d).contains("LimitError"));
    assert!(
        limit_err("x = range(10**12)", &d).contains("LimitError: a list of 1000000000000 items")
    );
    assert!(limit_err("x = 'ab' * 600000", &d).contains("LimitError"));
    assert!(limit_err("x = 'a' * 1000000\ny = x + x", &d).contains("LimitError"));
    assert!(limit_err("x = '%2000000d' % 1", &d).contains("LimitError"));
    assert!(
        limit_err(
            "x = 'a' * 1000\ny = x.replace('a', x)\nz = y.replace('a', y)",
            &d
        )
        .contains("LimitError")
    );
    assert!(limit_err("x = 2 ** 64", &d).contains("OverflowError"));
    // Found by the fuzzer: repeating an empty sequence a huge number of times.
    assert_eq!(get("x = '' * 3**38", "x"), s(""));
    assert_eq!(get("x = [] * 10**18", "x"), Value::List(vec![]));
    assert!(
        limit_err("x = -0*''*03**022-0*''*02**02", &d)
            .contains("TypeError: unsupported operand type(s) for -: 'str' and 'str'")
    );
    // Building a big dict is charged by the size of its table.
    let e = limit_err("d = {}\nfor i in range(100000):\n    d[i] = i\n", &d);
    assert!(e.contains("LimitError"), "{e}");
    assert!(limit_err("x = 9223372036854775807 + 1", &d).contains("OverflowError"));
    assert!(limit_err("x = -9223372036854775807 - 2", &d).contains("OverflowError"));
    assert!(limit_err("x = 99999999999999999999", &d).contains("OverflowError"));
    assert!(t.elapsed().as_secs() < 5, "limits must fail at once");
}

#[test]
fn step_budget_bounds_loops() {
    let e = limit_err("while True:\n    pass\n", &small());
    assert!(
        e.contains("LimitError: the config exceeded its budget of 10000 evaluation steps"),
        "{e}"
    );
    assert!(
        limit_err(
            "x = []\nfor i in range(100):\n    for j in range(100):\n        x.append(1)\n",
            &small()
        )
        .contains("LimitError")
    );
    let e = limit_err("x = [1]\nwhile 1:\n    x = x + x\n", &Limits::default());
    assert!(e.contains("LimitError: a list of"), "{e}");
    let e = limit_err("x = 'ab'\nwhile 1:\n    x = x + x\n", &Limits::default());
    assert!(e.contains("LimitError: a string of"), "{e}");
}

#[test]
fn recursion_is_bounded() {
    let e = limit_err("def f(g): return g(g)\nx = f(f)\n", &Limits::default());
    assert!(
        e.contains("RuntimeError: maximum recursion depth exceeded"),
        "{e}"
    );
    // Recursion by name fails as it did in xm: the function is not a global.
    let e = limit_err("def f(): return f()\nx = f()\n", &Limits::default());
    assert!(
        e.contains("NameError: global name 'f' is not defined"),
        "{e}"
    );
    // Deep recursion through deep expressions stays within the native stack.
    let deep = format!(
        "def f(g): return {}g(g){}\nx = f(f)\n",
        "-(".repeat(20),
        ")".repeat(20)
    );
    let e = limit_err(
        &deep,
        &Limits {
            max_depth: 1000,
            ..Limits::default()
        },
    );
    assert!(
        e.contains("RuntimeError: maximum recursion depth exceeded"),
        "{e}"
    );
}

#[test]
fn parser_nesting_is_bounded() {
    for src in [
        format!("x = {}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("x = {}", "[".repeat(10_000)),
        format!("x = {}1", "-".repeat(10_000)),
        format!("x = {}1", "not ".repeat(10_000)),
        format!("x = 1{}", "+1".repeat(10_000)),
        format!("x = a{}", "[0]".repeat(10_000)),
        format!("x = a{}", ".b".repeat(10_000)),
        format!("x = 2{}", "**2".repeat(10_000)),
        format!("x = 1{}", " if 1 else 1".repeat(10_000)),
        (0..200)
            .map(|i| format!("{}if 1:\n", " ".repeat(i)))
            .collect::<String>(),
    ] {
        let e = limit_err(&src, &Limits::default());
        assert!(
            e.contains("too deeply nested") || e.contains("too many nested brackets"),
            "{e}"
        );
    }
    let e = limit_err(&"x".repeat(20_000), &small());
    assert!(
        e.contains("LimitError: the config is 20000 bytes long"),
        "{e}"
    );
}

#[test]
fn deep_data_is_bounded_and_freed_without_recursion() {
    // A list nested 100000 deep: building it is fine, freeing it must not overflow the stack.
    let vars = run(
        "a = []\nfor i in range(100000):\n    a = [a]\nb = 1\n",
        "t.cfg",
        &[],
        &FakeHost,
        &Limits {
            max_steps: 10_000_000,
            ..Limits::default()
        },
    );
    let e = vars.unwrap_err().to_string();
    assert!(
        e.contains("variable 'a'") && e.contains("nested too deeply"),
        "{e}"
    );
    let e = limit_err(
        "a = []\nfor i in range(1000):\n    a = [a]\nx = str(a)\n",
        &Limits::default(),
    );
    assert!(
        e.contains("RuntimeError: maximum recursion depth exceeded"),
        "{e}"
    );
    let e = limit_err(
        "a = []\nfor i in range(1000):\n    a = [a]\nx = a == a[0]\n",
        &Limits::default(),
    );
    assert!(e.contains("RuntimeError"), "{e}");
    // A list that contains itself prints as Python does, and cannot be returned.
    let e = limit_err(
        "a = [1]\na.append(a)\nx = str(a)\ny = x\n",
        &Limits::default(),
    );
    assert!(e.contains("variable 'a'"), "{e}");
    assert_eq!(
        get("a = [1]\na.append(a)\nx = str(a)\ndel a\n", "x"),
        s("[1, [...]]")
    );
}

#[test]
fn integer_edge_cases_do_not_panic() {
    for src in [
        "x = -9223372036854775807 - 1\ny = x // -1",
        "x = -9223372036854775807 - 1\ny = x % -1",
        "x = -9223372036854775807 - 1\ny = -x",
        "x = -9223372036854775807 - 1\ny = abs(x)",
        "x = 1 << 64",
        "x = 1 << 63",
        "x = -1 >> 100",
        "x = 2 ** 63",
        "x = 10 ** -400",
        "x = range(-9223372036854775807 - 1, 9223372036854775807, 4611686018427387904)",
        "x = 'a'[-9223372036854775807 - 1]",
        "x = [1][9223372036854775807]",
        "x = 'abc'[-9223372036854775807 - 1:9223372036854775807:-9223372036854775807 - 1]",
        "x = '%d' % 1e300",
        "x = int(1e300)",
        "x = '%.500f' % 1",
        "x = round(1e308, -400)",
        "x = '%c' % -1",
        "x = chr(-1)",
        "x = 'a'.zfill(-5)",
        "x = [1].insert(-9223372036854775807 - 1, 0)",
        "x = float('1e400') * 0",
        "x = hex(-9223372036854775807 - 1)",
        "x = enumerate([1], 9223372036854775807)",
    ] {
        let _ = run(src, "t.cfg", &[], &FakeHost, &Limits::default());
    }
}

#[test]
fn deepest_nesting_fits_a_small_stack() {
    // The deepest expressions, blocks and recursions, on a stack of twice the budget: each either
    // runs or fails cleanly (unoptimised builds hit the stack probe before the counters).
    let mut cases: Vec<String> = Vec::new();
    for n in [10, 30, 66, 100] {
        cases.push(format!("x = {}1{}\n", "-(".repeat(n), ")".repeat(n)));
        cases.push(format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)));
        cases.push(format!(
            "def f(g): return {}g(g){}\nx = f(f)\n",
            "-(".repeat(n),
            ")".repeat(n)
        ));
        cases.push(format!(
            "def f(g): return map(g, [g])\nx = f(f)\n{}",
            "#".repeat(n)
        ));
        cases.push(format!(
            "def f(g): return sorted([g, g], key=g)\nx = f(f)\n{}",
            "#".repeat(n)
        ));
    }
    for n in [10, 50, 100, 199] {
        cases.push(
            (0..n)
                .map(|i| format!("{}if 1:\n", " ".repeat(i)))
                .collect::<String>()
                + &" ".repeat(n)
                + "x = 1\n",
        );
    }
    let t = std::thread::Builder::new()
        .stack_size(2 * err::STACK_BUDGET + (256 << 10))
        .spawn(move || {
            for src in &cases {
                let r = run(
                    src,
                    "t.cfg",
                    &[],
                    &FakeHost,
                    &Limits {
                        max_depth: 10_000,
                        ..Limits::default()
                    },
                );
                if let Err(e) = r {
                    let e = e.to_string();
                    assert!(
                        e.contains("nested")
                            || e.contains("recursion depth")
                            || e.contains("TypeError"),
                        "{e}"
                    );
                }
            }
        })
        .unwrap();
    t.join().unwrap();
    // Shallow code is not affected.
    assert_eq!(
        get(
            &format!("x = {}1{}\n", "-(".repeat(10), ")".repeat(10)),
            "x"
        ),
        Value::Int(1)
    );
}

#[test]
fn cycles_are_freed_after_the_run() {
    let src = "a = [1]\na.append(a)\nd = {}\nd['d'] = d\nl = []\ndef f(x=l): pass\nl.append(f)\ndel a, d, l, f\nx = 1\n";
    let vars = run_src(src).unwrap();
    assert_eq!(vars.last().unwrap().1, Value::Int(1));
    // No direct way to observe the leak here; the fuzzer's RSS would show it. This at least
    // runs the cycle breaker over lists, dicts and function defaults.
    let src = "a = []\nfor i in range(1000):\n    b = [a]\n    a.append(b)\nx = len(a)\ndel a, b\n";
    assert_eq!(get(src, "x"), Value::Int(1000));
}

#[test]
fn unconvertible_non_option_values_are_opaque() {
    let vars = run_src("t = ()\nfor i in range(200):\n    t = (t,)\nx = 1\n").unwrap();
    assert_eq!(
        vars.iter().find(|(n, _)| n == "t").unwrap().1,
        Value::Opaque("tuple".into())
    );
    let e = err("a = []\nfor i in range(200):\n    a = [a]\n");
    assert!(e.contains("variable 'a'"), "{e}");
}

#[test]
fn import_forms() {
    assert_eq!(
        get("import os.path as p\nx = p.basename('/a/b')", "x"),
        s("b")
    );
    assert_eq!(
        get("import os.path\nx = os.path.dirname('/a/b')", "x"),
        s("/a")
    );
    assert_eq!(
        get(
            "from xen.util.ip import *\nx = add_offset_to_ip('10.0.0.255', 1)",
            "x"
        ),
        s("10.0.1.0")
    );
    assert_eq!(
        get("from xen.xm.help import Vars\nx = callable(Vars)", "x"),
        Value::Bool(true)
    );
    assert_eq!(
        get(
            "from re import search, sub as s\nx = s('a', 'b', 'aa')",
            "x"
        ),
        s("bb")
    );
    assert!(
        located("from os import system")
            .2
            .starts_with("ImportError: cannot import name system")
    );
    assert!(
        located("from os import *")
            .2
            .contains("is not supported in xm configs")
    );
    assert!(
        located("import xen.lowlevel.xc")
            .2
            .starts_with("ImportError: No module named xen.lowlevel.xc")
    );
}

#[test]
fn print_is_discarded_but_evaluated() {
    assert_eq!(
        get("print 'a', 1\nprint >>sys.stderr, 'b'\nprint\nx = 1", "x"),
        Value::Int(1)
    );
    assert!(located("print undefined").2.starts_with("NameError"));
}

#[test]
fn shared_structure_is_bounded() {
    // Cheap to build, huge when expanded: every traversal must be metered.
    let d = Limits::default();
    let big = "a = [0] * 100000\nb = [a] * 100000\n";
    assert!(
        limit_err(big, &d).contains("variable 'b'") && limit_err(big, &d).contains("too large")
    );
    assert!(limit_err(&format!("{big}x = str(b)"), &d).contains("LimitError"));
    let tup = "t = (0,)\nu = (0,)\nfor i in range(80):\n    t = (t, t)\n    u = (u, u)\n";
    assert!(limit_err(&format!("{tup}d = {{t: 1}}"), &d).contains("LimitError"));
    assert!(limit_err(&format!("{tup}x = t == u"), &d).contains("LimitError"));
    assert!(limit_err(&format!("{tup}x = t in [u]"), &d).contains("LimitError"));
    let types = "t = (int,)\nfor i in range(80):\n    t = (t, t)\nx = isinstance(1.5, t)";
    let e = limit_err(types, &d);
    assert!(
        e.contains("LimitError") || e.contains("RuntimeError"),
        "{e}"
    );
    let vars = run_src(&format!("{tup}x = 1")).unwrap();
    assert_eq!(
        vars.iter().find(|(n, _)| n == "t").unwrap().1,
        Value::Opaque("tuple".into())
    );
    assert!(
        located("d = {[1]: 2}")
            .2
            .starts_with("TypeError: unhashable type: 'list'")
    );
    assert!(
        located("d = {(1, [2]): 2}")
            .2
            .starts_with("TypeError: unhashable type: 'list'")
    );
}
