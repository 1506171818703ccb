//! Iteration and subscripts: the items `for` visits, `o[k]`, `o[k] = v`, `del o[k]` and
//! `o[lo:hi:step]` on lists, tuples, strings, dicts, match objects and `os.environ`.

use std::rc::Rc;

use super::budget::Meter;
use super::err::{PyErr, PyResult};
use super::ops;
use super::regex::match_group;
use super::val::Val;

/// The items `for` would visit.
pub(super) fn iterate(v: &Val, m: &mut Meter) -> PyResult<Vec<Val>> {
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

pub(super) fn char_count(s: &str) -> usize {
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

pub(super) fn get_item(o: &Val, k: &Val, m: &mut Meter) -> PyResult<Val> {
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

pub(super) fn set_item(o: &Val, k: Val, v: Val, m: &mut Meter) -> PyResult<()> {
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

pub(super) fn del_item(o: &Val, k: &Val, m: &mut Meter) -> PyResult<()> {
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

pub(super) fn get_slice(
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
