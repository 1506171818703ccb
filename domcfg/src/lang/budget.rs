//! The step budget and the size limits ([`Meter`]) that everything doing work charges, and the
//! record of containers changed during a run, which lets the run free the reference cycles a
//! config built.

use std::rc::Rc;

use super::err::{PyErr, PyResult};

/// The step budget and the size limits, shared by everything that does work.
pub(super) struct Meter {
    pub used: u64,
    pub max_steps: u64,
    pub max_str: usize,
    pub max_list: usize,
    /// Containers changed after their creation. Only these can be part of a reference cycle
    /// (`a.append(a)`); [`Meter::break_cycles`] empties them when the run ends, so that a
    /// long-lived process does not leak what a config built.
    pub mutated_lists: Vec<std::rc::Weak<super::val::ListObj>>,
    pub mutated_dicts: Vec<std::rc::Weak<super::val::DictObj>>,
}

impl Meter {
    pub fn new(max_steps: u64, max_str: usize, max_list: usize) -> Meter {
        Meter {
            used: 0,
            max_steps,
            max_str,
            max_list,
            mutated_lists: Vec::new(),
            mutated_dicts: Vec::new(),
        }
    }
    pub fn mutated_list(&mut self, l: &super::val::ListRef) {
        if !self
            .mutated_lists
            .last()
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Rc::as_ptr(l)))
        {
            self.mutated_lists.push(Rc::downgrade(l));
        }
    }
    pub fn mutated_dict(&mut self, d: &super::val::DictRef) {
        if !self
            .mutated_dicts
            .last()
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Rc::as_ptr(d)))
        {
            self.mutated_dicts.push(Rc::downgrade(d));
        }
    }
    /// Empty every container that was changed during the run (see `mutated_lists`).
    pub fn break_cycles(&mut self) {
        for w in std::mem::take(&mut self.mutated_lists) {
            if let Some(l) = w.upgrade() {
                let items = l
                    .try_borrow_mut()
                    .map(|mut v| std::mem::take(&mut *v))
                    .unwrap_or_default();
                drop(items);
            }
        }
        for w in std::mem::take(&mut self.mutated_dicts) {
            if let Some(d) = w.upgrade() {
                let items =
                    d.0.try_borrow_mut()
                        .map(|mut v| std::mem::take(&mut *v))
                        .unwrap_or_default();
                drop(items);
            }
        }
    }
    pub fn tick(&mut self, n: u64) -> PyResult<()> {
        self.used = self.used.saturating_add(n);
        if self.used > self.max_steps {
            return Err(PyErr::limit(format!(
                "the config exceeded its budget of {} evaluation steps (an endless loop?)",
                self.max_steps
            )));
        }
        Ok(())
    }
    /// Charge for touching `n` items or bytes.
    pub fn work(&mut self, n: usize) -> PyResult<()> {
        self.tick(1 + (n as u64) / 32)
    }
    pub fn check_str(&self, len: usize) -> PyResult<()> {
        if len > self.max_str {
            return Err(PyErr::limit(format!(
                "a string of {len} characters exceeds the limit of {} characters",
                self.max_str
            )));
        }
        Ok(())
    }
    pub fn check_list(&self, len: usize) -> PyResult<()> {
        if len > self.max_list {
            return Err(PyErr::limit(format!(
                "a list of {len} items exceeds the limit of {} items",
                self.max_list
            )));
        }
        Ok(())
    }
    /// Check a computed size before allocating it; `None` means the size overflowed.
    pub fn check_str_opt(&self, len: Option<usize>) -> PyResult<usize> {
        let len = len.ok_or_else(|| PyErr::limit("string size overflows"))?;
        self.check_str(len)?;
        Ok(len)
    }
    pub fn check_list_opt(&self, len: Option<usize>) -> PyResult<usize> {
        let len = len.ok_or_else(|| PyErr::limit("list size overflows"))?;
        self.check_list(len)?;
        Ok(len)
    }
}
