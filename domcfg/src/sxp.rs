//! S-expressions as xend wrote them: the value type, xend's atom quoting (`sxp.show`), the
//! width-80 pretty printer of `xend/PrettyPrint.py` that `xm create -n` and `xm list -l` use, and
//! a small parser for SXP text (`xm create -F`, saved `xm list -l` output).
//!
//! The variants mirror the Python types xend printed, because the type decides the text:
//! an `int` prints bare, a `str` prints bare only if it is an "atom", anything else (a `long`,
//! `None`, a dict) prints as the quoted `repr` of its `str`, and a tuple prints like a list but
//! is never broken across lines.

use std::fmt::Write as _;

use crate::value::Value;

/// One SXP value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Sxp {
    /// Python `int` (and `bool`, which printed as `True`/`False` through [`Sxp::Str`]).
    Int(i64),
    /// Python `float`, printed as Python 2's `str(float)`.
    Float(f64),
    /// Python `str`: bare if it is an atom, else `repr()`.
    Str(String),
    /// Anything else xend printed as `repr(str(x))`: a Python `long`, `None`, a dict.
    /// Always quoted, even when the text would be an atom (`'256'` for `256L`).
    Repr(String),
    /// A list: the pretty printer may break it over lines.
    List(Vec<Sxp>),
    /// A tuple: shown like a list, but always on one line.
    Tuple(Vec<Sxp>),
}

/// Anything that has an SXP form. Lets [`render`] take a [`crate::DomainConfig`] or an [`Sxp`].
pub trait ToSxp {
    fn to_sxp(&self) -> Sxp;
}

impl ToSxp for Sxp {
    fn to_sxp(&self) -> Sxp {
        self.clone()
    }
}

impl Sxp {
    /// A string value (`Sxp::Str`).
    pub fn s(text: impl Into<String>) -> Sxp {
        Sxp::Str(text.into())
    }

    /// `[name, value]`: the shape of almost every SXP entry.
    pub fn pair(name: &str, value: Sxp) -> Sxp {
        Sxp::List(vec![Sxp::s(name), value])
    }

    /// `[name, children...]`.
    pub fn node(name: &str, children: Vec<Sxp>) -> Sxp {
        let mut v = Vec::with_capacity(children.len() + 1);
        v.push(Sxp::s(name));
        v.extend(children);
        Sxp::List(v)
    }

    /// The SXP xend made of a Python value: lists stay lists, tuples stay tuples, `bool` shows as
    /// `True`/`False`, `long`/`None`/`unicode`/dicts as a quoted `repr(str(x))`.
    pub fn from_value(v: &Value) -> Sxp {
        match v {
            Value::Int(i) => Sxp::Int(*i),
            Value::Float(f) => Sxp::Float(*f),
            Value::Str(s) => Sxp::Str(s.clone()),
            Value::Bool(b) => Sxp::s(if *b { "True" } else { "False" }),
            Value::List(items) => Sxp::List(items.iter().map(Sxp::from_value).collect()),
            Value::Tuple(items) => Sxp::Tuple(items.iter().map(Sxp::from_value).collect()),
            other => Sxp::Repr(py_str(other)),
        }
    }

