//! The `re` module: compiling patterns (Python's syntax as far as the `regex` crate shares it,
//! with bounded size), `re.search`/`match`/`sub`/`split`/`findall`/`escape`, compiled
//! patterns' methods, and match objects' groups.

use std::rc::Rc;

use super::args::Args;
use super::budget::Meter;
use super::err::{PyErr, PyResult};
use super::ops::quoted;
use super::val::{MatchObj, Val};

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

pub(super) fn group_index(mo: &MatchObj, k: &Val) -> PyResult<usize> {
    let idx = match k {
        Val::Str(s) | Val::Unicode(s) => mo.names.iter().find(|(n, _)| **n == **s).map(|(_, i)| *i),
        v => v.as_int().and_then(|i| usize::try_from(i).ok()),
    };
    idx.filter(|i| *i < mo.groups.len())
        .ok_or_else(|| PyErr::new("IndexError", "no such group"))
}

pub(super) fn match_group(mo: &MatchObj, k: &Val) -> PyResult<Val> {
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

pub(super) fn regex_call(m: &mut Meter, name: &str, a: Args) -> PyResult<Val> {
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

pub(super) fn pattern_method(
    m: &mut Meter,
    re: &regex::Regex,
    name: &str,
    args: &[Val],
) -> PyResult<Val> {
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
