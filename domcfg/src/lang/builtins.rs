//! Builtin functions, the methods of str/list/dict, the modules a config may use (`os`,
//! `os.path`, `sys`, `re`, `socket`, the `xen.util.ip` helpers) and `xm_vars`.
//!
//! Everything observable of the host goes through [`Host`](super::Host); `os.environ` is empty
//! so that configs are deterministic.

use std::rc::Rc;

use super::err::{PyErr, PyResult};
use super::interp::Interp;
use super::ops::{self, Meter};
use super::val::{Bound, MatchObj, Val};

pub(crate) const EXCEPTIONS: &[&str] = &[
    "Exception",
    "StandardError",
    "ValueError",
    "TypeError",
    "KeyError",
    "IndexError",
    "LookupError",
    "NameError",
    "RuntimeError",
    "AssertionError",
    "AttributeError",
    "ArithmeticError",
    "ZeroDivisionError",
    "OverflowError",
    "ImportError",
    "IOError",
    "OSError",
    "EnvironmentError",
    "NotImplementedError",
    "SystemExit",
    "UnboundLocalError",
    "SyntaxError",
];

const FUNCTIONS: &[&str] = &[
    "int",
    "float",
    "str",
    "repr",
    "len",
    "range",
    "xrange",
    "list",
    "tuple",
    "dict",
    "min",
    "max",
    "abs",
    "bool",
    "sorted",
    "isinstance",
    "enumerate",
    "zip",
    "sum",
    "reversed",
    "chr",
    "ord",
    "hex",
    "oct",
    "round",
    "map",
    "filter",
    "long",
    "unicode",
    "any",
    "all",
    "cmp",
    "callable",
    "Vars",
    "divmod",
    "pow",
];

const FORBIDDEN: &[&str] = &[
    "open",
    "file",
    "eval",
    "exec",
    "execfile",
    "compile",
    "__import__",
    "getattr",
    "setattr",
    "delattr",
    "hasattr",
    "globals",
    "locals",
    "vars",
    "dir",
    "input",
    "raw_input",
    "reload",
    "exit",
    "quit",
    "type",
    "object",
    "super",
    "property",
    "staticmethod",
    "classmethod",
    "iter",
    "next",
    "id",
    "hash",
    "help",
    "memoryview",
    "buffer",
    "intern",
    "set",
    "frozenset",
    "apply",
    "coerce",
    "issubclass",
    "lambda",
    "format",
    "slice",
    "bytearray",
    "complex",
    "basestring",
    "unichr",
    "__builtins__",
    "__name__",
    "__file__",
];

