//! The kiln devnet runtime: a native (no wasm) FRAME runtime that looks like subtensor to clients.
//!
//! Pallet names and indices, the account, signature and balance types, and the transaction
//! extensions are subtensor's, so unmodified clients (subxt, Bittensor SDKs) sign and decode
//! against it as against finney. The node (`kiln devnet`) executes it natively through
//! [`api::dispatch`], the byte-level twin of a wasm runtime's exports.
//!
//! Present: `System` (0), `Timestamp` (2), `Balances` (5), `TransactionPayment` (6),
//! `SubtensorModule` (7, see [`subtensor`]), `Sudo` (12), `Commitments` (18, see [`commitments`]), `AdminUtils` (19, see [`admin`]), `Drand` (26, see [`drand`]), `MevShield` (30, see [`shield`]);
//! subtensor's `NeuronInfoRuntimeApi` and `SubnetInfoRuntimeApi` (see [`subnet_apis`]).

// FRAME's macros generate public items without docs and with crate-visible helpers.
#![allow(missing_docs, unreachable_pub)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::vec::Vec;
use frame_support::genesis_builder_helper::{build_state, get_preset};
use frame_support::weights::{ConstantMultiplier, IdentityFee, Weight};
use frame_support::{construct_runtime, derive_impl, parameter_types};
use pallet_transaction_payment::{FeeDetails, FungibleAdapter, RuntimeDispatchInfo};
use sp_api::impl_runtime_apis;
use sp_core::OpaqueMetadata;
use sp_runtime::traits::{BlakeTwo256, Block as BlockT, IdentifyAccount, Verify};
use sp_runtime::transaction_validity::{TransactionSource, TransactionValidity};
use sp_runtime::{ApplyExtrinsicResult, MultiAddress, MultiSignature, generic};
use sp_version::RuntimeVersion;

/// Block numbers are u32, as on subtensor.
pub type BlockNumber = u32;
/// sr25519/ed25519/ecdsa multi-signature.
pub type Signature = MultiSignature;
/// 32-byte account ids.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances in rao (1 TAO = 1e9 rao), u64 as on subtensor.
pub type Balance = u64;
/// Account nonces.
pub type Nonce = u32;
/// Block and extrinsic hashes.
pub type Hash = sp_core::H256;
/// Extrinsic sender address.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// subtensor's transaction extensions that carry data, in its order (the ones that carry no
/// bytes are skipped by clients and omitted here).
pub type TxExtension = (
    frame_system::CheckNonZeroSender<Runtime>,
    frame_system::CheckSpecVersion<Runtime>,
    frame_system::CheckTxVersion<Runtime>,
    frame_system::CheckGenesis<Runtime>,
    frame_system::CheckMortality<Runtime>,
    check_nonce::CheckNonce<Runtime>,
    frame_system::CheckWeight<Runtime>,
    pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
    frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
);

/// A signed or bare extrinsic.
pub type UncheckedExtrinsic =
    generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// What an extrinsic's signature covers.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;
/// A block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// Block execution.
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
>;

/// The runtime's version; clients sign with `spec_version` and `transaction_version`.
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: Cow::Borrowed("kiln-devnet"),
    impl_name: Cow::Borrowed("kiln-devnet"),
    authoring_version: 1,
    spec_version: 6,
    impl_version: 1,
    apis: RUNTIME_API_VERSIONS,
    transaction_version: 1,
    system_version: 1,
};

/// 1 TAO in rao.
pub const TAO: Balance = 1_000_000_000;

parameter_types! {
    pub const BlockHashCount: BlockNumber = 2400;
    pub const Version: RuntimeVersion = VERSION;
    pub const SS58Prefix: u16 = 42;
    pub const ExistentialDeposit: Balance = 500;
    pub const TransactionByteFee: Balance = 1;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
    type Block = Block;
    type AccountId = AccountId;
    type Lookup = sp_runtime::traits::AccountIdLookup<AccountId, ()>;
    type Nonce = Nonce;
    type Hash = Hash;
    type BlockHashCount = BlockHashCount;
    type Version = Version;
    type AccountData = pallet_balances::AccountData<Balance>;
    type SS58Prefix = SS58Prefix;
}

