//! The scale benchmarks' generator: `cargo run --release --example bench-stack -- OUT SIZE...`
//! writes, for each size, `OUT/n<SIZE>/` (the stack: `main.hcl` and `modules/net/`) and
//! `OUT/n<SIZE>.full.json` (the state as if that stack were applied), and prints one
//! line per size with the stack's shape. `scripts/bench` runs it, then times keel on the
//! result; this binary times nothing itself.

mod stack;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let Some((out, sizes)) = args.split_first() else {
        eprintln!("usage: cargo run --release --example bench-stack -- OUT_DIR SIZE...");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    for size in sizes {
        let n = match size.parse::<usize>() {
            Ok(n) if (100..=100_000).contains(&n) && n.is_multiple_of(100) => n,
            _ => {
                eprintln!("{size}: give a number of instances, a multiple of 100 up to 100000");
                return ExitCode::from(2);
            }
        };
        let dir = out.join(format!("n{n}"));
        let shape = match stack::write_stack(&dir, n) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot write {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        };
        let state = match stack::full_state(&dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot make the full state of {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        };
        let path = out.join(format!("n{n}.full.json"));
        let text = serde_json::to_string_pretty(&state).expect("state serialises");
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!(
            "n{n}: {} instances, {} resource blocks, {} module calls",
            shape.instances, shape.blocks, shape.modules
        );
    }
    ExitCode::SUCCESS
}