fn find_static(list: &[&'static str], name: &str) -> Option<&'static str> {
    list.iter().copied().find(|n| *n == name)
}

/// A builtin name, or `None` if there is none by that name.
pub(crate) fn builtin(name: &str) -> PyResult<Option<Val>> {
    Ok(match name {
        "True" => Some(Val::Bool(true)),
        "False" => Some(Val::Bool(false)),
        "None" => Some(Val::None),
        _ => {
            if let Some(n) = find_static(FUNCTIONS, name) {
                Some(Val::Builtin(n))
            } else if let Some(n) = find_static(EXCEPTIONS, name) {
                Some(Val::ExcClass(n))
            } else if FORBIDDEN.contains(&name) || name.starts_with("__") {
                return Err(PyErr::unsupported(format!("'{name}'")));
            } else {
                None
            }
        }
    })
}

// ---- modules ----

pub(crate) fn import_module(dotted: &str) -> PyResult<Val> {
    const MODULES: &[&str] = &[
        "os",
        "os.path",
        "sys",
        "re",
        "socket",
        "struct",
        "errno",
        "string",
        "xen.util.ip",
        "xen.xm.help",
    ];
    match find_static(MODULES, dotted) {
        Some(m @ ("xen.util.ip" | "xen.xm.help")) => Ok(Val::Module(m)),
        Some(m) => Ok(Val::Module(m)),
        None => Err(PyErr::new(
            "ImportError",
            format!(
                "No module named {dotted} (xm configs may import only os, os.path, sys, re, socket, struct, errno, string)"
            ),
        )),
    }
}

const IP_HELPERS: &[&str] = &[
    "add_offset_to_ip",
    "check_subnet",
    "get_current_ipaddr",
    "get_current_ipgw",
    "get_current_ipmask",
    "get_defaultroute",
    "inet_aton",
    "inet_ntoa",
];

/// `from M import *`.
pub(crate) fn star_import(module: &str) -> PyResult<Vec<(&'static str, Val)>> {
    match module {
        "xen.util.ip" => Ok(ip_star()),
        "xen.xm.help" => Ok(vec![("Vars", Val::Builtin("Vars"))]),
        _ => Err(PyErr::unsupported(format!("'from {module} import *'"))),
    }
}

/// What `from xen.util.ip import *` put into xm's config namespace.
pub(crate) fn ip_star() -> Vec<(&'static str, Val)> {
    let mut v: Vec<(&'static str, Val)> =
        IP_HELPERS.iter().map(|n| (*n, Val::Builtin(n))).collect();
    v.push(("errno", Val::Module("errno")));
    v.push(("re", Val::Module("re")));
    v.push(("socket", Val::Module("socket")));
    v.push(("struct", Val::Module("struct")));
    v
}

fn no_attr(owner: &str, name: &str) -> PyErr {
    PyErr::new(
        "AttributeError",
        format!("'{owner}' object has no attribute '{name}'"),
    )
}

const STR_METHODS: &[&str] = &[
    "split",
    "rsplit",
    "join",
    "strip",
    "lstrip",
    "rstrip",
    "replace",
    "lower",
    "upper",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "format",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "islower",
    "isupper",
    "zfill",
    "ljust",
    "rjust",
    "center",
    "splitlines",
    "title",
    "capitalize",
    "swapcase",
    "partition",
    "rpartition",
    "encode",
    "decode",
];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "index", "count", "remove", "reverse", "sort",
];
const DICT_METHODS: &[&str] = &[
    "get",
    "keys",
    "values",
    "items",
    "has_key",
    "update",
    "pop",
    "setdefault",
    "copy",
    "clear",
    "iteritems",
    "iterkeys",
    "itervalues",
];
const MATCH_METHODS: &[&str] = &["group", "groups", "start", "end", "span", "groupdict"];
const PATTERN_METHODS: &[&str] = &["search", "match", "sub", "split", "findall"];

fn method(recv: &Val, name: &'static str) -> Val {
    Val::Method(Rc::new(Bound {
        recv: recv.clone(),
        name,
    }))
}

/// `obj.name`.
pub(crate) fn getattr(it: &mut Interp, obj: &Val, name: &str) -> PyResult<Val> {
    if name.starts_with("__") {
        return Err(PyErr::unsupported(format!("the attribute '{name}'")));
    }
    let list = match obj {
        Val::Str(_) | Val::Unicode(_) => STR_METHODS,
        Val::List(_) => LIST_METHODS,
        Val::Dict(_) => DICT_METHODS,
        Val::Match(_) => MATCH_METHODS,
        Val::Pattern(_) => PATTERN_METHODS,
        Val::Vars(_) => &["var", "check"],
        Val::Environ => &["get", "has_key", "keys", "values", "items"],
        Val::Tuple(_) => &["index", "count"],
        Val::Exc(e) if name == "message" => return Ok(Val::str(&e.1)),
        Val::Module(m) => return module_attr(it, m, name),
        _ => &[],
    };
    match find_static(list, name) {
        Some(n) => Ok(method(obj, n)),
        None => {
            if let (Val::Pattern(p), "pattern") = (obj, name) {
                return Ok(Val::str(p.as_str()));
            }
            Err(no_attr(obj.type_name(), name))
        }
    }
}

fn module_attr(it: &mut Interp, module: &'static str, name: &str) -> PyResult<Val> {
    let funcs: &[&'static str] = match module {
        "os" => &["os.uname", "os.getenv"],
        "os.path" => &[
            "os.path.exists",
            "os.path.isfile",
            "os.path.isdir",
            "os.path.join",
            "os.path.basename",
            "os.path.dirname",
            "os.path.split",
            "os.path.splitext",
            "os.path.isabs",
            "os.path.normpath",
        ],
        "re" => &[
            "re.search",
            "re.match",
            "re.sub",
            "re.split",
            "re.findall",
            "re.compile",
            "re.escape",
        ],
        "socket" => &["socket.gethostname"],
        "sys.stdout" | "sys.stderr" => &["sys.stdout.write", "sys.stderr.write"],
        "xen.util.ip" => IP_HELPERS,
        _ => &[],
    };
    if let Some(f) = funcs.iter().copied().find(|f| {
        f.strip_prefix(module).and_then(|r| r.strip_prefix('.')) == Some(name)
            || (module == "xen.util.ip" && *f == name)
    }) {
        return Ok(Val::Builtin(f));
    }
    let v = match (module, name) {
        ("os", "path") => Val::Module("os.path"),
        ("os", "environ") => Val::Environ,
        ("os", "sep") | ("os.path", "sep") => Val::str("/"),
        ("os", "name") => Val::str("posix"),
        ("os", "linesep") => Val::str("\n"),
        ("os", "curdir") | ("os.path", "curdir") => Val::str("."),
        ("os", "pardir") | ("os.path", "pardir") => Val::str(".."),
        ("sys", "platform") => Val::str("linux2"),
        ("sys", "maxint") => Val::Int(i64::MAX),
        ("sys", "byteorder") => Val::str("little"),
        ("sys", "version") => Val::str("2.7.18 (xm-rs)"),
        ("sys", "version_info") => Val::tuple(vec![
            Val::Int(2),
            Val::Int(7),
            Val::Int(18),
            Val::str("final"),
            Val::Int(0),
        ]),
        ("sys", "stdout") => Val::Module("sys.stdout"),
        ("sys", "stderr") => Val::Module("sys.stderr"),
        ("re", "I") | ("re", "IGNORECASE") => Val::Int(2),
        ("re", "M") | ("re", "MULTILINE") => Val::Int(8),
        ("re", "S") | ("re", "DOTALL") => Val::Int(16),
        ("re", "X") | ("re", "VERBOSE") => Val::Int(64),
        ("re", "U") | ("re", "UNICODE") => Val::Int(32),
        ("re", "L") | ("re", "LOCALE") => Val::Int(4),
        ("errno", _) => match errno(name) {
            Some(n) => Val::Int(n),
            None => return Err(no_attr("module", name)),
        },
        ("string", "digits") => Val::str("0123456789"),
        ("string", "ascii_letters") | ("string", "letters") => {
            Val::str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        }
        ("string", "ascii_lowercase") | ("string", "lowercase") => {
            Val::str("abcdefghijklmnopqrstuvwxyz")
        }
        ("string", "ascii_uppercase") | ("string", "uppercase") => {
            Val::str("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        }
        ("string", "hexdigits") => Val::str("0123456789abcdefABCDEF"),
        ("xen.xm.help", "Vars") => Val::Builtin("Vars"),
        _ => {
            let _ = it;
            return Err(PyErr::new(
                "AttributeError",
                format!("{module}.{name} is not available in xm configs"),
            ));
        }
    };
    Ok(v)
}

fn errno(name: &str) -> Option<i64> {
    Some(match name {
        "EPERM" => 1,
        "ENOENT" => 2,
        "ESRCH" => 3,
        "EINTR" => 4,
        "EIO" => 5,
        "ENXIO" => 6,
        "E2BIG" => 7,
        "EBADF" => 9,
        "EAGAIN" => 11,
        "ENOMEM" => 12,
        "EACCES" => 13,
        "EBUSY" => 16,
        "EEXIST" => 17,
        "ENODEV" => 19,
        "ENOTDIR" => 20,
        "EISDIR" => 21,
        "EINVAL" => 22,
        "ENOSPC" => 28,
        _ => return None,
    })
}

// ---- iteration, items ----

/// The items `for` would visit.
pub(crate) fn iterate(v: &Val, m: &mut Meter) -> PyResult<Vec<Val>> {
    let out = match v {
        Val::List(l) => l.borrow().clone(),
        Val::Tuple(t) => t.to_vec(),
        Val::Str(s) | Val::Unicode(s) => {
            m.work(s.len())?;
            let uni = matches!(v, Val::Unicode(_));
            s.chars()
                .map(|c| {
                    let t: Rc<str> = Rc::from(c.to_string());
                    if uni { Val::Unicode(t) } else { Val::Str(t) }
                })
                .collect()
        }
        Val::Dict(d) => d.borrow().iter().map(|(k, _)| k.clone()).collect(),
        Val::Environ => Vec::new(),
        other => {
            return Err(PyErr::type_err(format!(
                "'{}' object is not iterable",
                other.type_name()
            )));
        }
    };
    m.work(out.len())?;
    Ok(out)
}

fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Characters `[from, to)` of `s` (char indices).
fn char_slice(s: &str, from: usize, to: usize) -> &str {
    if s.is_ascii() {
        return s.get(from.min(s.len())..to.min(s.len())).unwrap_or("");
    }
    let mut idx = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()));
    let start = idx.nth(from).unwrap_or(s.len());
    let end = if to > from {
        idx.nth(to - from - 1).unwrap_or(s.len())
    } else {
        start
    };
    s.get(start..end.max(start)).unwrap_or("")
}

fn index_int(k: &Val, what: &str) -> PyResult<i64> {
    k.as_int().ok_or_else(|| {
        PyErr::type_err(format!(
            "{what} indices must be integers, not {}",
            k.type_name()
        ))
    })
}

pub(crate) fn get_item(o: &Val, k: &Val, m: &mut Meter) -> PyResult<Val> {
    match o {
        Val::List(l) => {
            let l = l.borrow();
            let i = ops::seq_index(index_int(k, "list")?, l.len(), "list")?;
            Ok(l[i].clone())
        }
        Val::Tuple(t) => {
            let i = ops::seq_index(index_int(k, "tuple")?, t.len(), "tuple")?;
            Ok(t[i].clone())
        }
        Val::Str(s) | Val::Unicode(s) => {
            let n = char_count(s);
            m.work(n)?;
            let i = ops::seq_index(index_int(k, "string")?, n, "string")?;
            let c: Rc<str> = Rc::from(char_slice(s, i, i + 1));
            Ok(if matches!(o, Val::Unicode(_)) {
                Val::Unicode(c)
            } else {
                Val::Str(c)
            })
        }
        Val::Dict(d) => match ops::dict_get(d, k, m)? {
            Some(v) => Ok(v),
            None => Err(PyErr::new("KeyError", ops::repr(k, m)?)),
        },
        Val::Environ => Err(PyErr::new(
            "KeyError",
            format!("{} (os.environ is empty in xm configs)", ops::repr(k, m)?),
        )),
        Val::Match(mo) => match_group(mo, k),
        other => Err(PyErr::type_err(format!(
            "'{}' object has no attribute '__getitem__'",
            other.type_name()
        ))),
    }
}

pub(crate) fn set_item(o: &Val, k: Val, v: Val, m: &mut Meter) -> PyResult<()> {
    match o {
        Val::List(l) => {
            let len = l.borrow().len();
            let i = ops::seq_index(index_int(&k, "list")?, len, "list assignment")?;
            m.mutated_list(l);
            let old = {
                let mut l = l.borrow_mut();
                l.get_mut(i).map(|slot| std::mem::replace(slot, v))
            };
            drop(old);
            Ok(())
        }
        Val::Dict(d) => ops::dict_set(d, k, v, m),
        Val::Environ => Err(PyErr::unsupported("changing os.environ")),
        other => Err(PyErr::type_err(format!(
            "'{}' object does not support item assignment",
            other.type_name()
        ))),
    }
}

pub(crate) fn del_item(o: &Val, k: &Val, m: &mut Meter) -> PyResult<()> {
    match o {
        Val::List(l) => {
            let len = l.borrow().len();
            let i = ops::seq_index(index_int(k, "list")?, len, "list assignment")?;
            m.work(len)?;
            let removed = {
                let mut l = l.borrow_mut();
                if i < l.len() { Some(l.remove(i)) } else { None }
            };
            drop(removed);
            Ok(())
        }
        Val::Dict(d) => {
            let idx = {
                let items = d.borrow().clone();
                ops::dict_index(&items, k, m)?
            };
            match idx {
                Some(i) => {
                    let removed = ops::dict_remove(d, i);
                    drop(removed);
                    Ok(())
                }
                None => Err(PyErr::new("KeyError", ops::repr(k, m)?)),
            }
        }
        other => Err(PyErr::type_err(format!(
            "'{}' object doesn't support item deletion",
            other.type_name()
        ))),
    }
}

pub(crate) fn get_slice(
    o: &Val,
    lo: Option<i64>,
    hi: Option<i64>,
    step: Option<i64>,
    m: &mut Meter,
) -> PyResult<Val> {
    match o {
        Val::List(l) => {
            let l = l.borrow();
            let idx = ops::slice_indices(l.len(), lo, hi, step)?;
            m.work(idx.len())?;
            Ok(Val::list(idx.into_iter().map(|i| l[i].clone()).collect()))
        }
        Val::Tuple(t) => {
            let idx = ops::slice_indices(t.len(), lo, hi, step)?;
            m.work(idx.len())?;
            Ok(Val::tuple(idx.into_iter().map(|i| t[i].clone()).collect()))
        }
        Val::Str(s) | Val::Unicode(s) => {
            m.work(s.len())?;
            let r: String = if step.unwrap_or(1) == 1 {
                let n = char_count(s) as i64;
                let norm = |v: i64| if v < 0 { (v.saturating_add(n)).max(0) } else { v.min(n) } as usize;
                let a = lo.map_or(0, norm);
                let b = hi.map_or(n as usize, norm);
                char_slice(s, a, b.max(a)).to_string()
            } else {
                let chars: Vec<char> = s.chars().collect();
                ops::slice_indices(chars.len(), lo, hi, step)?
                    .into_iter()
                    .map(|i| chars[i])
                    .collect()
            };
            Ok(if matches!(o, Val::Unicode(_)) {
                Val::Unicode(Rc::from(r))
            } else {
                Val::string(r)
            })
        }
        other => Err(PyErr::type_err(format!(
            "'{}' object has no attribute '__getslice__'",
            other.type_name()
        ))),
    }
}

// ---- calling builtins ----

struct Args {
    fname: &'static str,
    pos: Vec<Val>,
    kw: Vec<(Rc<str>, Val)>,
}

impl Args {
    /// Positional argument `i` (a keyword cannot stand in for it).
    fn p(&self, i: usize) -> PyResult<&Val> {
        self.pos.get(i).ok_or_else(|| {
            PyErr::type_err(format!(
                "{}() requires positional argument {}",
                self.fname,
                i + 1
            ))
        })
    }
    fn count(&self, min: usize, max: usize) -> PyResult<()> {
        let n = self.pos.len() + self.kw.len();
        if n < min || n > max {
            let what = if min == max {
                format!("exactly {min}")
            } else if n < min {
                format!("at least {min}")
            } else {
                format!("at most {max}")
            };
            return Err(PyErr::type_err(format!(
                "{}() takes {what} argument{} ({n} given)",
                self.fname,
                if (n < min || min == max) && min == 1 || (n > max && max == 1) {
                    ""
                } else {
                    "s"
                }
            )));
        }
        Ok(())
    }
    fn no_kw(&self) -> PyResult<()> {
        if let Some((k, _)) = self.kw.first() {
            return Err(PyErr::type_err(format!(
                "{}() takes no keyword arguments (got '{k}')",
                self.fname
            )));
        }
        Ok(())
    }
    /// Positional argument `i`, or keyword `name`.
    fn get(&self, i: usize, name: &str) -> Option<&Val> {
        self.pos
            .get(i)
            .or_else(|| self.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v))
    }
    fn check_kw(&self, allowed: &[&str]) -> PyResult<()> {
        for (k, _) in &self.kw {
            if !allowed.contains(&&**k) {
                return Err(PyErr::type_err(format!(
                    "{}() got an unexpected keyword argument '{k}'",
                    self.fname
                )));
            }
        }
        Ok(())
    }
    /// Argument `i` (or keyword `name`), which must be there.
    fn required(&self, i: usize, name: &str) -> PyResult<&Val> {
        self.get(i, name)
            .ok_or_else(|| PyErr::type_err(format!("{}() missing argument {}", self.fname, i + 1)))
    }
    fn str_arg(&self, i: usize, name: &str) -> PyResult<Rc<str>> {
        match self.required(i, name)? {
            Val::Str(s) | Val::Unicode(s) => Ok(s.clone()),
            v => Err(PyErr::type_err(format!(
                "{}() argument {} must be string, not {}",
                self.fname,
                i + 1,
                v.type_name()
            ))),
        }
    }
    fn int_arg(&self, i: usize, name: &str) -> PyResult<i64> {
        let v = self.required(i, name)?;
        v.as_int().ok_or_else(|| {
            PyErr::type_err(format!(
                "{}() argument {} must be an integer, not {}",
                self.fname,
                i + 1,
                v.type_name()
            ))
        })
    }
    fn opt_int(&self, i: usize, name: &str) -> PyResult<Option<i64>> {
        match self.get(i, name) {
            None | Some(Val::None) => Ok(None),
            Some(_) => self.int_arg(i, name).map(Some),
        }
    }
}

fn parse_int(s: &str, base: i64) -> PyResult<i64> {
    let bad = || {
        PyErr::value_err(format!(
            "invalid literal for int() with base {base}: {}",
            quoted(s)
        ))
    };
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let t = t.strip_suffix(['l', 'L']).unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    let (digits, radix) = match base {
        0 => {
            if let Some(r) = lower.strip_prefix("0x") {
                (r.to_string(), 16)
            } else if let Some(r) = lower.strip_prefix("0o") {
                (r.to_string(), 8)
            } else if let Some(r) = lower.strip_prefix("0b") {
                (r.to_string(), 2)
            } else if lower.len() > 1 && lower.starts_with('0') {
                (lower[1..].to_string(), 8)
            } else {
                (lower.clone(), 10)
            }
        }
        16 => (lower.strip_prefix("0x").unwrap_or(&lower).to_string(), 16),
        8 => (lower.strip_prefix("0o").unwrap_or(&lower).to_string(), 8),
        2 => (lower.strip_prefix("0b").unwrap_or(&lower).to_string(), 2),
        b if (2..=36).contains(&b) => (lower.clone(), b as u32),
        _ => return Err(PyErr::value_err("int() base must be >= 2 and <= 36")),
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(bad());
    }
    match i64::from_str_radix(&digits, radix) {
        Ok(v) => Ok(if neg { -v } else { v }),
        Err(e) => match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                if neg && i64::from_str_radix(&format!("-{digits}"), radix).is_ok() {
                    Ok(i64::MIN)
                } else {
                    Err(PyErr::overflow())
                }
            }
            _ => Err(bad()),
        },
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::new();
    ops::str_repr(s, &mut out);
    out
}