impl pallet_timestamp::Config for Runtime {
    type Moment = u64;
    type OnTimestampSet = ();
    type MinimumPeriod = frame_support::traits::ConstU64<1>;
    type WeightInfo = ();
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Runtime {
    type Balance = Balance;
    type ReserveIdentifier = [u8; 8];
    type FreezeIdentifier = RuntimeFreezeReason;
    type ExistentialDeposit = ExistentialDeposit;
    type AccountStore = System;
}

#[derive_impl(pallet_transaction_payment::config_preludes::TestDefaultConfig)]
impl pallet_transaction_payment::Config for Runtime {
    type OnChargeTransaction = FungibleAdapter<Balances, ()>;
    type WeightToFee = IdentityFee<Balance>;
    type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
}

impl pallet_sudo::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type WeightInfo = ();
}

/// subtensor's subnet pallet (the subset a subnet touches).
pub mod subtensor;

impl subtensor::Config for Runtime {
    type Currency = Balances;
    type Beacon = DrandPulses;
}

/// Timelocked commits open with the `Drand` pallet's stored pulses.
pub struct DrandPulses;

impl subtensor::BeaconPulses for DrandPulses {
    fn signature(round: u64) -> Option<Vec<u8>> {
        drand::Pulses::<Runtime>::get(round).map(|p| p.signature.into_inner())
    }
}

/// subtensor's commitments pallet.
pub mod commitments;

/// subtensor's drand pallet, fed by the block author's beacon.
pub mod drand;

impl drand::Config for Runtime {}

/// subtensor's MEV shield: encrypted submissions the block author decrypts.
pub mod shield;

impl shield::Config for Runtime {}

/// subtensor's neuron and metagraph runtime APIs.
pub mod subnet_apis;

/// Commitments may come from hotkeys registered on the subnet; the quota resets whenever the
/// subnet's epoch runs.
pub struct SubnetCommitRules;

impl commitments::SubnetRules<AccountId> for SubnetCommitRules {
    fn can_commit(netuid: u16, who: &AccountId) -> bool {
        subtensor::Uids::<Runtime>::contains_key(netuid, who)
    }

    fn current_epoch(netuid: u16) -> u64 {
        subtensor::LastMechansimStepBlock::<Runtime>::get(netuid)
    }
}

impl commitments::Config for Runtime {
    type Rules = SubnetCommitRules;
}

/// subtensor's `Aura` as clients see it: the block time constant.
pub mod aura;

impl aura::Config for Runtime {}

/// Dev keys, dev genesis and extrinsic signing.
pub mod dev;

/// subtensor's `CheckNonce`: fee-less calls from accounts that do not exist.
pub mod check_nonce;

/// subtensor's admin-utils pallet (hyperparameter setters).
pub mod admin;

impl admin::Config for Runtime {}

construct_runtime!(
    pub enum Runtime {
        System: frame_system = 0,
        Timestamp: pallet_timestamp = 2,
        Aura: aura = 3,
        Balances: pallet_balances = 5,
        TransactionPayment: pallet_transaction_payment = 6,
        SubtensorModule: subtensor = 7,
        Sudo: pallet_sudo = 12,
        Commitments: commitments = 18,
        AdminUtils: admin = 19,
        Drand: drand = 26,
        MevShield: shield = 30,
    }
);

