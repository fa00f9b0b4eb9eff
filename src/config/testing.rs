//! Test helpers: a stack and its modules written to a temporary directory, loaded, and
//! diagnostics read back as "file:line:column: message".

use super::{Config, load};
use crate::diag::{Diagnostics, SourceMap};
use std::path::PathBuf;

/// Writes `files` (paths relative to a fresh temporary directory, e.g.
/// `stack/main.hcl`, `modules/vpc/main.tf`) and returns the directory.
pub(crate) fn write(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    root
}

/// Loads `root/stack`.
pub(crate) fn load_stack(root: &tempfile::TempDir) -> Result<Config, (SourceMap, Diagnostics)> {
    load(&root.path().join("stack"))
}

/// Loads `root/stack`, which must be free of errors.
pub(crate) fn load_ok(files: &[(&str, &str)]) -> (tempfile::TempDir, Config) {
    let root = write(files);
    match load_stack(&root) {
        Ok(config) => (root, config),
        Err((sources, diags)) => panic!("{}", located(&sources, &diags).join("\n")),
    }
}

/// Each diagnostic as "FILE:LINE:COL: MESSAGE", FILE relative to the temporary directory.
pub(crate) fn located(sources: &SourceMap, diags: &Diagnostics) -> Vec<String> {
    diags
        .items
        .iter()
        .map(|d| match &d.span {
            Some(span) => {
                let file = sources.file(span.file);
                let (line, col) = file.line_col(span.range.start);
                let path = relative(&file.path);
                format!("{path}:{line}:{col}: {}", d.message)
            }
            None => d.message.clone(),
        })
        .collect()
}

/// `stack/main.hcl` for `/tmp/xyz/stack/main.hcl`: the last two components.
fn relative(path: &std::path::Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let n = parts.len();
    let start = parts
        .iter()
        .rposition(|p| p == "stack" || p == "modules")
        .unwrap_or(n.saturating_sub(2));
    PathBuf::from_iter(&parts[start..]).display().to_string()
}
