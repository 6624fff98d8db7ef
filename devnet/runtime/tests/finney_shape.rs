//! The devnet's metadata against the real finney metadata (`../shared/subtensor/
//! finney-metadata.scale`, V16): every pallet, call, storage item, event and error the devnet
//! implements must exist on finney with the same index, name and argument/value *shape* (the
//! structure a SCALE codec sees: field names, variants, primitives, sequences), and every
//! runtime API method must have finney's argument and result shapes, so clients written for
//! subtensor encode and decode the same bytes against both.
//!
//! Standard FRAME pallets come from a newer polkadot-sdk than finney's. The items that SDK added
//! (or renumbered by inserting new events before them) are listed in `NEWER_SDK_ONLY`, and the
//! subtensor items newer than the metadata on file in `NEWER_SUBTENSOR_ONLY`; both are skipped,
//! nothing else is.

use codec::Decode;
use frame_metadata::v16::{PalletMetadata, RuntimeMetadataV16, StorageEntryType};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use kiln_devnet_runtime::Runtime;
use scale_info::form::PortableForm;
use scale_info::{PortableRegistry, TypeDef};
use std::path::Path;

const FINNEY: &str = "../../../shared/subtensor/finney-metadata.scale";

/// Items subtensor added after the finney metadata on file (April 2026, spec 393) that today's
/// Bittensor SDK (11.3) reads. Their shapes follow subtensor's source; the SDK conformance test
/// (`devnet/node/tests/sdk.rs`) decodes them with Bittensor's own client.
const NEWER_SUBTENSOR_ONLY: &[&str] = &[
    "SubtensorModule.SubnetEmissionEnabled",
    "SubtensorModule.SubnetEpochIndex",
    "SubtensorModule.LastEpochBlock",
    "SubtensorModule.PendingEpochAt",
    "SubtensorModule.SubnetEpochConsensus",
    "SubtensorModule.CollateralLockShare",
    "SubtensorModule.CollateralDrainRatio",
    "SubnetInfoRuntimeApi.get_subnet_hyperparams_v3",
    "SubnetInfoRuntimeApi.get_next_epoch_start_block",
];

/// Items of standard pallets that exist only in the polkadot-sdk this runtime is built from, or
/// whose index moved because that SDK inserted events before them. Clients decode these through
/// the chain's own metadata; none of them is something a subnet client sends or reads.
const NEWER_SDK_ONLY: &[&str] = &[
    "System.CodeUpdated",
    "System.BlockSize",
    "System.BlocksTillUpgrade",
    "Balances.MintedCredit",
    "Balances.BurnedDebt",
    "Balances.Burned",
    "Balances.Suspended",
    "Balances.Restored",
    "Balances.Upgraded",
    "Balances.Issued",
    "Balances.Rescinded",
    "Balances.Locked",
    "Balances.Unlocked",
    "Balances.Frozen",
    "Balances.Thawed",
    "Balances.TotalIssuanceForced",
    "Balances.Held",
    "Balances.BurnedHeld",
    "Balances.TransferOnHold",
    "Balances.TransferAndHold",
    "Balances.Released",
    "Balances.Unexpected",
    "TransactionPayment.TxPaymentCredit",
];

/// finney's metadata and the devnet's, or `None` (with a message) when finney's file is absent.
fn finney_and_ours() -> Option<(RuntimeMetadataV16, RuntimeMetadataV16)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FINNEY);
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!(
            "SKIPPED: finney metadata not found at {} (shared/subtensor/finney-metadata.scale)",
            path.display()
        );
        return None;
    };
    Some((v16(&bytes), v16(&Runtime::metadata_at_version(16).unwrap())))
}

fn v16(bytes: &[u8]) -> RuntimeMetadataV16 {
    match RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap().1 {
        RuntimeMetadata::V16(m) => m,
        _ => panic!("not V16 metadata"),
    }
}