    /// The name of a list whose first element is a string (`vm` for `(vm ...)`).
    pub fn name(&self) -> Option<&str> {
        match self {
            Sxp::List(items) => match items.first() {
                Some(Sxp::Str(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value of the first child `(key value)` of this list (xend's `sxp.child_value`).
    pub fn child_value(&self, key: &str) -> Option<&Sxp> {
        match self {
            Sxp::List(items) => items.iter().skip(1).find_map(|c| match c {
                Sxp::List(kv) if matches!(kv.first(), Some(Sxp::Str(k)) if k == key) => kv.get(1),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The one-line text of this value (xend's `sxp.show`).
    pub fn show(&self) -> String {
        let mut out = String::new();
        show_into(self, &mut out);
        out
    }
}

/// Python 2 `str(x)` of a value, for the quoted forms.
fn py_str(v: &Value) -> String {
    match v {
        Value::None => "None".to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Int(i) | Value::Long(i) => i.to_string(),
        Value::Float(f) => py_float_str(*f),
        Value::Str(s) | Value::Unicode(s) => s.clone(),
        Value::List(items) => format!("[{}]", py_repr_items(items)),
        Value::Tuple(items) if items.len() == 1 => format!("({},)", py_repr_value(&items[0])),
        Value::Tuple(items) => format!("({})", py_repr_items(items)),
        Value::Dict(pairs) => {
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr_value(k), py_repr_value(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Opaque(name) => format!("<{name}>"),
    }
}

fn py_repr_items(items: &[Value]) -> String {
    items
        .iter()
        .map(py_repr_value)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Python 2 `repr(x)` of a value, as an error message shows what a config set.
pub fn py_repr_of(v: &Value) -> String {
    py_repr_value(v)
}

/// Python 2 `repr(x)` of a value (inside containers).
fn py_repr_value(v: &Value) -> String {
    match v {
        Value::Str(s) => py_repr(s),
        Value::Unicode(s) => format!("u{}", py_repr(s)),
        Value::Long(i) => format!("{i}L"),
        Value::Float(f) => py_float_repr(*f),
        other => py_str(other),
    }
}

/// True if xend printed this string bare (`sxp.atomp`): non-empty and made only of ASCII
/// letters, digits and `.-_:/~`, or exactly `@`.
pub fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && (s == "@"
            || s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_:/~".contains(&b)))
}

/// Python 2 `repr()` of a byte string: single quotes unless the text contains `'` and no `"`;
/// `\\`, the quote, `\t`, `\n`, `\r` escaped; other bytes outside 0x20..0x7e as `\xNN`.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote as char);
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(quote as char);
    out
}

/// Python 2.7 `str(float)`: `%.12g`, with `.0` added when the result looks like an integer.
pub fn py_float_str(f: f64) -> String {
    py_float_fmt(f, 12)
}

/// Python 2.7 `repr(float)`: the shortest text that reads back as the same float.
fn py_float_repr(f: f64) -> String {
    if !f.is_finite() {
        return py_float_fmt(f, 17);
    }
    // Rust's `{}` is also shortest-roundtrip; only the exponent style differs from Python's.
    for prec in 1..=17 {
        let s = py_float_fmt(f, prec);
        if s.parse::<f64>().ok() == Some(f) {
            return s;
        }
    }
    py_float_fmt(f, 17)
}

/// C's `%.{prec}g` with Python's `ADD_DOT_0` and `inf`/`nan` spelling.
fn py_float_fmt(f: f64, prec: usize) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sci = format!("{:.*e}", prec - 1, f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = strip_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let fixed = strip_fraction_zeros(&format!("{f:.decimals$}")).to_string();
        if fixed.contains('.') {
            fixed
        } else {
            fixed + ".0"
        }
    }
}

fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn show_into(x: &Sxp, out: &mut String) {
    match x {
        Sxp::List(items) | Sxp::Tuple(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                show_into(item, out);
            }
            out.push(')');
        }
        Sxp::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Sxp::Float(f) => out.push_str(&py_float_str(*f)),
        Sxp::Str(s) if is_atom(s) => out.push_str(s),
        Sxp::Str(s) | Sxp::Repr(s) => out.push_str(&py_repr(s)),
    }
}

/// The width xend's pretty printer used.
pub const WIDTH: usize = 80;

/// Pretty-print as `xend.PrettyPrint.prettyprint` did (width 80, trailing newline).
pub fn render(x: &impl ToSxp) -> String {
    render_width(&x.to_sxp(), WIDTH)
}

/// [`render`] with another line width.
///
/// The rule (an Oppen-style printer where every list is one block with "break all"): a list
/// that fits in the rest of the line is printed on it; otherwise each element after the first
/// goes on its own line, indented 4 past the list's `(`, and the `)` on its own line under the
/// `(`. The fit test looks at the list alone, not at the parents' closing parentheses.
pub fn render_width(x: &Sxp, width: usize) -> String {
    let mut p = Printer {
        out: String::new(),
        width,
        col: 0,
    };
    p.print(x);
    p.out.push('\n');
    p.out
}

struct Printer {
    out: String,
    width: usize,
    col: usize,
}

impl Printer {
    fn print(&mut self, x: &Sxp) {
        match x {
            Sxp::List(items) => {
                let start = self.col;
                let broken = start + flat_width(x) > self.width;
                self.text("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        if broken {
                            self.newline(start + 4);
                        } else {
                            self.text(" ");
                        }
                    }
                    self.print(item);
                }
                if broken {
                    self.newline(start);
                }
                self.text(")");
            }
            other => {
                let s = other.show();
                self.text(&s);
            }
        }
    }

    fn text(&mut self, s: &str) {
        self.out.push_str(s);
        self.col += s.len();
    }

    fn newline(&mut self, indent: usize) {
        self.out.push('\n');
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.col = indent;
    }
}

/// The one-line width of a value, in bytes of output (Python 2 strings are bytes).
fn flat_width(x: &Sxp) -> usize {
    match x {
        Sxp::List(items) => {
            2 + items.iter().map(flat_width).sum::<usize>() + items.len().saturating_sub(1)
        }
        other => other.show().len(),
    }
}

/// A syntax error in SXP text, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parse SXP text into its top-level values (xend's `sxp.parse`): lists in `()`, strings in
/// `'...'` or `"..."` with backslash escapes, and bare atoms, which stay strings (xend never
/// turned atoms into numbers). `#` starts a comment to the end of the line.
pub fn parse(text: &str) -> Result<Vec<Sxp>, ParseError> {
    let bytes = text.as_bytes();
    let mut stack: Vec<(usize, Vec<Sxp>)> = Vec::new();
    let mut top = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let item = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' => {
                stack.push((i, Vec::new()));
                i += 1;
                continue;
            }
            b')' => {
                let Some((_, items)) = stack.pop() else {
                    return Err(ParseError {
                        offset: i,
                        message: "unbalanced ')'".into(),
                    });
                };
                i += 1;
                Sxp::List(items)
            }
            b'\'' | b'"' => {
                let (s, next) = parse_string(bytes, i)?;
                i = next;
                Sxp::Str(s)
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b' ' | b'\t'
                            | b'\n'
                            | b'\r'
                            | b'\x0c'
                            | b'\x0b'
                            | b'('
                            | b')'
                            | b'\''
                            | b'"'
                            | b'#'
                    )
                {
                    i += 1;
                }
                Sxp::Str(text[start..i].to_string())
            }
        };
        match stack.last_mut() {
            Some((_, items)) => items.push(item),
            None => top.push(item),
        }
    }
    if let Some((open, _)) = stack.last() {
        return Err(ParseError {
            offset: *open,
            message: "unclosed '('".into(),
        });
    }
    Ok(top)
}

fn parse_string(bytes: &[u8], start: usize) -> Result<(String, usize), ParseError> {
    let quote = bytes[start];
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if c == quote {
            return Ok((String::from_utf8_lossy(&out).into_owned(), i + 1));
        }
        if c == b'\\' && i + 1 < bytes.len() {
            i += 1;
            let e = bytes[i];
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                b'a' => out.push(7),
                b'x' => {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'x'),
                    }
                }
                b'0'..=b'7' => {
                    let mut n: u32 = 0;
                    let mut k = 0;
                    while k < 3 && i < bytes.len() && (b'0'..=b'7').contains(&bytes[i]) {
                        n = n * 8 + u32::from(bytes[i] - b'0');
                        i += 1;
                        k += 1;
                    }
                    i -= 1;
                    out.push((n & 0xff) as u8);
                }
                other => out.push(other),
            }
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    Err(ParseError {
        offset: start,
        message: "unterminated string".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(items: Vec<Sxp>) -> Sxp {
        Sxp::List(items)
    }

    #[test]
    fn atoms_follow_xend_show() {
        assert_eq!(Sxp::s("xvda1").show(), "xvda1");
        assert_eq!(Sxp::s("/dev/vg0/guest1").show(), "/dev/vg0/guest1");
        assert_eq!(Sxp::s("00:16:3e:00:00:01").show(), "00:16:3e:00:00:01");
        assert_eq!(Sxp::s("@").show(), "@");
        assert_eq!(Sxp::s("").show(), "''");
        assert_eq!(Sxp::s("/dev/xvda1 ro").show(), "'/dev/xvda1 ro'");
        assert_eq!(Sxp::s("w!").show(), "'w!'");
        assert_eq!(Sxp::s("0-3,^1").show(), "'0-3,^1'");
        assert_eq!(Sxp::s("it's").show(), "\"it's\"");
        assert_eq!(Sxp::s("a'b\"c").show(), "'a\\'b\"c'");
        assert_eq!(Sxp::s("tab\there\n").show(), "'tab\\there\\n'");
        assert_eq!(Sxp::s("back\\slash").show(), "'back\\\\slash'");
        assert_eq!(Sxp::s("caf\u{e9}").show(), "'caf\\xc3\\xa9'");
        assert_eq!(Sxp::Repr("256".into()).show(), "'256'");
        assert_eq!(Sxp::Int(-3).show(), "-3");
    }

    #[test]
    fn floats_print_as_python2_str() {
        assert_eq!(py_float_str(1.0), "1.0");
        assert_eq!(py_float_str(0.1), "0.1");
        assert_eq!(py_float_str(2.5), "2.5");
        assert_eq!(py_float_str(1e16), "1e+16");
        assert_eq!(py_float_str(0.00001), "1e-05");
        assert_eq!(py_float_str(123456789012.0), "123456789012.0");
        assert_eq!(py_float_str(1234567890123.0), "1.23456789012e+12");
        assert_eq!(py_float_str(1.0 / 3.0), "0.333333333333");
        assert_eq!(py_float_str(-0.5), "-0.5");
        assert_eq!(py_float_repr(0.1), "0.1");
        assert_eq!(py_float_repr(1.0 / 3.0), "0.3333333333333333");
    }

    #[test]
    fn short_list_stays_on_one_line() {
        let x = l(vec![Sxp::s("device"), l(vec![Sxp::s("vif")])]);
        assert_eq!(render(&x), "(device (vif))\n");
    }

    #[test]
    fn long_list_breaks_every_element() {
        let image = Sxp::node(
            "image",
            vec![Sxp::node(
                "linux",
                vec![
                    Sxp::pair("kernel", Sxp::s("/boot/vmlinuz-2.6-xenU")),
                    Sxp::pair("ramdisk", Sxp::s("/boot/initrd-2.6-xenU")),
                    Sxp::pair("root", Sxp::s("/dev/xvda1 ro")),
                    Sxp::pair("videoram", Sxp::Int(4)),
                ],
            )],
        );
        let vm = Sxp::node("vm", vec![Sxp::pair("name", Sxp::s("guest1")), image]);
        let want = "\
(vm
    (name guest1)
    (image
        (linux
            (kernel /boot/vmlinuz-2.6-xenU)
            (ramdisk /boot/initrd-2.6-xenU)
            (root '/dev/xvda1 ro')
            (videoram 4)
        )
    )
)
";
        assert_eq!(render(&vm), want);
    }

    #[test]
    fn exactly_eighty_columns_fits() {
        // "    (a " + 72 characters + ")" = 80 columns: fits; one more breaks.
        let fill = |n: usize| Sxp::s("x".repeat(n));
        let fits = l(vec![
            Sxp::s("vm"),
            l(vec![Sxp::s("a"), fill(72)]),
            l(vec![Sxp::s("b")]),
        ]);
        let text = render(&fits);
        assert!(
            text.contains(&format!("\n    (a {})\n", "x".repeat(72))),
            "{text}"
        );
        let breaks = l(vec![
            Sxp::s("vm"),
            l(vec![Sxp::s("a"), fill(73)]),
            l(vec![Sxp::s("b")]),
        ]);
        let text = render(&breaks);
        assert!(
            text.contains(&format!("\n    (a\n        {}\n    )\n", "x".repeat(73))),
            "{text}"
        );
    }

    #[test]
    fn tuples_never_break() {
        let t = Sxp::Tuple(vec![Sxp::s("0x0001"), Sxp::s("0x0c"), Sxp::List(vec![])]);
        let x = l(vec![Sxp::s("pci"), l(vec![t.clone(), t])]);
        assert_eq!(
            render_width(&x, 20),
            "(pci\n    ((0x0001 0x0c ())\n        (0x0001 0x0c ())\n    )\n)\n"
        );
    }

    #[test]
    fn parse_reads_back_rendered_text() {
        let vm = Sxp::node(
            "vm",
            vec![
                Sxp::pair("name", Sxp::s("a&b")),
                Sxp::pair("root", Sxp::s("/dev/xvda1 ro")),
                Sxp::pair("empty", Sxp::s("")),
                Sxp::node("device", vec![Sxp::node("vif", vec![])]),
            ],
        );
        let parsed = parse(&render(&vm)).unwrap();
        assert_eq!(parsed, vec![vm]);
        assert_eq!(
            parse("(a 'it\\'s')").unwrap(),
            vec![l(vec![Sxp::s("a"), Sxp::s("it's")])]
        );
        assert!(parse("(a (b)").is_err());
        assert!(parse("a)").is_err());
        assert!(parse("(a 'b)").is_err());
    }

    #[test]
    fn child_value_finds_first_match() {
        let vm = Sxp::node(
            "vm",
            vec![
                Sxp::pair("name", Sxp::s("x")),
                Sxp::pair("memory", Sxp::Int(5)),
            ],
        );
        assert_eq!(vm.name(), Some("vm"));
        assert_eq!(vm.child_value("memory"), Some(&Sxp::Int(5)));
        assert_eq!(vm.child_value("nope"), None);
    }
}
