//! The values a config script computes. Only top-level `str`, `list`, `int` and `float` values
//! become options (xm 4.1 semantics); the other variants exist so that scripts can compute with
//! them and so that the loader can ignore them exactly as xm did.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    None,
    Bool(bool),
    /// Python 2 `int` (and `long` literals such as `256L`, see [`Value::Long`]).
    Int(i64),
    /// A `long` literal (`256L`): a number, but xm ignored it as an option value.
    Long(i64),
    Float(f64),
    Str(String),
    /// A `u"..."` literal: a string, but xm ignored it as an option value.
    Unicode(String),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Dicts keep insertion order; keys are values.
    Dict(Vec<(Value, Value)>),
    /// Anything else a script can hold (functions, modules, builtins): not an option value.
    #[serde(serialize_with = "opaque")]
    Opaque(String),
}

fn opaque<S: serde::Serializer>(name: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("<{name}>"))
}

impl Value {
    /// Python's type name, for error messages (`int`, `str`, `list`, ...).
    pub fn type_name(&self) -> &str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Unicode(_) => "unicode",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Opaque(n) => n,
        }
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Long(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) | Value::Unicode(s) => !s.is_empty(),
            Value::List(v) | Value::Tuple(v) => !v.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Opaque(_) => true,
        }
    }

    /// True for the types xm 4.1 copies from the script's locals into its options:
    /// exactly `str`, `list`, `int`, `float`.
    pub fn is_option_type(&self) -> bool {
        matches!(
            self,
            Value::Str(_) | Value::List(_) | Value::Int(_) | Value::Float(_)
        )
    }
}