/// The structure of type `id`: what a SCALE codec sees, independent of type ids, paths and
/// newtype wrappers.
/// Types named `RuntimeCall`, `RuntimeEvent`, ... (which differ by construction) and recursion
/// stop at the type's name.
fn shape(reg: &PortableRegistry, id: u32, stack: &mut Vec<u32>) -> String {
    let ty = reg.resolve(id).expect("type id in registry");
    let name = ty.path.segments.last().cloned().unwrap_or_default();
    if name.starts_with("Runtime") || stack.contains(&id) {
        return name;
    }
    stack.push(id);
    let fields = |fs: &[scale_info::Field<PortableForm>], stack: &mut Vec<u32>| -> String {
        fs.iter()
            .map(|f| {
                let n = f.name.clone().unwrap_or_default();
                format!("{n}:{}", shape(reg, f.ty.id, stack))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let out = match &ty.type_def {
        // A newtype encodes as its field: `Wrapper(Vec<u8>)` and `Vec<u8>` are the same bytes.
        TypeDef::Composite(c) if c.fields.len() == 1 && c.fields[0].name.is_none() => {
            shape(reg, c.fields[0].ty.id, stack)
        }
        TypeDef::Composite(c) => format!("{{{}}}", fields(&c.fields, stack)),
        TypeDef::Variant(v) => {
            let vs: Vec<String> = v
                .variants
                .iter()
                .map(|x| format!("{}={}({})", x.index, x.name, fields(&x.fields, stack)))
                .collect();
            format!("enum{{{}}}", vs.join("|"))
        }
        TypeDef::Sequence(s) => format!("[{}]", shape(reg, s.type_param.id, stack)),
        TypeDef::Array(a) => format!("[{};{}]", shape(reg, a.type_param.id, stack), a.len),
        TypeDef::Tuple(t) => {
            let ts: Vec<String> = t.fields.iter().map(|f| shape(reg, f.id, stack)).collect();
            format!("({})", ts.join(","))
        }
        TypeDef::Primitive(p) => format!("{p:?}").to_lowercase(),
        TypeDef::Compact(c) => format!("compact<{}>", shape(reg, c.type_param.id, stack)),
        TypeDef::BitSequence(_) => "bits".into(),
    };
    stack.pop();
    out
}

/// `(index, name, shape of fields)` of each variant of an enum type.
fn variants(reg: &PortableRegistry, id: u32) -> Vec<(u8, String, String)> {
    let TypeDef::Variant(v) = &reg.resolve(id).unwrap().type_def else {
        panic!("not an enum");
    };
    v.variants
        .iter()
        .map(|x| {
            let fields: Vec<String> = x
                .fields
                .iter()
                .map(|f| {
                    let n = f.name.clone().unwrap_or_default();
                    format!("{n}:{}", shape(reg, f.ty.id, &mut Vec::new()))
                })
                .collect();
            (x.index, x.name.clone(), fields.join(","))
        })
        .collect()
}

fn storage_shape(reg: &PortableRegistry, ty: &StorageEntryType<PortableForm>) -> String {
    match ty {
        StorageEntryType::Plain(v) => format!("plain {}", shape(reg, v.id, &mut Vec::new())),
        StorageEntryType::Map {
            hashers,
            key,
            value,
        } => format!(
            "map {hashers:?} {} -> {}",
            shape(reg, key.id, &mut Vec::new()),
            shape(reg, value.id, &mut Vec::new())
        ),
    }
}

/// Every difference between one of our pallets and finney's pallet of the same name.
fn differences(
    ours: &PalletMetadata<PortableForm>,
    our_reg: &PortableRegistry,
    theirs: &PalletMetadata<PortableForm>,
    their_reg: &PortableRegistry,
) -> Vec<String> {
    let p = &ours.name;
    let skip = |item: &str| {
        let name = format!("{p}.{item}");
        NEWER_SDK_ONLY.contains(&name.as_str()) || NEWER_SUBTENSOR_ONLY.contains(&name.as_str())
    };
    let mut out = Vec::new();
    if ours.index != theirs.index {
        out.push(format!(
            "{p}: index {} vs finney {}",
            ours.index, theirs.index
        ));
    }
    let enums = [
        (
            "call",
            ours.calls.as_ref().map(|c| c.ty.id),
            theirs.calls.as_ref().map(|c| c.ty.id),
        ),
        (
            "event",
            ours.event.as_ref().map(|c| c.ty.id),
            theirs.event.as_ref().map(|c| c.ty.id),
        ),
        (
            "error",
            ours.error.as_ref().map(|c| c.ty.id),
            theirs.error.as_ref().map(|c| c.ty.id),
        ),
    ];
    for (kind, our_ty, their_ty) in enums {
        let Some(our_ty) = our_ty else { continue };
        let theirs_v = their_ty.map(|t| variants(their_reg, t)).unwrap_or_default();
        for (index, name, fields) in variants(our_reg, our_ty) {
            if skip(&name) {
                continue;
            }
            match theirs_v.iter().find(|(_, n, _)| *n == name) {
                None => out.push(format!("{p}: {kind} {name} is not on finney")),
                Some((i, _, f)) => {
                    // Clients map error indices to names through the chain's own metadata, so
                    // only error names must agree; call and event indices are part of the bytes.
                    if kind != "error" && *i != index {
                        out.push(format!("{p}: {kind} {name} index {index} vs finney {i}"));
                    }
                    // Errors carry no fields worth comparing; calls and events must match.
                    if kind != "error" && *f != fields {
                        out.push(format!("{p}: {kind} {name}({fields}) vs finney ({f})"));
                    }
                }
            }
        }
    }
    let their_entries = theirs
        .storage
        .as_ref()
        .map(|s| &s.entries[..])
        .unwrap_or(&[]);
    for e in ours.storage.iter().flat_map(|s| &s.entries) {
        if skip(&e.name) {
            continue;
        }
        match their_entries.iter().find(|t| t.name == e.name) {
            None => out.push(format!("{p}: storage {} is not on finney", e.name)),
            Some(t) => {
                let (a, b) = (
                    storage_shape(our_reg, &e.ty),
                    storage_shape(their_reg, &t.ty),
                );
                if a != b {
                    out.push(format!("{p}: storage {}: {a} vs finney {b}", e.name));
                }
            }
        }
    }
    out
}

#[test]
fn every_implemented_item_matches_finney() {
    let Some((finney, ours)) = finney_and_ours() else {
        return;
    };
    let mut diffs = Vec::new();
    for pallet in &ours.pallets {
        match finney.pallets.iter().find(|f| f.name == pallet.name) {
            None => diffs.push(format!("pallet {} is not on finney", pallet.name)),
            Some(f) => diffs.extend(differences(pallet, &ours.types, f, &finney.types)),
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// `name(input:shape,…) -> shape` of each method of a runtime API.
fn api_methods(
    api: &frame_metadata::v16::RuntimeApiMetadata<PortableForm>,
    reg: &PortableRegistry,
) -> Vec<(String, String)> {
    api.methods
        .iter()
        .map(|m| {
            let inputs: Vec<String> = m
                .inputs
                .iter()
                .map(|i| format!("{}:{}", i.name, shape(reg, i.ty.id, &mut Vec::new())))
                .collect();
            let sig = format!(
                "({}) -> {}",
                inputs.join(","),
                shape(reg, m.output.id, &mut Vec::new())
            );
            (m.name.clone(), sig)
        })
        .collect()
}

#[test]
fn every_runtime_api_method_matches_finney() {
    let Some((finney, ours)) = finney_and_ours() else {
        return;
    };
    let mut diffs = Vec::new();
    let mut checked = Vec::new();
    for api in &ours.apis {
        let Some(theirs) = finney.apis.iter().find(|a| a.name == api.name) else {
            diffs.push(format!("runtime API {} is not on finney", api.name));
            continue;
        };
        let their_methods = api_methods(theirs, &finney.types);
        for (name, sig) in api_methods(api, &ours.types) {
            match their_methods.iter().find(|(n, _)| *n == name) {
                None if NEWER_SUBTENSOR_ONLY.contains(&format!("{}.{name}", api.name).as_str()) => {
                }
                None => diffs.push(format!("{}.{name} is not on finney", api.name)),
                Some((_, s)) if *s != sig => {
                    diffs.push(format!("{}.{name}{sig}\n  vs finney {s}", api.name))
                }
                Some(_) => checked.push(format!("{}.{name}", api.name)),
            }
        }
    }
    for must in [
        "NeuronInfoRuntimeApi.get_neurons_lite",
        "NeuronInfoRuntimeApi.get_neuron_lite",
        "SubnetInfoRuntimeApi.get_metagraph",
    ] {
        assert!(checked.iter().any(|c| c == must), "{must} was not compared");
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
