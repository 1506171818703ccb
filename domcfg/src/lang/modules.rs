//! The modules a config may import (`os`, `os.path`, `sys`, `re`, `socket`, `struct`, `errno`,
//! `string`, `xen.util.ip`, `xen.xm.help`): `import`, `from M import *`, module attributes, and
//! `obj.name` for every kind of value ([`getattr`]).

use std::rc::Rc;

use super::err::{PyErr, PyResult};
use super::val::{Bound, Val};

pub(super) fn find_static(list: &[&'static str], name: &str) -> Option<&'static str> {
    list.iter().copied().find(|n| *n == name)
}

pub(super) fn import_module(dotted: &str) -> PyResult<Val> {
    const MODULES: &[&str] = &[
        "os",
        "os.path",
        "sys",
        "re",
        "socket",
        "struct",
        "errno",
        "string",
        "xen.util.ip",
        "xen.xm.help",
    ];
    match find_static(MODULES, dotted) {
        Some(m @ ("xen.util.ip" | "xen.xm.help")) => Ok(Val::Module(m)),
        Some(m) => Ok(Val::Module(m)),
        None => Err(PyErr::new(
            "ImportError",
            format!(
                "No module named {dotted} (xm configs may import only os, os.path, sys, re, socket, struct, errno, string)"
            ),
        )),
    }
}

const IP_HELPERS: &[&str] = &[
    "add_offset_to_ip",
    "check_subnet",
    "get_current_ipaddr",
    "get_current_ipgw",
    "get_current_ipmask",
    "get_defaultroute",
    "inet_aton",
    "inet_ntoa",
];

/// `from M import *`.
pub(super) fn star_import(module: &str) -> PyResult<Vec<(&'static str, Val)>> {
    match module {
        "xen.util.ip" => Ok(ip_star()),
        "xen.xm.help" => Ok(vec![("Vars", Val::Builtin("Vars"))]),
        _ => Err(PyErr::unsupported(format!("'from {module} import *'"))),
    }
}

/// What `from xen.util.ip import *` put into xm's config namespace.
pub(super) fn ip_star() -> Vec<(&'static str, Val)> {
    let mut v: Vec<(&'static str, Val)> =
        IP_HELPERS.iter().map(|n| (*n, Val::Builtin(n))).collect();
    v.push(("errno", Val::Module("errno")));
    v.push(("re", Val::Module("re")));
    v.push(("socket", Val::Module("socket")));
    v.push(("struct", Val::Module("struct")));
    v
}

pub(super) fn no_attr(owner: &str, name: &str) -> PyErr {
    PyErr::new(
        "AttributeError",
        format!("'{owner}' object has no attribute '{name}'"),
    )
}

const STR_METHODS: &[&str] = &[
    "split",
    "rsplit",
    "join",
    "strip",
    "lstrip",
    "rstrip",
    "replace",
    "lower",
    "upper",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "format",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "islower",
    "isupper",
    "zfill",
    "ljust",
    "rjust",
    "center",
    "splitlines",
    "title",
    "capitalize",
    "swapcase",
    "partition",
    "rpartition",
    "encode",
    "decode",
];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "index", "count", "remove", "reverse", "sort",
];
const DICT_METHODS: &[&str] = &[
    "get",
    "keys",
    "values",
    "items",
    "has_key",
    "update",
    "pop",
    "setdefault",
    "copy",
    "clear",
    "iteritems",
    "iterkeys",
    "itervalues",
];
const MATCH_METHODS: &[&str] = &["group", "groups", "start", "end", "span", "groupdict"];
const PATTERN_METHODS: &[&str] = &["search", "match", "sub", "split", "findall"];

fn method(recv: &Val, name: &'static str) -> Val {
    Val::Method(Rc::new(Bound {
        recv: recv.clone(),
        name,
    }))
}

/// `obj.name`.
pub(super) fn getattr(obj: &Val, name: &str) -> PyResult<Val> {
    if name.starts_with("__") {
        return Err(PyErr::unsupported(format!("the attribute '{name}'")));
    }
    let list = match obj {
        Val::Str(_) | Val::Unicode(_) => STR_METHODS,
        Val::List(_) => LIST_METHODS,
        Val::Dict(_) => DICT_METHODS,
        Val::Match(_) => MATCH_METHODS,
        Val::Pattern(_) => PATTERN_METHODS,
        Val::Vars(_) => &["var", "check"],
        Val::Environ => &["get", "has_key", "keys", "values", "items"],
        Val::Tuple(_) => &["index", "count"],
        Val::Exc(e) if name == "message" => return Ok(Val::str(&e.1)),
        Val::Module(m) => return module_attr(m, name),
        _ => &[],
    };
    match find_static(list, name) {
        Some(n) => Ok(method(obj, n)),
        None => {
            if let (Val::Pattern(p), "pattern") = (obj, name) {
                return Ok(Val::str(p.as_str()));
            }
            Err(no_attr(obj.type_name(), name))
        }
    }
}

fn module_attr(module: &'static str, name: &str) -> PyResult<Val> {
    let funcs: &[&'static str] = match module {
        "os" => &["os.uname", "os.getenv"],
        "os.path" => &[
            "os.path.exists",
            "os.path.isfile",
            "os.path.isdir",
            "os.path.join",
            "os.path.basename",
            "os.path.dirname",
            "os.path.split",
            "os.path.splitext",
            "os.path.isabs",
            "os.path.normpath",
        ],
        "re" => &[
            "re.search",
            "re.match",
            "re.sub",
            "re.split",
            "re.findall",
            "re.compile",
            "re.escape",
        ],
        "socket" => &["socket.gethostname"],
        "sys.stdout" | "sys.stderr" => &["sys.stdout.write", "sys.stderr.write"],
        "xen.util.ip" => IP_HELPERS,
        _ => &[],
    };
    if let Some(f) = funcs.iter().copied().find(|f| {
        f.strip_prefix(module).and_then(|r| r.strip_prefix('.')) == Some(name)
            || (module == "xen.util.ip" && *f == name)
    }) {
        return Ok(Val::Builtin(f));
    }
    let v = match (module, name) {
        ("os", "path") => Val::Module("os.path"),
        ("os", "environ") => Val::Environ,
        ("os", "sep") | ("os.path", "sep") => Val::str("/"),
        ("os", "name") => Val::str("posix"),
        ("os", "linesep") => Val::str("\n"),
        ("os", "curdir") | ("os.path", "curdir") => Val::str("."),
        ("os", "pardir") | ("os.path", "pardir") => Val::str(".."),
        ("sys", "platform") => Val::str("linux2"),
        ("sys", "maxint") => Val::Int(i64::MAX),
        ("sys", "byteorder") => Val::str("little"),
        ("sys", "version") => Val::str("2.7.18 (xm-rs)"),
        ("sys", "version_info") => Val::tuple(vec![
            Val::Int(2),
            Val::Int(7),
            Val::Int(18),
            Val::str("final"),
            Val::Int(0),
        ]),
        ("sys", "stdout") => Val::Module("sys.stdout"),
        ("sys", "stderr") => Val::Module("sys.stderr"),
        ("re", "I") | ("re", "IGNORECASE") => Val::Int(2),
        ("re", "M") | ("re", "MULTILINE") => Val::Int(8),
        ("re", "S") | ("re", "DOTALL") => Val::Int(16),
        ("re", "X") | ("re", "VERBOSE") => Val::Int(64),
        ("re", "U") | ("re", "UNICODE") => Val::Int(32),
        ("re", "L") | ("re", "LOCALE") => Val::Int(4),
        ("errno", _) => match errno(name) {
            Some(n) => Val::Int(n),
            None => return Err(no_attr("module", name)),
        },
        ("string", "digits") => Val::str("0123456789"),
        ("string", "ascii_letters") | ("string", "letters") => {
            Val::str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        }
        ("string", "ascii_lowercase") | ("string", "lowercase") => {
            Val::str("abcdefghijklmnopqrstuvwxyz")
        }
        ("string", "ascii_uppercase") | ("string", "uppercase") => {
            Val::str("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        }
        ("string", "hexdigits") => Val::str("0123456789abcdefABCDEF"),
        ("xen.xm.help", "Vars") => Val::Builtin("Vars"),
        _ => {
            return Err(PyErr::new(
                "AttributeError",
                format!("{module}.{name} is not available in xm configs"),
            ));
        }
    };
    Ok(v)
}

fn errno(name: &str) -> Option<i64> {
    Some(match name {
        "EPERM" => 1,
        "ENOENT" => 2,
        "ESRCH" => 3,
        "EINTR" => 4,
        "EIO" => 5,
        "ENXIO" => 6,
        "E2BIG" => 7,
        "EBADF" => 9,
        "EAGAIN" => 11,
        "ENOMEM" => 12,
        "EACCES" => 13,
        "EBUSY" => 16,
        "EEXIST" => 17,
        "ENODEV" => 19,
        "ENOTDIR" => 20,
        "EISDIR" => 21,
        "EINVAL" => 22,
        "ENOSPC" => 28,
        _ => return None,
    })
}
