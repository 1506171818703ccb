//! Python 2 semantics of values: equality and ordering, `repr`/`str`, arithmetic, containment,
//! indexing and slicing, and `%` formatting. Every operation whose cost grows with its operands
//! charges a [`Meter`], so the step budget bounds time as well as loop counts.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::rc::Rc;

use super::ast::BinOp;
use super::budget::Meter;
use super::err::{PyErr, PyResult};
use super::val::{MAX_DATA_DEPTH, Val};

fn too_deep() -> PyErr {
    PyErr::new(
        "RuntimeError",
        "maximum recursion depth exceeded in comparison",
    )
}

fn num_f64(v: &Val) -> Option<f64> {
    match v {
        Val::Float(f) => Some(*f),
        _ => v.as_int().map(|i| i as f64),
    }
}

fn is_num(v: &Val) -> bool {
    matches!(v, Val::Int(_) | Val::Long(_) | Val::Bool(_) | Val::Float(_))
}

/// `a == b`.
pub(crate) fn eq(a: &Val, b: &Val, m: &mut Meter) -> PyResult<bool> {
    eq_at(a, b, m, 0)
}

fn eq_at(a: &Val, b: &Val, m: &mut Meter, depth: usize) -> PyResult<bool> {
    if depth > MAX_DATA_DEPTH {
        return Err(too_deep());
    }
    Ok(match (a, b) {
        (Val::None, Val::None) => true,
        (Val::Float(_), _) | (_, Val::Float(_)) if is_num(a) && is_num(b) => {
            num_f64(a) == num_f64(b)
        }
        _ if is_num(a) && is_num(b) => a.as_int() == b.as_int(),
        (Val::Str(x) | Val::Unicode(x), Val::Str(y) | Val::Unicode(y)) => {
            m.work(x.len().min(y.len()))?;
            x == y
        }
        (Val::List(x), Val::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            seq_eq(&x, &y, m, depth)?
        }
        // CPython compares items with an identity shortcut.
        (Val::Tuple(x), Val::Tuple(y)) => Rc::ptr_eq(x, y) || seq_eq(x, y, m, depth)?,
        (Val::Dict(x), Val::Dict(y)) => {
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in &x {
                let mut found = false;
                for (k2, v2) in &y {
                    m.tick(1)?;
                    if eq_at(k, k2, m, depth + 1)? {
                        found = eq_at(v, v2, m, depth + 1)?;
                        break;
                    }
                }
                if !found {
                    return Ok(false);
                }
            }
            true
        }
        (Val::Builtin(x), Val::Builtin(y)) | (Val::Module(x), Val::Module(y)) => x == y,
        (Val::ExcClass(x), Val::ExcClass(y)) => x == y,
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Environ, Val::Environ) => true,
        (Val::Vars(x), Val::Vars(y)) => Rc::ptr_eq(x, y),
        _ => false,
    })
}

