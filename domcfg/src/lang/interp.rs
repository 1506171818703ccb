//! The tree-walking evaluator. Top-level code runs with xm's separate globals (empty, so only
//! builtins) and locals (the config's variables); a function sees only its own locals and the
//! builtins, exactly as under `execfile(cfg, globs, locs)`.

use std::collections::HashMap;
use std::rc::Rc;

use super::Host;
use super::ast::*;
use super::budget::Meter;
use super::builtins;
use super::err::{Pos, PyErr, PyResult};
use super::items;
use super::methods;
use super::modules;
use super::ops;
use super::val::{Func, Val};

/// Bound on the evaluator's own recursion (expressions, blocks and calls together), so that no
/// script can overflow the native stack.
const MAX_NEST: usize = 400;

/// The top-level locals, in first-assignment order.
#[derive(Default)]
pub(crate) struct Scope {
    names: Vec<(Rc<str>, Option<Val>)>,
    index: HashMap<Rc<str>, usize>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<&Val> {
        self.index
            .get(name)
            .and_then(|&i| self.names.get(i))
            .and_then(|(_, v)| v.as_ref())
    }
    pub fn set(&mut self, name: &str, v: Val) {
        match self.index.get(name) {
            Some(&i) => {
                if let Some(slot) = self.names.get_mut(i) {
                    slot.1 = Some(v);
                }
            }
            None => {
                let n: Rc<str> = Rc::from(name);
                self.index.insert(n.clone(), self.names.len());
                self.names.push((n, Some(v)));
            }
        }
    }
    pub fn remove(&mut self, name: &str) -> bool {
        match self.index.get(name).and_then(|&i| self.names.get_mut(i)) {
            Some(slot) if slot.1.is_some() => {
                slot.1 = None;
                true
            }
            _ => false,
        }
    }
    pub fn into_vars(self) -> Vec<(Rc<str>, Val)> {
        self.names
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .collect()
    }
}

struct Frame {
    def: Rc<FuncDef>,
    vars: HashMap<Rc<str>, Val>,
}

pub(crate) enum Flow {
    Normal,
    Return(Val),
    Break,
    Continue,
}

impl Flow {
    /// After one pass of a loop's body: `Some(flow)` if the loop ends here with that flow
    /// (`break` ends it normally, `return` passes through); `None` to go on.
    fn leaves_loop(self) -> Option<Flow> {
        match self {
            Flow::Break => Some(Flow::Normal),
            Flow::Return(v) => Some(Flow::Return(v)),
            Flow::Normal | Flow::Continue => None,
        }
    }
}

pub(crate) struct Interp<'a> {
    pub m: Meter,
    pub host: &'a dyn Host,
    pub max_calls: usize,
    pub top: Scope,
    /// xm's help flag: `xm_vars.check()` does nothing.
    pub help: bool,
    frames: Vec<Frame>,
    nest: usize,
    stack_base: usize,
}

impl<'a> Interp<'a> {
    pub fn new(m: Meter, host: &'a dyn Host, max_calls: usize) -> Self {
        Interp {
            m,
            host,
            max_calls,
            top: Scope::default(),
            help: false,
            frames: Vec::new(),
            stack_base: super::err::stack_pos(),
            nest: 0,
        }
    }

    fn enter(&mut self) -> PyResult<()> {
        self.nest += 1;
        if self.nest > MAX_NEST || super::err::stack_exhausted(self.stack_base) {
            return Err(PyErr::new(
                "RuntimeError",
                "maximum recursion depth exceeded",
            ));
        }
        Ok(())
    }

    // ---- names ----

    pub fn lookup(&self, name: &str) -> PyResult<Val> {
        if let Some(f) = self.frames.last() {
            if let Some(v) = f.vars.get(name) {
                return Ok(v.clone());
            }
            if f.def.locals.iter().any(|l| &**l == name) {
                return Err(PyErr::new(
                    "UnboundLocalError",
                    format!("local variable '{name}' referenced before assignment"),
                ));
            }
            return match builtins::builtin(name)? {
                Some(v) => Ok(v),
                None => Err(PyErr::new(
                    "NameError",
                    format!(
                        "global name '{name}' is not defined (functions in xm configs cannot see the config's variables)"
                    ),
                )),
            };
        }
        if let Some(v) = self.top.get(name) {
            return Ok(v.clone());
        }
        match builtins::builtin(name)? {
            Some(v) => Ok(v),
            None => Err(PyErr::new(
                "NameError",
                format!("name '{name}' is not defined"),
            )),
        }
    }

