//! Recursive-descent parser over the token stream, with Python 2's grammar for the supported
//! subset. Nesting (brackets, unary operators, blocks, operator chains) is bounded, so no input
//! can exhaust the stack. Unsupported constructs are reported by name at their position.

use std::rc::Rc;

use super::ast::*;
use super::err::{Pos, PyErr, PyResult};
use super::lexer::{Tok, Token};

/// The deepest nesting of expressions and blocks the parser accepts (CPython 2's own parser
/// gives up around 100 nested parentheses).
pub(crate) const MAX_NESTING: usize = 200;

const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "break", "class", "continue", "def", "del", "elif", "else", "except",
    "exec", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "not", "or",
    "pass", "print", "raise", "return", "try", "while", "with", "yield",
];

struct Parser {
    stack_base: usize,
    toks: Vec<Token>,
    i: usize,
    depth: usize,
    in_func: bool,
    in_loop: usize,
}

fn syntax(pos: Pos, msg: impl Into<String>) -> PyErr {
    PyErr::new("SyntaxError", msg).at(pos)
}

pub(crate) fn parse(toks: Vec<Token>) -> PyResult<Vec<Stmt>> {
    let mut p = Parser {
        stack_base: super::err::stack_pos(),
        toks,
        i: 0,
        depth: 0,
        in_func: false,
        in_loop: 0,
    };
    let mut out = Vec::new();
    while !matches!(p.peek(), Tok::Eof) {
        if matches!(p.peek(), Tok::Newline) {
            p.bump();
            continue;
        }
        p.stmt(&mut out)?;
    }
    Ok(out)
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }
    fn peek_at(&self, n: usize) -> &Tok {
        self.toks
            .get(self.i + n)
            .map(|t| &t.tok)
            .unwrap_or(&Tok::Eof)
    }
    fn pos(&self) -> Pos {
        self.toks
            .get(self.i)
            .or_else(|| self.toks.last())
            .map(|t| t.pos)
            .unwrap_or(Pos { line: 1, col: 1 })
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len().saturating_sub(1) {
            self.i += 1;
        }
        t
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == kw)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn unexpected(&self) -> PyErr {
        let tok = self.peek();
        let msg = match tok {
            Tok::Indent => {
                return PyErr::new("IndentationError", "unexpected indent").at(self.pos());
            }
            _ => format!("invalid syntax (found {})", tok.describe()),
        };
        syntax(self.pos(), msg)
    }
    /// `first`, then `, test` for as long as commas come, a trailing comma allowed; stops
    /// before `close` (tuples in parentheses, lists, subscripts).
    fn items_until(&mut self, first: Expr, close: &str) -> PyResult<Vec<Expr>> {
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op(close) {
                break;
            }
            items.push(self.test()?);
        }
        Ok(items)
    }

    fn expect_op(&mut self, op: &str) -> PyResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(syntax(
                self.pos(),
                format!("expected '{op}', found {}", self.peek().describe()),
            ))
        }
    }
    fn expect_kw(&mut self, kw: &str) -> PyResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(syntax(
                self.pos(),
                format!("expected '{kw}', found {}", self.peek().describe()),
            ))
        }
    }
    fn ident(&mut self) -> PyResult<Rc<str>> {
        match self.peek() {
            Tok::Name(n) if !KEYWORDS.contains(&n.as_str()) => {
                let n: Rc<str> = Rc::from(n.as_str());
                self.bump();
                Ok(n)
            }
            _ => Err(syntax(
                self.pos(),
                format!("expected a name, found {}", self.peek().describe()),
            )),
        }
    }
    fn enter(&mut self) -> PyResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING || super::err::stack_exhausted(self.stack_base) {
            return Err(syntax(
                self.pos(),
                "too deeply nested (brackets, operators or blocks)",
            ));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
    /// `f` one nesting level deeper (counted against the nesting limit).
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PyResult<T>) -> PyResult<T> {
        self.enter()?;
        let r = f(self);
        self.leave();
        r
    }

    // ---- statements ----

    fn stmt(&mut self, out: &mut Vec<Stmt>) -> PyResult<()> {
        let pos = self.pos();
        let kw = match self.peek() {
            Tok::Name(n) => n.clone(),
            Tok::Indent => return Err(self.unexpected()),
            Tok::Op("@") => return Err(PyErr::unsupported("a decorator ('@')").at(pos)),
            _ => String::new(),
        };
        match kw.as_str() {
            "if" => {
                self.bump();
                let s = self.if_stmt(pos)?;
                out.push(s);
            }
            "for" => {
                self.bump();
                let target = self.target_list()?;
                self.expect_kw("in")?;
                let iter = self.testlist()?;
                self.in_loop += 1;
                let body = self.suite();
                self.in_loop -= 1;
                let body = body?;
                let orelse = self.else_suite()?;
                out.push(Stmt {
                    kind: StmtKind::For(target, iter, body, orelse),
                    pos,
                });
            }
            "while" => {
                self.bump();
                let cond = self.test()?;
                self.in_loop += 1;
                let body = self.suite();
                self.in_loop -= 1;
                let body = body?;
                let orelse = self.else_suite()?;
                out.push(Stmt {
                    kind: StmtKind::While(cond, body, orelse),
                    pos,
                });
            }
            "def" => {
                self.bump();
                let d = self.def(pos)?;
                out.push(d);
            }
            "class" | "try" | "with" | "global" | "exec" | "yield" | "lambda" => {
                return Err(PyErr::unsupported(format!("'{kw}'")).at(pos));
            }
            "elif" | "else" | "except" | "finally" => {
                return Err(syntax(
                    pos,
                    format!("invalid syntax ('{kw}' without a matching statement)"),
                ));
            }
            _ => self.simple_stmt(out)?,
        }
        Ok(())
    }

    fn else_suite(&mut self) -> PyResult<Option<Vec<Stmt>>> {
        if self.is_kw("else") && matches!(self.peek_at(1), Tok::Op(":")) {
            self.bump();
            Ok(Some(self.suite()?))
        } else {
            Ok(None)
        }
    }

    fn if_stmt(&mut self, pos: Pos) -> PyResult<Stmt> {
        let mut arms = Vec::new();
        let cond = self.test()?;
        let body = self.suite()?;
        arms.push((cond, body));
        let mut orelse = None;
        loop {
            if self.eat_kw("elif") {
                let cond = self.test()?;
                let body = self.suite()?;
                arms.push((cond, body));
            } else if self.is_kw("else") {
                self.bump();
                orelse = Some(self.suite()?);
                break;
            } else {
                break;
            }
        }
        Ok(Stmt {
            kind: StmtKind::If(arms, orelse),
            pos,
        })
    }

    /// `:` then a simple statement on the same line or an indented block.
    fn suite(&mut self) -> PyResult<Vec<Stmt>> {
        self.expect_op(":")?;
        self.enter()?;
        let mut body = Vec::new();
        if matches!(self.peek(), Tok::Newline) {
            self.bump();
            if !matches!(self.peek(), Tok::Indent) {
                return Err(
                    PyErr::new("IndentationError", "expected an indented block").at(self.pos())
                );
            }
            self.bump();
            while !matches!(self.peek(), Tok::Dedent | Tok::Eof) {
                if matches!(self.peek(), Tok::Newline) {
                    self.bump();
                    continue;
                }
                self.stmt(&mut body)?;
            }
            if matches!(self.peek(), Tok::Dedent) {
                self.bump();
            }
        } else {
            self.simple_stmt(&mut body)?;
        }
        self.leave();
        Ok(body)
    }

    fn def(&mut self, pos: Pos) -> PyResult<Stmt> {
        if self.in_func {
            return Err(PyErr::unsupported("'def' inside a function").at(pos));
        }
        let name = self.ident()?;
        self.expect_op("(")?;
        let mut params = Vec::new();
        let mut defaults = Vec::new();
        let (mut star, mut starstar): (Option<Rc<str>>, Option<Rc<str>>) = (None, None);
        while !self.is_op(")") {
            let ppos = self.pos();
            if starstar.is_some() {
                return Err(self.unexpected());
            }
            if self.eat_op("**") {
                starstar = Some(self.ident()?);
            } else if self.eat_op("*") {
                if star.is_some() {
                    return Err(syntax(ppos, "invalid syntax (a second '*' parameter)"));
                }
                star = Some(self.ident()?);
            }
            if let Some(n) = star
                .iter()
                .chain(starstar.iter())
                .find(|n| params.contains(*n))
            {
                return Err(syntax(
                    ppos,
                    format!("duplicate argument '{n}' in function definition"),
                ));
            }
            if star.is_some() || starstar.is_some() {
                if star.is_some() && starstar.is_some() && star == starstar {
                    return Err(syntax(ppos, "duplicate argument in function definition"));
                }
                if !self.eat_op(",") {
                    break;
                }
                continue;
            }
            if self.is_op("(") {
                return Err(PyErr::unsupported("a tuple parameter").at(self.pos()));
            }
            let ppos = self.pos();
            let p = self.ident()?;
            if params.contains(&p) {
                return Err(syntax(
                    ppos,
                    format!("duplicate argument '{p}' in function definition"),
                ));
            }
            params.push(p);
            if self.eat_op("=") {
                defaults.push(self.test()?);
            } else if !defaults.is_empty() {
                return Err(syntax(
                    ppos,
                    "non-default argument follows default argument",
                ));
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        self.in_func = true;
        let saved_loop = std::mem::replace(&mut self.in_loop, 0);
        let body = self.suite();
        self.in_func = false;
        self.in_loop = saved_loop;
        let body = body?;
        let mut locals: Vec<Rc<str>> = params.clone();
        locals.extend(star.iter().chain(starstar.iter()).cloned());
        collect_bound(&body, &mut locals);
        Ok(Stmt {
            kind: StmtKind::Def(Rc::new(FuncDef {
                name,
                params,
                defaults,
                star,
                starstar,
                body,
                locals,
                pos,
            })),
            pos,
        })
    }

    fn simple_stmt(&mut self, out: &mut Vec<Stmt>) -> PyResult<()> {
        loop {
            let s = self.small_stmt()?;
            out.push(s);
            if self.eat_op(";") {
                if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                    break;
                }
                continue;
            }
            break;
        }
        match self.peek() {
            Tok::Newline => {
                self.bump();
                Ok(())
            }
            Tok::Eof | Tok::Dedent => Ok(()),
            _ => Err(self.unexpected()),
        }
    }

    fn small_stmt(&mut self) -> PyResult<Stmt> {
        let pos = self.pos();
        let kw = match self.peek() {
            Tok::Name(n) => n.clone(),
            _ => String::new(),
        };
        let kind = match kw.as_str() {
            "pass" => {
                self.bump();
                StmtKind::Pass
            }
            "break" | "continue" => {
                self.bump();
                if self.in_loop == 0 {
                    return Err(syntax(pos, format!("'{kw}' outside loop")));
                }
                if kw == "break" {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                }
            }
            "return" => {
                self.bump();
                if !self.in_func {
                    return Err(syntax(pos, "'return' outside function"));
                }
                if self.at_stmt_end() {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.testlist()?))
                }
            }
            "raise" => {
                self.bump();
                if self.at_stmt_end() {
                    StmtKind::Raise(None, None)
                } else {
                    let e = self.test()?;
                    let msg = if self.eat_op(",") {
                        Some(self.test()?)
                    } else {
                        None
                    };
                    if self.is_op(",") {
                        return Err(
                            PyErr::unsupported("a traceback argument to 'raise'").at(self.pos())
                        );
                    }
                    StmtKind::Raise(Some(e), msg)
                }
            }
            "import" => {
                self.bump();
                let mut names = Vec::new();
                loop {
                    let dotted = self.dotted()?;
                    let alias = if self.eat_kw("as") {
                        Some(self.ident()?)
                    } else {
                        None
                    };
                    names.push((dotted, alias));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                StmtKind::Import(names)
            }
            "from" => {
                self.bump();
                if self.is_op(".") {
                    return Err(PyErr::unsupported("a relative import").at(self.pos()));
                }
                let module = self.dotted()?;
                self.expect_kw("import")?;
                let mut names = Vec::new();
                if !self.eat_op("*") {
                    let paren = self.eat_op("(");
                    loop {
                        let n = self.ident()?;
                        let alias = if self.eat_kw("as") {
                            Some(self.ident()?)
                        } else {
                            None
                        };
                        names.push((n, alias));
                        if !self.eat_op(",") {
                            break;
                        }
                        if paren && self.is_op(")") {
                            break;
                        }
                    }
                    if paren {
                        self.expect_op(")")?;
                    }
                }
                StmtKind::ImportFrom(module, names)
            }
            "print" => {
                self.bump();
                let mut args = Vec::new();
                if self.eat_op(">>") {
                    args.push(self.test()?);
                    if !self.eat_op(",") {
                        return Ok(Stmt {
                            kind: StmtKind::Print(args),
                            pos,
                        });
                    }
                }
                while !self.at_stmt_end() {
                    args.push(self.test()?);
                    if !self.eat_op(",") {
                        break;
                    }
                }
                StmtKind::Print(args)
            }
            "del" => {
                self.bump();
                let mut targets = Vec::new();
                loop {
                    let t = self.expr()?;
                    check_target(&t)?;
                    targets.push(t);
                    if !self.eat_op(",") || self.at_stmt_end() {
                        break;
                    }
                }
                StmtKind::Del(targets)
            }
            "assert" => {
                self.bump();
                let cond = self.test()?;
                let msg = if self.eat_op(",") {
                    Some(self.test()?)
                } else {
                    None
                };
                StmtKind::Assert(cond, msg)
            }
            "global" | "exec" | "yield" | "class" | "try" | "with" | "def" | "for" | "while"
            | "if" => return Err(PyErr::unsupported(format!("'{kw}' here")).at(pos)),
            _ => return self.expr_stmt(pos),
        };
        Ok(Stmt { kind, pos })
    }

    fn at_stmt_end(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Newline | Tok::Eof | Tok::Dedent | Tok::Op(";")
        )
    }

    fn dotted(&mut self) -> PyResult<String> {
        let mut s = self.ident()?.to_string();
        while self.eat_op(".") {
            s.push('.');
            s.push_str(&self.ident()?);
        }
        Ok(s)
    }

    fn expr_stmt(&mut self, pos: Pos) -> PyResult<Stmt> {
        let first = self.testlist()?;
        if let Tok::Op(op) = self.peek() {
            let aug = match *op {
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "//=" => Some(BinOp::FloorDiv),
                "%=" => Some(BinOp::Mod),
                "**=" => Some(BinOp::Pow),
                "<<=" => Some(BinOp::LShift),
                ">>=" => Some(BinOp::RShift),
                "&=" => Some(BinOp::BitAnd),
                "|=" => Some(BinOp::BitOr),
                "^=" => Some(BinOp::BitXor),
                _ => None,
            };
            if let Some(op) = aug {
                self.bump();
                if !matches!(
                    first.kind,
                    ExprKind::Name(_) | ExprKind::Subscript(..) | ExprKind::Attr(..)
                ) {
                    return Err(syntax(
                        first.pos,
                        "illegal expression for augmented assignment",
                    ));
                }
                let value = self.testlist()?;
                return Ok(Stmt {
                    kind: StmtKind::AugAssign(first, op, value),
                    pos,
                });
            }
        }
        if self.is_op("=") {
            let mut targets = vec![first];
            let mut value;
            loop {
                self.bump();
                value = self.testlist()?;
                if !self.is_op("=") {
                    break;
                }
                targets.push(value);
            }
            for t in &targets {
                check_target(t)?;
            }
            return Ok(Stmt {
                kind: StmtKind::Assign(targets, value),
                pos,
            });
        }
        Ok(Stmt {
            kind: StmtKind::Expr(first),
            pos,
        })
    }

    // ---- expressions ----

    /// `test (',' test)* [',']`: a tuple if there is a comma.
    fn testlist(&mut self) -> PyResult<Expr> {
        self.maybe_tuple(Self::test, Self::at_expr_end)
    }

    /// Targets of `for`: `expr (',' expr)*`.
    fn target_list(&mut self) -> PyResult<Expr> {
        let t = self.maybe_tuple(Self::expr, |p| p.is_kw("in"))?;
        check_target(&t)?;
        Ok(t)
    }

    /// `item (',' item)* [',']` without brackets: a tuple if there is a comma, else the one
    /// item. After a comma, `end` says whether the list is over (a trailing comma).
    fn maybe_tuple(
        &mut self,
        item: fn(&mut Self) -> PyResult<Expr>,
        end: fn(&Self) -> bool,
    ) -> PyResult<Expr> {
        let pos = self.pos();
        let first = item(self)?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if end(self) {
                break;
            }
            items.push(item(self)?);
        }
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            pos,
        })
    }

    fn at_expr_end(&self) -> bool {
        match self.peek() {
            Tok::Newline | Tok::Eof | Tok::Dedent => true,
            Tok::Op(o) => {
                matches!(*o, ")" | "]" | "}" | ";" | "=" | ":")
                    || o.ends_with('=') && !matches!(*o, "==" | "<=" | ">=" | "!=")
            }
            Tok::Name(n) => n == "in",
            _ => false,
        }
    }

    fn test(&mut self) -> PyResult<Expr> {
        self.nested(Self::test_inner)
    }

    fn test_inner(&mut self) -> PyResult<Expr> {
        if self.is_kw("lambda") {
            return Err(PyErr::unsupported("'lambda'").at(self.pos()));
        }
        if self.is_kw("yield") {
            return Err(PyErr::unsupported("'yield'").at(self.pos()));
        }
        let pos = self.pos();
        let e = self.or_test()?;
        if self.is_kw("if") {
            self.bump();
            let cond = self.or_test()?;
            self.expect_kw("else")?;
            let other = self.test()?;
            return Ok(Expr {
                kind: ExprKind::IfExp(Box::new(cond), Box::new(e), Box::new(other)),
                pos,
            });
        }
        Ok(e)
    }

    fn or_test(&mut self) -> PyResult<Expr> {
        self.bool_chain(false)
    }

    fn bool_chain(&mut self, and: bool) -> PyResult<Expr> {
        let pos = self.pos();
        let first = if and {
            self.not_test()?
        } else {
            self.bool_chain(true)?
        };
        let kw = if and { "and" } else { "or" };
        if !self.is_kw(kw) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw(kw) {
            items.push(if and {
                self.not_test()?
            } else {
                self.bool_chain(true)?
            });
        }
        Ok(Expr {
            kind: ExprKind::BoolOp(and, items),
            pos,
        })
    }

    fn not_test(&mut self) -> PyResult<Expr> {
        if self.is_kw("not") {
            let pos = self.pos();
            self.bump();
            let e = self.nested(Self::not_test)?;
            return Ok(Expr {
                kind: ExprKind::Unary(UnOp::Not, Box::new(e)),
                pos,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PyResult<Expr> {
        let pos = self.pos();
        let first = self.expr()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Op("==") => CmpOp::Eq,
                Tok::Op("!=") | Tok::Op("<>") => CmpOp::Ne,
                Tok::Op("<") => CmpOp::Lt,
                Tok::Op("<=") => CmpOp::Le,
                Tok::Op(">") => CmpOp::Gt,
                Tok::Op(">=") => CmpOp::Ge,
                Tok::Name(n) if n == "in" => CmpOp::In,
                Tok::Name(n)
                    if n == "not" && matches!(self.peek_at(1), Tok::Name(m) if m == "in") =>
                {
                    self.bump();
                    CmpOp::NotIn
                }
                Tok::Name(n) if n == "is" => {
                    if matches!(self.peek_at(1), Tok::Name(m) if m == "not") {
                        self.bump();
                        CmpOp::IsNot
                    } else {
                        CmpOp::Is
                    }
                }
                _ => break,
            };
            self.bump();
            rest.push((op, self.expr()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr {
                kind: ExprKind::Compare(Box::new(first), rest),
                pos,
            })
        }
    }

    /// A left-associative binary chain; each link counts as one nesting level.
    fn binary_level(&mut self, level: usize) -> PyResult<Expr> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("|", BinOp::BitOr)],
            &[("^", BinOp::BitXor)],
            &[("&", BinOp::BitAnd)],
            &[("<<", BinOp::LShift), (">>", BinOp::RShift)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[
                ("*", BinOp::Mul),
                ("/", BinOp::Div),
                ("//", BinOp::FloorDiv),
                ("%", BinOp::Mod),
            ],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.factor();
        };
        let mut left = self.binary_level(level + 1)?;
        let saved = self.depth;
        let result = loop {
            let found = ops.iter().find(|(s, _)| self.is_op(s)).map(|(_, op)| *op);
            let Some(op) = found else { break Ok(left) };
            let pos = self.pos();
            self.bump();
            if let Err(e) = self.enter() {
                break Err(e);
            }
            let right = match self.binary_level(level + 1) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                pos,
            };
        };
        self.depth = saved;
        result
    }

    fn expr(&mut self) -> PyResult<Expr> {
        self.binary_level(0)
    }

    fn factor(&mut self) -> PyResult<Expr> {
        let op = match self.peek() {
            Tok::Op("-") => Some(UnOp::Neg),
            Tok::Op("+") => Some(UnOp::Pos),
            Tok::Op("~") => Some(UnOp::Invert),
            _ => None,
        };
        if let Some(op) = op {
            let pos = self.pos();
            self.bump();
            let e = self.nested(Self::factor)?;
            // Fold negative number literals (so that -9223372036854775807 stays a constant).
            if op == UnOp::Neg {
                match e.kind {
                    ExprKind::Int(i) if i != i64::MIN => {
                        return Ok(Expr {
                            kind: ExprKind::Int(-i),
                            pos,
                        });
                    }
                    ExprKind::Float(f) => {
                        return Ok(Expr {
                            kind: ExprKind::Float(-f),
                            pos,
                        });
                    }
                    _ => {}
                }
            }
            return Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(e)),
                pos,
            });
        }
        self.power()
    }

    fn power(&mut self) -> PyResult<Expr> {
        let mut e = self.atom()?;
        let saved = self.depth;
        let r = self.trailers(&mut e);
        self.depth = saved;
        r?;
        if self.is_op("**") {
            let opos = self.pos();
            self.bump();
            let rhs = self.nested(Self::factor)?;
            return Ok(Expr {
                kind: ExprKind::Binary(BinOp::Pow, Box::new(e), Box::new(rhs)),
                pos: opos,
            });
        }
        Ok(e)
    }

    fn trailers(&mut self, e: &mut Expr) -> PyResult<()> {
        loop {
            // Calls, subscripts and attributes are located at the start of the whole primary.
            let pos = e.pos;
            let kind = if self.eat_op("(") {
                self.enter()?;
                let args = self.arglist()?;
                self.expect_op(")")?;
                ExprKind::Call(Box::new(std::mem::replace(e, dummy())), args)
            } else if self.eat_op("[") {
                self.enter()?;
                let idx = self.subscript()?;
                self.expect_op("]")?;
                ExprKind::Subscript(Box::new(std::mem::replace(e, dummy())), Box::new(idx))
            } else if self.eat_op(".") {
                self.enter()?;
                let name = self.ident()?;
                ExprKind::Attr(Box::new(std::mem::replace(e, dummy())), name)
            } else {
                return Ok(());
            };
            *e = Expr { kind, pos };
        }
    }

    fn arglist(&mut self) -> PyResult<Vec<Arg>> {
        let mut args = Vec::new();
        let mut seen_kw = false;
        while !self.is_op(")") {
            let pos = self.pos();
            if self.eat_op("*") {
                args.push(Arg::Star(self.test()?));
            } else if self.eat_op("**") {
                args.push(Arg::StarStar(self.test()?));
            } else if let (Tok::Name(n), Tok::Op("=")) = (self.peek(), self.peek_at(1)) {
                if KEYWORDS.contains(&n.as_str()) {
                    return Err(self.unexpected());
                }
                let n: Rc<str> = Rc::from(n.as_str());
                if args.iter().any(|a| matches!(a, Arg::Kw(k, _) if *k == n)) {
                    return Err(syntax(pos, format!("keyword argument repeated: {n}")));
                }
                self.bump();
                self.bump();
                args.push(Arg::Kw(n, self.test()?));
                seen_kw = true;
            } else {
                let e = self.test()?;
                if self.is_kw("for") {
                    return Err(PyErr::unsupported("a generator expression").at(self.pos()));
                }
                if seen_kw {
                    return Err(syntax(pos, "non-keyword arg after keyword arg"));
                }
                args.push(Arg::Pos(e));
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(args)
    }

    fn subscript(&mut self) -> PyResult<Index> {
        let pos = self.pos();
        if self.is_op(".") && matches!(self.peek_at(1), Tok::Op(".")) {
            return Err(PyErr::unsupported("'...'").at(pos));
        }
        let lower = if self.is_op(":") {
            None
        } else {
            Some(self.test()?)
        };
        if !self.is_op(":") {
            let Some(first) = lower else {
                return Err(self.unexpected());
            };
            if self.is_op(",") {
                let items = self.items_until(first, "]")?;
                return Ok(Index::Single(Expr {
                    kind: ExprKind::Tuple(items),
                    pos,
                }));
            }
            return Ok(Index::Single(first));
        }
        self.bump();
        let upper = if self.is_op(":") || self.is_op("]") {
            None
        } else {
            Some(self.test()?)
        };
        let step = if self.eat_op(":") && !self.is_op("]") {
            Some(self.test()?)
        } else {
            None
        };
        if self.is_op(",") {
            return Err(PyErr::unsupported("an extended slice").at(self.pos()));
        }
        Ok(Index::Slice(lower, upper, step))
    }

    fn atom(&mut self) -> PyResult<Expr> {
        let pos = self.pos();
        let tok = self.peek().clone();
        let kind = match tok {
            Tok::Int(i) => {
                self.bump();
                ExprKind::Int(i)
            }
            Tok::Long(i) => {
                self.bump();
                ExprKind::Long(i)
            }
            Tok::Float(f) => {
                self.bump();
                ExprKind::Float(f)
            }
            Tok::Str { .. } => {
                let mut s = String::new();
                let mut uni = false;
                while let Tok::Str { val, unicode } = self.peek() {
                    s.push_str(val);
                    uni |= *unicode;
                    self.bump();
                }
                if uni {
                    ExprKind::Unicode(Rc::from(s))
                } else {
                    ExprKind::Str(Rc::from(s))
                }
            }
            Tok::Name(n) => {
                match n.as_str() {
                    "None" => {
                        self.bump();
                        return Ok(Expr {
                            kind: ExprKind::NoneLit,
                            pos,
                        });
                    }
                    "lambda" | "yield" => return Err(PyErr::unsupported(format!("'{n}'")).at(pos)),
                    k if KEYWORDS.contains(&k) => return Err(self.unexpected()),
                    _ => {}
                }
                self.bump();
                ExprKind::Name(Rc::from(n.as_str()))
            }
            Tok::Op("(") => {
                self.bump();
                return self.nested(|p| p.paren(pos));
            }
            Tok::Op("[") => {
                self.bump();
                return self.nested(|p| p.list(pos));
            }
            Tok::Op("{") => {
                self.bump();
                return self.nested(|p| p.dict(pos));
            }
            Tok::Op("`") => return Err(PyErr::unsupported("backquote repr (`...`)").at(pos)),
            _ => return Err(self.unexpected()),
        };
        Ok(Expr { kind, pos })
    }

    fn paren(&mut self, pos: Pos) -> PyResult<Expr> {
        if self.eat_op(")") {
            return Ok(Expr {
                kind: ExprKind::Tuple(Vec::new()),
                pos,
            });
        }
        let first = self.test()?;
        if self.is_kw("for") {
            return Err(PyErr::unsupported("a generator expression").at(self.pos()));
        }
        if self.eat_op(")") {
            return Ok(first);
        }
        let items = self.items_until(first, ")")?;
        self.expect_op(")")?;
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            pos,
        })
    }

    fn list(&mut self, pos: Pos) -> PyResult<Expr> {
        if self.eat_op("]") {
            return Ok(Expr {
                kind: ExprKind::List(Vec::new()),
                pos,
            });
        }
        let first = self.test()?;
        if self.is_kw("for") {
            let mut clauses = Vec::new();
            while self.is_kw("for") || self.is_kw("if") {
                if self.eat_kw("for") {
                    let target = self.target_list()?;
                    self.expect_kw("in")?;
                    let ipos = self.pos();
                    let first = self.or_test()?;
                    let iter = if self.is_op(",") {
                        let mut items = vec![first];
                        while self.eat_op(",") {
                            if self.is_op("]") || self.is_kw("for") || self.is_kw("if") {
                                break;
                            }
                            items.push(self.or_test()?);
                        }
                        Expr {
                            kind: ExprKind::Tuple(items),
                            pos: ipos,
                        }
                    } else {
                        first
                    };
                    clauses.push(CompFor::For(target, iter));
                } else {
                    self.bump();
                    clauses.push(CompFor::If(self.or_test()?));
                }
            }
            self.expect_op("]")?;
            return Ok(Expr {
                kind: ExprKind::ListComp(Box::new(first), clauses),
                pos,
            });
        }
        let items = self.items_until(first, "]")?;
        self.expect_op("]")?;
        Ok(Expr {
            kind: ExprKind::List(items),
            pos,
        })
    }

    fn dict(&mut self, pos: Pos) -> PyResult<Expr> {
        let mut items = Vec::new();
        while !self.is_op("}") {
            let k = self.test()?;
            if !self.is_op(":") {
                return Err(PyErr::unsupported("a set literal or comprehension").at(self.pos()));
            }
            self.bump();
            let v = self.test()?;
            if self.is_kw("for") {
                return Err(PyErr::unsupported("a dict comprehension").at(self.pos()));
            }
            items.push((k, v));
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op("}")?;
        Ok(Expr {
            kind: ExprKind::Dict(items),
            pos,
        })
    }
}