fn seq_eq(x: &[Val], y: &[Val], m: &mut Meter, depth: usize) -> PyResult<bool> {
    if x.len() != y.len() {
        return Ok(false);
    }
    for (a, b) in x.iter().zip(y) {
        m.tick(1)?;
        if !eq_at(a, b, m, depth + 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Python 2 ordering: numbers by value, sequences lexicographically, None first, and
/// otherwise by type name (as CPython 2 did for unrelated types).
pub(crate) fn cmp(a: &Val, b: &Val, m: &mut Meter) -> PyResult<Ordering> {
    cmp_at(a, b, m, 0)
}

fn cmp_at(a: &Val, b: &Val, m: &mut Meter, depth: usize) -> PyResult<Ordering> {
    if depth > MAX_DATA_DEPTH {
        return Err(too_deep());
    }
    if is_num(a) && is_num(b) {
        if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
            return Ok(x.cmp(&y));
        }
        let (x, y) = (num_f64(a).unwrap_or(0.0), num_f64(b).unwrap_or(0.0));
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    Ok(match (a, b) {
        (Val::None, Val::None) => Ordering::Equal,
        (Val::None, _) => Ordering::Less,
        (_, Val::None) => Ordering::Greater,
        (Val::Str(x) | Val::Unicode(x), Val::Str(y) | Val::Unicode(y)) => {
            m.work(x.len().min(y.len()))?;
            x.cmp(y)
        }
        (Val::List(x), Val::List(y)) => {
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            seq_cmp(&x, &y, m, depth)?
        }
        (Val::Tuple(x), Val::Tuple(y)) => seq_cmp(x, y, m, depth)?,
        (Val::Dict(x), Val::Dict(y)) => x.borrow().len().cmp(&y.borrow().len()),
        _ => {
            // Numbers sort before everything else; other types by name.
            let key = |v: &Val| if is_num(v) { "" } else { v.type_name() };
            key(a).cmp(key(b))
        }
    })
}

fn seq_cmp(x: &[Val], y: &[Val], m: &mut Meter, depth: usize) -> PyResult<Ordering> {
    for (a, b) in x.iter().zip(y) {
        m.tick(1)?;
        if !eq_at(a, b, m, depth + 1)? {
            return cmp_at(a, b, m, depth + 1);
        }
    }
    Ok(x.len().cmp(&y.len()))
}

/// Stable merge sort with a fallible comparison (no panics on inconsistent orders, and every
/// comparison can charge the budget).
pub(crate) fn sort_by<T: Clone>(
    items: &mut Vec<T>,
    mut cmp: impl FnMut(&T, &T) -> PyResult<Ordering>,
) -> PyResult<()> {
    let n = items.len();
    if n < 2 {
        return Ok(());
    }
    let mut src: Vec<T> = std::mem::take(items);
    let mut width = 1;
    while width < n {
        let mut dst: Vec<T> = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                if cmp(&src[j], &src[i])? == Ordering::Less {
                    dst.push(src[j].clone());
                    j += 1;
                } else {
                    dst.push(src[i].clone());
                    i += 1;
                }
            }
            dst.extend_from_slice(&src[i..mid]);
            dst.extend_from_slice(&src[j..end]);
            start = end;
        }
        src = dst;
        width = width.saturating_mul(2);
    }
    *items = src;
    Ok(())
}

// ---- repr and str ----

/// `repr(v)`, bounded by the string limit.
pub(crate) fn repr(v: &Val, m: &mut Meter) -> PyResult<String> {
    let mut out = String::new();
    let mut seen = Vec::new();
    write_repr(v, m, &mut out, &mut seen)?;
    Ok(out)
}

/// `str(v)`.
pub(crate) fn to_str(v: &Val, m: &mut Meter) -> PyResult<String> {
    Ok(match v {
        Val::Str(s) | Val::Unicode(s) => s.to_string(),
        Val::Float(f) => float_str(*f),
        Val::Long(i) => i.to_string(),
        Val::Exc(e) => e.1.clone(),
        _ => repr(v, m)?,
    })
}

fn write_repr(v: &Val, m: &mut Meter, out: &mut String, seen: &mut Vec<usize>) -> PyResult<()> {
    if seen.len() > MAX_DATA_DEPTH {
        return Err(PyErr::new(
            "RuntimeError",
            "maximum recursion depth exceeded while getting the repr of a list",
        ));
    }
    m.check_str(out.len())?;
    m.tick(1)?;
    match v {
        Val::None => out.push_str("None"),
        Val::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Long(i) => {
            let _ = write!(out, "{i}L");
        }
        Val::Float(f) => out.push_str(&float_repr(*f)),
        Val::Str(s) => {
            m.work(s.len())?;
            str_repr(s, out)
        }
        Val::Unicode(s) => {
            m.work(s.len())?;
            out.push('u');
            unicode_repr(s, out)
        }
        Val::List(l) => {
            let id = Rc::as_ptr(l) as *const u8 as usize;
            if seen.contains(&id) {
                out.push_str("[...]");
                return Ok(());
            }
            seen.push(id);
            let items = l.borrow().clone();
            out.push('[');
            write_reprs(&items, m, out, seen)?;
            out.push(']');
            seen.pop();
        }
        Val::Tuple(t) => {
            seen.push(0);
            out.push('(');
            write_reprs(t, m, out, seen)?;
            if t.len() == 1 {
                out.push(',');
            }
            out.push(')');
            seen.pop();
        }
        Val::Dict(d) => {
            let id = Rc::as_ptr(d) as *const u8 as usize;
            if seen.contains(&id) {
                out.push_str("{...}");
                return Ok(());
            }
            seen.push(id);
            let items = d.borrow().clone();
            out.push('{');
            for (i, (k, x)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(k, m, out, seen)?;
                out.push_str(": ");
                write_repr(x, m, out, seen)?;
            }
            out.push('}');
            seen.pop();
        }
        Val::Func(f) => {
            let _ = write!(out, "<function {}>", f.def.name);
        }
        Val::Builtin(n) => {
            let _ = write!(
                out,
                "<built-in function {}>",
                n.rsplit('.').next().unwrap_or(n)
            );
        }
        Val::Method(b) => {
            let _ = write!(out, "<bound method {}.{}>", b.recv.type_name(), b.name);
        }
        Val::Module(n) => {
            let _ = write!(out, "<module '{n}'>");
        }
        Val::ExcClass(n) => {
            let _ = write!(out, "<type 'exceptions.{n}'>");
        }
        Val::Exc(e) => {
            out.push_str(e.0);
            out.push('(');
            if !e.1.is_empty() {
                str_repr(&e.1, out);
                out.push(',');
            }
            out.push(')');
        }
        Val::Match(_) => out.push_str("<_sre.SRE_Match object>"),
        Val::Pattern(p) => {
            out.push_str("re.compile(");
            str_repr(p.as_str(), out);
            out.push(')');
        }
        Val::Vars(_) => out.push_str("<xen.xm.help.Vars instance>"),
        Val::Environ => out.push_str("{}"),
    }
    m.check_str(out.len())
}

/// The `repr()`s of `items`, separated by `, ` (a list's or tuple's insides).
fn write_reprs(
    items: &[Val],
    m: &mut Meter,
    out: &mut String,
    seen: &mut Vec<usize>,
) -> PyResult<()> {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_repr(x, m, out, seen)?;
    }
    Ok(())
}

