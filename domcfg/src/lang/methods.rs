//! Method calls on values: `list` and `dict` methods, `tuple.index`/`count`, match objects,
//! compiled patterns, `os.environ` and `xm_vars` (`str` methods are in `strmethods`), and the
//! sorting and keyword-dict helpers that `sorted()` and `dict()` share with them.

use std::rc::Rc;

use super::args::Args;
use super::budget::Meter;
use super::err::{PyErr, PyResult};
use super::interp::Interp;
use super::items::{char_count, del_item, iterate};
use super::modules::no_attr;
use super::ops;
use super::regex::{group_index, match_group, pattern_method};
use super::val::Val;

pub(super) fn call_method(
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
pub(super) fn sort_values(
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
pub(super) fn kwargs_dict(kw: &[(Rc<str>, Val)], m: &mut Meter) -> PyResult<Vec<(Val, Val)>> {
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
