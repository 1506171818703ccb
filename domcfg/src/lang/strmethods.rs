//! Methods of `str` (and `unicode`), with Python 2 semantics and size checks before allocating.

use std::rc::Rc;

use super::budget::Meter;
use super::err::{PyErr, PyResult};
use super::items::iterate;
use super::ops;
use super::val::Val;

fn out(uni: bool, s: String) -> Val {
    if uni {
        Val::Unicode(Rc::from(s))
    } else {
        Val::string(s)
    }
}

fn arity(name: &str, n: usize, min: usize, max: usize) -> PyResult<()> {
    if n < min || n > max {
        return Err(PyErr::type_err(format!(
            "{name}() takes {} {} argument{} ({n} given)",
            if min == max {
                "exactly"
            } else if n < min {
                "at least"
            } else {
                "at most"
            },
            if n < min { min } else { max },
            if (if n < min { min } else { max }) == 1 {
                ""
            } else {
                "s"
            }
        )));
    }
    Ok(())
}

fn str_at<'a>(name: &str, args: &'a [Val], i: usize) -> PyResult<Option<&'a str>> {
    match args.get(i) {
        None | Some(Val::None) => Ok(None),
        Some(Val::Str(s) | Val::Unicode(s)) => Ok(Some(s)),
        Some(v) => Err(PyErr::type_err(format!(
            "{name}() argument {} must be str or None, not {}",
            i + 1,
            v.type_name()
        ))),
    }
}

fn int_at(name: &str, args: &[Val], i: usize) -> PyResult<Option<i64>> {
    match args.get(i) {
        None | Some(Val::None) => Ok(None),
        Some(v) => v.as_int().map(Some).ok_or_else(|| {
            PyErr::type_err(format!(
                "{name}() argument {} must be an integer, not {}",
                i + 1,
                v.type_name()
            ))
        }),
    }
}

fn chars_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Byte offset of char index `i` (clamped).
fn byte_at(s: &str, i: usize) -> usize {
    if s.is_ascii() {
        return i.min(s.len());
    }
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}

/// The `[start:end]` window of find/count/startswith, as byte offsets.
fn window(s: &str, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let n = chars_len(s) as i64;
    let norm = |v: i64| if v < 0 { (v.saturating_add(n)).max(0) } else { v.min(n) } as usize;
    let a = start.map_or(0, norm);
    let b = end.map_or(n as usize, norm);
    (byte_at(s, a), byte_at(s, b.max(a)))
}

fn split(
    s: &str,
    sep: Option<&str>,
    maxsplit: i64,
    right: bool,
    m: &mut Meter,
) -> PyResult<Vec<String>> {
    m.work(s.len())?;
    let max = if maxsplit < 0 {
        usize::MAX
    } else {
        maxsplit as usize
    };
    let mut parts: Vec<String> = Vec::new();
    match sep {
        Some("") => return Err(PyErr::value_err("empty separator")),
        Some(sep) => {
            if right {
                let mut rest = s;
                while parts.len() < max {
                    match rest.rfind(sep) {
                        Some(i) => {
                            parts.push(rest[i + sep.len()..].to_string());
                            rest = &rest[..i];
                        }
                        None => break,
                    }
                }
                parts.push(rest.to_string());
                parts.reverse();
            } else {
                let mut rest = s;
                while parts.len() < max {
                    match rest.find(sep) {
                        Some(i) => {
                            parts.push(rest[..i].to_string());
                            rest = &rest[i + sep.len()..];
                        }
                        None => break,
                    }
                }
                parts.push(rest.to_string());
            }
        }
        None => {
            if right {
                let mut rest = s.trim_end();
                while !rest.is_empty() {
                    if parts.len() >= max {
                        parts.push(rest.to_string());
                        break;
                    }
                    match rest.rfind(char::is_whitespace) {
                        Some(i) => {
                            let ws_len = rest[i..].chars().next().map_or(1, char::len_utf8);
                            parts.push(rest[i + ws_len..].to_string());
                            rest = rest[..i].trim_end();
                        }
                        None => {
                            parts.push(rest.to_string());
                            rest = "";
                        }
                    }
                }
                parts.reverse();
            } else {
                let mut rest = s.trim_start();
                while !rest.is_empty() {
                    if parts.len() >= max {
                        parts.push(rest.to_string());
                        break;
                    }
                    match rest.find(char::is_whitespace) {
                        Some(i) => {
                            parts.push(rest[..i].to_string());
                            rest = rest[i..].trim_start();
                        }
                        None => {
                            parts.push(rest.to_string());
                            rest = "";
                        }
                    }
                }
            }
        }
    }
    m.check_list(parts.len())?;
    Ok(parts)
}

