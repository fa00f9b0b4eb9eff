//! `keel state list|show|rm|mv|rekey|import-terraform`: look at and change the record
//! without touching the cloud (import-terraform only reads it, and tags what it adopts).

use super::StackArgs;
use super::stack::{Failure, Stack};
use crate::addr::ResourceAddr;
use crate::import::ImportContext;
use crate::import::terraform::import_terraform;
use crate::state::Protection;
use crate::state::ops;
use crate::value::Value;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the addresses state records (optionally only those an address names).
    List(ListArgs),
    /// Show one resource's recorded attributes.
    Show(AddrArgs),
    /// Forget resources (the cloud objects stay, unmanaged).
    Rm(AddrArgs),
    /// Move a resource or instance to a new address, keeping its cloud object.
    Mv(MvArgs),
    /// Re-encrypt state with the configured key (or decrypt it when none is configured).
    Rekey(RekeyArgs),
    /// Bring in a Terraform state file (format version 4) for the types keel manages.
    ImportTerraform(TfArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Only addresses this one names (TYPE.NAME names every instance).
    #[arg(long = "address", value_name = "ADDR")]
    pub address: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AddrArgs {
    /// A resource address: TYPE.NAME, TYPE.NAME[0], TYPE.NAME["key"].
    pub addr: String,
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct MvArgs {
    pub from: String,
    pub to: String,
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Debug, clap::Args)]
pub struct TfArgs {
    /// The Terraform state file (terraform.tfstate, or `terraform state pull` output).
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Leave out resources keel does not manage instead of refusing.
    #[arg(long = "skip-unsupported")]
    pub skip_unsupported: bool,
}

impl Command {
    pub(super) fn stack_args_mut(&mut self) -> &mut StackArgs {
        match self {
            Command::List(a) => &mut a.stack,
            Command::Show(a) | Command::Rm(a) => &mut a.stack,
            Command::Mv(a) => &mut a.stack,
            Command::Rekey(a) => &mut a.stack,
            Command::ImportTerraform(a) => &mut a.stack,
        }
    }
}

pub fn exec(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::List(a) => list(a),
        Command::Show(a) => show(a),
        Command::Rm(a) => rm(a),
        Command::Mv(a) => mv(a),
        Command::Rekey(a) => rekey(a),
        Command::ImportTerraform(a) => import_tf(a),
    }
}

pub(super) fn parse_addr(s: &str) -> Result<ResourceAddr, Failure> {
    s.parse().map_err(|e| Failure::Message(format!("{e}")))
}

