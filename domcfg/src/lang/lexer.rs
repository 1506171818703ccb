//! Tokenizer for the Python 2 subset: names, numbers, every Python 2 string form, operators, and
//! the layout tokens (NEWLINE, INDENT, DEDENT) with Python's rules for comments, blank lines,
//! backslash continuation and implicit continuation inside brackets.
//!
//! Token recognizers are nom parsers; the driver keeps positions and the indentation stack.

use nom::IResult;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::{char, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, preceded, tuple};

use super::err::{Pos, PyErr, PyResult};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(String),
    Int(i64),
    Long(i64),
    Float(f64),
    Str { val: String, unicode: bool },
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

impl Tok {
    /// How the token is shown in "found ..." messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Name(n) => format!("'{n}'"),
            Tok::Int(i) | Tok::Long(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Str { .. } => "a string".to_string(),
            Tok::Op(o) => format!("'{o}'"),
            Tok::Newline => "end of line".to_string(),
            Tok::Indent => "an indented block".to_string(),
            Tok::Dedent => "end of the indented block".to_string(),
            Tok::Eof => "end of file".to_string(),
        }
    }
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "**", "//", "<<", ">>", "<=", ">=", "==", "!=", "<>", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "->", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<",
    ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=", "@", "`",
];

fn op(input: &str) -> IResult<&str, &'static str> {
    for o in OPS {
        if let Some(rest) = input.strip_prefix(o) {
            return Ok((rest, o));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        input,
        nom::error::ErrorKind::Tag,
    )))
}

fn name(input: &str) -> IResult<&str, &str> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))(input)
}

fn digits(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_digit())(input)
}

fn exponent(input: &str) -> IResult<&str, &str> {
    recognize(tuple((one_of("eE"), opt(one_of("+-")), digits)))(input)
}

/// A float literal: `1.`, `1.5`, `.5`, `1e5`, `1.5e-3`.
fn float_lit(input: &str) -> IResult<&str, &str> {
    alt((
        recognize(tuple((digits, char('.'), opt(digits), opt(exponent)))),
        recognize(tuple((char('.'), digits, opt(exponent)))),
        recognize(pair(digits, exponent)),
    ))(input)
}

enum Num<'a> {
    Radix(&'a str, u32),
    Dec(&'a str),
    Float(&'a str),
}

fn number(input: &str) -> IResult<&str, Num<'_>> {
    alt((
        |i| {
            let (i, d) = preceded(
                tag_no_case("0x"),
                take_while1(|c: char| c.is_ascii_hexdigit()),
            )(i)?;
            Ok((i, Num::Radix(d, 16)))
        },
        |i| {
            let (i, d) = preceded(tag_no_case("0o"), take_while1(|c: char| c.is_ascii_digit()))(i)?;
            Ok((i, Num::Radix(d, 8)))
        },
        |i| {
            let (i, d) = preceded(tag_no_case("0b"), take_while1(|c: char| c.is_ascii_digit()))(i)?;
            Ok((i, Num::Radix(d, 2)))
        },
        |i| {
            let (i, f) = float_lit(i)?;
            Ok((i, Num::Float(f)))
        },
        |i| {
            let (i, d) = digits(i)?;
            Ok((i, Num::Dec(d)))
        },
    ))(input)
}

/// String prefix (`r`, `u`, `b`, `ur`, ...) followed by an opening quote: returns
/// (raw, unicode, quote).
fn string_start(input: &str) -> IResult<&str, (bool, bool, &str)> {
    let (rest, prefix) = opt(alt((
        tag_no_case("ur"),
        tag_no_case("br"),
        tag_no_case("r"),
        tag_no_case("u"),
        tag_no_case("b"),
    )))(input)?;
    let (rest, quote) = alt((tag("'''"), tag("\"\"\""), tag("'"), tag("\"")))(rest)?;
    let prefix = prefix.unwrap_or("").to_ascii_lowercase();
    Ok((rest, (prefix.contains('r'), prefix.contains('u'), quote)))
}

struct Lexer<'a> {
    src: &'a str,
    off: usize,
    line: u32,
    col: u32,
    tokens: Vec<Token>,
    depth: usize,
    max_depth: usize,
    indents: Vec<u32>,
}

fn err(pos: Pos, msg: impl Into<String>) -> PyErr {
    PyErr::new("SyntaxError", msg).at(pos)
}

impl<'a> Lexer<'a> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }
    fn rest(&self) -> &'a str {
        &self.src[self.off..]
    }
    /// Move forward by `n` bytes, keeping line and column.
    fn advance(&mut self, n: usize) {
        let end = (self.off + n).min(self.src.len());
        for c in self.src[self.off..end].chars() {
            if c == '\n' {
                self.line = self.line.saturating_add(1);
                self.col = 1;
            } else {
                self.col = self.col.saturating_add(1);
            }
        }
        self.off = end;
    }
    fn push(&mut self, tok: Tok, pos: Pos) {
        self.tokens.push(Token { tok, pos });
    }

    fn run(mut self) -> PyResult<Vec<Token>> {
        let mut line_start = true;
        loop {
            if line_start && self.depth == 0 {
                line_start = false;
                if self.indentation()? {
                    line_start = true;
                    continue;
                }
            }
            // Skip blanks.
            let rest = self.rest();
            let blank = rest.len() - rest.trim_start_matches([' ', '\t', '\x0c', '\r']).len();
            self.advance(blank);
            let rest = self.rest();
            let pos = self.pos();
            let Some(c) = rest.chars().next() else { break };
            match c {
                '#' => {
                    let n = rest.find('\n').unwrap_or(rest.len());
                    self.advance(n);
                }
                '\\' => {
                    let after = rest[1..].trim_start_matches('\r');
                    if after.starts_with('\n') || after.is_empty() {
                        let n = rest.len() - after.len() + usize::from(!after.is_empty());
                        self.advance(n);
                        if after.is_empty() {
                            return Err(err(pos, "unexpected end of file after line continuation"));
                        }
                    } else {
                        return Err(err(
                            pos,
                            "unexpected character after line continuation character",
                        ));
                    }
                }
                '\n' => {
                    self.advance(1);
                    if self.depth == 0 {
                        self.push(Tok::Newline, pos);
                        line_start = true;
                    }
                }
                _ => self.token(pos)?,
            }
        }
        let pos = self.pos();
        // An unclosed bracket is reported by the parser, at the first token that does not fit.
        if !matches!(
            self.tokens.last().map(|t| &t.tok),
            None | Some(Tok::Newline) | Some(Tok::Dedent)
        ) {
            self.push(Tok::Newline, pos);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(Tok::Dedent, pos);
        }
        self.push(Tok::Eof, pos);
        Ok(self.tokens)
    }

    /// At the start of a logical line: measure the indentation and emit INDENT/DEDENT.
    /// Returns true if the line was blank or a comment (consumed, no tokens).
    fn indentation(&mut self) -> PyResult<bool> {
        let rest = self.rest();
        let mut width: u32 = 0;
        let mut n = 0;
        for c in rest.chars() {
            match c {
                ' ' => width = width.saturating_add(1),
                '\t' => width = (width / 8).saturating_add(1).saturating_mul(8),
                '\x0c' => width = 0,
                _ => break,
            }
            n += 1;
        }
        let after = &rest[n..];
        let after_cr = after.trim_start_matches('\r');
        if after_cr.is_empty() {
            self.advance(rest.len());
            return Ok(false);
        }
        if after_cr.starts_with('\n') || after_cr.starts_with('#') {
            let end = after.find('\n').map(|i| n + i + 1).unwrap_or(rest.len());
            self.advance(end);
            return Ok(true);
        }
        self.advance(n);
        let pos = self.pos();
        let cur = self.indents.last().copied().unwrap_or(0);
        if width > cur {
            self.indents.push(width);
            self.push(Tok::Indent, pos);
        } else {
            while width < self.indents.last().copied().unwrap_or(0) {
                self.indents.pop();
                self.push(Tok::Dedent, pos);
            }
            if width != self.indents.last().copied().unwrap_or(0) {
                return Err(PyErr::new(
                    "IndentationError",
                    "unindent does not match any outer indentation level",
                )
                .at(pos));
            }
        }
        Ok(false)
    }

    fn token(&mut self, pos: Pos) -> PyResult<()> {
        let rest = self.rest();
        if let Ok((_, (raw, unicode, quote))) = string_start(rest) {
            return self.string(pos, raw, unicode, quote);
        }
        if let Ok((after, n)) = name(rest) {
            let tok = Tok::Name(n.to_string());
            self.advance(rest.len() - after.len());
            self.push(tok, pos);
            return Ok(());
        }
        if rest.starts_with(|c: char| c.is_ascii_digit())
            || (rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            return self.number(pos);
        }
        if let Ok((after, o)) = op(rest) {
            match o {
                "(" | "[" | "{" => {
                    self.depth += 1;
                    if self.depth > self.max_depth {
                        return Err(err(
                            pos,
                            format!("too many nested brackets (limit {})", self.max_depth),
                        ));
                    }
                }
                ")" | "]" | "}" => {
                    if self.depth == 0 {
                        return Err(err(pos, format!("unmatched '{o}'")));
                    }
                    self.depth -= 1;
                }
                _ => {}
            }
            self.advance(rest.len() - after.len());
            self.push(Tok::Op(o), pos);
            return Ok(());
        }
        let c = rest.chars().next().unwrap_or(' ');
        Err(err(pos, format!("invalid character {c:?}")))
    }

    fn number(&mut self, pos: Pos) -> PyResult<()> {
        let rest = self.rest();
        let Ok((after, num)) = number(rest) else {
            return Err(err(pos, "invalid number"));
        };
        let mut consumed = rest.len() - after.len();
        let long = after.starts_with(['l', 'L']);
        if long {
            consumed += 1;
        }
        let tail = &rest[consumed..];
        if tail.starts_with(['j', 'J']) {
            return Err(PyErr::unsupported("a complex number literal").at(pos));
        }
        let text = &rest[..consumed];
        let tok = match num {
            Num::Float(f) => {
                if long {
                    return Err(err(pos, format!("invalid number '{text}'")));
                }
                Tok::Float(
                    f.parse::<f64>()
                        .map_err(|_| err(pos, format!("invalid number '{text}'")))?,
                )
            }
            Num::Radix(d, radix) => {
                let v = i64::from_str_radix(d, radix).map_err(|e| number_err(pos, text, &e))?;
                if long { Tok::Long(v) } else { Tok::Int(v) }
            }
            Num::Dec(d) => {
                let (digits, radix) = if d.len() > 1 && d.starts_with('0') {
                    (&d[1..], 8)
                } else {
                    (d, 10)
                };
                let v =
                    i64::from_str_radix(digits, radix).map_err(|e| number_err(pos, text, &e))?;
                if long { Tok::Long(v) } else { Tok::Int(v) }
            }
        };
        self.advance(consumed);
        self.push(tok, pos);
        Ok(())
    }

    fn string(&mut self, pos: Pos, raw: bool, unicode: bool, quote: &str) -> PyResult<()> {
        let rest = self.rest();
        let start = rest.find(quote).unwrap_or(0) + quote.len();
        let triple = quote.len() == 3;
        let q = quote.as_bytes()[0] as char;
        let body = &rest[start..];
        let mut out = String::new();
        let mut chars = body.char_indices().peekable();
        let end;
        loop {
            let Some((i, c)) = chars.next() else {
                return Err(err(
                    pos,
                    if triple {
                        "EOF while scanning triple-quoted string literal"
                    } else {
                        "EOL while scanning string literal"
                    },
                ));
            };
            if c == q && (!triple || body[i..].starts_with(quote)) {
                end = start + i + quote.len();
                break;
            }
            match c {
                '\n' if !triple => return Err(err(pos, "EOL while scanning string literal")),
                '\\' => {
                    let Some(&(_, e)) = chars.peek() else {
                        continue;
                    };
                    chars.next();
                    if raw {
                        out.push('\\');
                        out.push(e);
                        continue;
                    }
                    match e {
                        '\n' => {}
                        '\r' => {
                            if chars.peek().map(|x| x.1) == Some('\n') {
                                chars.next();
                            }
                        }
                        '\\' => out.push('\\'),
                        '\'' => out.push('\''),
                        '"' => out.push('"'),
                        'a' => out.push('\x07'),
                        'b' => out.push('\x08'),
                        'f' => out.push('\x0c'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'v' => out.push('\x0b'),
                        '0'..='7' => {
                            let mut v = e.to_digit(8).unwrap_or(0);
                            for _ in 0..2 {
                                match chars.peek().and_then(|x| x.1.to_digit(8)) {
                                    Some(d) => {
                                        v = v * 8 + d;
                                        chars.next();
                                    }
                                    None => break,
                                }
                            }
                            out.push(char::from_u32(v & 0xff).unwrap_or('\0'));
                        }
                        'x' => {
                            let mut v = 0;
                            for _ in 0..2 {
                                match chars.peek().and_then(|x| x.1.to_digit(16)) {
                                    Some(d) => {
                                        v = v * 16 + d;
                                        chars.next();
                                    }
                                    None => return Err(err(pos, "invalid \\x escape")),
                                }
                            }
                            out.push(char::from_u32(v).unwrap_or('\0'));
                        }
                        'u' | 'U' if unicode => {
                            let n = if e == 'u' { 4 } else { 8 };
                            let mut v: u32 = 0;
                            for _ in 0..n {
                                match chars.peek().and_then(|x| x.1.to_digit(16)) {
                                    Some(d) => {
                                        v = v.saturating_mul(16).saturating_add(d);
                                        chars.next();
                                    }
                                    None => return Err(err(pos, "truncated \\uXXXX escape")),
                                }
                            }
                            out.push(
                                char::from_u32(v)
                                    .ok_or_else(|| err(pos, "illegal Unicode character"))?,
                            );
                        }
                        other => {
                            // Python keeps unknown escapes as they are.
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                c => out.push(c),
            }
        }
        self.advance(end);
        self.push(Tok::Str { val: out, unicode }, pos);
        Ok(())
    }
}

fn number_err(pos: Pos, text: &str, e: &std::num::ParseIntError) -> PyErr {
    use std::num::IntErrorKind;
    match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => PyErr::new(
            "OverflowError",
            format!("integer literal {text} does not fit in 64 bits (not supported by xm-rs)"),
        )
        .at(pos),
        _ => err(pos, format!("invalid number '{text}'")),
    }
}

/// Tokenize a whole source. `max_depth` bounds bracket nesting.
pub(crate) fn tokenize(src: &str, max_depth: usize) -> PyResult<Vec<Token>> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    Lexer {
        src,
        off: 0,
        line: 1,
        col: 1,
        tokens: Vec::new(),
        depth: 0,
        max_depth,
        indents: vec![0],
    }
    .run()
}
