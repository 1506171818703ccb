//! The one error type of the crate: what went wrong and where (file, line, column, the text).

use std::fmt;

/// A position in a config source. Lines and columns are 1-based; column counts characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The source line the error points into (without its newline), for the caret display.
    pub snippet: String,
}

/// Everything that can go wrong while loading a config.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// No file on the search path. Displays as xm's `Unable to open config file: NAME`.
    NotFound { name: String },
    /// The file exists but could not be read.
    Io { path: String, message: String },
    /// A located error in the config text: syntax, an unsupported construct, a Python runtime
    /// error (NameError, TypeError, ...), a limit hit, or a bad value for a known variable.
    At { loc: Location, message: String },
    /// An error with no position (a bad `VAR=VAL` on the command line, a device spec that came
    /// from the command line, ...). Displays exactly as xm printed it, without `Error: `.
    Plain(String),
}

impl ConfigError {
    pub fn at(loc: Location, message: impl Into<String>) -> Self {
        ConfigError::At {
            loc,
            message: message.into(),
        }
    }
    pub fn plain(message: impl Into<String>) -> Self {
        ConfigError::Plain(message.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotFound { name } => write!(f, "Unable to open config file: {name}"),
            ConfigError::Io { path, message } => write!(f, "{path}: {message}"),
            ConfigError::At { loc, message } => {
                write!(f, "{}:{}:{}: {}", loc.file, loc.line, loc.col, message)?;
                if !loc.snippet.is_empty() {
                    let pad: String = loc
                        .snippet
                        .chars()
                        .take(loc.col.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    write!(f, "\n    {}\n    {}^", loc.snippet, pad)?;
                }
                Ok(())
            }
            ConfigError::Plain(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}