/// Python 2 `repr()` of a byte string: single quotes unless the text has `'` and no `"`.
pub(crate) fn str_repr(s: &str, out: &mut String) {
    quoted_repr(s, out, |c, out| {
        // A Python 2 str holds bytes: show each byte of the UTF-8 encoding.
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            let _ = write!(out, "\\x{b:02x}");
        }
    });
}

/// `repr` of a `str`, for error messages.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::new();
    str_repr(s, &mut out);
    out
}

/// Python 2 `repr()` of a unicode string (the caller writes the `u` prefix).
fn unicode_repr(s: &str, out: &mut String) {
    quoted_repr(s, out, |c, out| {
        let _ = if (c as u32) < 0x10000 {
            write!(out, "\\u{:04x}", c as u32)
        } else {
            write!(out, "\\U{:08x}", c as u32)
        };
    });
}

/// The quoting both `repr()`s share: the quote character, backslash escapes, printable ASCII
/// as is and `\xHH` below 256. `wide` writes a character from 256 up.
fn quoted_repr(s: &str, out: &mut String, wide: impl Fn(char, &mut String)) {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (' '..'\x7f').contains(&c) => out.push(c),
            c if (c as u32) < 0x100 => {
                // `\xHH` escapes make characters below 256: show them as the byte they were.
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => wide(c, out),
        }
    }
    out.push(q);
}

/// Shortest digits and decimal exponent of a finite float: (negative, digits, exponent) with
/// value = 0.d1d2d3... * 10^(exp+1), i.e. `exp` is the scientific exponent.
fn shortest(f: f64) -> (bool, String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (f.is_sign_negative(), digits, exp.parse().unwrap_or(0))
}

fn non_finite(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("nan".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "inf".into() } else { "-inf".into() })
    } else {
        None
    }
}

/// Python 2.7 `repr(float)`: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub(crate) fn float_repr(f: f64) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    let (neg, digits, exp) = shortest(f);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    }
    out
}

/// Python 2.7 `str(float)`: `%.12g`, with `.0` added to integral values.
pub(crate) fn float_str(f: f64) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    // CPython's `format_float_short` with Py_DTSF_ADD_DOT_0 switches to exponent form one
    // digit earlier than plain `%g`.
    let x = if f == 0.0 {
        0
    } else {
        let s = format!("{:.11e}", f);
        s.split_once('e')
            .and_then(|(_, e)| e.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let mut s = if !(-4..11).contains(&x) {
        fmt_e(f, 11, false)
    } else {
        fmt_f(f, (11 - x).max(0) as usize)
    };
    let (mant, exp) = match s.find('e') {
        Some(i) => (s[..i].to_string(), s[i..].to_string()),
        None => (s.clone(), String::new()),
    };
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        mant
    };
    s = mant + &exp;
    if !s.contains(['.', 'e']) {
        s.push_str(".0");
    }
    s
}

/// `%e` body (no sign handling beyond Rust's), Python's two-digit exponent.
fn fmt_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = non_finite(f) {
        return if upper { s.to_uppercase() } else { s };
    }
    let s = format!("{:.*e}", prec, f);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!(
        "{mant}{}{}{:02}",
        if upper { 'E' } else { 'e' },
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    )
}

fn fmt_f(f: f64, prec: usize) -> String {
    if let Some(s) = non_finite(f) {
        return s;
    }
    format!("{:.*}", prec, f)
}

