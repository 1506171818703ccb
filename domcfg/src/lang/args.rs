//! The arguments of a call to a builtin, a module function or a method, with the checks
//! that give CPython's wording for a wrong count, a missing or an unexpected argument.

use std::rc::Rc;

use super::err::{PyErr, PyResult};
use super::val::Val;

pub(super) struct Args {
    pub(super) fname: &'static str,
    pub(super) pos: Vec<Val>,
    pub(super) kw: Vec<(Rc<str>, Val)>,
}

impl Args {
    /// Positional argument `i` (a keyword cannot stand in for it).
    pub(super) fn p(&self, i: usize) -> PyResult<&Val> {
        self.pos.get(i).ok_or_else(|| {
            PyErr::type_err(format!(
                "{}() requires positional argument {}",
                self.fname,
                i + 1
            ))
        })
    }
    pub(super) fn count(&self, min: usize, max: usize) -> PyResult<()> {
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
    pub(super) fn no_kw(&self) -> PyResult<()> {
        if let Some((k, _)) = self.kw.first() {
            return Err(PyErr::type_err(format!(
                "{}() takes no keyword arguments (got '{k}')",
                self.fname
            )));
        }
        Ok(())
    }
    /// Positional argument `i`, or keyword `name`.
    pub(super) fn get(&self, i: usize, name: &str) -> Option<&Val> {
        self.pos
            .get(i)
            .or_else(|| self.kw.iter().find(|(k, _)| &**k == name).map(|(_, v)| v))
    }
    pub(super) fn check_kw(&self, allowed: &[&str]) -> PyResult<()> {
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
    pub(super) fn required(&self, i: usize, name: &str) -> PyResult<&Val> {
        self.get(i, name)
            .ok_or_else(|| PyErr::type_err(format!("{}() missing argument {}", self.fname, i + 1)))
    }
    pub(super) fn str_arg(&self, i: usize, name: &str) -> PyResult<Rc<str>> {
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
    pub(super) fn int_arg(&self, i: usize, name: &str) -> PyResult<i64> {
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
    pub(super) fn opt_int(&self, i: usize, name: &str) -> PyResult<Option<i64>> {
        match self.get(i, name) {
            None | Some(Val::None) => Ok(None),
            Some(_) => self.int_arg(i, name).map(Some),
        }
    }
}