fn to_int(v: &Val, base: Option<i64>) -> PyResult<i64> {
    if let Some(b) = base {
        return match v {
            Val::Str(s) | Val::Unicode(s) => parse_int(s, b),
            _ => Err(PyErr::type_err(
                "int() can't convert non-string with explicit base",
            )),
        };
    }
    match v {
        Val::Str(s) | Val::Unicode(s) => parse_int(s, 10),
        Val::Float(f) => {
            if f.is_nan() {
                return Err(PyErr::value_err("cannot convert float NaN to integer"));
            }
            if f.is_infinite() {
                return Err(PyErr::new(
                    "OverflowError",
                    "cannot convert float infinity to integer",
                ));
            }
            if f.abs() >= 9.223_372_036_854_776e18 {
                return Err(PyErr::overflow());
            }
            Ok(f.trunc() as i64)
        }
        _ => v.as_int().ok_or_else(|| {
            PyErr::type_err(format!(
                "int() argument must be a string or a number, not '{}'",
                v.type_name()
            ))
        }),
    }
}

fn to_float(v: &Val) -> PyResult<f64> {
    match v {
        Val::Float(f) => Ok(*f),
        Val::Str(s) | Val::Unicode(s) => {
            let t = s.trim();
            let ok = !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'));
            t.parse::<f64>()
                .ok()
                .filter(|_| ok)
                .ok_or_else(|| PyErr::value_err(format!("could not convert string to float: {s}")))
        }
        _ => v.as_int().map(|i| i as f64).ok_or_else(|| {
            PyErr::type_err(format!(
                "float() argument must be a string or a number, not '{}'",
                v.type_name()
            ))
        }),
    }
}

