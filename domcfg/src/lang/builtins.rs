//! The builtin functions (`int`, `len`, `sorted`, `isinstance`, ...) and the modules'
//! functions (`os.path.join`, `socket.gethostname`, the `xen.util.ip` helpers): which names
//! are builtins, which are refused, and [`call_builtin`].
//!
//! Everything observable of the host goes through [`Host`](super::Host); `os.environ` is empty
//! so that configs are deterministic.

use std::rc::Rc;

use super::args::Args;
use super::budget::Meter;
use super::err::{PyErr, PyResult};
use super::interp::Interp;
use super::items::{char_count, iterate};
use super::methods::{kwargs_dict, sort_values};
use super::modules::find_static;
use super::ops::{self, quoted};
use super::regex::regex_call;
use super::val::Val;

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

        n if n.starts_with("re.") => regex_call(&mut it.m, n, a),
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
