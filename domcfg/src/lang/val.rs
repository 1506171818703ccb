//! Runtime values of the evaluator. Containers are shared and mutable (`Rc<RefCell<..>>`) as in
//! Python, so `b = a; b.append(1)` changes `a` too. Dropping is iterative, so a deeply nested
//! value built by a script cannot overflow the stack when it is freed.

use std::cell::RefCell;
use std::rc::Rc;

use super::ast::FuncDef;
use super::err::{PyErr, PyResult};
use crate::value::Value;

/// The deepest data nesting that `repr`, comparisons and conversions will walk.
pub(crate) const MAX_DATA_DEPTH: usize = 100;

pub(crate) type ListRef = Rc<ListObj>;
pub(crate) type DictRef = Rc<DictObj>;

#[derive(Clone, Debug)]
pub(crate) enum Val {
    None,
    Bool(bool),
    Int(i64),
    Long(i64),
    Float(f64),
    Str(Rc<str>),
    Unicode(Rc<str>),
    List(ListRef),
    Tuple(Rc<TupleObj>),
    Dict(DictRef),
    Func(Rc<Func>),
    /// A builtin function or a module function, by its dotted name (`len`, `os.path.join`).
    Builtin(&'static str),
    /// A method bound to its receiver (`"a,b".split`, `xm_vars.var`).
    Method(Rc<Bound>),
    Module(&'static str),
    /// `ValueError` and friends: callable, raisable.
    ExcClass(&'static str),
    /// An exception instance: class name and message.
    Exc(Rc<(&'static str, String)>),
    Match(Rc<MatchObj>),
    Pattern(Rc<regex::Regex>),
    /// The `xm_vars` object.
    Vars(Rc<VarsObj>),
    /// `os.environ`: always empty, so configs stay deterministic.
    Environ,
}

/// A list's cells.
#[derive(Debug, Default)]
pub(crate) struct ListObj(pub RefCell<Vec<Val>>);
/// A tuple's items.
#[derive(Debug, Default)]
pub(crate) struct TupleObj(pub Vec<Val>);
/// A dict's entries, in insertion order.
#[derive(Debug, Default)]
pub(crate) struct DictObj(
    pub RefCell<Vec<(Val, Val)>>,
    pub RefCell<super::pydict::Table>,
);

impl std::ops::Deref for ListObj {
    type Target = RefCell<Vec<Val>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl std::ops::Deref for TupleObj {
    type Target = Vec<Val>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl std::ops::Deref for DictObj {
    type Target = RefCell<Vec<(Val, Val)>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[derive(Debug)]
pub(crate) struct Func {
    pub def: Rc<FuncDef>,
    pub defaults: Vec<Val>,
}

#[derive(Debug)]
pub(crate) struct Bound {
    pub recv: Val,
    pub name: &'static str,
}

#[derive(Debug)]
pub(crate) struct MatchObj {
    /// Groups as (start char index, text); group 0 is the whole match.
    pub groups: Vec<Option<(usize, Rc<str>)>>,
    pub names: Vec<(String, usize)>,
}

/// `xm_vars`: the declared variables with their check functions.
#[derive(Debug, Default)]
pub(crate) struct VarsObj(pub RefCell<Vec<(String, Val)>>);

// Dropping: a script can build data nested arbitrarily deep (`for ...: a = [a]`). Dropping that
// recursively would overflow the stack, so every container moves its children to a work list
// and frees them iteratively.
fn free_iteratively(mut work: Vec<Val>) {
    while let Some(v) = work.pop() {
        match v {
            Val::List(rc) => {
                if let Ok(mut obj) = Rc::try_unwrap(rc) {
                    work.append(obj.0.get_mut());
                }
            }
            Val::Tuple(rc) => {
                if let Ok(mut obj) = Rc::try_unwrap(rc) {
                    work.append(&mut obj.0);
                }
            }
            Val::Dict(rc) => {
                if let Ok(mut obj) = Rc::try_unwrap(rc) {
                    for (k, v) in obj.0.get_mut().drain(..) {
                        work.push(k);
                        work.push(v);
                    }
                }
            }
            Val::Func(rc) => {
                if let Ok(mut f) = Rc::try_unwrap(rc) {
                    work.append(&mut f.defaults);
                }
            }
            Val::Method(rc) => {
                if let Ok(mut b) = Rc::try_unwrap(rc) {
                    work.push(std::mem::replace(&mut b.recv, Val::None));
                }
            }
            Val::Vars(rc) => {
                if let Ok(mut obj) = Rc::try_unwrap(rc) {
                    work.extend(obj.0.get_mut().drain(..).map(|(_, v)| v));
                }
            }
            _ => {}
        }
    }
}

impl Drop for ListObj {
    fn drop(&mut self) {
        free_iteratively(std::mem::take(self.0.get_mut()));
    }
}
impl Drop for TupleObj {
    fn drop(&mut self) {
        free_iteratively(std::mem::take(&mut self.0));
    }
}
impl Drop for DictObj {
    fn drop(&mut self) {
        let work = self
            .0
            .get_mut()
            .drain(..)
            .flat_map(|(k, v)| [k, v])
            .collect();
        free_iteratively(work);
    }
}
impl Drop for Func {
    fn drop(&mut self) {
        free_iteratively(std::mem::take(&mut self.defaults));
    }
}
impl Drop for Bound {
    fn drop(&mut self) {
        free_iteratively(vec![std::mem::replace(&mut self.recv, Val::None)]);
    }
}
impl Drop for VarsObj {
    fn drop(&mut self) {
        free_iteratively(self.0.get_mut().drain(..).map(|(_, v)| v).collect());
    }
}

impl Val {
    pub fn str(s: &str) -> Val {
        Val::Str(Rc::from(s))
    }
    pub fn string(s: String) -> Val {
        Val::Str(Rc::from(s))
    }
    pub fn list(v: Vec<Val>) -> Val {
        Val::List(Rc::new(ListObj(RefCell::new(v))))
    }
    pub fn tuple(v: Vec<Val>) -> Val {
        Val::Tuple(Rc::new(TupleObj(v)))
    }
    /// An empty dict for a display of `n` items (`{...}` presizes as CPython did).
    pub fn dict_presized(n: usize) -> Val {
        Val::Dict(Rc::new(DictObj(
            RefCell::new(Vec::new()),
            RefCell::new(super::pydict::Table::presized(n)),
        )))
    }
    /// A dict of distinct keys, inserted in order.
    pub fn dict(v: Vec<(Val, Val)>) -> Val {
        let d = Rc::new(DictObj::default());
        {
            let mut t = d.1.borrow_mut();
            let mut entries = d.0.borrow_mut();
            for (k, v) in v {
                let h = super::pydict::hash_plain(&k);
                super::pydict::insert_new(&mut t, &mut entries, h, (k, v), true);
            }
        }
        Val::Dict(d)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::None => "NoneType",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Long(_) => "long",
            Val::Float(_) => "float",
            Val::Str(_) => "str",
            Val::Unicode(_) => "unicode",
            Val::List(_) => "list",
            Val::Tuple(_) => "tuple",
            Val::Dict(_) => "dict",
            Val::Func(_) => "function",
            Val::Builtin(_) => "builtin_function_or_method",
            Val::Method(_) => "instancemethod",
            Val::Module(_) => "module",
            Val::ExcClass(_) => "type",
            Val::Exc(e) => e.0,
            Val::Match(_) => "_sre.SRE_Match",
            Val::Pattern(_) => "_sre.SRE_Pattern",
            Val::Vars(_) => "instance",
            Val::Environ => "instance",
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Val::None => false,
            Val::Bool(b) => *b,
            Val::Int(i) | Val::Long(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) | Val::Unicode(s) => !s.is_empty(),
            Val::List(l) => !l.borrow().is_empty(),
            Val::Tuple(t) => !t.is_empty(),
            Val::Dict(d) => !d.borrow().is_empty(),
            Val::Environ => false,
            _ => true,
        }
    }

    /// The string content of `str` and `unicode` values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) | Val::Unicode(s) => Some(s),
            _ => None,
        }
    }

    /// An integer (`int`, `long`, `bool`) as i64.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) | Val::Long(i) => Some(*i),
            Val::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// From a public [`Value`] (predefined variables).
    pub fn from_value(v: &Value) -> Val {
        match v {
            Value::None => Val::None,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Long(i) => Val::Long(*i),
            Value::Float(f) => Val::Float(*f),
            Value::Str(s) => Val::str(s),
            Value::Unicode(s) => Val::Unicode(Rc::from(s.as_str())),
            Value::List(l) => Val::list(l.iter().map(Val::from_value).collect()),
            Value::Tuple(l) => Val::tuple(l.iter().map(Val::from_value).collect()),
            Value::Dict(d) => Val::dict(
                d.iter()
                    .map(|(k, v)| (Val::from_value(k), Val::from_value(v)))
                    .collect(),
            ),
            Value::Opaque(_) => Val::None,
        }
    }

    /// To a public [`Value`]. Fails on data nested deeper than [`MAX_DATA_DEPTH`] (which
    /// includes self-containing lists), and when the copy would exceed `budget` (one unit per
    /// value, one per 32 bytes of text): shared parts (`[big] * 1000`) are copied once per use.
    pub fn to_value(&self, budget: &mut u64) -> PyResult<Value> {
        self.to_value_at(0, budget)
    }

    fn to_value_at(&self, depth: usize, budget: &mut u64) -> PyResult<Value> {
        if depth > MAX_DATA_DEPTH {
            return Err(PyErr::new(
                "RuntimeError",
                "maximum recursion depth exceeded while converting a value (nested too deeply or contains itself)",
            ));
        }
        let cost = 1 + self.as_str().map_or(0, |s| s.len() as u64 / 32);
        if *budget < cost {
            return Err(PyErr::limit(
                "the value is too large to return (its shared parts count once per use)",
            ));
        }
        *budget -= cost;
        let mut conv = |items: &[Val]| -> PyResult<Vec<Value>> {
            items
                .iter()
                .map(|v| v.to_value_at(depth + 1, budget))
                .collect()
        };
        Ok(match self {
            Val::None => Value::None,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Int(*i),
            Val::Long(i) => Value::Long(*i),
            Val::Float(f) => Value::Float(*f),
            Val::Str(s) => Value::Str(s.to_string()),
            Val::Unicode(s) => Value::Unicode(s.to_string()),
            Val::List(l) => Value::List(conv(&l.borrow())?),
            Val::Tuple(t) => Value::Tuple(conv(t)?),
            Val::Dict(d) => {
                let d = d.borrow();
                let mut out = Vec::with_capacity(d.len());
                for (k, v) in d.iter() {
                    out.push((
                        k.to_value_at(depth + 1, budget)?,
                        v.to_value_at(depth + 1, budget)?,
                    ));
                }
                Value::Dict(out)
            }
            other => Value::Opaque(other.type_name().to_string()),
        })
    }
}