fn make_range(a: &Args, m: &mut Meter) -> PyResult<Val> {
    a.no_kw()?;
    a.count(1, 3)?;
    let (start, stop, step) = match a.pos.len() {
        1 => (0, a.int_arg(0, "")?, 1),
        2 => (a.int_arg(0, "")?, a.int_arg(1, "")?, 1),
        _ => (a.int_arg(0, "")?, a.int_arg(1, "")?, a.int_arg(2, "")?),
    };
    if step == 0 {
        return Err(PyErr::value_err("range() step argument must not be zero"));
    }
    let span = if step > 0 {
        (stop as i128 - start as i128 + step as i128 - 1) / step as i128
    } else {
        (start as i128 - stop as i128 - step as i128 - 1) / (-(step as i128))
    };
    let n = span.max(0);
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    m.check_list(n)?;
    m.work(n)?;
    let mut out = Vec::with_capacity(n);
    let mut x = start as i128;
    for _ in 0..n {
        out.push(Val::Int(x as i64));
        x += step as i128;
    }
    Ok(Val::list(out))
}

fn min_max(it: &mut Interp, a: &Args, want_max: bool) -> PyResult<Val> {
    a.check_kw(&[])?;
    let items = if a.pos.len() == 1 {
        iterate(a.p(0)?, &mut it.m)?
    } else {
        a.pos.clone()
    };
    let mut best: Option<Val> = None;
    for v in items {
        best = Some(match best {
            None => v,
            Some(b) => {
                let o = ops::cmp(&v, &b, &mut it.m)?;
                if (want_max && o == std::cmp::Ordering::Greater)
                    || (!want_max && o == std::cmp::Ordering::Less)
                {
                    v
                } else {
                    b
                }
            }
        });
    }
    best.ok_or_else(|| PyErr::value_err(format!("{}() arg is an empty sequence", a.fname)))
}

fn type_matches(v: &Val, ty: &Val, m: &mut Meter, depth: usize) -> PyResult<bool> {
    m.tick(1)?;
    if depth > super::val::MAX_DATA_DEPTH {
        return Err(PyErr::new(
            "RuntimeError",
            "maximum recursion depth exceeded in __instancecheck__",
        ));
    }
    Ok(match ty {
        Val::Tuple(ts) => {
            for t in ts.iter() {
                if type_matches(v, t, m, depth + 1)? {
                    return Ok(true);
                }
            }
            false
        }
        Val::Builtin(name) => match *name {
            "int" => matches!(v, Val::Int(_) | Val::Bool(_)),
            "long" => matches!(v, Val::Long(_)),
            "float" => matches!(v, Val::Float(_)),
            "str" => matches!(v, Val::Str(_)),
            "unicode" => matches!(v, Val::Unicode(_)),
            "list" => matches!(v, Val::List(_)),
            "tuple" => matches!(v, Val::Tuple(_)),
            "dict" => matches!(v, Val::Dict(_)),
            "bool" => matches!(v, Val::Bool(_)),
            _ => {
                return Err(PyErr::type_err(
                    "isinstance() arg 2 must be a class, type, or tuple of classes and types",
                ));
            }
        },
        Val::ExcClass(k) => matches!(v, Val::Exc(e) if e.0 == *k),
        _ => {
            return Err(PyErr::type_err(
                "isinstance() arg 2 must be a class, type, or tuple of classes and types",
            ));
        }
    })
}

