//! The legacy Substrate JSON-RPC subset clients use (subxt's legacy backend, the Bittensor SDKs):
//! `chain_*`, `state_*`, `system_*`, `author_*` and `rpc_methods`, with sc-rpc's error codes.

use crate::chain::CallError;
use crate::service::{Shared, SubmitError, TxStatus};
use codec::Decode;
use jsonrpsee::core::SubscriptionError;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use kiln_devnet_runtime::Header;
use serde_json::{Value, json};
use sp_core::H256;
use sp_runtime::transaction_validity::TransactionValidityError;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Names in `rpc_methods` are the registered ones; clients pick their backend from this list.
pub fn module(shared: Arc<Shared>) -> RpcModule<Arc<Shared>> {
    let mut m = RpcModule::new(shared);
    register(&mut m).expect("method names are unique");
    let names: Vec<String> = m.method_names().map(str::to_owned).collect();
    m.register_method("rpc_methods", move |_, _, _| {
        let mut all = names.clone();
        all.push("rpc_methods".into());
        json!({ "methods": all })
    })
    .expect("unique");
    m
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unhex(s: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let t = s.strip_prefix("0x").unwrap_or(s);
    if !t.len().is_multiple_of(2) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_params(format!("not hex: {s:?}")));
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).map_err(|e| invalid_params(e.to_string())))
        .collect()
}

fn invalid_params(msg: String) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, msg, None::<()>)
}

fn call_error(e: CallError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        4003,
        format!("Client error: Execution failed: {e}"),
        None::<()>,
    )
}

fn submit_error(e: SubmitError) -> ErrorObjectOwned {
    match e {
        SubmitError::Decode => ErrorObjectOwned::owned(
            1001,
            "Extrinsic has invalid format",
            Some("could not decode"),
        ),
        SubmitError::Invalid(TransactionValidityError::Invalid(i)) => {
            ErrorObjectOwned::owned(1010, "Invalid Transaction", Some(<&str>::from(i)))
        }
        SubmitError::Invalid(TransactionValidityError::Unknown(u)) => {
            ErrorObjectOwned::owned(1011, "Unknown Transaction Validity", Some(<&str>::from(u)))
        }
        SubmitError::AlreadyImported => {
            ErrorObjectOwned::owned(1013, "Transaction Already Imported", None::<()>)
        }
        SubmitError::TooLowPriority => ErrorObjectOwned::owned(
            1014,
            "Priority is too low",
            Some("a pooled transaction provides the same tag"),
        ),
    }
}

fn hash_param(v: Option<String>, shared: &Shared) -> Result<H256, ErrorObjectOwned> {
    match v {
        None => Ok(shared.chain().best().hash),
        Some(s) => {
            let b = unhex(&s)?;
            (b.len() == 32)
                .then(|| H256::from_slice(&b))
                .ok_or_else(|| invalid_params(format!("not a 32-byte hash: {s}")))
        }
    }
}

fn header_json(h: &Header) -> Value {
    serde_json::to_value(h).expect("headers serialize")
}

fn block_json(shared: &Shared, at: H256) -> Value {
    let chain = shared.chain();
    match chain.block(&at) {
        None => Value::Null,
        Some(b) => json!({
            "block": {
                "header": header_json(&b.header),
                "extrinsics": b.extrinsics.iter().map(|x| hex(x)).collect::<Vec<_>>(),
            },
            "justifications": null,
        }),
    }
}

fn block_number(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => u32::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok(),
        _ => None,
    }
}

fn runtime_call(
    shared: &Shared,
    at: H256,
    method: &str,
    input: &[u8],
) -> Result<Vec<u8>, ErrorObjectOwned> {
    shared.chain().call(at, method, input).map_err(call_error)
}

