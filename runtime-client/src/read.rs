//! Reading storage at a block, with typed errors and the client's request timeout.

use crate::client::{AtBlock, Client};
use crate::error::ReadError;
use std::future::Future;
use subxt::ext::scale_decode::DecodeAsType;
use subxt::storage::DynamicAddress;

/// A block to read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockSel {
    /// The latest finalized block.
    #[default]
    Latest,
    /// A block by number.
    Number(u64),
}

fn item_name<A: subxt::storage::Address>(addr: &A) -> String {
    format!("{}.{}", addr.pallet_name(), addr.entry_name())
}

impl Client {
    /// A view of the chain at `sel`.
    pub async fn at(&self, sel: BlockSel) -> Result<AtBlock, ReadError> {
        let fut = async {
            match sel {
                BlockSel::Latest => self.api().at_current_block().await,
                BlockSel::Number(n) => self.api().at_block(n).await,
            }
        };
        let at = match sel {
            BlockSel::Latest => "latest".to_owned(),
            BlockSel::Number(n) => n.to_string(),
        };
        self.timed(fut).await?.map_err(|e| ReadError::At {
            at,
            reason: e.to_string(),
        })
    }

    /// Runs `fut` under the request timeout.
    pub(crate) async fn timed<T>(&self, fut: impl Future<Output = T>) -> Result<T, ReadError> {
        let limit = self.options().request_timeout;
        tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| ReadError::Timeout(limit))
    }
}

/// Fetches a storage value (the item's default when absent).
pub(crate) async fn get<K, V>(
    at: &AtBlock,
    addr: DynamicAddress<K, V>,
    keys: K,
) -> Result<V, ReadError>
where
    K: subxt::ext::frame_decode::storage::IntoEncodableValues
        + subxt::ext::frame_decode::storage::IntoDecodableValues,
    V: DecodeAsType,
{
    let item = item_name(&addr);
    let err = |e: String| ReadError::Storage {
        item: item.clone(),
        reason: e,
    };
    at.storage()
        .fetch(addr, keys)
        .await
        .map_err(|e| err(e.to_string()))?
        .decode()
        .map_err(|e| err(e.to_string()))
}

/// Fetches a storage value that may be absent (`OptionQuery` items).
pub(crate) async fn try_get<K, V>(
    at: &AtBlock,
    addr: DynamicAddress<K, V>,
    keys: K,
) -> Result<Option<V>, ReadError>
where
    K: subxt::ext::frame_decode::storage::IntoEncodableValues
        + subxt::ext::frame_decode::storage::IntoDecodableValues,
    V: DecodeAsType,
{
    let item = item_name(&addr);
    let err = |e: String| ReadError::Storage {
        item: item.clone(),
        reason: e,
    };
    match at.storage().try_fetch(addr, keys).await {
        Ok(Some(v)) => v.decode().map(Some).map_err(|e| err(e.to_string())),
        Ok(None) => Ok(None),
        Err(e) => Err(err(e.to_string())),
    }
}

/// Whether the node's metadata has the storage item `pallet.entry`.
pub(crate) fn has_storage(at: &AtBlock, pallet: &str, entry: &str) -> bool {
    at.metadata_ref()
        .pallet_by_name(pallet)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name(entry))
        .is_some()
}