pub(crate) fn call_builtin(
    it: &mut Interp,
    name: &'static str,
    pos: Vec<Val>,
    kw: Vec<(Rc<str>, Val)>,
) -> PyResult<Val> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let a = Args {
        fname: short,
        pos,
        kw,
    };
    let m = &mut it.m;
    match name {
        "int" | "long" => {
            a.check_kw(&["x", "base"])?;
            a.count(0, 2)?;
            let Some(v) = a.get(0, "x") else {
                return Ok(Val::Int(0));
            };
            let base = a.opt_int(1, "base")?;
            let i = to_int(v, base)?;
            Ok(if name == "long" {
                Val::Long(i)
            } else {
                Val::Int(i)
            })
        }
        "float" => {
            a.no_kw()?;
            a.count(0, 1)?;
            Ok(Val::Float(match a.pos.first() {
                Some(v) => to_float(v)?,
                None => 0.0,
            }))
        }
        "str" | "unicode" => {
            a.no_kw()?;
            a.count(0, 1)?;
            let s = match a.pos.first() {
                Some(v) => ops::to_str(v, m)?,
                None => String::new(),
            };
            Ok(if name == "unicode" {
                Val::Unicode(Rc::from(s))
            } else {
                Val::string(s)
            })
        }
        "repr" => {
            a.no_kw()?;
            a.count(1, 1)?;
            Ok(Val::string(ops::repr(a.p(0)?, m)?))
        }
        "len" => {
            a.no_kw()?;
            a.count(1, 1)?;
            let n = match a.p(0)? {
                Val::Str(s) | Val::Unicode(s) => {
                    m.work(s.len())?;
                    char_count(s)
                }
                Val::List(l) => l.borrow().len(),
                Val::Tuple(t) => t.len(),
                Val::Dict(d) => d.borrow().len(),
                Val::Environ => 0,
                other => {
                    return Err(PyErr::type_err(format!(
                        "object of type '{}' has no len()",
                        other.type_name()
                    )));
                }
            };
            Ok(Val::Int(n as i64))
        }
        "range" | "xrange" => make_range(&a, m),
        "list" | "tuple" | "sorted" | "reversed" => {
            a.check_kw(if name == "sorted" {
                &["cmp", "key", "reverse"]
            } else {
                &[]
            })?;
            a.count(
                if name == "list" || name == "tuple" {
                    0
                } else {
                    1
                },
                1 + 3 * usize::from(name == "sorted"),
            )?;
            let mut items = match a.pos.first() {
                Some(v) => iterate(v, m)?,
                None => Vec::new(),
            };
            match name {
                "tuple" => Ok(Val::tuple(items)),
                "sorted" => {
                    let (cmp, key, rev) = (a.get(1, "cmp"), a.get(2, "key"), a.get(3, "reverse"));
                    let (cmp, key) = (cmp.cloned(), key.cloned());
                    let rev = rev.is_some_and(|v| v.truthy());
                    sort_values(it, &mut items, cmp, key, rev)?;
                    Ok(Val::list(items))
                }
                "reversed" => {
                    items.reverse();
                    Ok(Val::list(items))
                }
                _ => Ok(Val::list(items)),
            }
        }
        "dict" => {
            a.count(0, usize::MAX)?;
            let d = Val::dict(Vec::new());
            let Val::Dict(dr) = &d else { return Ok(d) };
            let kwargs = kwargs_dict(&a.kw, m)?;
            if let Some(src) = a.pos.first() {
                if a.pos.len() > 1 {
                    return Err(PyErr::type_err("dict expected at most 1 arguments"));
                }
                match src {
                    Val::Dict(s) => {
                        let items = s.borrow().clone();
                        ops::dict_merge(dr, items, m)?;
                    }
                    other => {
                        for (i, pair) in iterate(other, m)?.into_iter().enumerate() {
                            let kv = iterate(&pair, m)?;
                            if kv.len() != 2 {
                                return Err(PyErr::value_err(format!(
                                    "dictionary update sequence element #{i} has length {}; 2 is required",
                                    kv.len()
                                )));
                            }
                            let mut kv = kv.into_iter();
                            if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
                                ops::dict_set(dr, k, v, m)?;
                            }
                        }
                    }
                }
            }
            if !kwargs.is_empty() {
                ops::dict_merge(dr, kwargs, m)?;
            }
            Ok(d)
        }
        "min" | "max" => min_max(it, &a, name == "max"),
        "abs" => {
            a.no_kw()?;
            a.count(1, 1)?;
            match a.p(0)? {
                Val::Float(f) => Ok(Val::Float(f.abs())),
                Val::Long(i) => Ok(Val::Long(i.checked_abs().ok_or_else(PyErr::overflow)?)),
                v => match v.as_int() {
                    Some(i) => Ok(Val::Int(i.checked_abs().ok_or_else(PyErr::overflow)?)),
                    None => Err(PyErr::type_err(format!(
                        "bad operand type for abs(): '{}'",
                        v.type_name()
                    ))),
                },
            }
        }
        "bool" => {
            a.no_kw()?;
            a.count(0, 1)?;
            Ok(Val::Bool(a.pos.first().is_some_and(|v| v.truthy())))
        }
        "callable" => {
            a.count(1, 1)?;
            Ok(Val::Bool(matches!(
                a.p(0)?,
                Val::Func(_) | Val::Builtin(_) | Val::Method(_) | Val::ExcClass(_)
            )))
        }
        "isinstance" => {
            a.no_kw()?;
            a.count(2, 2)?;
            Ok(Val::Bool(type_matches(a.p(0)?, a.p(1)?, m, 0)?))
        }
        "enumerate" => {
            a.check_kw(&["start"])?;
            a.count(1, 2)?;
            let start = a.opt_int(1, "start")?.unwrap_or(0);
            let items = iterate(a.p(0)?, m)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.into_iter().enumerate() {
                let idx = start.checked_add(i as i64).ok_or_else(PyErr::overflow)?;
                out.push(Val::tuple(vec![Val::Int(idx), v]));
            }
            Ok(Val::list(out))
        }
        "zip" => {
            a.no_kw()?;
            let seqs: Vec<Vec<Val>> = a
                .pos
                .iter()
                .map(|v| iterate(v, m))
                .collect::<PyResult<_>>()?;
            let n = seqs.iter().map(|s| s.len()).min().unwrap_or(0);
            m.work(n * seqs.len())?;
            Ok(Val::list(
                (0..n)
                    .map(|i| Val::tuple(seqs.iter().map(|s| s[i].clone()).collect()))
                    .collect(),
            ))
        }
        "sum" => {
            a.no_kw()?;
            a.count(1, 2)?;
            let mut acc = a.pos.get(1).cloned().unwrap_or(Val::Int(0));
            if acc.as_str().is_some() {
                return Err(PyErr::type_err(
                    "sum() can't sum strings [use ''.join(seq) instead]",
                ));
            }
            for v in iterate(a.p(0)?, m)? {
                acc = ops::binary(super::ast::BinOp::Add, &acc, &v, m)?;
            }
            Ok(acc)
        }
        "any" | "all" => {
            a.count(1, 1)?;
            let items = iterate(a.p(0)?, m)?;
            Ok(Val::Bool(if name == "any" {
                items.iter().any(|v| v.truthy())
            } else {
                items.iter().all(|v| v.truthy())
            }))
        }
        "cmp" => {
            a.count(2, 2)?;
            Ok(Val::Int(match ops::cmp(a.p(0)?, a.p(1)?, m)? {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }))
        }
        "chr" => {
            a.count(1, 1)?;
            let i = a.int_arg(0, "")?;
            let c = u32::try_from(i)
                .ok()
                .filter(|c| *c < 256)
                .and_then(char::from_u32)
                .ok_or_else(|| PyErr::value_err("chr() arg not in range(256)"))?;
            Ok(Val::string(c.to_string()))
        }
        "ord" => {
            a.count(1, 1)?;
            let s = a.str_arg(0, "")?;
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Ok(Val::Int(c as i64)),
                _ => Err(PyErr::type_err(format!(
                    "ord() expected a character, but string of length {} found",
                    char_count(&s)
                ))),
            }
        }
        "hex" | "oct" => {
            a.count(1, 1)?;
            let i = a.int_arg(0, "")?;
            let sign = if i < 0 { "-" } else { "" };
            let u = i.unsigned_abs();
            let long = if matches!(a.p(0)?, Val::Long(_)) {
                "L"
            } else {
                ""
            };
            Ok(Val::string(if name == "hex" {
                format!("{sign}0x{u:x}{long}")
            } else if u == 0 {
                "0".to_string()
            } else {
                format!("{sign}0{u:o}{long}")
            }))
        }
        "round" => {
            a.count(1, 2)?;
            let f = to_float(a.p(0)?)?;
            let nd = a.opt_int(1, "ndigits")?.unwrap_or(0).clamp(-308, 308);
            let p = 10f64.powi(nd as i32);
            let r = if nd >= 0 {
                (f * p).round() / p
            } else {
                (f / 10f64.powi(-nd as i32)).round() * 10f64.powi(-nd as i32)
            };
            Ok(Val::Float(if r.is_finite() { r } else { f }))
        }
        "map" | "filter" => {
            a.no_kw()?;
            a.count(2, 2)?;
            let f = a.p(0)?.clone();
            let items = iterate(a.p(1)?, m)?;
            let mut out = Vec::with_capacity(items.len());
            for v in items {
                if name == "filter" {
                    let keep = if matches!(f, Val::None) {
                        v.truthy()
                    } else {
                        it.call(&f, vec![v.clone()], Vec::new(), Default::default())?
                            .truthy()
                    };
                    if keep {
                        out.push(v);
                    }
                } else {
                    let r = if matches!(f, Val::None) {
                        v
                    } else {
                        it.call(&f, vec![v], Vec::new(), Default::default())?
                    };
                    out.push(r);
                }
            }
            Ok(Val::list(out))
        }
        "divmod" | "pow" => {
            a.no_kw()?;
            a.count(2, 2)?;
            let (x, y) = (a.p(0)?, a.p(1)?);
            if name == "pow" {
                return ops::binary(super::ast::BinOp::Pow, x, y, m);
            }
            let q = ops::binary(super::ast::BinOp::FloorDiv, x, y, m)?;
            let r = ops::binary(super::ast::BinOp::Mod, x, y, m)?;
            Ok(Val::tuple(vec![q, r]))
        }
        "Vars" => Err(PyErr::unsupported(
            "creating a new Vars object (use xm_vars)",
        )),

        // os
        "os.uname" => {
            a.count(0, 0)?;
            Ok(Val::tuple(
                it.host.uname().iter().map(|s| Val::str(s)).collect(),
            ))
        }
        "os.getenv" => {
            a.count(1, 2)?;
            a.str_arg(0, "key")?;
            Ok(a.get(1, "default").cloned().unwrap_or(Val::None))
        }
        "os.path.exists" | "os.path.isfile" | "os.path.isdir" => {
            a.count(1, 1)?;
            let p = a.str_arg(0, "path")?;
            Ok(Val::Bool(it.host.path_exists(&p)))
        }
        "os.path.join" => {
            a.no_kw()?;
            a.count(1, usize::MAX)?;
            let mut out = String::new();
            for i in 0..a.pos.len() {
                let p = a.str_arg(i, "")?;
                if p.starts_with('/') {
                    out.clear();
                } else if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                m.check_str_opt(out.len().checked_add(p.len()))?;
                out.push_str(&p);
            }
            Ok(Val::string(out))
        }
        "os.path.basename" | "os.path.dirname" | "os.path.split" => {
            a.count(1, 1)?;
            let p = a.str_arg(0, "p")?;
            let i = p.rfind('/').map_or(0, |i| i + 1);
            let (head, tail) = p.split_at(i);
            let head_t = head.trim_end_matches('/');
            let head = if head_t.is_empty() { head } else { head_t };
            Ok(match name {
                "os.path.basename" => Val::str(tail),
                "os.path.dirname" => Val::str(head),
                _ => Val::tuple(vec![Val::str(head), Val::str(tail)]),
            })
        }
        "os.path.splitext" => {
            a.count(1, 1)?;
            let p = a.str_arg(0, "p")?;
            let base_start = p.rfind('/').map_or(0, |i| i + 1);
            let base = &p[base_start..];
            let dot = base
                .rfind('.')
                .filter(|&d| base[..d].chars().any(|c| c != '.'));
            Ok(match dot {
                Some(d) => {
                    let cut = base_start + d;
                    Val::tuple(vec![Val::str(&p[..cut]), Val::str(&p[cut..])])
                }
                None => Val::tuple(vec![Val::str(&p), Val::str("")]),
            })
        }
        "os.path.isabs" => {
            a.count(1, 1)?;
            Ok(Val::Bool(a.str_arg(0, "s")?.starts_with('/')))
        }
        "os.path.normpath" => {
            a.count(1, 1)?;
            let p = a.str_arg(0, "path")?;
            Ok(Val::string(normpath(&p)))
        }
        "socket.gethostname" => {
            a.count(0, 0)?;
            let [_, node, ..] = it.host.uname();
            Ok(Val::string(node))
        }
        "sys.stdout.write" | "sys.stderr.write" => {
            a.count(1, 1)?;
            a.str_arg(0, "s")?;
            Ok(Val::None)
        }

        // xen.util.ip
        "inet_aton" => {
            a.count(1, 1)?;
            Ok(Val::Int(i64::from(inet_aton(&a.str_arg(0, "addr")?)?)))
        }
        "inet_ntoa" => {
            a.count(1, 1)?;
            let n = a.int_arg(0, "n")?;
            Ok(Val::string(inet_ntoa(n)?))
        }
        "add_offset_to_ip" => {
            a.count(2, 2)?;
            let ip = i64::from(inet_aton(&a.str_arg(0, "ip")?)?);
            let off = a.int_arg(1, "offset")?;
            Ok(Val::string(inet_ntoa(
                ip.checked_add(off).ok_or_else(PyErr::overflow)?,
            )?))
        }
        "check_subnet" => {
            a.count(3, 3)?;
            let ip = inet_aton(&a.str_arg(0, "ip")?)?;
            let net = inet_aton(&a.str_arg(1, "network")?)?;
            let mask = inet_aton(&a.str_arg(2, "netmask")?)?;
            Ok(Val::Bool(ip & mask == net & mask))
        }
        "get_current_ipaddr" | "get_current_ipgw" | "get_current_ipmask" | "get_defaultroute" => {
            Err(PyErr::new(
                "NotImplementedError",
                format!(
                    "{name}() is not supported by xm-rs (it reads the host's network configuration)"
                ),
            ))
        }

        n if n.starts_with("re.") => regex_call(it, n, a),
        other => Err(PyErr::unsupported(format!("'{other}()'"))),
    }
}

fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let body = parts.join("/");
    let lead = if abs {
        if p.starts_with("//") && !p.starts_with("///") {
            "//"
        } else {
            "/"
        }
    } else {
        ""
    };
    let r = format!("{lead}{body}");
    if r.is_empty() { ".".into() } else { r }
}

fn inet_aton(s: &str) -> PyResult<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    let bad = || PyErr::new("error", "illegal IP address string passed to inet_aton");
    if parts.len() != 4 {
        return Err(bad());
    }
    let mut n: u32 = 0;
    for p in parts {
        let b: u8 = p.parse().map_err(|_| bad())?;
        n = (n << 8) | u32::from(b);
    }
    Ok(n)
}

fn inet_ntoa(n: i64) -> PyResult<String> {
    let n = u32::try_from(n)
        .map_err(|_| PyErr::new("error", "packed IP wrong length for inet_ntoa"))?;
    let b = n.to_be_bytes();
    Ok(format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
}

// ---- regular expressions ----

fn compile(m: &mut Meter, pattern: &str, flags: i64) -> PyResult<regex::Regex> {
    m.work(pattern.len().saturating_mul(32))?;
    let mut inline = String::new();
    for (bit, c) in [(2, 'i'), (8, 'm'), (16, 's'), (64, 'x')] {
        if flags & bit != 0 {
            inline.push(c);
        }
    }
    let full = if inline.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{inline}){pattern}")
    };
    regex::RegexBuilder::new(&full)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(100)
        .build()
        .map_err(|e| {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            PyErr::new(
                "error",
                format!(
                    "bad or unsupported regular expression {}: {first}",
                    quoted(pattern)
                ),
            )
        })
}

fn char_index(s: &str, byte: usize) -> usize {
    if s.is_ascii() {
        byte
    } else {
        s.get(..byte).map_or(0, |p| p.chars().count())
    }
}

fn match_obj(re: &regex::Regex, caps: &regex::Captures<'_>, hay: &str) -> Val {
    let groups = (0..caps.len())
        .map(|i| {
            caps.get(i)
                .map(|g| (char_index(hay, g.start()), Rc::from(g.as_str())))
        })
        .collect();
    let names = re
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
        .collect();
    Val::Match(Rc::new(MatchObj { groups, names }))
}

fn group_index(mo: &MatchObj, k: &Val) -> PyResult<usize> {
    let idx = match k {
        Val::Str(s) | Val::Unicode(s) => mo.names.iter().find(|(n, _)| **n == **s).map(|(_, i)| *i),
        v => v.as_int().and_then(|i| usize::try_from(i).ok()),
    };
    idx.filter(|i| *i < mo.groups.len())
        .ok_or_else(|| PyErr::new("IndexError", "no such group"))
}

fn match_group(mo: &MatchObj, k: &Val) -> PyResult<Val> {
    let i = group_index(mo, k)?;
    Ok(match &mo.groups[i] {
        Some((_, s)) => Val::Str(s.clone()),
        None => Val::None,
    })
}

/// A parsed `re.sub` replacement template.
enum Piece {
    Lit(String),
    Group(usize),
}

fn parse_template(repl: &str, re: &regex::Regex) -> PyResult<Vec<Piece>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut cs = repl.chars().peekable();
    let ngroups = re.captures_len();
    while let Some(c) = cs.next() {
        if c != '\\' {
            lit.push(c);
            continue;
        }
        let Some(e) = cs.next() else {
            return Err(PyErr::new("error", "bogus escape (end of line)"));
        };
        let group = match e {
            'n' => {
                lit.push('\n');
                None
            }
            't' => {
                lit.push('\t');
                None
            }
            'r' => {
                lit.push('\r');
                None
            }
            '\\' => {
                lit.push('\\');
                None
            }
            'g' => {
                if cs.next() != Some('<') {
                    return Err(PyErr::new("error", "missing group name"));
                }
                let mut name = String::new();
                loop {
                    match cs.next() {
                        Some('>') => break,
                        Some(c) => name.push(c),
                        None => return Err(PyErr::new("error", "unterminated group name")),
                    }
                }
                let idx = match name.parse::<usize>() {
                    Ok(i) => Some(i),
                    Err(_) => re.capture_names().position(|n| n == Some(name.as_str())),
                };
                Some(idx.ok_or_else(|| {
                    PyErr::new("IndexError", format!("unknown group name '{name}'"))
                })?)
            }
            d if d.is_ascii_digit() => {
                let mut n = d.to_digit(10).unwrap_or(0) as usize;
                if let Some(d2) = cs.peek().and_then(|c| c.to_digit(10)) {
                    cs.next();
                    n = n * 10 + d2 as usize;
                }
                Some(n)
            }
            other => {
                lit.push('\\');
                lit.push(other);
                None
            }
        };
        if let Some(g) = group {
            if g >= ngroups {
                return Err(PyErr::new("error", "invalid group reference"));
            }
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(Piece::Group(g));
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

fn re_sub(m: &mut Meter, re: &regex::Regex, repl: &str, hay: &str, count: i64) -> PyResult<Val> {
    let template = parse_template(repl, re)?;
    let mut out = String::new();
    let mut last = 0;
    for (n, caps) in re.captures_iter(hay).enumerate() {
        if count > 0 && n as i64 >= count {
            break;
        }
        m.tick(1)?;
        let Some(whole) = caps.get(0) else { continue };
        let mut add = whole.start() - last;
        for p in &template {
            add = add.saturating_add(match p {
                Piece::Lit(s) => s.len(),
                Piece::Group(g) => caps.get(*g).map_or(0, |x| x.len()),
            });
        }
        m.check_str_opt(out.len().checked_add(add))?;
        m.work(add)?;
        out.push_str(&hay[last..whole.start()]);
        for p in &template {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |x| x.as_str())),
            }
        }
        last = whole.end();
    }
    m.check_str_opt(out.len().checked_add(hay.len() - last))?;
    out.push_str(&hay[last..]);
    Ok(Val::string(out))
}

fn regex_call(it: &mut Interp, name: &str, a: Args) -> PyResult<Val> {
    let m = &mut it.m;
    match name {
        "re.escape" => {
            a.count(1, 1)?;
            let s = a.str_arg(0, "pattern")?;
            let mut out = String::new();
            for c in s.chars() {
                if !c.is_ascii_alphanumeric() && c != '_' {
                    out.push('\\');
                }
                out.push(c);
            }
            m.check_str(out.len())?;
            Ok(Val::string(out))
        }
        "re.compile" => {
            a.check_kw(&["pattern", "flags"])?;
            a.count(1, 2)?;
            let p = a.str_arg(0, "pattern")?;
            let flags = a.opt_int(1, "flags")?.unwrap_or(0);
            Ok(Val::Pattern(Rc::new(compile(m, &p, flags)?)))
        }
        "re.search" | "re.match" | "re.findall" | "re.split" | "re.sub" => {
            let is_sub = name == "re.sub";
            a.check_kw(&["pattern", "string", "flags", "repl", "count", "maxsplit"])?;
            let p = a.str_arg(0, "pattern")?;
            let (rest, extra) = if is_sub {
                let repl = a.str_arg(1, "repl")?;
                let s = a.str_arg(2, "string")?;
                (
                    s,
                    vec![
                        Val::Str(repl),
                        a.get(3, "count").cloned().unwrap_or(Val::Int(0)),
                    ],
                )
            } else {
                let s = a.str_arg(1, "string")?;
                let third = a
                    .get(
                        2,
                        if name == "re.split" {
                            "maxsplit"
                        } else {
                            "flags"
                        },
                    )
                    .cloned();
                (s, third.into_iter().collect())
            };
            let flags = if is_sub || name == "re.split" {
                a.opt_int(if is_sub { 4 } else { 3 }, "flags")?.unwrap_or(0)
            } else {
                extra.first().and_then(|v| v.as_int()).unwrap_or(0)
            };
            let re = compile(m, &p, flags)?;
            let method_name = &name[3..];
            let mut args = vec![Val::Str(rest)];
            if is_sub {
                args = vec![extra[0].clone(), args[0].clone(), extra[1].clone()];
            } else if name == "re.split" {
                args.extend(extra);
            }
            pattern_method(m, &re, method_name, &args)
        }
        _ => Err(PyErr::unsupported(format!("'{name}()'"))),
    }
}

