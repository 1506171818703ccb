//! xm 4.1's option table and option values (`gopts` in `xm/create.py`, `Opts` in `xm/opts.py`).
//!
//! Every `xm create` switch and config variable has a converter and a default. Values come
//! from three places, in this order of strength:
//! 1. `VAR=VAL` words and switches on the command line ("specified": they win over the script),
//! 2. the config script's top-level locals of type `str`, `list`, `int` or `float`,
//! 3. the defaults below.
//!
//! A `VAR=VAL` word whose `VAR` is not in the table is a *script variable*: the script sees it
//! as a string (`vmid == '3'`), and xm never converts it.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::error::ConfigError;
use crate::value::Value;

/// How a command-line value is converted (the `fn=` of each `gopts` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Converter {
    /// A switch without a value (`-n`, `-c`): sets 1.
    Flag,
    /// `set_value`: the text as given.
    Str,
    /// `set_int`: Python `int(text)`, else `Invalid value: TEXT`.
    Int,
    /// `set_long`: Python `long(text)`.
    Long,
    /// `set_bool`: `yes|y` → 1, `no|n` → 0.
    Bool,
    /// `append_value`: each occurrence appends the text to the list.
    Append,
}

/// A switch (`-n`, `--path`) or a config variable (`memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OptionKind {
    Switch,
    Variable,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OptionSpec {
    pub name: String,
    pub kind: OptionKind,
    pub converter: Converter,
    pub default: Value,
}

/// The table as shipped: `data/xm41-config-vars.tsv` (see `data/README.md` for its origin).
const TABLE_TSV: &str = include_str!("../data/xm41-config-vars.tsv");

/// All options and variables of `xm create` in 4.1, in declaration order.
pub fn table() -> &'static [OptionSpec] {
    static TABLE: OnceLock<Vec<OptionSpec>> = OnceLock::new();
    TABLE.get_or_init(|| TABLE_TSV.lines().filter_map(parse_row).collect())
}

/// The table entry for a name (`memory`, `dryrun`, ...).
pub fn lookup(name: &str) -> Option<&'static OptionSpec> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        table()
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect()
    });
    index.get(name).map(|&i| &table()[i])
}

fn parse_row(line: &str) -> Option<OptionSpec> {
    let cols: Vec<&str> = line.split('\t').collect();
    if cols.len() < 5 {
        return None;
    }
    let kind = match cols[0] {
        "OPT" => OptionKind::Switch,
        "VAR" => OptionKind::Variable,
        _ => return None,
    };
    let converter = match cols[3] {
        "flag" => Converter::Flag,
        "str" => Converter::Str,
        "int" => Converter::Int,
        "long" => Converter::Long,
        t if t.starts_with("bool") => Converter::Bool,
        t if t.starts_with("list") => Converter::Append,
        _ => return None,
    };
    Some(OptionSpec {
        name: cols[1].to_string(),
        kind,
        converter,
        default: parse_default(cols[4]),
    })
}

/// The Python literals that appear as defaults: `None`, ints, `'text'`, `[]`.
fn parse_default(text: &str) -> Value {
    match text {
        "None" => Value::None,
        "[]" => Value::List(Vec::new()),
        t if t.len() >= 2 && (t.starts_with('\'') && t.ends_with('\'')) => {
            Value::Str(t[1..t.len() - 1].to_string())
        }
        t => t
            .parse()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Str(t.to_string())),
    }
}

/// Python 2 `int(text)`: surrounding whitespace, an optional sign, decimal digits.
pub fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// What a `VAR=VAL` word turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgEffect {
    /// A known variable, now "specified".
    Option,
    /// An unknown name: a string variable for the script.
    ScriptVar,
}