impl_runtime_apis! {
    impl sp_api::Core<Block> for Runtime {
        fn version() -> RuntimeVersion {
            VERSION
        }

        fn execute_block(block: <Block as BlockT>::LazyBlock) {
            Executive::execute_block(block);
        }

        fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
            Executive::initialize_block(header)
        }
    }

    impl sp_api::Metadata<Block> for Runtime {
        fn metadata() -> OpaqueMetadata {
            OpaqueMetadata::new(Runtime::metadata().into())
        }

        fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
            Runtime::metadata_at_version(version)
        }

        fn metadata_versions() -> Vec<u32> {
            Runtime::metadata_versions()
        }
    }

    impl sp_block_builder::BlockBuilder<Block> for Runtime {
        fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
            Executive::apply_extrinsic(extrinsic)
        }

        fn finalize_block() -> <Block as BlockT>::Header {
            Executive::finalize_block()
        }

        fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
            data.create_extrinsics()
        }

        fn check_inherents(
            block: <Block as BlockT>::LazyBlock,
            data: sp_inherents::InherentData,
        ) -> sp_inherents::CheckInherentsResult {
            data.check_extrinsics(&block)
        }
    }

    impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
        fn validate_transaction(
            source: TransactionSource,
            tx: <Block as BlockT>::Extrinsic,
            block_hash: <Block as BlockT>::Hash,
        ) -> TransactionValidity {
            Executive::validate_transaction(source, tx, block_hash)
        }
    }

    impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
        fn account_nonce(account: AccountId) -> Nonce {
            System::account_nonce(account)
        }
    }

    impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
        fn query_info(uxt: <Block as BlockT>::Extrinsic, len: u32) -> RuntimeDispatchInfo<Balance> {
            TransactionPayment::query_info(uxt, len)
        }

        fn query_fee_details(uxt: <Block as BlockT>::Extrinsic, len: u32) -> FeeDetails<Balance> {
            TransactionPayment::query_fee_details(uxt, len)
        }

        fn query_weight_to_fee(weight: Weight) -> Balance {
            TransactionPayment::weight_to_fee(weight)
        }

        fn query_length_to_fee(length: u32) -> Balance {
            TransactionPayment::length_to_fee(length)
        }
    }

    impl subnet_apis::NeuronInfoRuntimeApi<Block> for Runtime {
        fn get_neurons(netuid: u16) -> Vec<subtensor::neurons::NeuronInfo<AccountId>> {
            SubtensorModule::neurons(netuid)
        }

        fn get_neuron(netuid: u16, uid: u16) -> Option<subtensor::neurons::NeuronInfo<AccountId>> {
            SubtensorModule::neuron_full(netuid, uid)
        }

        fn get_neurons_lite(netuid: u16) -> Vec<subtensor::info::NeuronInfoLite<AccountId>> {
            SubtensorModule::neurons_lite(netuid)
        }

        fn get_neuron_lite(netuid: u16, uid: u16) -> Option<subtensor::info::NeuronInfoLite<AccountId>> {
            SubtensorModule::neuron_lite(netuid, uid)
        }
    }

    impl subnet_apis::SubnetInfoRuntimeApi<Block> for Runtime {
        fn get_subnet_hyperparams_v3(netuid: u16) -> Option<Vec<subtensor::hyperparams::HyperparamEntry>> {
            SubtensorModule::subnet_hyperparams_v3(netuid)
        }

        fn get_all_dynamic_info() -> Vec<Option<subtensor::dynamic::DynamicInfo<AccountId>>> {
            SubtensorModule::all_dynamic_info()
        }

        fn get_metagraph(netuid: u16) -> Option<subtensor::info::Metagraph<AccountId>> {
            SubtensorModule::metagraph(netuid)
        }

        fn get_mechagraph(netuid: u16, mecid: u8) -> Option<subtensor::info::Metagraph<AccountId>> {
            if mecid == 0 { SubtensorModule::metagraph(netuid) } else { None }
        }

        fn get_dynamic_info(netuid: u16) -> Option<subtensor::dynamic::DynamicInfo<AccountId>> {
            SubtensorModule::dynamic_info(netuid)
        }

        fn get_next_epoch_start_block(netuid: u16) -> Option<u64> {
            SubtensorModule::next_epoch_start_block(netuid)
        }
    }

    impl subnet_apis::StakeInfoRuntimeApi<Block> for Runtime {
        fn get_stake_info_for_coldkey(coldkey_account: AccountId) -> Vec<subtensor::stake_info::StakeInfo<AccountId>> {
            SubtensorModule::stake_infos(&coldkey_account)
        }

        fn get_stake_info_for_coldkeys(coldkey_accounts: Vec<AccountId>) -> Vec<(AccountId, Vec<subtensor::stake_info::StakeInfo<AccountId>>)> {
            coldkey_accounts
                .into_iter()
                .map(|c| { let s = SubtensorModule::stake_infos(&c); (c, s) })
                .collect()
        }

        fn get_stake_info_for_hotkey_coldkey_netuid(hotkey_account: AccountId, coldkey_account: AccountId, netuid: u16) -> Option<subtensor::stake_info::StakeInfo<AccountId>> {
            SubtensorModule::stake_info(&hotkey_account, &coldkey_account, netuid)
        }
    }

    impl subnet_apis::SubnetRegistrationRuntimeApi<Block> for Runtime {
        fn get_network_registration_cost() -> u64 {
            subtensor::NetworkMinLockCost::<Runtime>::get()
        }
    }

    impl subnet_apis::SwapRuntimeApi<Block> for Runtime {
        fn current_alpha_price(_netuid: u16) -> u64 {
            subtensor::dynamic::ALPHA_PRICE_RAO
        }

        fn current_alpha_price_all() -> Vec<subtensor::dynamic::SubnetPrice> {
            SubtensorModule::alpha_prices()
        }
    }

    impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
        fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
            build_state::<RuntimeGenesisConfig>(config)
        }

        fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
            get_preset::<RuntimeGenesisConfig>(id, |_| None)
        }

        fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
            Vec::new()
        }
    }
}
