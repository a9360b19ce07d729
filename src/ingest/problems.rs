//! Problems found in an extract, each with file, line and column.

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

/// At most this many problems are kept per run; the rest are only counted.
pub const MAX_PROBLEMS: usize = 100;

/// One thing wrong with an extract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The file inside the extract, e.g. `observations.csv`.
    pub file: String,
    /// 1-based line; null for a problem with the file as a whole.
    pub line: Option<u64>,
    /// 1-based column: the field's position in a CSV row, the character in a JSON line.
    pub column: Option<u64>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Collects problems in one pass, keeping the first [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub struct Problems {
    kept: Vec<Problem>,
    total: usize,
}

impl Problems {
    pub fn add(&mut self, file: &str, line: Option<u64>, column: Option<u64>, message: impl Into<String>) {
        self.total += 1;
        if self.kept.len() < MAX_PROBLEMS {
            self.kept.push(Problem { file: file.to_string(), line, column, message: message.into() });
        }
    }

    pub fn at(&mut self, file: &str, line: u64, column: u64, message: impl Into<String>) {
        self.add(file, Some(line), Some(column), message)
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Whether enough problems are kept that reading on would only count more.
    pub fn is_full(&self) -> bool {
        self.kept.len() >= MAX_PROBLEMS
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn into_rejection(self) -> Rejection {
        Rejection { problems: self.kept, total: self.total }
    }
}

/// An extract that was not accepted, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The first problems found (up to [`MAX_PROBLEMS`]).
    pub problems: Vec<Problem>,
    /// How many problems were found in all, including those not kept.
    pub total: usize,
}

impl Rejection {
    pub fn single(file: &str, message: impl Into<String>) -> Self {
        let mut p = Problems::default();
        p.add(file, None, None, message);
        p.into_rejection()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the extract was rejected: {} problem(s)", self.total)?;
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        if self.total > self.problems.len() {
            writeln!(f, "… and {} more", self.total - self.problems.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_hundred_and_counts_the_rest() {
        let mut p = Problems::default();
        for i in 0..150 {
            p.at("observations.csv", i + 2, 1, "bad");
        }
        assert!(p.is_full());
        let r = p.into_rejection();
        assert_eq!(r.problems.len(), MAX_PROBLEMS);
        assert_eq!(r.total, 150);
        assert_eq!(r.problems[0].line, Some(2));
        assert!(r.to_string().contains("… and 50 more"));
    }

    #[test]
    fn displays_like_a_compiler() {
        let p = Problem { file: "areas.csv".into(), line: Some(3), column: Some(2), message: "bad".into() };
        assert_eq!(p.to_string(), "areas.csv:3:2: bad");
        let p = Problem { file: "areas.csv".into(), line: None, column: None, message: "missing".into() };
        assert_eq!(p.to_string(), "areas.csv: missing");
    }
}
