//! A TOML reader that keeps going: it walks the parsed document with its byte spans, takes the
//! keys the config expects, and collects every problem (file, line, column, dotted key, what is
//! allowed) instead of stopping at the first, as serde would. Keys nobody took are reported as
//! unknown, so a typo never passes silently.
//! Depends on the `toml` parser only; knows nothing of what the keys mean.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One thing wrong with a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the key, e.g. `service[2].prefix`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Collects problems for one source text.
pub struct Problems<'s> {
    file: String,
    source: &'s str,
    list: Vec<(usize, Problem)>,
}

impl<'s> Problems<'s> {
    pub fn new(file: &str, source: &'s str) -> Self {
        Problems {
            file: file.to_string(),
            source,
            list: Vec::new(),
        }
    }

    /// Record a problem at a byte span of the source.
    pub fn at(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = line_column(self.source, span.start);
        self.list.push((
            span.start,
            Problem {
                file: self.file.clone(),
                line,
                column,
                key: key.to_string(),
                message: message.into(),
            },
        ));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems in the order they appear in the file.
    pub fn into_sorted(mut self) -> Vec<Problem> {
        self.list
            .sort_by_key(|(offset, p)| (*offset, p.key.clone()));
        self.list.into_iter().map(|(_, p)| p).collect()
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A view of one table that remembers which keys were taken.
pub struct TableReader<'a, 'i> {
    path: String,
    table: &'a DeTable<'i>,
    span: Range<usize>,
    taken: HashSet<String>,
}

impl<'a, 'i> TableReader<'a, 'i> {
    pub fn new(path: &str, table: &'a DeTable<'i>, span: Range<usize>) -> Self {
        TableReader {
            path: path.to_string(),
            table,
            span,
            taken: HashSet::new(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The dotted path of a key in this table.
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    fn take(&mut self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.taken.insert(key.to_string());
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    /// The key's value, or a "missing" problem when `required`.
    fn value(
        &mut self,
        key: &str,
        required: bool,
        what: &str,
        problems: &mut Problems,
    ) -> Option<&'a Spanned<DeValue<'i>>> {
        let v = self.take(key);
        if v.is_none() && required {
            let span = self.span.clone();
            problems.at(
                &span,
                &self.key_path(key),
                format!("missing key; expected {what}"),
            );
        }
        v
    }

    fn wrong_type(&self, key: &str, v: &Spanned<DeValue<'_>>, what: &str, problems: &mut Problems) {
        problems.at(
            &v.span(),
            &self.key_path(key),
            format!("expected {what}, found {}", type_name(v.get_ref())),
        );
    }

    pub fn string(&mut self, key: &str, required: bool, problems: &mut Problems) -> Option<String> {
        let v = self.value(key, required, "a string", problems)?;
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(key, v, "a string", problems);
                None
            }
        }
    }

    /// A string with its span, for checks the caller makes afterwards.
    pub fn spanned_string(
        &mut self,
        key: &str,
        required: bool,
        problems: &mut Problems,
    ) -> Option<(String, Range<usize>)> {
        let v = self.value(key, required, "a string", problems)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            _ => {
                self.wrong_type(key, v, "a string", problems);
                None
            }
        }
    }

    /// An integer within `min..=max`.
    pub fn integer(
        &mut self,
        key: &str,
        required: bool,
        min: i64,
        max: i64,
        problems: &mut Problems,
    ) -> Option<i64> {
        let what = format!("an integer from {min} to {max}");
        let v = self.value(key, required, &what, problems)?;
        let DeValue::Integer(i) = v.get_ref() else {
            self.wrong_type(key, v, &what, problems);
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                problems.at(
                    &v.span(),
                    &self.key_path(key),
                    format!("{} is out of range; expected {what}", i.as_str()),
                );
                None
            }
        }
    }

    /// A number (integer or float) within `min..=max`.
    pub fn number(
        &mut self,
        key: &str,
        required: bool,
        min: f64,
        max: f64,
        problems: &mut Problems,
    ) -> Option<f64> {
        let what = format!("a number from {min} to {max}");
        let v = self.value(key, required, &what, problems)?;
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => {
                self.wrong_type(key, v, &what, problems);
                return None;
            }
        };
        match parsed {
            Some(n) if n >= min && n <= max => Some(n),
            _ => {
                problems.at(
                    &v.span(),
                    &self.key_path(key),
                    format!("out of range; expected {what}"),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, required: bool, problems: &mut Problems) -> Option<bool> {
        let v = self.value(key, required, "true or false", problems)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, v, "true or false", problems);
                None
            }
        }
    }

    /// An array of strings, each with its span.
    pub fn string_list(
        &mut self,
        key: &str,
        required: bool,
        problems: &mut Problems,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let what = "an array of strings";
        let v = self.value(key, required, what, problems)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, what, problems);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                other => {
                    ok = false;
                    problems.at(
                        &item.span(),
                        &format!("{}[{}]", self.key_path(key), i + 1),
                        format!("expected a string, found {}", type_name(other)),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// An array of integers within `min..=max`, each with its span.
    pub fn integer_list(
        &mut self,
        key: &str,
        required: bool,
        min: i64,
        max: i64,
        problems: &mut Problems,
    ) -> Option<(Vec<i64>, Range<usize>)> {
        let what = format!("an array of integers from {min} to {max}");
        let v = self.value(key, required, &what, problems)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, &what, problems);
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let n = match item.get_ref() {
                DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix()).ok(),
                _ => None,
            };
            match n {
                Some(n) if (min..=max).contains(&n) => out.push(n),
                _ => {
                    problems.at(
                        &item.span(),
                        &format!("{}[{}]", self.key_path(key), i + 1),
                        format!("expected an integer from {min} to {max}"),
                    );
                    return None;
                }
            }
        }
        Some((out, v.span()))
    }

    /// A sub-table (`[a.b]` or an inline `{ ... }`).
    pub fn table(
        &mut self,
        key: &str,
        required: bool,
        problems: &mut Problems,
    ) -> Option<TableReader<'a, 'i>> {
        let v = self.value(key, required, "a table", problems)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(TableReader::new(&self.key_path(key), t, v.span())),
            _ => {
                self.wrong_type(key, v, "a table", problems);
                None
            }
        }
    }

