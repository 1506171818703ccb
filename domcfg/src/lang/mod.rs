//! The config language: a safe, bounded evaluator for the Python 2 subset that real
//! `/etc/xen` configs use (and xl.cfg's `key = value` files, which are a subset of it).
//!
//! [`run`] lexes (nom), parses, and evaluates a config the way xm 4.1 did with
//! `execfile(cfg, globs, locs)`: the script's top-level names live in `locs`, which starts with
//! the `VAR=VAL` script variables and xm's predefined names (`os`, `sys`, `re`, `xm_vars`, ...);
//! functions see only their own locals and the builtins. Nothing is executed that could touch
//! the host: the only observations are [`Host::uname`] and [`Host::path_exists`]; `os.environ`
//! is empty; `print` output is discarded. Every loop, recursion, string and list is bounded by
//! [`Limits`], and no input makes the evaluator panic or overflow its stack.
//!
//! Unsupported Python (`class`, `lambda`, `try`, `exec`, `open`, ...) is a located error naming
//! the construct; it is never executed.
//!
//! Known differences from CPython 2.7 (all deliberate or harmless for configs): integers are 64
//! bits (an overflow is an `OverflowError`, where Python would switch to `long`); a `str` holds
//! characters, so non-ASCII text counts one per character; `print` writes nothing; `os.environ`
//! is empty; `is` on equal strings is identity of the value, not of interned objects; nested
//! functions, `class`, `try` and the other constructs above are refused. Dicts iterate in
//! CPython 2.7's hash order, and `repr`/`str` of floats, strings and containers match Python's.

mod args;
mod ast;
mod budget;
mod builtins;
mod err;
mod interp;
mod items;
mod lexer;
mod methods;
mod modules;
mod ops;
mod parser;
mod pydict;
mod regex;
mod strmethods;
mod val;

#[cfg(test)]
mod tests;

use crate::error::ConfigError;
use crate::value::Value;

use err::{PyErr, SourceMap};
use val::Val;

/// Bounds on what a config may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps (statements, expressions, loop iterations, and work proportional to the
    /// size of strings and lists touched).
    pub max_steps: u64,
    /// Longest string, in bytes.
    pub max_str_len: usize,
    /// Longest list, tuple or dict.
    pub max_list_len: usize,
    /// Deepest chain of function calls. (Nesting of brackets, operators and blocks has fixed
    /// bounds: 200 parser levels, 400 evaluator levels, and a native-stack budget of 768 KiB, so
    /// `run` needs a thread stack of at least 2 MiB.)
    pub max_depth: usize,
    /// Largest config source, in bytes.
    pub max_source_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 1_000_000,
            max_str_len: 1 << 20,
            max_list_len: 100_000,
            max_depth: 64,
            max_source_len: 1 << 20,
        }
    }
}

/// What the script may observe of the host (deterministic in tests).
pub trait Host {
    /// `os.uname()`: (sysname, nodename, release, version, machine).
    fn uname(&self) -> [String; 5];
    /// `os.path.exists`, `os.path.isfile`, `os.path.isdir`.
    fn path_exists(&self, path: &str) -> bool;
}

/// The machine we run on: `/proc/sys/kernel/*` for uname, the file system for paths.
pub struct RealHost;

impl Host for RealHost {
    fn uname(&self) -> [String; 5] {
        let read = |name: &str, default: &str| {
            std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
                .map(|s| s.trim_end_matches('\n').to_string())
                .unwrap_or_else(|_| default.to_string())
        };
        let machine = match std::env::consts::ARCH {
            "x86" => "i686",
            "arm" => "armv7l",
            other => other,
        };
        [
            read("ostype", "Linux"),
            read("hostname", "localhost"),
            read("osrelease", ""),
            read("version", ""),
            machine.to_string(),
        ]
    }

    fn path_exists(&self, path: &str) -> bool {
        std::path::Path::new(path).exists()
    }
}

/// Run a config script. `file` is the name used in error locations and as `xm_file`.
/// `vars` are predefined locals (xm's VAR=VAL script variables, already strings).
/// Returns ALL top-level locals after execution, in first-assignment order (predefined ones
/// included; functions, modules and other objects come back as [`Value::Opaque`]).
pub fn run(
    source: &str,
    file: &str,
    vars: &[(String, Value)],
    host: &dyn Host,
    limits: &Limits,
) -> Result<Vec<(String, Value)>, ConfigError> {
    run_with_help(source, file, vars, host, limits, false)
}

/// [`run`], with xm's `xm_help` flag: when `help` is true, `xm_help` is 1 and
/// `xm_vars.check()` runs no checks (xm printed the variables' help text instead).
pub fn run_with_help(
    source: &str,
    file: &str,
    vars: &[(String, Value)],
    host: &dyn Host,
    limits: &Limits,
    help: bool,
) -> Result<Vec<(String, Value)>, ConfigError> {
    let map = SourceMap { file, src: source };
    if source.len() > limits.max_source_len {
        return Err(map.error(
            &PyErr::limit(format!(
                "the config is {} bytes long; the limit is {} bytes",
                source.len(),
                limits.max_source_len
            ))
            .at(err::Pos { line: 1, col: 1 }),
        ));
    }
    let tokens = lexer::tokenize(source, parser::MAX_NESTING).map_err(|e| map.error(&e))?;
    let program = parser::parse(tokens).map_err(|e| map.error(&e))?;

    let meter = budget::Meter::new(limits.max_steps, limits.max_str_len, limits.max_list_len);
    let mut it = interp::Interp::new(meter, host, limits.max_depth);
    // xm's prelude, in the order it bound the names (opts.py, Opts.load).
    for (name, v) in vars {
        it.top.set(name, Val::from_value(v));
    }
    it.top.set("sys", Val::Module("sys"));
    it.top.set("os", Val::Module("os"));
    for (name, v) in modules::ip_star() {
        it.top.set(name, v);
    }
    it.top.set("Vars", Val::Builtin("Vars"));
    it.top.set("xm_file", Val::str(file));
    it.top.set("xm_help", Val::Int(i64::from(help)));
    let vars_obj = std::rc::Rc::new(val::VarsObj::default());
    it.top.set("xm_vars", Val::Vars(vars_obj.clone()));
    it.help = help;

    let mut budget = limits.max_steps;
    let result = it
        .exec_block(&program)
        .map_err(|e| map.error(&e))
        .and_then(|_| {
            let mut out = Vec::new();
            for (name, v) in std::mem::take(&mut it.top).into_vars() {
                // xm ignored values that are not str/list/int/float: one that cannot be
                // converted (nested too deeply, or containing itself) is just opaque. A list is
                // an error.
                let value = match v.to_value(&mut budget) {
                    Err(_) if !matches!(v, Val::List(_)) => {
                        Ok(Value::Opaque(v.type_name().to_string()))
                    }
                    r => r,
                };
                let value = value.map_err(|e| {
                    map.error(
                        &PyErr::new(e.kind, format!("variable '{name}': {}", e.msg))
                            .at(err::Pos { line: 1, col: 1 }),
                    )
                })?;
                out.push((name.to_string(), value));
            }
            Ok(out)
        });
    // Free everything the script built, including reference cycles.
    drop(std::mem::take(&mut it.top));
    let checks = std::mem::take(&mut *vars_obj.0.borrow_mut());
    drop(checks);
    it.m.break_cycles();
    result
}