fn fmt_g(f: f64, prec: usize, upper: bool, alt: bool) -> String {
    if let Some(s) = non_finite(f) {
        return if upper { s.to_uppercase() } else { s };
    }
    let p = prec.max(1);
    let x = if f == 0.0 {
        0
    } else {
        let s = format!("{:.*e}", p - 1, f);
        s.split_once('e')
            .and_then(|(_, e)| e.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let mut s = if x >= -4 && x < p as i64 {
        fmt_f(f, (p as i64 - 1 - x).max(0) as usize)
    } else {
        fmt_e(f, p - 1, upper)
    };
    if !alt {
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (s[..i].to_string(), s[i..].to_string()),
            None => (s.clone(), String::new()),
        };
        let mant = if mant.contains('.') {
            mant.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            mant
        };
        s = mant + &exp;
    }
    s
}

// ---- arithmetic ----

fn zero_div(float: bool) -> PyErr {
    PyErr::new(
        "ZeroDivisionError",
        if float {
            "float division by zero"
        } else {
            "integer division or modulo by zero"
        },
    )
}

fn unsupported_operands(op: BinOp, a: &Val, b: &Val) -> PyErr {
    // CPython 2's own wording for `+` on sequences.
    if op == BinOp::Add {
        match a {
            Val::Str(_) | Val::Unicode(_) => {
                return PyErr::type_err(format!(
                    "cannot concatenate '{}' and '{}' objects",
                    a.type_name(),
                    b.type_name()
                ));
            }
            Val::List(_) | Val::Tuple(_) => {
                return PyErr::type_err(format!(
                    "can only concatenate {} (not \"{}\") to {}",
                    a.type_name(),
                    b.type_name(),
                    a.type_name()
                ));
            }
            _ => {}
        }
    }
    PyErr::type_err(format!(
        "unsupported operand type(s) for {}: '{}' and '{}'",
        op.symbol(),
        a.type_name(),
        b.type_name()
    ))
}

/// Integer result type: long if either side is long.
fn int_result(a: &Val, b: &Val, v: i64) -> Val {
    if matches!(a, Val::Long(_)) || matches!(b, Val::Long(_)) {
        Val::Long(v)
    } else {
        Val::Int(v)
    }
}

fn floor_div(x: i64, y: i64) -> PyResult<i64> {
    if y == 0 {
        return Err(zero_div(false));
    }
    let q = x.checked_div(y).ok_or_else(PyErr::overflow)?;
    if (x % y != 0) && ((x < 0) != (y < 0)) {
        q.checked_sub(1).ok_or_else(PyErr::overflow)
    } else {
        Ok(q)
    }
}

fn py_mod(x: i64, y: i64) -> PyResult<i64> {
    if y == 0 {
        return Err(zero_div(false));
    }
    let r = x.checked_rem(y).unwrap_or(0);
    Ok(if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    })
}

fn float_mod(x: f64, y: f64) -> PyResult<f64> {
    if y == 0.0 {
        return Err(PyErr::new("ZeroDivisionError", "float modulo"));
    }
    let r = x % y;
    Ok(if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
        r + y
    } else {
        r
    })
}

