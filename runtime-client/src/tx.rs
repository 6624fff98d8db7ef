//! Signing, submitting and waiting for inclusion, with typed pool and dispatch errors, and fee
//! estimates through `TransactionPaymentApi.query_info` (subxt's own estimate assumes u128
//! balances; subtensor's are u64).

use crate::client::Client;
use crate::error::{ReadError, TxError};
use crate::read::BlockSel;
use crate::schema;
use subxt::error::{DispatchError, ExtrinsicError, TransactionEventsError};
use subxt::ext::scale_value::{At, Value};
use subxt::transactions::{Payload, TransactionStatus};
use subxt::utils::H256;
use subxt_signer::sr25519::Keypair;

/// A transaction that was included and dispatched successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Included {
    /// The block that includes it.
    pub block_hash: H256,
    /// That block's number.
    pub block_number: u64,
    /// The transaction hash.
    pub tx_hash: H256,
    /// `Pallet.Event` names of the events it emitted, in order.
    pub events: Vec<String>,
}

impl Included {
    /// Whether it emitted `pallet.event`.
    pub fn has_event(&self, pallet: &str, event: &str) -> bool {
        let name = format!("{pallet}.{event}");
        self.events.contains(&name)
    }
}

fn rpc_user_error(e: &ExtrinsicError) -> Option<TxError> {
    use subxt::error::{BackendError, RpcError};
    let backend = match e {
        ExtrinsicError::ErrorSubmittingTransaction(b) => b,
        _ => return None,
    };
    match backend {
        BackendError::Rpc(RpcError::ClientError(subxt::rpcs::Error::User(user))) => {
            Some(TxError::Pool {
                code: user.code,
                message: user.message.clone(),
                data: user.data.as_ref().map(|d| {
                    serde_json::from_str::<String>(d.get()).unwrap_or_else(|_| d.get().to_owned())
                }),
            })
        }
        _ => None,
    }
}

fn dispatch(e: DispatchError) -> TxError {
    match &e {
        DispatchError::Module(m) => match m.details() {
            Ok(d) => TxError::Dispatch {
                pallet: d.pallet.name().to_owned(),
                error: d.variant.name.clone(),
            },
            Err(_) => TxError::DispatchOther(e.to_string()),
        },
        _ => TxError::DispatchOther(e.to_string()),
    }
}

impl Client {
    /// Signs `call` with `signer` at the latest block, submits it, and waits (up to the inclusion
    /// timeout) for the block that includes it. Never retried: a resubmission could land twice.
    pub async fn submit<C: Payload>(
        &self,
        call: &C,
        signer: &Keypair,
    ) -> Result<Included, TxError> {
        let limit = self.options().inclusion_timeout;
        let deadline = tokio::time::Instant::now() + limit;
        let at = self
            .at(BlockSel::Latest)
            .await
            .map_err(|e| TxError::Transport(e.to_string()))?;
        let tx = at
            .transactions()
            .create_signed(call, signer, Default::default())
            .await
            .map_err(|e| TxError::Build(e.to_string()))?;
        let mut progress = tokio::time::timeout_at(deadline, tx.submit_and_watch())
            .await
            .map_err(|_| TxError::Timeout(limit))?
            .map_err(|e| rpc_user_error(&e).unwrap_or_else(|| TxError::Transport(e.to_string())))?;
        let tx_hash = progress.extrinsic_hash();
        loop {
            let status = tokio::time::timeout_at(deadline, progress.next())
                .await
                .map_err(|_| TxError::Timeout(limit))?;
            let in_block = match status {
                None => return Err(TxError::Transport("status stream ended".into())),
                Some(Err(e)) => return Err(TxError::Transport(e.to_string())),
                Some(Ok(
                    TransactionStatus::InBestBlock(b) | TransactionStatus::InFinalizedBlock(b),
                )) => b,
                Some(Ok(TransactionStatus::Invalid { message })) => {
                    return Err(TxError::Rejected {
                        status: "invalid",
                        message,
                    });
                }
                Some(Ok(TransactionStatus::Dropped { message })) => {
                    return Err(TxError::Rejected {
                        status: "dropped",
                        message,
                    });
                }
                Some(Ok(TransactionStatus::Error { message })) => {
                    return Err(TxError::Rejected {
                        status: "error",
                        message,
                    });
                }
                Some(Ok(_)) => continue,
            };
            let block_hash = in_block.block_hash();
            let block_number = tokio::time::timeout_at(deadline, in_block.at())
                .await
                .map_err(|_| TxError::Timeout(limit))?
                .map_err(|e| TxError::Transport(e.to_string()))?
                .block_number();
            let events = tokio::time::timeout_at(deadline, in_block.wait_for_success())
                .await
                .map_err(|_| TxError::Timeout(limit))?
                .map_err(|e| match e {
                    TransactionEventsError::ExtrinsicFailed(d) => dispatch(d),
                    other => TxError::Transport(other.to_string()),
                })?;
            let events = events
                .iter()
                .filter_map(Result::ok)
                .map(|e| format!("{}.{}", e.pallet_name(), e.event_name()))
                .collect();
            tracing::debug!(?tx_hash, ?block_hash, "transaction included");
            return Ok(Included {
                block_hash,
                block_number,
                tx_hash,
                events,
            });
        }
    }

    /// The fee, in rao, the chain would charge `signer` for `call` (`partial_fee` of
    /// `TransactionPaymentApi.query_info`).
    pub async fn estimate_fee<C: Payload>(
        &self,
        call: &C,
        signer: &Keypair,
    ) -> Result<u64, ReadError> {
        let at = self.at(BlockSel::Latest).await?;
        let err = |e: String| ReadError::RuntimeApi {
            api: "TransactionPaymentApi.query_info",
            reason: e,
        };
        let tx = at
            .transactions()
            .create_signed(call, signer, Default::default())
            .await
            .map_err(|e| err(e.to_string()))?;
        // The runtime API takes the extrinsic without its compact length prefix.
        let encoded = tx.encoded();
        let mut rest = encoded;
        <codec::Compact<u32> as codec::Decode>::decode(&mut rest)
            .map_err(|e| err(e.to_string()))?;
        let info: Value = self
            .timed(at.runtime_apis().call(schema::query_info(rest.to_vec())))
            .await?
            .map_err(|e| err(e.to_string()))?;
        info.at("partial_fee")
            .and_then(|v| v.as_u128())
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| err(format!("no u64 partial_fee in {info}")))
    }
}
