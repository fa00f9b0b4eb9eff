//! Diagnostics: what went wrong, where (file:line:column), and what to do about it.
//! Stages collect every problem they find instead of stopping at the first, and the CLI
//! renders them all with the source line underlined (miette).

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

/// One loaded configuration file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should read it (relative to where keel was started when possible).
    pub display: String,
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: &Path, display: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            display,
            path: path.to_path_buf(),
            text,
            line_starts,
        }
    }

    /// One-based line and column of a byte offset (columns count characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self.text[start..offset].chars().count() + 1;
        (line + 1, col)
    }
}

/// Every file a configuration was loaded from.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(Arc::new(file));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter().map(|f| &**f)
    }

    /// "file:line:column" for the start of a span.
    pub fn location(&self, span: &Span) -> String {
        let file = self.file(span.file);
        let (line, col) = file.line_col(span.range.start);
        format!("{}:{}:{}", file.display, line, col)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with where it is and how to fix it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    /// Short text shown under the underlined source.
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: None,
            label: None,
            help: None,
        }
    }

    pub fn at(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders with the source line underlined. Colour only when `color` is set.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let mut diag =
            MietteDiagnostic::new(self.message.clone()).with_severity(match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            });
        if let Some(help) = &self.help {
            diag = diag.with_help(help.clone());
        }
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        let mut out = String::new();
        match &self.span {
            Some(span) => {
                let file = sources.file(span.file);
                let len = span.range.end.saturating_sub(span.range.start).max(1);
                let start = span.range.start.min(file.text.len());
                diag = diag.with_label(LabeledSpan::new(self.label.clone(), start, len));
                let report = miette::Report::new(diag).with_source_code(
                    NamedSource::new(file.display.clone(), file.text.clone()).with_language("hcl"),
                );
                let _ = handler.render_report(&mut out, report.as_ref());
            }
            None => {
                let _ = handler.render_report(&mut out, &diag);
            }
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Everything a stage found wrong, in the order found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        self.items
            .iter()
            .map(|d| d.render(sources, color))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `Ok(())` when nothing is an error.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.has_errors() { Err(self) } else { Ok(()) }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics { items: vec![d] }
    }
}

/// Edit distance counting a swap of two neighbouring characters as one edit (optimal
/// string alignment), so "mian" is one typo away from "main".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `name`, when it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let f = SourceFile::new(Path::new("a.hcl"), "a.hcl".into(), "ab\ncd\n".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 2));
        assert_eq!(f.line_col(6), (3, 1));
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(suggest("mian", ["main", "other"]), Some("main"));
        assert_eq!(suggest("zzzz", ["main", "other"]), None);
    }

    #[test]
    fn rendering_names_file_line_and_column() {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new(
            Path::new("main.hcl"),
            "main.hcl".into(),
            "a = 1\nb = nope\n".into(),
        ));
        let d = Diagnostic::error("unknown thing")
            .at(Some(Span {
                file: id,
                range: 10..14,
            }))
            .help("try harder");
        let text = d.render(&sources, false);
        assert!(text.contains("main.hcl:2:5"), "{text}");
        assert!(text.contains("unknown thing"));
        assert!(text.contains("try harder"));
    }
}