fn register(m: &mut RpcModule<Arc<Shared>>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("chain_getBlockHash", |p: Params<'_>, s, _| {
        let arg: Option<Value> = p.sequence().optional_next()?;
        let chain = s.chain();
        let number = match arg {
            None | Some(Value::Null) => Some(chain.best().header.number),
            Some(v) => block_number(&v),
        };
        Ok::<_, ErrorObjectOwned>(
            number
                .and_then(|n| chain.block_by_number(n))
                .map_or(Value::Null, |b| json!(b.hash)),
        )
    })?;
    m.register_method("chain_getFinalizedHead", |_, s, _| {
        json!(s.chain().best().hash)
    })?;
    m.register_alias("chain_getFinalisedHead", "chain_getFinalizedHead")?;
    m.register_alias("chain_getHead", "chain_getFinalizedHead")?;
    m.register_method("chain_getHeader", |p: Params<'_>, s, _| {
        let at = hash_param(p.sequence().optional_next()?, s)?;
        let chain = s.chain();
        Ok::<_, ErrorObjectOwned>(
            chain
                .block(&at)
                .map_or(Value::Null, |b| header_json(&b.header)),
        )
    })?;
    m.register_method("chain_getBlock", |p: Params<'_>, s, _| {
        let at = hash_param(p.sequence().optional_next()?, s)?;
        Ok::<_, ErrorObjectOwned>(block_json(s, at))
    })?;
    for (sub, notif, unsub) in [
        (
            "chain_subscribeFinalizedHeads",
            "chain_finalizedHead",
            "chain_unsubscribeFinalizedHeads",
        ),
        (
            "chain_subscribeNewHeads",
            "chain_newHead",
            "chain_unsubscribeNewHeads",
        ),
        (
            "chain_subscribeAllHeads",
            "chain_allHead",
            "chain_unsubscribeAllHeads",
        ),
    ] {
        m.register_subscription(sub, notif, unsub, |_, pending, s, _| async move {
            heads(pending, (*s).clone()).await
        })?;
    }
    m.register_alias(
        "chain_subscribeFinalisedHeads",
        "chain_subscribeFinalizedHeads",
    )?;
    m.register_alias(
        "chain_unsubscribeFinalisedHeads",
        "chain_unsubscribeFinalizedHeads",
    )?;

    m.register_method("state_call", |p: Params<'_>, s, _| {
        let mut seq = p.sequence();
        let method: String = seq.next()?;
        let data: String = seq.next()?;
        let at = hash_param(seq.optional_next()?, s)?;
        let out = runtime_call(s, at, &method, &unhex(&data)?)?;
        Ok::<_, ErrorObjectOwned>(hex(&out))
    })?;
    m.register_alias("state_callAt", "state_call")?;
    m.register_method("state_getStorage", |p: Params<'_>, s, _| {
        let mut seq = p.sequence();
        let key: String = seq.next()?;
        let at = hash_param(seq.optional_next()?, s)?;
        let v = s.chain().storage(at, &unhex(&key)?).map_err(call_error)?;
        Ok::<_, ErrorObjectOwned>(v.map_or(Value::Null, |v| json!(hex(&v))))
    })?;
    m.register_alias("state_getStorageAt", "state_getStorage")?;
    m.register_method("state_getKeysPaged", |p: Params<'_>, s, _| {
        let mut seq = p.sequence();
        let prefix: String = seq.next()?;
        let count: u32 = seq.next()?;
        let start: Option<String> = seq.optional_next()?;
        let at = hash_param(seq.optional_next()?, s)?;
        let start = start.map(|k| unhex(&k)).transpose()?;
        let keys = s
            .chain()
            .keys_paged(at, &unhex(&prefix)?, count.min(1000), start.as_deref())
            .map_err(call_error)?;
        Ok::<_, ErrorObjectOwned>(keys.iter().map(|k| hex(k)).collect::<Vec<_>>())
    })?;
    m.register_alias("state_getKeysPagedAt", "state_getKeysPaged")?;
    m.register_method("state_queryStorageAt", |p: Params<'_>, s, _| {
        let mut seq = p.sequence();
        let keys: Vec<String> = seq.next()?;
        let at = hash_param(seq.optional_next()?, s)?;
        let chain = s.chain();
        let mut changes = Vec::with_capacity(keys.len());
        for k in keys {
            let v = chain.storage(at, &unhex(&k)?).map_err(call_error)?;
            changes.push(json!([k, v.map(|v| hex(&v))]));
        }
        Ok::<_, ErrorObjectOwned>(json!([{ "block": at, "changes": changes }]))
    })?;
    m.register_method("state_getRuntimeVersion", |p: Params<'_>, s, _| {
        let at = hash_param(p.sequence().optional_next()?, s)?;
        let out = runtime_call(s, at, "Core_version", &[])?;
        let v = sp_version::RuntimeVersion::decode(&mut &out[..])
            .map_err(|e| call_error(CallError::Decode(e.to_string())))?;
        Ok::<_, ErrorObjectOwned>(serde_json::to_value(v).expect("versions serialize"))
    })?;
    m.register_alias("chain_getRuntimeVersion", "state_getRuntimeVersion")?;
    m.register_method("state_getMetadata", |p: Params<'_>, s, _| {
        let at = hash_param(p.sequence().optional_next()?, s)?;
        let out = runtime_call(s, at, "Metadata_metadata", &[])?;
        let bytes = Vec::<u8>::decode(&mut &out[..])
            .map_err(|e| call_error(CallError::Decode(e.to_string())))?;
        Ok::<_, ErrorObjectOwned>(hex(&bytes))
    })?;

    m.register_method("system_chain", |_, _, _| "kiln devnet")?;
    m.register_method("system_name", |_, _, _| "kiln")?;
    m.register_method("system_version", |_, _, _| env!("CARGO_PKG_VERSION"))?;
    m.register_method("system_chainType", |_, _, _| "Development")?;
    m.register_method(
        "system_properties",
        |_, _, _| json!({ "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" }),
    )?;
    m.register_method(
        "system_health",
        |_, _, _| json!({ "peers": 0, "isSyncing": false, "shouldHavePeers": false }),
    )?;

    m.register_method("system_accountNextIndex", |p: Params<'_>, s, _| {
        use sp_core::crypto::Ss58Codec;
        let address: String = p.one()?;
        let who = kiln_devnet_runtime::AccountId::from_ss58check(&address)
            .map_err(|e| invalid_params(format!("{address}: {e:?}")))?;
        s.next_index(&who).map_err(call_error)
    })?;
    // sc-rpc registers the short name too; Bittensor's SDK asks for it.
    m.register_alias("account_nextIndex", "system_accountNextIndex")?;
    m.register_method("author_submitExtrinsic", |p: Params<'_>, s, _| {
        let xt: String = p.one()?;
        s.submit(unhex(&xt)?, None)
            .map(|h| json!(h))
            .map_err(submit_error)
    })?;
    m.register_subscription(
        "author_submitAndWatchExtrinsic",
        "author_extrinsicUpdate",
        "author_unwatchExtrinsic",
        |p, pending, s, _| async move { watch(p, pending, (*s).clone()).await },
    )?;
    Ok(())
}