fn strip<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let pred = |c: char| match chars {
        Some(cs) => cs.contains(c),
        None => c.is_whitespace(),
    };
    let mut r = s;
    if left {
        r = r.trim_start_matches(pred);
    }
    if right {
        r = r.trim_end_matches(pred);
    }
    r
}

/// `s.format(...)`: `{}`, `{0}`, `{name}`, `{{`, `}}`, with optional `!r`/`!s`.
fn format(s: &str, args: &[Val], kw: &[(Rc<str>, Val)], m: &mut Meter) -> PyResult<String> {
    m.work(s.len())?;
    let mut out = String::new();
    let mut auto = 0usize;
    let mut cs = s.chars().peekable();
    while let Some(c) = cs.next() {
        match c {
            '{' if cs.peek() == Some(&'{') => {
                cs.next();
                out.push('{');
            }
            '}' if cs.peek() == Some(&'}') => {
                cs.next();
                out.push('}');
            }
            '}' => return Err(PyErr::value_err("Single '}' encountered in format string")),
            '{' => {
                let mut field = String::new();
                loop {
                    match cs.next() {
                        Some('}') => break,
                        Some(c) => field.push(c),
                        None => {
                            return Err(PyErr::value_err(
                                "Single '{' encountered in format string",
                            ));
                        }
                    }
                }
                let (field, conv) = match field.split_once('!') {
                    Some((f, c)) => (f.to_string(), Some(c.to_string())),
                    None => (field, None),
                };
                if field.contains(':') || conv.as_deref().is_some_and(|c| c.contains(':')) {
                    return Err(PyErr::unsupported("a format spec in str.format()"));
                }
                let v = if field.is_empty() {
                    let v = args.get(auto).cloned();
                    auto += 1;
                    v.ok_or_else(|| PyErr::new("IndexError", "tuple index out of range"))?
                } else if let Ok(i) = field.parse::<usize>() {
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| PyErr::new("IndexError", "tuple index out of range"))?
                } else if field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    kw.iter()
                        .find(|(k, _)| **k == *field)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| PyErr::new("KeyError", format!("'{field}'")))?
                } else {
                    return Err(PyErr::unsupported(format!(
                        "the format field '{{{field}}}'"
                    )));
                };
                let text = match conv.as_deref() {
                    None | Some("s") => ops::to_str(&v, m)?,
                    Some("r") => ops::repr(&v, m)?,
                    Some(other) => {
                        return Err(PyErr::value_err(format!(
                            "Unknown conversion specifier {other}"
                        )));
                    }
                };
                m.check_str_opt(out.len().checked_add(text.len()))?;
                out.push_str(&text);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn pad_to(m: &Meter, name: &str, args: &[Val]) -> PyResult<(usize, char)> {
    let w = int_at(name, args, 0)?
        .ok_or_else(|| PyErr::type_err(format!("{name}() takes at least 1 argument (0 given)")))?;
    let w = usize::try_from(w.max(0)).unwrap_or(usize::MAX);
    m.check_str(w)?;
    let fill = match str_at(name, args, 1)? {
        Some(f) if f.chars().count() == 1 => f.chars().next().unwrap_or(' '),
        Some(_) => {
            return Err(PyErr::type_err(format!(
                "{name}() argument 2 must be char, not str"
            )));
        }
        None => ' ',
    };
    Ok((w, fill))
}

pub(crate) fn call(
    m: &mut Meter,
    s: &str,
    uni: bool,
    name: &str,
    args: &[Val],
    kw: &[(Rc<str>, Val)],
) -> PyResult<Val> {
    if name != "format" && !kw.is_empty() {
        return Err(PyErr::type_err(format!(
            "{name}() takes no keyword arguments"
        )));
    }
    let n = args.len();
    m.work(s.len())?;
    match name {
        "split" | "rsplit" => {
            arity(name, n, 0, 2)?;
            let sep = str_at(name, args, 0)?;
            let max = int_at(name, args, 1)?.unwrap_or(-1);
            let parts = split(s, sep, max, name == "rsplit", m)?;
            Ok(Val::list(parts.into_iter().map(|p| out(uni, p)).collect()))
        }
        "splitlines" => {
            arity(name, n, 0, 1)?;
            let keep = args.first().is_some_and(|v| v.truthy());
            let mut parts = Vec::new();
            let mut rest = s;
            while !rest.is_empty() {
                let i = rest.find(['\n', '\r']).unwrap_or(rest.len());
                let mut j = i;
                if rest[i..].starts_with("\r\n") {
                    j += 2;
                } else if i < rest.len() {
                    j += 1;
                }
                parts.push(out(uni, rest[..if keep { j } else { i }].to_string()));
                rest = &rest[j..];
            }
            m.check_list(parts.len())?;
            Ok(Val::list(parts))
        }
        "join" => {
            arity(name, n, 1, 1)?;
            let items = iterate(&args[0], m)?;
            let mut r = String::new();
            let mut any_uni = uni;
            for (i, v) in items.iter().enumerate() {
                let Some(t) = v.as_str() else {
                    return Err(PyErr::type_err(format!(
                        "sequence item {i}: expected string, {} found",
                        v.type_name()
                    )));
                };
                any_uni |= matches!(v, Val::Unicode(_));
                let add = if i > 0 { s.len() } else { 0 } + t.len();
                m.check_str_opt(r.len().checked_add(add))?;
                m.work(add)?;
                if i > 0 {
                    r.push_str(s);
                }
                r.push_str(t);
            }
            Ok(out(any_uni, r))
        }
        "strip" | "lstrip" | "rstrip" => {
            arity(name, n, 0, 1)?;
            let chars = str_at(name, args, 0)?;
            let r = strip(s, chars, name != "rstrip", name != "lstrip");
            Ok(out(uni, r.to_string()))
        }
        "replace" => {
            arity(name, n, 2, 3)?;
            let (Some(old), Some(new)) = (str_at(name, args, 0)?, str_at(name, args, 1)?) else {
                return Err(PyErr::type_err("replace() arguments must be strings"));
            };
            let count = int_at(name, args, 2)?.unwrap_or(-1);
            let max = if count < 0 {
                usize::MAX
            } else {
                count as usize
            };
            let occurrences = if old.is_empty() {
                chars_len(s) + 1
            } else {
                s.matches(old).count()
            }
            .min(max);
            let size = occurrences
                .checked_mul(new.len())
                .and_then(|x| x.checked_add(s.len()));
            m.check_str_opt(size)?;
            m.work(size.unwrap_or(0))?;
            let r = if old.is_empty() {
                let mut r = String::new();
                let mut done = 0;
                for c in s.chars() {
                    if done < max {
                        r.push_str(new);
                        done += 1;
                    }
                    r.push(c);
                }
                if done < max {
                    r.push_str(new);
                }
                r
            } else {
                s.replacen(old, new, max)
            };
            Ok(out(uni, r))
        }
        "lower" => Ok(out(uni, s.to_ascii_lowercase())),
        "upper" => Ok(out(uni, s.to_ascii_uppercase())),
        "swapcase" => Ok(out(
            uni,
            s.chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect(),
        )),
        "capitalize" => {
            let mut cs = s.chars();
            let r = match cs.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + &cs.as_str().to_ascii_lowercase(),
                None => String::new(),
            };
            Ok(out(uni, r))
        }
        "title" => {
            let mut prev_alpha = false;
            let r = s
                .chars()
                .map(|c| {
                    let r = if prev_alpha {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    };
                    prev_alpha = c.is_ascii_alphabetic();
                    r
                })
                .collect();
            Ok(out(uni, r))
        }
        "startswith" | "endswith" => {
            arity(name, n, 1, 3)?;
            let (a, b) = window(s, int_at(name, args, 1)?, int_at(name, args, 2)?);
            let w = &s[a..b];
            let test = |p: &str| {
                if name == "startswith" {
                    w.starts_with(p)
                } else {
                    w.ends_with(p)
                }
            };
            match &args[0] {
                Val::Tuple(t) => {
                    for p in t.iter() {
                        let Some(p) = p.as_str() else {
                            return Err(PyErr::type_err(format!(
                                "expected a string or other character buffer object, not {}",
                                p.type_name()
                            )));
                        };
                        if test(p) {
                            return Ok(Val::Bool(true));
                        }
                    }
                    Ok(Val::Bool(false))
                }
                v => match v.as_str() {
                    Some(p) => Ok(Val::Bool(test(p))),
                    None => Err(PyErr::type_err(format!(
                        "{name} first arg must be str, unicode, or tuple, not {}",
                        v.type_name()
                    ))),
                },
            }
        }
        "find" | "rfind" | "index" | "rindex" | "count" => {
            arity(name, n, 1, 3)?;
            let Some(sub) = str_at(name, args, 0)? else {
                return Err(PyErr::type_err(format!(
                    "{name}() argument 1 must be string"
                )));
            };
            let (a, b) = window(s, int_at(name, args, 1)?, int_at(name, args, 2)?);
            let w = &s[a..b];
            if name == "count" {
                let c = if sub.is_empty() {
                    chars_len(w) + 1
                } else {
                    w.matches(sub).count()
                };
                return Ok(Val::Int(c as i64));
            }
            let found = if name.starts_with('r') {
                w.rfind(sub)
            } else {
                w.find(sub)
            };
            match found {
                Some(i) => {
                    let byte = a + i;
                    let ci = if s.is_ascii() {
                        byte
                    } else {
                        s[..byte].chars().count()
                    };
                    Ok(Val::Int(ci as i64))
                }
                None if name.ends_with("index") => Err(PyErr::value_err("substring not found")),
                None => Ok(Val::Int(-1)),
            }
        }
        "format" => Ok(out(uni, format(s, args, kw, m)?)),
        "isdigit" | "isalpha" | "isalnum" | "isspace" | "islower" | "isupper" => {
            arity(name, n, 0, 0)?;
            let r = match name {
                "isdigit" => !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
                "isalpha" => !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()),
                "isalnum" => !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()),
                "isspace" => !s.is_empty() && s.chars().all(char::is_whitespace),
                "islower" => {
                    s.chars().any(|c| c.is_ascii_lowercase())
                        && !s.chars().any(|c| c.is_ascii_uppercase())
                }
                _ => {
                    s.chars().any(|c| c.is_ascii_uppercase())
                        && !s.chars().any(|c| c.is_ascii_lowercase())
                }
            };
            Ok(Val::Bool(r))
        }
        "zfill" => {
            arity(name, n, 1, 1)?;
            let w = int_at(name, args, 0)?.unwrap_or(0);
            let w = usize::try_from(w.max(0)).unwrap_or(usize::MAX);
            m.check_str(w)?;
            let len = chars_len(s);
            if len >= w {
                return Ok(out(uni, s.to_string()));
            }
            let (sign, rest) = if s.starts_with(['+', '-']) {
                s.split_at(1)
            } else {
                ("", s)
            };
            Ok(out(uni, format!("{sign}{}{rest}", "0".repeat(w - len))))
        }
        "ljust" | "rjust" | "center" => {
            arity(name, n, 1, 2)?;
            let (w, fill) = pad_to(m, name, args)?;
            let len = chars_len(s);
            if len >= w {
                return Ok(out(uni, s.to_string()));
            }
            let total = w - len;
            let (left, right) = match name {
                "ljust" => (0, total),
                "rjust" => (total, 0),
                _ => {
                    let left = total / 2 + (total & w & 1);
                    (left, total - left)
                }
            };
            let f = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
            Ok(out(uni, format!("{}{s}{}", f(left), f(right))))
        }
        "partition" | "rpartition" => {
            arity(name, n, 1, 1)?;
            let Some(sep) = str_at(name, args, 0)? else {
                return Err(PyErr::type_err("expected a character buffer object"));
            };
            if sep.is_empty() {
                return Err(PyErr::value_err("empty separator"));
            }
            let found = if name == "partition" {
                s.find(sep)
            } else {
                s.rfind(sep)
            };
            let parts = match found {
                Some(i) => [&s[..i], sep, &s[i + sep.len()..]],
                None if name == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            Ok(Val::tuple(
                parts.iter().map(|p| out(uni, p.to_string())).collect(),
            ))
        }
        "encode" | "decode" => {
            arity(name, n, 0, 2)?;
            Ok(out(name == "decode", s.to_string()))
        }
        other => Err(PyErr::new(
            "AttributeError",
            format!("'str' object has no attribute '{other}'"),
        )),
    }
}