fn pattern_method(m: &mut Meter, re: &regex::Regex, name: &str, args: &[Val]) -> PyResult<Val> {
    let s = |i: usize| -> PyResult<Rc<str>> {
        match args.get(i) {
            Some(Val::Str(s) | Val::Unicode(s)) => Ok(s.clone()),
            Some(v) => Err(PyErr::type_err(format!(
                "expected string or buffer, not {}",
                v.type_name()
            ))),
            None => Err(PyErr::type_err(format!("{name}() missing an argument"))),
        }
    };
    match name {
        "search" | "match" => {
            let hay = s(0)?;
            m.work(hay.len())?;
            let anchored;
            let re = if name == "match" {
                anchored = compile(m, &format!("\\A(?:{})", re.as_str()), 0)?;
                &anchored
            } else {
                re
            };
            Ok(match re.captures(&hay) {
                Some(c) => match_obj(re, &c, &hay),
                None => Val::None,
            })
        }
        "findall" => {
            let hay = s(0)?;
            m.work(hay.len())?;
            let mut out = Vec::new();
            for c in re.captures_iter(&hay) {
                m.tick(1)?;
                m.check_list(out.len() + 1)?;
                let g = |i: usize| Val::str(c.get(i).map_or("", |x| x.as_str()));
                out.push(match c.len() {
                    1 => g(0),
                    2 => g(1),
                    n => Val::tuple((1..n).map(g).collect()),
                });
            }
            Ok(Val::list(out))
        }
        "split" => {
            let hay = s(0)?;
            m.work(hay.len())?;
            let maxsplit = args.get(1).and_then(|v| v.as_int()).unwrap_or(0);
            let mut out = Vec::new();
            let mut last = 0;
            for (n, c) in re.captures_iter(&hay).enumerate() {
                if maxsplit > 0 && n as i64 >= maxsplit {
                    break;
                }
                let Some(whole) = c.get(0) else { continue };
                if whole.start() == whole.end() {
                    continue; // Python 2 never splits on an empty match
                }
                m.tick(1)?;
                m.check_list(out.len() + c.len())?;
                out.push(Val::str(&hay[last..whole.start()]));
                for i in 1..c.len() {
                    out.push(c.get(i).map_or(Val::None, |x| Val::str(x.as_str())));
                }
                last = whole.end();
            }
            out.push(Val::str(&hay[last..]));
            Ok(Val::list(out))
        }
        "sub" => {
            let repl = s(0)?;
            let hay = s(1)?;
            let count = args.get(2).and_then(|v| v.as_int()).unwrap_or(0);
            re_sub(m, re, &repl, &hay, count)
        }
        _ => Err(PyErr::unsupported(format!("'{name}()'"))),
    }
}

// ---- methods ----

pub(crate) fn call_method(
    it: &mut Interp,
    recv: &Val,
    name: &'static str,
    pos: Vec<Val>,
    kw: Vec<(Rc<str>, Val)>,
) -> PyResult<Val> {
    let a = Args {
        fname: name,
        pos,
        kw,
    };
    match recv {
        Val::Str(s) | Val::Unicode(s) => {
            let uni = matches!(recv, Val::Unicode(_));
            super::strmethods::call(&mut it.m, s, uni, name, &a.pos, &a.kw)
        }
        Val::List(l) => list_method(it, l, name, &a),
        Val::Tuple(t) => {
            a.count(1, 1)?;
            seq_search(&mut it.m, t, a.p(0)?, name, "tuple")
        }
        Val::Dict(d) => dict_method(&mut it.m, recv, d, name, &a),
        Val::Environ => {
            a.count(0, 2)?;
            match name {
                "get" => Ok(a.get(1, "default").cloned().unwrap_or(Val::None)),
                "has_key" => Ok(Val::Bool(false)),
                _ => Ok(Val::list(Vec::new())),
            }
        }
        Val::Match(mo) => match name {
            "group" => {
                if a.pos.len() <= 1 {
                    return match_group(mo, a.pos.first().unwrap_or(&Val::Int(0)));
                }
                let items = a
                    .pos
                    .iter()
                    .map(|k| match_group(mo, k))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(Val::tuple(items))
            }
            "groups" => Ok(Val::tuple(
                mo.groups
                    .iter()
                    .skip(1)
                    .map(|g| g.as_ref().map_or(Val::None, |(_, s)| Val::Str(s.clone())))
                    .collect(),
            )),
            "groupdict" => Ok(Val::dict(
                mo.names
                    .iter()
                    .map(|(n, i)| {
                        let v = mo
                            .groups
                            .get(*i)
                            .and_then(|g| g.as_ref())
                            .map_or(Val::None, |(_, s)| Val::Str(s.clone()));
                        (Val::str(n), v)
                    })
                    .collect(),
            )),
            _ => {
                let i = group_index(mo, a.pos.first().unwrap_or(&Val::Int(0)))?;
                let (start, end) = match &mo.groups[i] {
                    Some((st, s)) => (*st as i64, (*st + char_count(s)) as i64),
                    None => (-1, -1),
                };
                Ok(match name {
                    "start" => Val::Int(start),
                    "end" => Val::Int(end),
                    _ => Val::tuple(vec![Val::Int(start), Val::Int(end)]),
                })
            }
        },
        Val::Pattern(re) => {
            let re = re.clone();
            pattern_method(&mut it.m, &re, name, &a.pos)
        }
        Val::Vars(vars) => match name {
            "var" => {
                a.check_kw(&["name", "use", "check"])?;
                a.count(1, 3)?;
                let n = a.str_arg(0, "name")?;
                let check = a.get(2, "check").cloned().unwrap_or(Val::None);
                it.m.check_list(vars.0.borrow().len() + 1)?;
                vars.0.borrow_mut().push((n.to_string(), check));
                Ok(Val::None)
            }
            _ => {
                a.count(0, 0)?;
                if it.help {
                    return Ok(Val::None);
                }
                let list: Vec<(String, Val)> = vars.0.borrow().clone();
                for (n, check) in list {
                    if matches!(check, Val::None) {
                        continue;
                    }
                    let cur = it.top.get(&n).cloned();
                    let missing = cur.is_none();
                    let r = it.call(
                        &check,
                        vec![Val::str(&n), cur.unwrap_or(Val::None)],
                        Vec::new(),
                        Default::default(),
                    );
                    match r {
                        Ok(v) => it.top.set(&n, v),
                        Err(e) => {
                            let hint = if missing {
                                format!(
                                    " (no value for '{n}': give it on the command line as {n}=VALUE)"
                                )
                            } else {
                                String::new()
                            };
                            return Err(PyErr {
                                kind: "",
                                msg: format!("{n}: {}{hint}", e.text()),
                                pos: e.pos,
                            });
                        }
                    }
                }
                Ok(Val::None)
            }
        },
        Val::Module(_) => Err(PyErr::unsupported(format!("'{name}()'"))),
        other => Err(no_attr(other.type_name(), name)),
    }
}