fn list(args: ListArgs) -> Result<ExitCode, Failure> {
    let pattern = args.address.as_deref().map(parse_addr).transpose()?;
    let stack = Stack::load(&args.stack)?;
    let _lock = stack.lock("state list")?;
    let Some(state) = stack.read_state()? else {
        return Ok(ExitCode::SUCCESS);
    };
    for addr in state.resources.keys() {
        if pattern.as_ref().is_none_or(|p| ops::matches(p, addr)) {
            println!("{addr}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: AddrArgs) -> Result<ExitCode, Failure> {
    let addr = parse_addr(&args.addr)?;
    let stack = Stack::load(&args.stack)?;
    let _lock = stack.lock("state show")?;
    let state = stack
        .read_state()?
        .unwrap_or_else(|| crate::state::State::new(&stack.config.stack));
    let found = ops::matching(&state, &addr);
    if found.is_empty() {
        return Err(Failure::Message(ops::OpError::NotFound(addr).to_string()));
    }
    let redact = stack.redactor();
    for (i, a) in found.iter().enumerate() {
        let r = &state.resources[a];
        if i > 0 {
            println!();
        }
        println!("# {a}:");
        println!("resource \"{}\" \"{}\" {{", a.type_, a.name);
        if let Value::Map(attrs) = r.value() {
            let width = attrs.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in attrs.iter().filter(|(_, v)| !v.is_null()) {
                let shown = if r.sensitive_attributes.contains(k) {
                    crate::eval::SENSITIVE.to_string()
                } else {
                    redact.value(v)
                };
                println!("    {k:width$} = {shown}");
            }
        }
        println!("}}");
    }
    Ok(ExitCode::SUCCESS)
}

fn rm(args: AddrArgs) -> Result<ExitCode, Failure> {
    let addr = parse_addr(&args.addr)?;
    let stack = Stack::load(&args.stack)?;
    let lock = stack.lock("state rm")?;
    let Some(mut state) = stack.read_state()? else {
        return Err(Failure::Message(ops::OpError::NotFound(addr).to_string()));
    };
    let gone = ops::remove(&mut state, &addr).map_err(|e| Failure::Message(e.to_string()))?;
    stack.write_state(&lock, &mut state)?;
    for a in &gone {
        println!("Removed {a}");
    }
    println!(
        "Successfully removed {} resource instance(s). Their cloud objects still exist; keel no longer manages them.",
        gone.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn mv(args: MvArgs) -> Result<ExitCode, Failure> {
    let from = parse_addr(&args.from)?;
    let to = parse_addr(&args.to)?;
    let stack = Stack::load(&args.stack)?;
    let lock = stack.lock("state mv")?;
    let Some(mut state) = stack.read_state()? else {
        return Err(Failure::Message(ops::OpError::NotFound(from).to_string()));
    };
    let moved =
        ops::move_addr(&mut state, &from, &to).map_err(|e| Failure::Message(e.to_string()))?;
    stack.write_state(&lock, &mut state)?;
    for (old, new) in &moved {
        println!("Move \"{old}\" to \"{new}\"");
    }
    println!("Successfully moved {} object(s).", moved.len());
    Ok(ExitCode::SUCCESS)
}

fn rekey(args: RekeyArgs) -> Result<ExitCode, Failure> {
    let stack = Stack::load(&args.stack)?;
    let lock = stack.lock("state rekey")?;
    let Some((mut state, was)) = stack.runtime.block_on(stack.backend.read_any())? else {
        return Err(Failure::Message(format!(
            "no state at {}: there is nothing to re-encrypt",
            stack.backend.location()
        )));
    };
    // Twice, so that the backup (the version before) is under the new key as well.
    stack.write_state(&lock, &mut state)?;
    stack.write_state(&lock, &mut state)?;
    let before = match was {
        Protection::Plain => "not encrypted".to_string(),
        Protection::Sealed(h) => format!("encrypted with {h}"),
    };
    let now = match &stack.backend.encryption().settings().provider {
        Some(p) => format!("encrypted with {p}"),
        None => "stored unencrypted".to_string(),
    };
    println!(
        "State {} is now {now} (it was {before}), and so is its backup.",
        stack.backend.location()
    );
    Ok(ExitCode::SUCCESS)
}

fn import_tf(args: TfArgs) -> Result<ExitCode, Failure> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::Message(format!("cannot read {}: {e}", args.file.display())))?;
    let path = args.file.display().to_string();
    crate::import::terraform::check(&path, &text).map_err(|e| Failure::Message(e.to_string()))?;
    let stack = Stack::load(&args.stack)?;
    let lock = stack.lock("state import-terraform")?;
    if let Some(existing) = stack.read_state()?
        && !existing.resources.is_empty()
    {
        return Err(Failure::Message(format!(
            "state {} already records {} resource(s); import-terraform starts a stack's state and will not merge into it\n  help: import single objects with keel import ADDR ID, or empty the state first",
            stack.backend.location(),
            existing.resources.len()
        )));
    }
    // A Terraform state with aliased providers is refused, so every resource belongs to
    // the default AWS configuration.
    let (providers, settings) = stack.connect_with_settings()?;
    let default = crate::addr::ProviderAddr::default_of("aws");
    let provider = providers
        .get(&default)
        .map_err(|e| Failure::Message(e.to_string()))?;
    let cx = ImportContext {
        stack: stack.config.stack.clone(),
        default_tags: settings
            .get(&default)
            .map(|s| s.default_tags.clone())
            .unwrap_or_default(),
        provider: default,
    };
    let (mut state, imported) = stack
        .runtime
        .block_on(import_terraform(
            provider,
            &path,
            &text,
            &cx,
            args.skip_unsupported,
        ))
        .map_err(|e| Failure::Message(e.to_string()))?;
    stack.write_state(&lock, &mut state)?;
    for (addr, r) in &state.resources {
        println!("{addr}: Imported [id={}]", r.id);
    }
    for s in &imported.skipped {
        println!("Skipped {s}");
    }
    println!(
        "\nImported {} resource(s) from {} into {} (lineage {}). Run keel plan to check the configuration matches them.",
        state.resources.len(),
        path,
        stack.backend.location(),
        state.lineage
    );
    Ok(ExitCode::SUCCESS)
}
