//! Syntax tree of the supported subset.

use std::rc::Rc;

use super::err::Pos;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    LShift,
    RShift,
    BitAnd,
    BitOr,
    BitXor,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "** or pow()",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Neg,
    Pos,
    Invert,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Index {
    Single(Expr),
    Slice(Option<Expr>, Option<Expr>, Option<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Pos(Expr),
    Kw(Rc<str>, Expr),
    /// `*seq`
    Star(Expr),
    /// `**mapping`
    StarStar(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CompFor {
    For(Expr, Expr),
    If(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Int(i64),
    Long(i64),
    Float(f64),
    Str(Rc<str>),
    Unicode(Rc<str>),
    NoneLit,
    Name(Rc<str>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// `[elt for x in xs if c ...]` (Python 2: the loop variables leak into the scope).
    ListComp(Box<Expr>, Vec<CompFor>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `and` (true) / `or` (false) chains, short-circuit, returning an operand.
    BoolOp(bool, Vec<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    Attr(Box<Expr>, Rc<str>),
    Subscript(Box<Expr>, Box<Index>),
    Call(Box<Expr>, Vec<Arg>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stmt {
    pub kind: StmtKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FuncDef {
    pub name: Rc<str>,
    pub params: Vec<Rc<str>>,
    /// Default expressions for the last `defaults.len()` params.
    pub defaults: Vec<Expr>,
    /// `*args` and `**kwargs` parameter names.
    pub star: Option<Rc<str>>,
    pub starstar: Option<Rc<str>>,
    pub body: Vec<Stmt>,
    /// Every name the body binds: these are the function's locals.
    pub locals: Vec<Rc<str>>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StmtKind {
    Expr(Expr),
    /// `a = b = value`: all targets, then the value.
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, BinOp, Expr),
    If(Vec<(Expr, Vec<Stmt>)>, Option<Vec<Stmt>>),
    For(Expr, Expr, Vec<Stmt>, Option<Vec<Stmt>>),
    While(Expr, Vec<Stmt>, Option<Vec<Stmt>>),
    Def(Rc<FuncDef>),
    Return(Option<Expr>),
    /// `raise`, `raise X`, `raise X("m")`, `raise X, "m"`.
    Raise(Option<Expr>, Option<Expr>),
    Pass,
    Break,
    Continue,
    /// `import a.b [as c]`: dotted name and the name bound.
    Import(Vec<(String, Option<Rc<str>>)>),
    /// `from m import a [as b], ...`; an empty list means `*`.
    ImportFrom(String, Vec<(Rc<str>, Option<Rc<str>>)>),
    Print(Vec<Expr>),
    Del(Vec<Expr>),
    Assert(Expr, Option<Expr>),
}