/// Repeat a sequence `n` times, checking the size first.
fn repeat<T: Clone>(
    items: &[T],
    n: i64,
    max: usize,
    m: &mut Meter,
    what: &str,
) -> PyResult<Vec<T>> {
    if items.is_empty() || n <= 0 {
        // `'' * 10**18` is empty at once (found by the fuzzer: it used to loop n times).
        return Ok(Vec::new());
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let total = items.len().checked_mul(n);
    match total {
        Some(t) if t <= max => {
            m.work(t)?;
            let mut out = Vec::with_capacity(t);
            for _ in 0..n {
                out.extend_from_slice(items);
            }
            Ok(out)
        }
        _ => Err(PyErr::limit(format!(
            "{what} of {} x {n} items exceeds the limit of {max}",
            items.len()
        ))),
    }
}

fn str_val(like: &Val, s: String) -> Val {
    if matches!(like, Val::Unicode(_)) {
        Val::Unicode(Rc::from(s))
    } else {
        Val::string(s)
    }
}

pub(crate) fn binary(op: BinOp, a: &Val, b: &Val, m: &mut Meter) -> PyResult<Val> {
    // Strings and sequences first.
    match (op, a, b) {
        (BinOp::Add, Val::Str(x) | Val::Unicode(x), Val::Str(y) | Val::Unicode(y)) => {
            let len = m.check_str_opt(x.len().checked_add(y.len()))?;
            m.work(len)?;
            let mut s = String::with_capacity(len);
            s.push_str(x);
            s.push_str(y);
            let uni = matches!(a, Val::Unicode(_)) || matches!(b, Val::Unicode(_));
            return Ok(if uni {
                Val::Unicode(Rc::from(s))
            } else {
                Val::string(s)
            });
        }
        (BinOp::Add, Val::List(x), Val::List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            let len = m.check_list_opt(x.len().checked_add(y.len()))?;
            m.work(len)?;
            let mut v = Vec::with_capacity(len);
            v.extend_from_slice(&x);
            v.extend_from_slice(&y);
            return Ok(Val::list(v));
        }
        (BinOp::Add, Val::Tuple(x), Val::Tuple(y)) => {
            let len = m.check_list_opt(x.len().checked_add(y.len()))?;
            m.work(len)?;
            let mut v = Vec::with_capacity(len);
            v.extend_from_slice(x);
            v.extend_from_slice(y);
            return Ok(Val::tuple(v));
        }
        (BinOp::Mul, Val::Str(_) | Val::Unicode(_), Val::Int(_) | Val::Long(_) | Val::Bool(_))
        | (BinOp::Mul, Val::Int(_) | Val::Long(_) | Val::Bool(_), Val::Str(_) | Val::Unicode(_)) => {
            let (s, n) = if let Some(s) = a.as_str() {
                (s, b.as_int())
            } else {
                (b.as_str().unwrap_or(""), a.as_int())
            };
            let like = if a.as_str().is_some() { a } else { b };
            let n = n.unwrap_or(0);
            let r = repeat(s.as_bytes(), n, m.max_str, m, "a string")?;
            return Ok(str_val(like, String::from_utf8(r).unwrap_or_default()));
        }
        (BinOp::Mul, Val::List(_) | Val::Tuple(_), Val::Int(_) | Val::Long(_) | Val::Bool(_))
        | (BinOp::Mul, Val::Int(_) | Val::Long(_) | Val::Bool(_), Val::List(_) | Val::Tuple(_)) => {
            let (seq, n) = if b.as_int().is_some() {
                (a, b.as_int())
            } else {
                (b, a.as_int())
            };
            let n = n.unwrap_or(0);
            return Ok(match seq {
                Val::List(l) => {
                    let items = l.borrow().clone();
                    Val::list(repeat(&items, n, m.max_list, m, "a list")?)
                }
                Val::Tuple(t) => Val::tuple(repeat(t, n, m.max_list, m, "a tuple")?),
                _ => return Err(unsupported_operands(op, a, b)),
            });
        }
        (BinOp::Mod, Val::Str(s) | Val::Unicode(s), _) => {
            let r = percent_format(s, b, m)?;
            let uni = matches!(a, Val::Unicode(_)) || matches!(b, Val::Unicode(_));
            return Ok(if uni {
                Val::Unicode(Rc::from(r))
            } else {
                Val::string(r)
            });
        }
        _ => {}
    }
    if !(is_num(a) && is_num(b)) {
        return Err(unsupported_operands(op, a, b));
    }
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        let ov = PyErr::overflow;
        let v = match op {
            BinOp::Add => x.checked_add(y).ok_or_else(ov)?,
            BinOp::Sub => x.checked_sub(y).ok_or_else(ov)?,
            BinOp::Mul => x.checked_mul(y).ok_or_else(ov)?,
            BinOp::Div | BinOp::FloorDiv => floor_div(x, y)?,
            BinOp::Mod => py_mod(x, y)?,
            BinOp::Pow => {
                if y < 0 {
                    if x == 0 {
                        return Err(PyErr::new(
                            "ZeroDivisionError",
                            "0.0 cannot be raised to a negative power",
                        ));
                    }
                    return Ok(Val::Float((x as f64).powf(y as f64)));
                }
                let e = u32::try_from(y).map_err(|_| ov())?;
                x.checked_pow(e).ok_or_else(ov)?
            }
            BinOp::LShift => {
                if y < 0 {
                    return Err(PyErr::value_err("negative shift count"));
                }
                if x == 0 {
                    0
                } else {
                    let sh = u32::try_from(y).ok().filter(|s| *s < 64).ok_or_else(ov)?;
                    let r = x.checked_shl(sh).ok_or_else(ov)?;
                    if r >> sh != x {
                        return Err(ov());
                    }
                    r
                }
            }
            BinOp::RShift => {
                if y < 0 {
                    return Err(PyErr::value_err("negative shift count"));
                }
                x >> y.min(63)
            }
            BinOp::BitAnd => x & y,
            BinOp::BitOr => x | y,
            BinOp::BitXor => x ^ y,
        };
        if matches!(
            (op, a, b),
            (
                BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor,
                Val::Bool(_),
                Val::Bool(_)
            )
        ) {
            return Ok(Val::Bool(v != 0));
        }
        return Ok(int_result(a, b, v));
    }
    let (x, y) = (num_f64(a).unwrap_or(0.0), num_f64(b).unwrap_or(0.0));
    let v = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero_div(true));
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(PyErr::new("ZeroDivisionError", "float divmod()"));
            }
            (x / y).floor()
        }
        BinOp::Mod => float_mod(x, y)?,
        BinOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return Err(PyErr::new(
                    "ZeroDivisionError",
                    "0.0 cannot be raised to a negative power",
                ));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(PyErr::value_err(
                    "negative number cannot be raised to a fractional power",
                ));
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(PyErr::new(
                    "OverflowError",
                    "(34, 'Numerical result out of range')",
                ));
            }
            r
        }
        _ => return Err(unsupported_operands(op, a, b)),
    };
    Ok(Val::Float(v))
}

