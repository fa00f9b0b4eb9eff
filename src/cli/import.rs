//! `keel import ADDR ID DIR`: bring an existing cloud object under keel at ADDR, read
//! through the provider. The configuration must already have the resource block.

use super::StackArgs;
use super::stack::{Failure, Stack};
use super::state::parse_addr;
use crate::addr::InstanceKey;
use crate::import::{ImportContext, import_resource};
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
        .map_err(|e| Failure::Message(e.to_string()))?;
    stack.write_state(&lock, &mut state)?;
    println!("{addr}: Import prepared! [id={}]", entry.id);
    println!(
        "\nImport successful! {addr} is now managed by keel (it was tagged keel:stack and keel:address). Run keel plan to see how it differs from the configuration."
    );
    Ok(ExitCode::SUCCESS)
}