/// xm's option values (`gopts.vals`) plus the script variables (`gopts.vars`).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    values: HashMap<String, Value>,
    specified: HashSet<String>,
    script_vars: Vec<(String, Value)>,
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// Every option at its default.
    pub fn new() -> Self {
        let values = table()
            .iter()
            .map(|s| (s.name.clone(), s.default.clone()))
            .collect();
        Options {
            values,
            specified: HashSet::new(),
            script_vars: Vec::new(),
        }
    }

    /// The value of an option or of any name the script set (`hasattr(vals, name)`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Every name with a value: the table's options and whatever else the script or the
    /// command line set, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.values.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Whether the command line set this option (it then wins over the script).
    pub fn is_specified(&self, name: &str) -> bool {
        self.specified.contains(name)
    }

    /// The `VAR=VAL` script variables, in command-line order (a repeated name keeps its first
    /// position and its last value).
    pub fn script_vars(&self) -> &[(String, Value)] {
        &self.script_vars
    }

    /// Set a value without marking it specified (xm's `setopt`).
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    /// A switch given on the command line (`-n`, `-c`, `--path=P`), by its long name.
    pub fn specify_switch(&mut self, name: &str, value: Option<&str>) {
        let v = match value {
            Some(text) => Value::Str(text.to_string()),
            None => Value::Int(1),
        };
        self.values.insert(name.to_string(), v);
        self.specified.insert(name.to_string());
    }

    /// One `VAR=VAL` word from the command line (`Opts.parse` + `parseCommandLine`).
    ///
    /// A known variable is converted (`memory=abc` → `Invalid value: abc`) and marked
    /// specified; list variables append. Any other name becomes a string script variable, name
    /// and value stripped of surrounding whitespace. A word without `=` is an error here; the
    /// command line treats it as the config name.
    pub fn apply_arg(&mut self, word: &str) -> Result<ArgEffect, ConfigError> {
        let Some((key, val)) = word.split_once('=') else {
            return Err(ConfigError::plain(format!("Not a VAR=VAL setting: {word}")));
        };
        if let Some(spec) = lookup(key).filter(|s| s.kind == OptionKind::Variable) {
            let value = convert(spec, val, self.values.get(key))?;
            self.values.insert(key.to_string(), value);
            self.specified.insert(key.to_string());
            return Ok(ArgEffect::Option);
        }
        let (key, val) = word.trim().split_once('=').unwrap_or((word, ""));
        let (key, val) = (key.trim(), val.trim());
        match self.script_vars.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = Value::Str(val.to_string()),
            None => self
                .script_vars
                .push((key.to_string(), Value::Str(val.to_string()))),
        }
        Ok(ArgEffect::ScriptVar)
    }

    /// Take the script's top-level locals (xm's `Opts.load`): every local of exact type `str`,
    /// `list`, `int` or `float` becomes an option value unless the command line specified it;
    /// other types (`bool`, `long`, `tuple`, `unicode`, `dict`, `None`, functions) are ignored.
    pub fn absorb_locals(&mut self, locals: Vec<(String, Value)>) {
        for (name, value) in locals {
            if self.is_specified(&name) || !value.is_option_type() {
                continue;
            }
            self.values.insert(name, value);
        }
    }
}