/// `x in container`.
pub(crate) fn contains(container: &Val, x: &Val, m: &mut Meter) -> PyResult<bool> {
    match container {
        Val::Str(s) | Val::Unicode(s) => {
            let Some(needle) = x.as_str() else {
                return Err(PyErr::type_err(format!(
                    "'in <string>' requires string as left operand, not {}",
                    x.type_name()
                )));
            };
            m.work(s.len())?;
            Ok(s.contains(needle))
        }
        Val::List(l) => {
            let items = l.borrow().clone();
            for v in &items {
                m.tick(1)?;
                if eq(v, x, m)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Val::Tuple(t) => {
            for v in t.iter() {
                m.tick(1)?;
                if eq(v, x, m)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Val::Dict(d) => Ok(dict_get(d, x, m)?.is_some()),
        Val::Environ => Ok(false),
        _ => Err(PyErr::type_err(format!(
            "argument of type '{}' is not iterable",
            container.type_name()
        ))),
    }
}

/// CPython 2.7's `hash()`, charged by the number of values it visited.
fn hash(v: &Val, m: &mut Meter) -> PyResult<i64> {
    let (h, nodes) = super::pydict::hash_counted(v)?;
    m.work(nodes as usize)?;
    Ok(h)
}

pub(crate) fn dict_index(d: &[(Val, Val)], key: &Val, m: &mut Meter) -> PyResult<Option<usize>> {
    hash(key, m)?;
    for (i, (k, _)) in d.iter().enumerate() {
        m.tick(1)?;
        if eq(k, key, m)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

pub(crate) fn dict_get(d: &super::val::DictRef, key: &Val, m: &mut Meter) -> PyResult<Option<Val>> {
    let items = d.borrow().clone();
    Ok(dict_index(&items, key, m)?.map(|i| items[i].1.clone()))
}

/// `d[key] = v` (PyDict_SetItem).
pub(crate) fn dict_set(d: &super::val::DictRef, key: Val, v: Val, m: &mut Meter) -> PyResult<()> {
    dict_store(d, key, v, m, true)
}

fn dict_store(
    d: &super::val::DictRef,
    key: Val,
    v: Val,
    m: &mut Meter,
    resize_check: bool,
) -> PyResult<()> {
    m.mutated_dict(d);
    let idx = {
        let items = d.borrow().clone();
        dict_index(&items, &key, m)?
    };
    match idx {
        Some(i) => {
            let old = {
                let mut items = d.borrow_mut();
                items
                    .get_mut(i)
                    .map(|slot| std::mem::replace(&mut slot.1, v))
            };
            drop(old);
        }
        None => {
            let len = d.borrow().len();
            m.check_list(len + 1)?;
            m.work(len)?;
            let h = hash(&key, m)?;
            m.work(d.1.borrow().capacity())?;
            let mut t = d.1.borrow_mut();
            let mut items = d.0.borrow_mut();
            super::pydict::insert_new(&mut t, &mut items, h, (key, v), resize_check);
        }
    }
    Ok(())
}

/// `d.update(src)` / `dict(src)` / `d.copy()` (PyDict_Merge: presize once, then insert in the
/// source's order).
pub(crate) fn dict_merge(
    d: &super::val::DictRef,
    src: Vec<(Val, Val)>,
    m: &mut Meter,
) -> PyResult<()> {
    {
        let mut t = d.1.borrow_mut();
        let mut items = d.0.borrow_mut();
        super::pydict::merge_presize(&mut t, &mut items, src.len());
    }
    for (k, v) in src {
        dict_store(d, k, v, m, false)?;
    }
    Ok(())
}

/// Remove the entry at `idx` (its slot becomes a dummy, as in CPython).
pub(crate) fn dict_remove(d: &super::val::DictRef, idx: usize) -> Option<(Val, Val)> {
    let mut t = d.1.borrow_mut();
    let mut items = d.0.borrow_mut();
    super::pydict::remove(&mut t, &mut items, idx)
}

/// `d.clear()`.
pub(crate) fn dict_clear(d: &super::val::DictRef) {
    *d.1.borrow_mut() = super::pydict::Table::default();
    let old = std::mem::take(&mut *d.0.borrow_mut());
    drop(old);
}

/// Normalise a Python index against a length.
pub(crate) fn seq_index(i: i64, len: usize, what: &str) -> PyResult<usize> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let j = if i < 0 {
        i.checked_add(len_i).unwrap_or(-1)
    } else {
        i
    };
    if j < 0 || j >= len_i {
        return Err(PyErr::new(
            "IndexError",
            format!("{what} index out of range"),
        ));
    }
    Ok(j as usize)
}

/// The indices a slice selects.
pub(crate) fn slice_indices(
    len: usize,
    lo: Option<i64>,
    hi: Option<i64>,
    step: Option<i64>,
) -> PyResult<Vec<usize>> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(PyErr::value_err("slice step cannot be zero"));
    }
    let n = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |v: i64, lo_b: i64, hi_b: i64| -> i64 {
        let v = if v < 0 { v.saturating_add(n) } else { v };
        v.clamp(lo_b, hi_b)
    };
    let mut out = Vec::new();
    if step > 0 {
        let start = lo.map_or(0, |v| clamp(v, 0, n));
        let stop = hi.map_or(n, |v| clamp(v, 0, n));
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            i = match i.checked_add(step) {
                Some(x) => x,
                None => break,
            };
        }
    } else {
        let start = lo.map_or(n - 1, |v| clamp(v, -1, n - 1));
        let stop = hi.map_or(-1, |v| clamp(v, -1, n - 1));
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            i = match i.checked_add(step) {
                Some(x) => x,
                None => break,
            };
        }
    }
    Ok(out)
}

// ---- % formatting ----

struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
}

