//! A devnet chain executed natively block by block, for the runtime's tests.
use codec::Encode;
use kiln_devnet_runtime::subtensor;
use kiln_devnet_runtime::{
    Executive, Header, Runtime, RuntimeCall, UncheckedExtrinsic, dev, drand,
};
use sp_io::TestExternalities;
use sp_runtime::traits::{Hash as _, Header as _};
use sp_runtime::{ApplyExtrinsicResult, BuildStorage, DispatchError};

/// The genesis subnet.
pub(crate) const NET: u16 = 1;
/// Its tempo.
pub(crate) const TEMPO: u16 = 5;

/// Unix milliseconds of block 0: ten seconds into the dev beacon's schedule, so the beacon
/// has a round due from the first block on.
pub(crate) const START_MS: u64 = dev::BEACON_GENESIS_TIME as u64 * 1000 + 10_000;
/// Milliseconds between blocks.
pub(crate) const BLOCK_MS: u64 = 250;

/// A chain and its head.
pub(crate) struct Chain {
    ext: TestExternalities,
    parent: sp_core::H256,
    number: u32,
}

impl Chain {
    pub(crate) fn new() -> Self {
        Self::with_subnets(vec![dev::fast_subnet(NET, TEMPO)])
    }

    /// A chain whose genesis creates `subnets`.
    pub(crate) fn with_subnets(
        subnets: Vec<subtensor::GenesisSubnet<kiln_devnet_runtime::AccountId>>,
    ) -> Self {
        let storage = dev::genesis(subnets).build_storage().unwrap();
        Self {
            ext: TestExternalities::new(storage),
            parent: Default::default(),
            number: 0,
        }
    }

    /// Authors the next block with `calls` (signed by the given keys, nonces from state);
    /// returns each call's dispatch result. Panics on a transaction the runtime refuses.
    pub(crate) fn block(
        &mut self,
        calls: Vec<(&str, RuntimeCall)>,
    ) -> Vec<Result<(), DispatchError>> {
        self.try_block(calls)
            .into_iter()
            .map(|r| r.expect("valid transaction"))
            .collect()
    }

    /// [`Chain::block`], returning refused transactions' validity errors too.
    pub(crate) fn try_block(
        &mut self,
        calls: Vec<(&str, RuntimeCall)>,
    ) -> Vec<ApplyExtrinsicResult> {
        self.number += 1;
        let (number, parent) = (self.number, self.parent);
        let (results, hash) = self.ext.execute_with(|| {
            let header = Header::new(
                number,
                Default::default(),
                Default::default(),
                parent,
                Default::default(),
            );
            Executive::initialize_block(&header);
            let now_ms = START_MS + u64::from(number) * BLOCK_MS;
            let now = RuntimeCall::Timestamp(pallet_timestamp::Call::set { now: now_ms });
            Executive::apply_extrinsic(UncheckedExtrinsic::new_bare(now))
                .unwrap()
                .unwrap();
            // The dev beacon's due pulses, as the node's author adds them.
            let pulses = drand::pulses_due::<Runtime>(&dev::beacon(), now_ms);
            if !pulses.is_empty() {
                let write = RuntimeCall::Drand(drand::Call::write_pulse {
                    pulses_payload: drand::PulsesPayload {
                        block_number: number,
                        pulses,
                        public: drand::Relayer::Sr25519([0; 32]),
                    },
                    signature: None,
                });
                Executive::apply_extrinsic(UncheckedExtrinsic::new_bare(write))
                    .unwrap()
                    .unwrap();
            }
            let results = calls
                .into_iter()
                .map(|(uri, call)| {
                    let (pair, who) = dev::key(uri);
                    let nonce = frame_system::Pallet::<Runtime>::account_nonce(&who);
                    Executive::apply_extrinsic(dev::signed(&pair, call, nonce))
                })
                .collect();
            let header = Executive::finalize_block();
            (
                results,
                sp_runtime::traits::BlakeTwo256::hash(&header.encode()),
            )
        });
        self.parent = hash;
        results
    }

    pub(crate) fn blocks_until(&mut self, number: u32) {
        while self.number < number {
            self.block(vec![]);
        }
    }

    pub(crate) fn read<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.ext.execute_with(f)
    }
}

/// A `SubtensorModule` call.
pub(crate) fn sub(call: subtensor::Call<Runtime>) -> RuntimeCall {
    RuntimeCall::SubtensorModule(call)
}

/// A `SubtensorModule` error as a dispatch result.
pub(crate) fn err(e: subtensor::Error<Runtime>) -> Result<(), DispatchError> {
    Err(e.into())
}