/// `sorted()` / `list.sort()` with Python 2's optional `cmp` and `key` functions.
fn sort_values(
    it: &mut Interp,
    items: &mut Vec<Val>,
    cmp: Option<Val>,
    key: Option<Val>,
    reverse: bool,
) -> PyResult<()> {
    let cmp = cmp.filter(|c| !matches!(c, Val::None));
    let key = key.filter(|k| !matches!(k, Val::None));
    let mut pairs = Vec::with_capacity(items.len());
    for v in items.drain(..) {
        let k = match &key {
            Some(f) => it.call(f, vec![v.clone()], Vec::new(), Default::default())?,
            None => v.clone(),
        };
        pairs.push((k, v));
    }
    ops::sort_by(&mut pairs, |a, b| {
        it.m.tick(1)?;
        let o = match &cmp {
            Some(f) => {
                let r = it.call(
                    f,
                    vec![a.0.clone(), b.0.clone()],
                    Vec::new(),
                    Default::default(),
                )?;
                let n = r
                    .as_int()
                    .ok_or_else(|| PyErr::type_err("comparison function must return int"))?;
                n.cmp(&0)
            }
            None => ops::cmp(&a.0, &b.0, &mut it.m)?,
        };
        Ok(if reverse { o.reverse() } else { o })
    })?;
    items.extend(pairs.into_iter().map(|(_, v)| v));
    Ok(())
}

/// Keyword arguments as CPython collected them: a dict, in its iteration order.
fn kwargs_dict(kw: &[(Rc<str>, Val)], m: &mut Meter) -> PyResult<Vec<(Val, Val)>> {
    if kw.is_empty() {
        return Ok(Vec::new());
    }
    let d = Val::dict(Vec::new());
    let Val::Dict(dr) = &d else {
        return Ok(Vec::new());
    };
    // ceval's update_keyword_args pops them off the stack: last keyword first.
    for (k, v) in kw.iter().rev() {
        ops::dict_set(dr, Val::Str(k.clone()), v.clone(), m)?;
    }
    let items = dr.borrow().clone();
    Ok(items)
}

fn seq_search(m: &mut Meter, items: &[Val], x: &Val, name: &str, what: &str) -> PyResult<Val> {
    let mut count = 0;
    for (i, v) in items.iter().enumerate() {
        m.tick(1)?;
        if ops::eq(v, x, m)? {
            if name == "index" {
                return Ok(Val::Int(i as i64));
            }
            count += 1;
        }
    }
    if name == "index" {
        return Err(PyErr::value_err(if what == "list" {
            format!("{} is not in list", ops::repr(x, m)?)
        } else {
            format!("{what}.index(x): x not in {what}")
        }));
    }
    Ok(Val::Int(count))
}

fn list_method(it: &mut Interp, l: &super::val::ListRef, name: &str, a: &Args) -> PyResult<Val> {
    let m = &mut it.m;
    match name {
        "append" => {
            a.no_kw()?;
            a.count(1, 1)?;
            let len = l.borrow().len();
            m.check_list(len + 1)?;
            m.mutated_list(l);
            l.borrow_mut().push(a.p(0)?.clone());
            Ok(Val::None)
        }
        "extend" => {
            a.no_kw()?;
            a.count(1, 1)?;
            let items = iterate(a.p(0)?, m)?;
            let len = l.borrow().len();
            m.check_list_opt(len.checked_add(items.len()))?;
            m.mutated_list(l);
            l.borrow_mut().extend(items);
            Ok(Val::None)
        }
        "insert" => {
            a.no_kw()?;
            a.count(2, 2)?;
            let i = a.int_arg(0, "")?;
            let len = l.borrow().len();
            m.check_list(len + 1)?;
            m.work(len)?;
            let n = len as i64;
            let idx = if i < 0 {
                (i.saturating_add(n)).max(0)
            } else {
                i.min(n)
            } as usize;
            m.mutated_list(l);
            l.borrow_mut().insert(idx.min(len), a.p(1)?.clone());
            Ok(Val::None)
        }
        "pop" => {
            a.no_kw()?;
            a.count(0, 1)?;
            let len = l.borrow().len();
            if len == 0 {
                return Err(PyErr::new("IndexError", "pop from empty list"));
            }
            let i = ops::seq_index(a.opt_int(0, "")?.unwrap_or(-1), len, "pop")?;
            m.work(len - i)?;
            let v = l.borrow_mut().remove(i);
            Ok(v)
        }
        "index" | "count" => {
            a.count(1, 1)?;
            let items = l.borrow().clone();
            seq_search(m, &items, a.p(0)?, name, "list")
        }
        "remove" => {
            a.count(1, 1)?;
            let items = l.borrow().clone();
            let Val::Int(i) = seq_search(m, &items, a.p(0)?, "index", "list")
                .map_err(|_| PyErr::value_err("list.remove(x): x not in list"))?
            else {
                return Ok(Val::None);
            };
            let removed = {
                let mut lm = l.borrow_mut();
                if (i as usize) < lm.len() {
                    Some(lm.remove(i as usize))
                } else {
                    None
                }
            };
            drop(removed);
            Ok(Val::None)
        }
        "reverse" => {
            a.count(0, 0)?;
            m.work(l.borrow().len())?;
            l.borrow_mut().reverse();
            Ok(Val::None)
        }
        _ => {
            // sort
            a.check_kw(&["cmp", "key", "reverse"])?;
            a.count(0, 3)?;
            let (cmp, key) = (a.get(0, "cmp").cloned(), a.get(1, "key").cloned());
            let rev = a.get(2, "reverse").is_some_and(|v| v.truthy());
            let mut items = l.borrow().clone();
            sort_values(it, &mut items, cmp, key, rev)?;
            *l.borrow_mut() = items;
            Ok(Val::None)
        }
    }
}

fn dict_method(
    m: &mut Meter,
    recv: &Val,
    d: &super::val::DictRef,
    name: &str,
    a: &Args,
) -> PyResult<Val> {
    match name {
        "get" => {
            a.no_kw()?;
            a.count(1, 2)?;
            Ok(ops::dict_get(d, a.p(0)?, m)?
                .unwrap_or_else(|| a.pos.get(1).cloned().unwrap_or(Val::None)))
        }
        "has_key" => {
            a.count(1, 1)?;
            Ok(Val::Bool(ops::dict_get(d, a.p(0)?, m)?.is_some()))
        }
        "keys" | "iterkeys" | "values" | "itervalues" | "items" | "iteritems" => {
            a.count(0, 0)?;
            let items = d.borrow().clone();
            m.work(items.len())?;
            Ok(Val::list(
                items
                    .into_iter()
                    .map(|(k, v)| match name {
                        "keys" | "iterkeys" => k,
                        "values" | "itervalues" => v,
                        _ => Val::tuple(vec![k, v]),
                    })
                    .collect(),
            ))
        }
        "update" => {
            if a.pos.len() > 1 {
                return Err(PyErr::type_err(format!(
                    "update expected at most 1 arguments, got {}",
                    a.pos.len()
                )));
            }
            if let Some(Val::Dict(src)) = a.pos.first() {
                let items = src.borrow().clone();
                ops::dict_merge(d, items, m)?;
            } else if let Some(other) = a.pos.first() {
                return Err(PyErr::type_err(format!(
                    "dict.update() needs a dict, not {}",
                    other.type_name()
                )));
            }
            let kwargs = kwargs_dict(&a.kw, m)?;
            if !kwargs.is_empty() {
                ops::dict_merge(d, kwargs, m)?;
            }
            Ok(Val::None)
        }
        "pop" => {
            a.count(1, 2)?;
            let key = a.p(0)?;
            match ops::dict_get(d, key, m)? {
                Some(v) => {
                    del_item(recv, key, m)?;
                    Ok(v)
                }
                None => match a.pos.get(1) {
                    Some(default) => Ok(default.clone()),
                    None => Err(PyErr::new("KeyError", ops::repr(key, m)?)),
                },
            }
        }
        "setdefault" => {
            a.count(1, 2)?;
            match ops::dict_get(d, a.p(0)?, m)? {
                Some(v) => Ok(v),
                None => {
                    let v = a.pos.get(1).cloned().unwrap_or(Val::None);
                    ops::dict_set(d, a.p(0)?.clone(), v.clone(), m)?;
                    Ok(v)
                }
            }
        }
        "copy" => {
            a.count(0, 0)?;
            let copy = Val::dict(Vec::new());
            if let Val::Dict(c) = &copy {
                ops::dict_merge(c, d.borrow().clone(), m)?;
            }
            Ok(copy)
        }
        _ => {
            a.count(0, 0)?;
            ops::dict_clear(d);
            Ok(Val::None)
        }
    }
}