fn pad(spec: &Spec, body: String, numeric: bool, m: &Meter) -> PyResult<String> {
    m.check_str(spec.width)?;
    let len = body.chars().count();
    if len >= spec.width {
        return Ok(body);
    }
    let fill = spec.width - len;
    if spec.left {
        return Ok(body + &" ".repeat(fill));
    }
    if spec.zero && numeric {
        // Zeros go after the sign (and 0x prefix).
        let sign_len = body
            .chars()
            .take_while(|c| matches!(c, '-' | '+' | ' '))
            .count();
        let (sign, rest) = body.split_at(sign_len);
        let (prefix, rest) = if rest.starts_with("0x") || rest.starts_with("0X") {
            rest.split_at(2)
        } else {
            ("", rest)
        };
        return Ok(format!("{sign}{prefix}{}{rest}", "0".repeat(fill)));
    }
    Ok(" ".repeat(fill) + &body)
}

fn sign_of(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn number_required(conv: char, v: &Val) -> PyErr {
    PyErr::type_err(format!(
        "%{conv} format: a number is required, not {}",
        v.type_name()
    ))
}

fn format_one(conv: char, spec: &Spec, v: &Val, m: &mut Meter) -> PyResult<String> {
    let body = match conv {
        's' | 'r' => {
            let mut s = if conv == 's' {
                to_str(v, m)?
            } else {
                repr(v, m)?
            };
            if let Some(p) = spec.prec {
                s = s.chars().take(p).collect();
            }
            return pad(spec, s, false, m);
        }
        'd' | 'i' | 'u' => {
            let i = match v {
                Val::Float(f) => {
                    if !f.is_finite() || f.abs() >= 9.2e18 {
                        return Err(PyErr::overflow());
                    }
                    f.trunc() as i64
                }
                _ => v.as_int().ok_or_else(|| number_required(conv, v))?,
            };
            let mut digits = i.unsigned_abs().to_string();
            if let Some(p) = spec.prec {
                m.check_str(p)?;
                if digits.len() < p {
                    digits = "0".repeat(p - digits.len()) + &digits;
                }
            }
            format!("{}{digits}", sign_of(i < 0, spec))
        }
        'x' | 'X' | 'o' => {
            let i = match v {
                Val::Float(f) => {
                    if !f.is_finite() || f.abs() >= 9.2e18 {
                        return Err(PyErr::overflow());
                    }
                    f.trunc() as i64
                }
                _ => v.as_int().ok_or_else(|| number_required(conv, v))?,
            };
            let a = i.unsigned_abs();
            let mut digits = match conv {
                'x' => format!("{a:x}"),
                'X' => format!("{a:X}"),
                _ => format!("{a:o}"),
            };
            if let Some(p) = spec.prec {
                m.check_str(p)?;
                if digits.len() < p {
                    digits = "0".repeat(p - digits.len()) + &digits;
                }
            }
            let prefix = match (spec.alt, conv) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, _) if !digits.starts_with('0') => "0",
                _ => "",
            };
            format!("{}{prefix}{digits}", sign_of(i < 0, spec))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let f = match v {
                Val::Float(f) => *f,
                _ => v.as_int().ok_or_else(|| number_required(conv, v))? as f64,
            };
            let prec = spec.prec.unwrap_or(6);
            if prec > 200 {
                return Err(PyErr::new(
                    "OverflowError",
                    "formatted float is too long (precision too large)",
                ));
            }
            let a = f.abs();
            let body = match conv {
                'e' | 'E' => fmt_e(a, prec, conv == 'E'),
                'f' | 'F' if a < 1e50 => fmt_f(a, prec),
                'f' | 'F' => fmt_g(a, prec, conv == 'F', spec.alt),
                _ => fmt_g(a, prec, conv == 'G', spec.alt),
            };
            format!(
                "{}{body}",
                sign_of(f.is_sign_negative() && !f.is_nan(), spec)
            )
        }
        'c' => {
            let s = match v {
                Val::Str(s) | Val::Unicode(s) if s.chars().count() == 1 => s.to_string(),
                Val::Str(_) | Val::Unicode(_) => {
                    return Err(PyErr::type_err("%c requires int or char"));
                }
                _ => {
                    let i = v
                        .as_int()
                        .ok_or_else(|| PyErr::type_err("an integer is required"))?;
                    let c = u32::try_from(i)
                        .ok()
                        .filter(|c| *c < 256)
                        .and_then(char::from_u32)
                        .ok_or_else(|| {
                            PyErr::new(
                                "OverflowError",
                                "unsigned byte integer is greater than maximum",
                            )
                        })?;
                    c.to_string()
                }
            };
            return pad(spec, s, false, m);
        }
        other => {
            return Err(PyErr::value_err(format!(
                "unsupported format character '{other}' (0x{:x})",
                other as u32
            )));
        }
    };
    pad(spec, body, true, m)
}