    /// An array of tables (`[[service]]`), each as a reader named `key[n]` (1-based).
    pub fn tables(
        &mut self,
        key: &str,
        required: bool,
        problems: &mut Problems,
    ) -> Vec<TableReader<'a, 'i>> {
        let what = "one or more tables ([[".to_string() + key + "]])";
        let Some(v) = self.value(key, required, &what, problems) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, &what, problems);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{}[{}]", self.key_path(key), i + 1);
            match item.get_ref() {
                DeValue::Table(t) => out.push(TableReader::new(&path, t, item.span())),
                other => problems.at(
                    &item.span(),
                    &path,
                    format!("expected a table, found {}", type_name(other)),
                ),
            }
        }
        out
    }

    /// Report every key of this table that nobody took, naming the keys that are allowed.
    pub fn finish(self, allowed: &[&str], problems: &mut Problems) {
        for (k, _) in self.table.iter() {
            let name = k.get_ref().as_ref();
            if !self.taken.contains(name) {
                let suggestion = closest(name, allowed)
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default();
                problems.at(
                    &k.span(),
                    &self.key_path(name),
                    format!(
                        "unknown key{suggestion}; allowed here: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
}

/// The allowed key nearest to a misspelt one, if it is close enough to be a typo.
fn closest<'k>(name: &str, allowed: &[&'k str]) -> Option<&'k str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min()
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let src = "a = 1\nname = \"Hộ tịch\" x";
        let offset = src.find('x').unwrap();
        assert_eq!(line_column(src, offset), (2, 18));
        assert_eq!(line_column(src, 0), (1, 1));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(closest("prefx", &["prefix", "name"]), Some("prefix"));
        assert_eq!(closest("colour", &["prefix", "name"]), None);
    }
}
