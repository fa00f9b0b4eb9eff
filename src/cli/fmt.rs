//! `keel fmt [PATH...]`: rewrites `.hcl`, `.tf` and `.tfvars` files in the canonical layout
//! ([`crate::format`]), as `terraform fmt` does, with its flags and exit codes: 0 when done
//! (or, with `-check`, when everything is formatted), 2 when a file does not parse, 3 when
//! `-check` finds a file that is not formatted.

use super::stack::Failure;
use crate::diag::{Diagnostics, SourceFile, SourceMap};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to format (default: the current directory); "-" formats
    /// standard input to standard output.
    pub paths: Vec<PathBuf>,
    /// Write nothing; exit 3 and list the files that are not formatted.
    #[arg(long)]
    pub check: bool,
    /// Show the changes as a unified diff.
    #[arg(long)]
    pub diff: bool,
    /// Also format the files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// List the files whose formatting changed (-list=false lists nothing).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub list: bool,
    /// Write the formatted files back (-write=false leaves them as they are).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub write: bool,
    /// Plain output without colour.
    #[arg(long = "no-color")]
    pub no_color: bool,
}

/// What keel fmt formats: stacks, Terraform files and variables files.
const EXTENSIONS: &[&str] = &[".hcl", ".tf", ".tfvars"];

struct Run {
    list: bool,
    write: bool,
    diff: bool,
    changed: usize,
    sources: SourceMap,
    diags: Diagnostics,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let color =
        !args.no_color && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut run = Run {
        list: args.list || args.check,
        write: args.write && !args.check,
        diff: args.diff,
        changed: 0,
        sources: SourceMap::default(),
        diags: Diagnostics::default(),
    };
    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        let mut src = String::new();
        std::io::stdin()
            .read_to_string(&mut src)
            .map_err(|e| Failure::Message(format!("cannot read standard input: {e}")))?;
        run.list = false;
        run.write = false;
        run.file(Path::new("<stdin>"), src, !args.diff);
    } else {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        for path in &paths {
            if path.is_dir() {
                run.dir(path, args.recursive)?;
            } else if !path.exists() {
                return Err(Failure::Message(format!(
                    "no file or directory at {}",
                    path.display()
                )));
            } else if formattable(path) {
                run.read(path)?;
            } else {
                return Err(Failure::Message(format!(
                    "keel fmt formats {} files; {} is none of them",
                    EXTENSIONS.join(", "),
                    path.display()
                )));
            }
        }
    }
    if !run.diags.is_empty() {
        eprint!("{}", run.diags.render(&run.sources, color));
        return Ok(ExitCode::from(2));
    }
    Ok(if args.check && run.changed > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn formattable(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    EXTENSIONS.iter().any(|e| name.ends_with(e))
}

/// Editor backups, hidden files and directories such as `.terraform`, as Terraform skips.
fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

impl Run {
    fn dir(&mut self, dir: &Path, recursive: bool) -> Result<(), Failure> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Failure::Message(format!("cannot read directory {}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| !ignored(p.file_name().and_then(|n| n.to_str()).unwrap_or(".")))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if recursive {
                    self.dir(&path, recursive)?;
                }
            } else if formattable(&path) {
                self.read(&path)?;
            }
        }
        Ok(())
    }

    fn read(&mut self, path: &Path) -> Result<(), Failure> {
        let src = std::fs::read_to_string(path)
            .map_err(|e| Failure::Message(format!("cannot read {}: {e}", path.display())))?;
        let print = !self.list && !self.write && !self.diff;
        self.file(path, src, print);
        Ok(())
    }

    /// Formats one file's text; `print` writes the result to standard output.
    fn file(&mut self, path: &Path, src: String, print: bool) {
        let shown = path
            .strip_prefix("./")
            .unwrap_or(path)
            .display()
            .to_string();
        let id = self
            .sources
            .add(SourceFile::new(path, shown.clone(), src.clone()));
        let formatted = match crate::format::format(&src, id) {
            Ok(f) => f,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        if formatted != src {
            self.changed += 1;
            if self.list {
                println!("{shown}");
            }
            if self.write
                && let Err(e) = std::fs::write(path, &formatted)
            {
                self.diags.push(crate::diag::Diagnostic::error(format!(
                    "cannot write {shown}: {e}"
                )));
            }
            if self.diff {
                print!(
                    "{}",
                    similar::TextDiff::from_lines(&src, &formatted)
                        .unified_diff()
                        .header(&format!("old/{shown}"), &format!("new/{shown}"))
                );
            }
        }
        if print {
            print!("{formatted}");
        }
    }
}