fn convert(spec: &OptionSpec, text: &str, current: Option<&Value>) -> Result<Value, ConfigError> {
    let invalid = || ConfigError::plain(format!("Invalid value: {text}"));
    Ok(match spec.converter {
        Converter::Flag => Value::Int(1),
        Converter::Str => Value::Str(text.to_string()),
        Converter::Int => Value::Int(py_int(text).ok_or_else(invalid)?),
        Converter::Long => {
            let t = text.trim();
            let t = t.strip_suffix(['l', 'L']).unwrap_or(t);
            Value::Long(py_int(t).ok_or_else(invalid)?)
        }
        Converter::Bool => match text {
            "yes" | "y" => Value::Int(1),
            "no" | "n" => Value::Int(0),
            // xm's set_bool had no space after the colon.
            _ => return Err(ConfigError::plain(format!("Invalid value:{text}"))),
        },
        Converter::Append => {
            let mut list = match current {
                Some(Value::List(items)) => items.clone(),
                _ => Vec::new(),
            };
            list.push(Value::Str(text.to_string()));
            Value::List(list)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_row_with_its_default() {
        assert_eq!(table().len(), 119);
        let memory = lookup("memory").unwrap();
        assert_eq!(memory.converter, Converter::Int);
        assert_eq!(memory.default, Value::Int(128));
        assert_eq!(
            lookup("builder").unwrap().default,
            Value::Str("linux".into())
        );
        assert_eq!(lookup("disk").unwrap().converter, Converter::Append);
        assert_eq!(lookup("disk").unwrap().default, Value::List(vec![]));
        assert_eq!(lookup("vncunused").unwrap().converter, Converter::Bool);
        assert_eq!(lookup("vcpu_avail").unwrap().converter, Converter::Long);
        assert_eq!(
            lookup("path").unwrap().default,
            Value::Str(".:/etc/xen".into())
        );
        assert_eq!(lookup("nics").unwrap().default, Value::Int(-1));
        assert_eq!(lookup("dryrun").unwrap().kind, OptionKind::Switch);
        assert!(lookup("selinux").is_none());
        assert!(lookup("maxvcpus").is_none());
    }

    #[test]
    fn known_variables_are_converted_and_specified() {
        let mut o = Options::new();
        assert_eq!(o.apply_arg("memory=512").unwrap(), ArgEffect::Option);
        assert_eq!(o.get("memory"), Some(&Value::Int(512)));
        assert!(o.is_specified("memory"));
        assert_eq!(o.apply_arg("memory= 64 ").unwrap(), ArgEffect::Option);
        assert_eq!(o.get("memory"), Some(&Value::Int(64)));
        o.apply_arg("localtime=yes").unwrap();
        assert_eq!(o.get("localtime"), Some(&Value::Int(1)));
        o.apply_arg("name=web 1").unwrap();
        assert_eq!(o.get("name"), Some(&Value::Str("web 1".into())));
    }

    #[test]
    fn bad_values_use_xm_messages() {
        let mut o = Options::new();
        assert_eq!(
            o.apply_arg("memory=abc").unwrap_err().to_string(),
            "Invalid value: abc"
        );
        assert_eq!(
            o.apply_arg("memory=0x10").unwrap_err().to_string(),
            "Invalid value: 0x10"
        );
        assert_eq!(
            o.apply_arg("usb=maybe").unwrap_err().to_string(),
            "Invalid value:maybe"
        );
    }

    #[test]
    fn list_variables_append_and_replace_the_scripts_list() {
        let mut o = Options::new();
        o.apply_arg("disk=phy:/dev/sdb,xvdb,r").unwrap();
        o.apply_arg("disk=file:/x.img,xvdc,w!").unwrap();
        o.absorb_locals(vec![(
            "disk".into(),
            Value::List(vec![Value::Str("phy:sda,xvda,w".into())]),
        )]);
        assert_eq!(
            o.get("disk"),
            Some(&Value::List(vec![
                Value::Str("phy:/dev/sdb,xvdb,r".into()),
                Value::Str("file:/x.img,xvdc,w!".into()),
            ]))
        );
    }

    #[test]
    fn unknown_names_become_string_script_vars() {
        let mut o = Options::new();
        assert_eq!(o.apply_arg(" vmid = 3 ").unwrap(), ArgEffect::ScriptVar);
        o.apply_arg("extra2=a=b").unwrap();
        o.apply_arg("vmid=4").unwrap();
        assert_eq!(
            o.script_vars(),
            &[
                ("vmid".to_string(), Value::Str("4".into())),
                ("extra2".into(), Value::Str("a=b".into()))
            ]
        );
        assert!(!o.is_specified("vmid"));
        // A switch name is not a variable: `quiet=1` is a script variable, as in xm.
        assert_eq!(o.apply_arg("quiet=1").unwrap(), ArgEffect::ScriptVar);
    }

    #[test]
    fn only_str_list_int_float_locals_become_options() {
        let mut o = Options::new();
        o.apply_arg("name=cli").unwrap();
        o.absorb_locals(vec![
            ("name".into(), Value::Str("script".into())),
            ("memory".into(), Value::Long(256)),
            ("vcpus".into(), Value::Bool(true)),
            ("disk".into(), Value::Tuple(vec![])),
            ("maxmem".into(), Value::Float(512.0)),
            ("selinux".into(), Value::Int(0)),
            ("uuid".into(), Value::Unicode("x".into())),
        ]);
        assert_eq!(o.get("name"), Some(&Value::Str("cli".into())));
        assert_eq!(o.get("memory"), Some(&Value::Int(128)));
        assert_eq!(o.get("vcpus"), Some(&Value::Int(1)));
        assert_eq!(o.get("disk"), Some(&Value::List(vec![])));
        assert_eq!(o.get("maxmem"), Some(&Value::Float(512.0)));
        assert_eq!(o.get("selinux"), Some(&Value::Int(0)));
        assert_eq!(o.get("uuid"), Some(&Value::None));
    }

    #[test]
    fn py_int_matches_python() {
        assert_eq!(py_int(" 42 "), Some(42));
        assert_eq!(py_int("-7"), Some(-7));
        assert_eq!(py_int("+7"), Some(7));
        assert_eq!(py_int(""), None);
        assert_eq!(py_int("1.5"), None);
        assert_eq!(py_int("99999999999999999999"), None);
    }
}