async fn heads(pending: PendingSubscriptionSink, s: Arc<Shared>) -> Result<(), SubscriptionError> {
    let mut rx = s.subscribe_heads();
    let current = s.chain().best().header.clone();
    let sink = pending.accept().await.map_err(|e| e.to_string())?;
    let send = |h: &Header| {
        serde_json::value::to_raw_value(&header_json(h)).map(SubscriptionMessage::from)
    };
    sink.send(send(&current).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            h = rx.recv() => match h {
                Ok(h) => sink.send(send(&h).map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return Ok(()),
            },
        }
    }
}

async fn watch(
    p: Params<'static>,
    pending: PendingSubscriptionSink,
    s: Arc<Shared>,
) -> Result<(), SubscriptionError> {
    let bytes = match p
        .one::<String>()
        .map_err(|e| e.to_string())
        .and_then(|x| unhex(&x).map_err(|e| e.to_string()))
    {
        Ok(b) => b,
        Err(e) => {
            pending.reject(invalid_params(e)).await;
            return Ok(());
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    if let Err(e) = s.submit(bytes, Some(tx)) {
        // Like sc-rpc: a refused transaction rejects the subscription itself.
        pending.reject(submit_error(e)).await;
        return Ok(());
    }
    let sink = pending.accept().await.map_err(|e| e.to_string())?;
    while let Some(status) = rx.recv().await {
        let (v, last) = match status {
            TxStatus::Ready => (json!("ready"), false),
            TxStatus::InBlock(h) => (json!({ "inBlock": h }), false),
            TxStatus::Finalized(h) => (json!({ "finalized": h }), true),
            TxStatus::Invalid => (json!("invalid"), true),
        };
        let msg = serde_json::value::to_raw_value(&v).map_err(|e| e.to_string())?;
        sink.send(SubscriptionMessage::from(msg))
            .await
            .map_err(|e| e.to_string())?;
        if last {
            break;
        }
    }
    Ok(())
}