    pub fn set_name(&mut self, name: &str, v: Val) {
        match self.frames.last_mut() {
            Some(f) => {
                let key = f
                    .def
                    .locals
                    .iter()
                    .find(|l| &***l == name)
                    .cloned()
                    .unwrap_or_else(|| Rc::from(name));
                f.vars.insert(key, v);
            }
            None => self.top.set(name, v),
        }
    }

    fn del_name(&mut self, name: &str) -> PyResult<()> {
        let removed = match self.frames.last_mut() {
            Some(f) => f.vars.remove(name).is_some(),
            None => self.top.remove(name),
        };
        if removed {
            Ok(())
        } else {
            Err(PyErr::new(
                "NameError",
                format!("name '{name}' is not defined"),
            ))
        }
    }

    // ---- statements ----

    pub fn exec_block(&mut self, body: &[Stmt]) -> PyResult<Flow> {
        for s in body {
            match self.exec(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, s: &Stmt) -> PyResult<Flow> {
        self.enter().map_err(|e| e.at(s.pos))?;
        let r = self.exec_inner(s).map_err(|e| e.at(s.pos));
        self.nest -= 1;
        r
    }

    fn exec_inner(&mut self, s: &Stmt) -> PyResult<Flow> {
        self.m.tick(1)?;
        match &s.kind {
            StmtKind::Expr(e) => {
                self.eval(e)?;
            }
            StmtKind::Assign(targets, value) => {
                let v = self.eval(value)?;
                for t in targets {
                    self.assign(t, v.clone())?;
                }
            }
            StmtKind::AugAssign(target, op, value) => self.aug_assign(target, *op, value)?,
            StmtKind::If(arms, orelse) => {
                for (cond, body) in arms {
                    if self.eval(cond)?.truthy() {
                        return self.exec_block(body);
                    }
                }
                if let Some(body) = orelse {
                    return self.exec_block(body);
                }
            }
            StmtKind::For(target, iter, body, orelse) => {
                let seq = self.eval(iter)?;
                let items = items::iterate(&seq, &mut self.m).map_err(|e| e.at(iter.pos))?;
                for item in items {
                    self.m.tick(1)?;
                    self.assign(target, item)?;
                    if let Some(leave) = self.exec_block(body)?.leaves_loop() {
                        return Ok(leave);
                    }
                }
                if let Some(body) = orelse {
                    return self.exec_block(body);
                }
            }
            StmtKind::While(cond, body, orelse) => {
                while self.eval(cond)?.truthy() {
                    self.m.tick(1)?;
                    if let Some(leave) = self.exec_block(body)?.leaves_loop() {
                        return Ok(leave);
                    }
                }
                if let Some(body) = orelse {
                    return self.exec_block(body);
                }
            }
            StmtKind::Def(def) => {
                let mut defaults = Vec::with_capacity(def.defaults.len());
                for d in &def.defaults {
                    defaults.push(self.eval(d)?);
                }
                let f = Val::Func(Rc::new(Func {
                    def: def.clone(),
                    defaults,
                }));
                self.set_name(&def.name, f);
            }
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Val::None,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::Raise(e, msg) => return Err(self.raise(e.as_ref(), msg.as_ref())?),
            StmtKind::Pass => {}
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Import(names) => {
                for (dotted, alias) in names {
                    let module = modules::import_module(dotted)?;
                    match alias {
                        Some(a) => self.set_name(a, module),
                        None => {
                            let head = dotted.split('.').next().unwrap_or(dotted);
                            let v = modules::import_module(head)?;
                            self.set_name(head, v);
                        }
                    }
                }
            }
            StmtKind::ImportFrom(module, names) => {
                let module_v = modules::import_module(module)?;
                if names.is_empty() {
                    for (n, v) in modules::star_import(module)? {
                        self.set_name(n, v);
                    }
                } else {
                    for (n, alias) in names {
                        let v = modules::getattr(&module_v, n).map_err(|_| {
                            PyErr::new("ImportError", format!("cannot import name {n}"))
                        })?;
                        self.set_name(alias.as_ref().unwrap_or(n), v);
                    }
                }
            }
            StmtKind::Print(args) => {
                // Output of `print` is discarded: a config's job is to compute values.
                for a in args {
                    let v = self.eval(a)?;
                    ops::to_str(&v, &mut self.m)?;
                }
            }
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete(t)?;
                }
            }
            StmtKind::Assert(cond, msg) => {
                if !self.eval(cond)?.truthy() {
                    let m = match msg {
                        Some(e) => {
                            let v = self.eval(e)?;
                            ops::to_str(&v, &mut self.m)?
                        }
                        None => String::new(),
                    };
                    return Err(PyErr::new("AssertionError", m).at(cond.pos));
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn raise(&mut self, e: Option<&Expr>, msg: Option<&Expr>) -> PyResult<PyErr> {
        let Some(e) = e else {
            return Ok(PyErr::type_err(
                "exceptions must be old-style classes or derived from BaseException, not NoneType",
            ));
        };
        let v = self.eval(e)?;
        let text = match msg {
            Some(m) => {
                let mv = self.eval(m)?;
                Some(ops::to_str(&mv, &mut self.m)?)
            }
            None => None,
        };
        Ok(match &v {
            Val::ExcClass(k) => PyErr::new(k, text.unwrap_or_default()),
            Val::Exc(x) => PyErr::new(x.0, x.1.clone()),
            other => PyErr::type_err(format!(
                "exceptions must be old-style classes or derived from BaseException, not {}",
                other.type_name()
            )),
        }
        .at(e.pos))
    }

    pub fn assign(&mut self, target: &Expr, v: Val) -> PyResult<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                self.set_name(n, v);
                Ok(())
            }
            ExprKind::Tuple(targets) | ExprKind::List(targets) => {
                let items = items::iterate(&v, &mut self.m).map_err(|e| e.at(target.pos))?;
                if items.len() != targets.len() {
                    let msg = if items.len() > targets.len() {
                        "too many values to unpack".to_string()
                    } else {
                        format!(
                            "need more than {} value{} to unpack",
                            items.len(),
                            if items.len() == 1 { "" } else { "s" }
                        )
                    };
                    return Err(PyErr::value_err(msg).at(target.pos));
                }
                for (t, item) in targets.iter().zip(items) {
                    self.assign(t, item)?;
                }
                Ok(())
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let Index::Single(i) = &**idx else {
                    return Err(PyErr::unsupported("assignment to a slice").at(target.pos));
                };
                let k = self.eval(i)?;
                items::set_item(&o, k, v, &mut self.m).map_err(|e| e.at(target.pos))
            }
            ExprKind::Attr(_, name) => Err(PyErr::unsupported(format!(
                "assigning to an attribute ('.{name}')"
            ))
            .at(target.pos)),
            _ => Err(PyErr::new("SyntaxError", "can't assign to this expression").at(target.pos)),
        }
    }

    fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr) -> PyResult<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                let cur = self.lookup(n).map_err(|e| e.at(target.pos))?;
                let rhs = self.eval(value)?;
                let new = self.inplace(op, &cur, &rhs).map_err(|e| e.at(target.pos))?;
                self.set_name(n, new);
                Ok(())
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let Index::Single(i) = &**idx else {
                    return Err(
                        PyErr::unsupported("augmented assignment to a slice").at(target.pos)
                    );
                };
                let k = self.eval(i)?;
                let cur = items::get_item(&o, &k, &mut self.m).map_err(|e| e.at(target.pos))?;
                let rhs = self.eval(value)?;
                let new = self.inplace(op, &cur, &rhs).map_err(|e| e.at(target.pos))?;
                items::set_item(&o, k, new, &mut self.m).map_err(|e| e.at(target.pos))
            }
            _ => Err(PyErr::unsupported("augmented assignment to an attribute").at(target.pos)),
        }
    }

    /// `a op= b`: lists are extended in place (Python's `list.__iadd__`).
    fn inplace(&mut self, op: BinOp, a: &Val, b: &Val) -> PyResult<Val> {
        if let (BinOp::Add, Val::List(l)) = (op, a) {
            let items = items::iterate(b, &mut self.m)?;
            let len = l.borrow().len();
            self.m.check_list_opt(len.checked_add(items.len()))?;
            self.m.work(items.len())?;
            self.m.mutated_list(l);
            l.borrow_mut().extend(items);
            return Ok(a.clone());
        }
        ops::binary(op, a, b, &mut self.m)
    }

    fn delete(&mut self, target: &Expr) -> PyResult<()> {
        match &target.kind {
            ExprKind::Name(n) => self.del_name(n).map_err(|e| e.at(target.pos)),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().try_for_each(|t| self.delete(t))
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                let Index::Single(i) = &**idx else {
                    return Err(PyErr::unsupported("deleting a slice").at(target.pos));
                };
                let k = self.eval(i)?;
                items::del_item(&o, &k, &mut self.m).map_err(|e| e.at(target.pos))
            }
            _ => Err(PyErr::unsupported("deleting an attribute").at(target.pos)),
        }
    }

    // ---- expressions ----

    pub fn eval(&mut self, e: &Expr) -> PyResult<Val> {
        self.enter().map_err(|err| err.at(e.pos))?;
        let r = self.eval_inner(e).map_err(|err| err.at(e.pos));
        self.nest -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expr) -> PyResult<Val> {
        self.m.tick(1)?;
        Ok(match &e.kind {
            ExprKind::Int(i) => Val::Int(*i),
            ExprKind::Long(i) => Val::Long(*i),
            ExprKind::Float(f) => Val::Float(*f),
            ExprKind::Str(s) => Val::Str(s.clone()),
            ExprKind::Unicode(s) => Val::Unicode(s.clone()),
            ExprKind::NoneLit => Val::None,
            ExprKind::Name(n) => self.lookup(n)?,
            ExprKind::List(items) => Val::list(self.eval_all(items)?),
            ExprKind::Tuple(items) => Val::tuple(self.eval_all(items)?),
            ExprKind::Dict(items) => {
                let d = Val::dict_presized(items.len().min(0xffff));
                if let Val::Dict(dr) = &d {
                    for (k, v) in items {
                        let kv = self.eval(k)?;
                        let vv = self.eval(v)?;
                        ops::dict_set(dr, kv, vv, &mut self.m).map_err(|err| err.at(k.pos))?;
                    }
                }
                d
            }
            ExprKind::ListComp(elt, clauses) => {
                let mut out = Vec::new();
                self.comprehension(elt, clauses, &mut out)?;
                Val::list(out)
            }
            ExprKind::Unary(op, a) => {
                let v = self.eval(a)?;
                unary(*op, &v)?
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                ops::binary(*op, &x, &y, &mut self.m)?
            }
            ExprKind::BoolOp(and, items) => {
                let mut last = Val::None;
                for (i, item) in items.iter().enumerate() {
                    last = self.eval(item)?;
                    if i + 1 < items.len() && last.truthy() != *and {
                        break;
                    }
                }
                last
            }
            ExprKind::Compare(first, rest) => {
                let mut left = self.eval(first)?;
                for (op, e2) in rest {
                    let right = self.eval(e2)?;
                    if !compare(*op, &left, &right, &mut self.m).map_err(|err| err.at(e2.pos))? {
                        return Ok(Val::Bool(false));
                    }
                    left = right;
                }
                Val::Bool(true)
            }
            ExprKind::IfExp(cond, a, b) => {
                if self.eval(cond)?.truthy() {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            ExprKind::Attr(obj, name) => {
                let o = self.eval(obj)?;
                modules::getattr(&o, name)?
            }
            ExprKind::Subscript(obj, idx) => {
                let o = self.eval(obj)?;
                match &**idx {
                    Index::Single(i) => {
                        let k = self.eval(i)?;
                        items::get_item(&o, &k, &mut self.m)?
                    }
                    Index::Slice(lo, hi, step) => {
                        let mut bound = |x: &Option<Expr>| -> PyResult<Option<i64>> {
                            match x {
                                None => Ok(None),
                                Some(x) => match self.eval(x)? {
                                    Val::None => Ok(None),
                                    v => v.as_int().map(Some).ok_or_else(|| {
                                        PyErr::type_err("slice indices must be integers or None")
                                            .at(x.pos)
                                    }),
                                },
                            }
                        };
                        let (lo, hi, step) = (bound(lo)?, bound(hi)?, bound(step)?);
                        items::get_slice(&o, lo, hi, step, &mut self.m)?
                    }
                }
            }
            ExprKind::Call(f, args) => {
                let fv = self.eval(f)?;
                let mut pos_args = Vec::new();
                let mut kw_args = Vec::new();
                for a in args {
                    match a {
                        Arg::Pos(x) => pos_args.push(self.eval(x)?),
                        Arg::Kw(n, x) => kw_args.push((n.clone(), self.eval(x)?)),
                        Arg::Star(x) => {
                            let v = self.eval(x)?;
                            let items =
                                items::iterate(&v, &mut self.m).map_err(|err| err.at(x.pos))?;
                            pos_args.extend(items);
                        }
                        Arg::StarStar(x) => {
                            let v = self.eval(x)?;
                            let Val::Dict(d) = &v else {
                                return Err(PyErr::type_err(format!(
                                    "argument after ** must be a mapping, not {}",
                                    v.type_name()
                                ))
                                .at(x.pos));
                            };
                            for (k, val) in d.borrow().iter() {
                                let Some(k) = k.as_str() else {
                                    return Err(
                                        PyErr::type_err("keywords must be strings").at(x.pos)
                                    );
                                };
                                if kw_args.iter().any(|(n, _)| **n == *k) {
                                    return Err(PyErr::type_err(format!(
                                        "got multiple values for keyword argument '{k}'"
                                    ))
                                    .at(x.pos));
                                }
                                kw_args.push((Rc::from(k), val.clone()));
                            }
                        }
                    }
                }
                self.m.tick(1)?;
                self.call(&fv, pos_args, kw_args, e.pos)?
            }
        })
    }

    fn eval_all(&mut self, items: &[Expr]) -> PyResult<Vec<Val>> {
        self.m.check_list(items.len())?;
        items.iter().map(|x| self.eval(x)).collect()
    }

    fn comprehension(
        &mut self,
        elt: &Expr,
        clauses: &[CompFor],
        out: &mut Vec<Val>,
    ) -> PyResult<()> {
        let Some((first, rest)) = clauses.split_first() else {
            let v = self.eval(elt)?;
            self.m.check_list(out.len() + 1)?;
            out.push(v);
            return Ok(());
        };
        match first {
            CompFor::If(c) => {
                if self.eval(c)?.truthy() {
                    self.comprehension(elt, rest, out)?;
                }
            }
            CompFor::For(target, iter) => {
                let seq = self.eval(iter)?;
                let items = items::iterate(&seq, &mut self.m).map_err(|err| err.at(iter.pos))?;
                for item in items {
                    self.m.tick(1)?;
                    self.assign(target, item)?;
                    self.comprehension(elt, rest, out)?;
                }
            }
        }
        Ok(())
    }

    // ---- calls ----

    pub fn call(
        &mut self,
        f: &Val,
        args: Vec<Val>,
        kwargs: Vec<(Rc<str>, Val)>,
        pos: Pos,
    ) -> PyResult<Val> {
        match f {
            Val::Func(func) => self.call_func(func, args, kwargs, pos),
            Val::Builtin(name) => builtins::call_builtin(self, name, args, kwargs),
            Val::Method(b) => methods::call_method(self, &b.recv, b.name, args, kwargs),
            Val::ExcClass(kind) => {
                if !kwargs.is_empty() {
                    return Err(PyErr::type_err(format!(
                        "{kind} does not take keyword arguments"
                    )));
                }
                let msg = match args.len() {
                    0 => String::new(),
                    1 => ops::to_str(&args[0], &mut self.m)?,
                    _ => ops::repr(&Val::tuple(args), &mut self.m)?,
                };
                Ok(Val::Exc(Rc::new((kind, msg))))
            }
            other => Err(PyErr::type_err(format!(
                "'{}' object is not callable",
                other.type_name()
            ))),
        }
    }

    fn call_func(
        &mut self,
        func: &Rc<Func>,
        args: Vec<Val>,
        kwargs: Vec<(Rc<str>, Val)>,
        pos: Pos,
    ) -> PyResult<Val> {
        let def = &func.def;
        let name = &def.name;
        let nparams = def.params.len();
        let required = nparams - func.defaults.len().min(nparams);
        let arity = |given: usize| {
            let (how, n) = if func.defaults.is_empty() {
                ("exactly", nparams)
            } else if given > nparams {
                ("at most", nparams)
            } else {
                ("at least", required)
            };
            PyErr::type_err(format!(
                "{name}() takes {how} {n} argument{} ({given} given)",
                if n == 1 { "" } else { "s" }
            ))
        };
        if args.len() > nparams && def.star.is_none() {
            return Err(arity(args.len() + kwargs.len()));
        }
        let mut slots: Vec<Option<Val>> = vec![None; nparams];
        let npos = args.len().min(nparams);
        let mut args = args.into_iter();
        for (slot, a) in slots.iter_mut().zip(args.by_ref()) {
            *slot = Some(a);
        }
        let extra_pos: Vec<Val> = args.collect();
        let extra_kw = Val::dict(Vec::new());
        for (k, v) in kwargs {
            let Some(i) = def.params.iter().position(|p| *p == k) else {
                if def.starstar.is_some() {
                    if let Val::Dict(d) = &extra_kw {
                        ops::dict_set(d, Val::Str(k.clone()), v, &mut self.m)?;
                    }
                    continue;
                }
                return Err(PyErr::type_err(format!(
                    "{name}() got an unexpected keyword argument '{k}'"
                )));
            };
            if slots[i].is_some() {
                return Err(PyErr::type_err(format!(
                    "{name}() got multiple values for keyword argument '{k}'"
                )));
            }
            slots[i] = Some(v);
        }
        let mut vars = HashMap::new();
        for (i, slot) in slots.into_iter().enumerate() {
            let v = match slot {
                Some(v) => v,
                None if i >= required => func.defaults[i - required].clone(),
                None => return Err(arity(npos)),
            };
            vars.insert(def.params[i].clone(), v);
        }
        if let Some(star) = &def.star {
            vars.insert(star.clone(), Val::tuple(extra_pos));
        }
        if let Some(starstar) = &def.starstar {
            vars.insert(starstar.clone(), extra_kw);
        }
        if self.frames.len() >= self.max_calls {
            return Err(PyErr::new(
                "RuntimeError",
                format!(
                    "maximum recursion depth exceeded (limit {} nested calls)",
                    self.max_calls
                ),
            )
            .at(pos));
        }
        self.frames.push(Frame {
            def: def.clone(),
            vars,
        });
        let r = self.exec_block(&def.body);
        self.frames.pop();
        match r? {
            Flow::Return(v) => Ok(v),
            _ => Ok(Val::None),
        }
    }
}

fn unary(op: UnOp, v: &Val) -> PyResult<Val> {
    Ok(match (op, v) {
        (UnOp::Not, v) => Val::Bool(!v.truthy()),
        (UnOp::Neg, Val::Float(f)) => Val::Float(-f),
        (UnOp::Pos, Val::Float(f)) => Val::Float(*f),
        (UnOp::Neg, Val::Long(i)) => Val::Long(i.checked_neg().ok_or_else(PyErr::overflow)?),
        (UnOp::Neg, v) if v.as_int().is_some() => Val::Int(
            v.as_int()
                .unwrap_or(0)
                .checked_neg()
                .ok_or_else(PyErr::overflow)?,
        ),
        (UnOp::Pos, Val::Long(i)) => Val::Long(*i),
        (UnOp::Pos, v) if v.as_int().is_some() => Val::Int(v.as_int().unwrap_or(0)),
        (UnOp::Invert, Val::Long(i)) => Val::Long(!i),
        (UnOp::Invert, v) if v.as_int().is_some() => Val::Int(!v.as_int().unwrap_or(0)),
        (op, v) => {
            let sym = match op {
                UnOp::Neg => "unary -",
                UnOp::Pos => "unary +",
                _ => "unary ~",
            };
            return Err(PyErr::type_err(format!(
                "bad operand type for {sym}: '{}'",
                v.type_name()
            )));
        }
    })
}

fn compare(op: CmpOp, a: &Val, b: &Val, m: &mut Meter) -> PyResult<bool> {
    use std::cmp::Ordering::*;
    Ok(match op {
        CmpOp::Eq => ops::eq(a, b, m)?,
        CmpOp::Ne => !ops::eq(a, b, m)?,
        CmpOp::Lt => ops::cmp(a, b, m)? == Less,
        CmpOp::Le => ops::cmp(a, b, m)? != Greater,
        CmpOp::Gt => ops::cmp(a, b, m)? == Greater,
        CmpOp::Ge => ops::cmp(a, b, m)? != Less,
        CmpOp::In => ops::contains(b, a, m)?,
        CmpOp::NotIn => !ops::contains(b, a, m)?,
        CmpOp::Is => is(a, b),
        CmpOp::IsNot => !is(a, b),
    })
}

/// Identity, as far as it is observable for the values a config holds.
fn is(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::None, Val::None) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y && (-5..=256).contains(x),
        (Val::Str(x), Val::Str(y)) => Rc::ptr_eq(x, y),
        (Val::List(x), Val::List(y)) => Rc::ptr_eq(x, y),
        (Val::Dict(x), Val::Dict(y)) => Rc::ptr_eq(x, y),
        (Val::Tuple(x), Val::Tuple(y)) => Rc::ptr_eq(x, y),
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Builtin(x), Val::Builtin(y)) | (Val::Module(x), Val::Module(y)) => x == y,
        (Val::ExcClass(x), Val::ExcClass(y)) => x == y,
        (Val::Environ, Val::Environ) => true,
        _ => false,
    }
}