fn dummy() -> Expr {
    Expr {
        kind: ExprKind::NoneLit,
        pos: Pos::default(),
    }
}

/// Can `e` be assigned to (or deleted)?
fn check_target(e: &Expr) -> PyResult<()> {
    match &e.kind {
        ExprKind::Name(n) => {
            if &**n == "None" {
                return Err(syntax(e.pos, "cannot assign to None"));
            }
            Ok(())
        }
        ExprKind::Subscript(..) | ExprKind::Attr(..) => Ok(()),
        ExprKind::Tuple(items) | ExprKind::List(items) => items.iter().try_for_each(check_target),
        ExprKind::Call(..) => Err(syntax(e.pos, "can't assign to function call")),
        ExprKind::NoneLit => Err(syntax(e.pos, "cannot assign to None")),
        ExprKind::Int(_)
        | ExprKind::Long(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Unicode(_) => Err(syntax(e.pos, "can't assign to literal")),
        _ => Err(syntax(e.pos, "can't assign to operator")),
    }
}

/// Names bound by statements (not descending into nested functions): a function's locals.
fn collect_bound(body: &[Stmt], out: &mut Vec<Rc<str>>) {
    fn add(out: &mut Vec<Rc<str>>, n: &Rc<str>) {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    fn target(e: &Expr, out: &mut Vec<Rc<str>>) {
        match &e.kind {
            ExprKind::Name(n) => add(out, n),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().for_each(|t| target(t, out))
            }
            _ => {}
        }
    }
    fn expr(e: &Expr, out: &mut Vec<Rc<str>>) {
        // Python 2 list comprehension variables are bound in the enclosing scope.
        if let ExprKind::ListComp(elt, clauses) = &e.kind {
            for c in clauses {
                match c {
                    CompFor::For(t, it) => {
                        target(t, out);
                        expr(it, out);
                    }
                    CompFor::If(c) => expr(c, out),
                }
            }
            expr(elt, out);
            return;
        }
        match &e.kind {
            ExprKind::List(items) | ExprKind::Tuple(items) | ExprKind::BoolOp(_, items) => {
                items.iter().for_each(|i| expr(i, out))
            }
            ExprKind::Dict(items) => items.iter().for_each(|(k, v)| {
                expr(k, out);
                expr(v, out)
            }),
            ExprKind::Unary(_, a) | ExprKind::Attr(a, _) => expr(a, out),
            ExprKind::Binary(_, a, b) => {
                expr(a, out);
                expr(b, out)
            }
            ExprKind::Compare(a, rest) => {
                expr(a, out);
                rest.iter().for_each(|(_, b)| expr(b, out))
            }
            ExprKind::IfExp(a, b, c) => {
                expr(a, out);
                expr(b, out);
                expr(c, out)
            }
            ExprKind::Subscript(a, idx) => {
                expr(a, out);
                match &**idx {
                    Index::Single(i) => expr(i, out),
                    Index::Slice(a, b, c) => [a, b, c]
                        .iter()
                        .filter_map(|x| x.as_ref())
                        .for_each(|x| expr(x, out)),
                }
            }
            ExprKind::Call(f, args) => {
                expr(f, out);
                for a in args {
                    match a {
                        Arg::Pos(e) | Arg::Kw(_, e) | Arg::Star(e) | Arg::StarStar(e) => {
                            expr(e, out)
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for s in body {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Return(Some(e)) => expr(e, out),
            StmtKind::Assign(targets, v) => {
                targets.iter().for_each(|t| {
                    target(t, out);
                    expr(t, out)
                });
                expr(v, out);
            }
            StmtKind::AugAssign(t, _, v) => {
                target(t, out);
                expr(v, out);
            }
            StmtKind::If(arms, orelse) => {
                for (c, b) in arms {
                    expr(c, out);
                    collect_bound(b, out);
                }
                if let Some(b) = orelse {
                    collect_bound(b, out);
                }
            }
            StmtKind::For(t, it, b, orelse) => {
                target(t, out);
                expr(it, out);
                collect_bound(b, out);
                if let Some(b) = orelse {
                    collect_bound(b, out);
                }
            }
            StmtKind::While(c, b, orelse) => {
                expr(c, out);
                collect_bound(b, out);
                if let Some(b) = orelse {
                    collect_bound(b, out);
                }
            }
            StmtKind::Def(d) => add(out, &d.name),
            StmtKind::Import(names) => {
                for (dotted, alias) in names {
                    let n: Rc<str> = match alias {
                        Some(a) => a.clone(),
                        None => Rc::from(dotted.split('.').next().unwrap_or(dotted)),
                    };
                    add(out, &n);
                }
            }
            StmtKind::ImportFrom(_, names) => {
                for (n, alias) in names {
                    add(out, alias.as_ref().unwrap_or(n));
                }
            }
            StmtKind::Del(targets) => targets.iter().for_each(|t| target(t, out)),
            _ => {}
        }
    }
}