/// `fmt % args` for strings.
pub(crate) fn percent_format(fmt: &str, args: &Val, m: &mut Meter) -> PyResult<String> {
    m.work(fmt.len())?;
    let (items, mapping): (Vec<Val>, Option<&super::val::DictRef>) = match args {
        Val::Tuple(t) => (t.to_vec(), None),
        Val::Dict(d) => (vec![args.clone()], Some(d)),
        other => (vec![other.clone()], None),
    };
    let mut next = 0usize;
    let mut used_mapping = false;
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let take_arg = |next: &mut usize| -> PyResult<Val> {
        let v = items
            .get(*next)
            .cloned()
            .ok_or_else(|| PyErr::type_err("not enough arguments for format string"))?;
        *next += 1;
        Ok(v)
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        m.check_str(out.len())?;
        // Mapping key.
        let mut keyed: Option<Val> = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut depth = 1;
            let mut key = String::new();
            loop {
                match chars.next() {
                    Some('(') => {
                        depth += 1;
                        key.push('(');
                    }
                    Some(')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        key.push(')');
                    }
                    Some(c) => key.push(c),
                    None => return Err(PyErr::value_err("incomplete format key")),
                }
            }
            let Some(d) = mapping else {
                return Err(PyErr::type_err("format requires a mapping"));
            };
            used_mapping = true;
            let k = Val::string(key.clone());
            keyed = Some(dict_get(d, &k, m)?.ok_or_else(|| {
                let mut r = String::new();
                str_repr(&key, &mut r);
                PyErr::new("KeyError", r)
            })?);
        }
        let mut spec = Spec {
            left: false,
            plus: false,
            space: false,
            alt: false,
            zero: false,
            width: 0,
            prec: None,
        };
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        let read_num = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
                        next: &mut usize|
         -> PyResult<Option<usize>> {
            if chars.peek() == Some(&'*') {
                chars.next();
                let v = take_arg(next)?;
                let i = v.as_int().ok_or_else(|| PyErr::type_err("* wants int"))?;
                return Ok(Some(usize::try_from(i.max(0)).unwrap_or(usize::MAX)));
            }
            let mut n: Option<usize> = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                chars.next();
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
            }
            Ok(n)
        };
        spec.width = read_num(&mut chars, &mut next)?.unwrap_or(0);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(read_num(&mut chars, &mut next)?.unwrap_or(0));
        }
        while matches!(chars.peek(), Some('h' | 'l' | 'L')) {
            chars.next();
        }
        let Some(conv) = chars.next() else {
            return Err(PyErr::value_err("incomplete format"));
        };
        if conv == '%' {
            out.push('%');
            continue;
        }
        let v = match keyed {
            Some(v) => v,
            None => take_arg(&mut next)?,
        };
        let s = format_one(conv, &spec, &v, m)?;
        m.check_str_opt(out.len().checked_add(s.len()))?;
        out.push_str(&s);
    }
    if mapping.is_none() && next < items.len() && !used_mapping {
        return Err(PyErr::type_err(
            "not all arguments converted during string formatting",
        ));
    }
    m.check_str(out.len())?;
    Ok(out)
}
