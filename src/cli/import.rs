//! `keel import ADDR ID DIR`: bring an existing cloud object under keel at ADDR, read
//! through the provider. The configuration must already have the resource block.

use super::StackArgs;
use super::stack::{Failure, Stack};
use super::state::parse_addr;
use crate::addr::InstanceKey;
use crate::addr::{ProviderAddr, ResourceAddr};
use crate::apply::{Event, Progress};
use crate::import::{ImportContext, import_resource, unimport};
use crate::state::State;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to record it: TYPE.NAME, TYPE.NAME[0], TYPE.NAME["key"].
    pub addr: String,
    /// The cloud's id for it (vpc-..., subnet-..., sg-..., a bucket's name).
    pub id: String,
    #[command(flatten)]
    pub stack: StackArgs,
}

pub fn exec(args: Args) -> Result<ExitCode, Failure> {
    let addr = parse_addr(&args.addr)?;
    let stack = Stack::load(&args.stack)?;
    let Some((scope, index, r)) = stack.config.find_resource(&addr) else {
        return Err(Failure::Message(format!(
            "the configuration has no resource \"{}\" \"{}\" for {addr}\n  help: write its resource block first, so that keel knows what the object should look like; then import it",
            addr.type_, addr.name
        )));
    };
    let expected = match (&r.count, &r.for_each) {
        (Some(_), _) => "an index, as in [0] (the block has count)",
        (_, Some(_)) => "a key, as in [\"name\"] (the block has for_each)",
        _ => "no index (the block has neither count nor for_each)",
    };
    let fits = matches!(
        (&addr.key, &r.count, &r.for_each),
        (Some(InstanceKey::Int(_)), Some(_), None)
            | (Some(InstanceKey::Str(_)), None, Some(_))
            | (None, None, None)
    );
    if !fits {
        return Err(Failure::Message(format!(
            "{addr} does not fit its resource block: the address needs {expected}"
        )));
    }
    let provider_addr = stack.config.scope(scope).resource_providers[index].clone();
    let lock = stack.lock("import")?;
    let mut state = stack
        .read_state()?
        .unwrap_or_else(|| State::new(&stack.config.stack));
    let (providers, settings) = stack.connect_with_settings()?;
    let provider = providers
        .get(&provider_addr)
        .map_err(|e| Failure::Message(e.to_string()))?;
    let cx = ImportContext {
        stack: stack.config.stack.clone(),
        default_tags: settings
            .get(&provider_addr)
            .map(|s| s.default_tags.clone())
            .unwrap_or_default(),
        provider: provider_addr,
    };
    println!("{addr}: Importing from ID \"{}\"...", args.id);
    let entry = stack
        .runtime
        .block_on(import_resource(provider, &mut state, &addr, &args.id, &cx))
        .map_err(|e| Failure::Message(e.to_string()))?
        .entry;
    stack.write_state(&lock, &mut state)?;
    println!("{addr}: Import prepared! [id={}]", entry.id);
    println!(
        "\nImport successful! {addr} is now managed by keel (it was tagged keel:stack and keel:address). Run keel plan to see how it differs from the configuration."
    );
    Ok(ExitCode::SUCCESS)
}

/// Imports the objects a plan's `import` blocks name, before apply makes its changes:
/// each read through its provider, tagged `keel:stack` / `keel:address` and recorded,
/// state written after each. The plan then continues against that state (its serial
/// follows these writes, which are the plan's own first steps). Returns what it
/// imported, for [`undo_planned_imports`] should the apply roll back.
pub fn apply_planned_imports(
    stack: &Stack,
    providers: &super::stack::Providers,
    lock: &crate::state::StateLock,
    state: &mut State,
    plan: &mut crate::plan::Plan,
    progress: &mut dyn Progress,
) -> Result<Vec<PlannedImport>, Failure> {
    let mut done = Vec::new();
    for imp in plan.imports.clone() {
        if state.resources.contains_key(&imp.addr) {
            continue;
        }
        let provider = providers
            .get(&imp.provider)
            .map_err(|e| Failure::Message(e.to_string()))?;
        let cx = super::plan::import_context(stack, &imp.provider)?;
        progress.event(&Event::Importing {
            addr: imp.addr.clone(),
            id: imp.id.clone(),
        });
        let made = stack
            .runtime
            .block_on(import_resource(provider, state, &imp.addr, &imp.id, &cx))
            .map_err(|e| Failure::Message(e.to_string()))?;
        stack.write_state(lock, state)?;
        progress.event(&Event::Imported {
            addr: imp.addr.clone(),
            id: made.entry.id.clone(),
        });
        done.push(PlannedImport {
            addr: imp.addr,
            provider: imp.provider,
            id: made.entry.id,
            tagged: made.tagged,
        });
    }
    plan.serial = state.serial;
    Ok(done)
}

/// An import [`apply_planned_imports`] made.
#[derive(Debug, Clone)]
pub struct PlannedImport {
    addr: ResourceAddr,
    provider: ProviderAddr,
    id: String,
    tagged: bool,
}

/// After an apply that rolled back completely: its imports are undone too, last first,
/// so state and the cloud are as they were before it (the objects stay, untagged and
/// unrecorded). An import that cannot be undone stays recorded, and is reported.
pub fn undo_planned_imports(
    stack: &Stack,
    providers: &super::stack::Providers,
    lock: &crate::state::StateLock,
    state: &mut State,
    imports: &[PlannedImport],
    progress: &mut dyn Progress,
) -> Result<(), Failure> {
    let mut failed = Vec::new();
    for imp in imports.iter().rev() {
        let provider = providers
            .get(&imp.provider)
            .map_err(|e| Failure::Message(e.to_string()))?;
        match stack
            .runtime
            .block_on(unimport(provider, state, &imp.addr, imp.tagged))
        {
            Ok(()) => {
                stack.write_state(lock, state)?;
                progress.event(&Event::ImportUndone {
                    addr: imp.addr.clone(),
                    id: imp.id.clone(),
                });
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Message(format!(
            "the apply rolled back, but {} of its imports could not be undone; state still records them:\n  {}",
            failed.len(),
            failed.join("\n  ")
        )))
    }
}
