//! subtensor's runtime APIs for reading subnets, neurons, stake and prices, under subtensor's
//! trait, method and argument names, so Bittensor SDKs read the devnet as they read finney
//! (`state_call` `NeuronInfoRuntimeApi_get_neurons_lite`, subxt's `runtime_api()`, ...).

use crate::subtensor::dynamic::{DynamicInfo, SubnetPrice};
use crate::subtensor::hyperparams::HyperparamEntry;
use crate::subtensor::info::{Metagraph, NeuronInfoLite};
use crate::subtensor::neurons::NeuronInfo;
use crate::subtensor::stake_info::StakeInfo;
use alloc::vec::Vec;
use sp_runtime::AccountId32;

sp_api::decl_runtime_apis! {
    /// Neurons of a subnet.
    pub trait NeuronInfoRuntimeApi {
        /// Every neuron of `netuid` with its weights and bonds, by uid.
        fn get_neurons(netuid: u16) -> Vec<NeuronInfo<AccountId32>>;
        /// Neuron `uid` of `netuid` with its weights and bonds.
        fn get_neuron(netuid: u16, uid: u16) -> Option<NeuronInfo<AccountId32>>;
        /// Every neuron of `netuid`, by uid.
        fn get_neurons_lite(netuid: u16) -> Vec<NeuronInfoLite<AccountId32>>;
        /// Neuron `uid` of `netuid`.
        fn get_neuron_lite(netuid: u16, uid: u16) -> Option<NeuronInfoLite<AccountId32>>;
    }

    /// Whole subnets.
    pub trait SubnetInfoRuntimeApi {
        /// Every hyperparameter of `netuid`, by name.
        fn get_subnet_hyperparams_v3(netuid: u16) -> Option<Vec<HyperparamEntry>>;
        /// Every subnet's pool view.
        fn get_all_dynamic_info() -> Vec<Option<DynamicInfo<AccountId32>>>;
        /// Parameters and per-uid state of `netuid`.
        fn get_metagraph(netuid: u16) -> Option<Metagraph<AccountId32>>;
        /// The metagraph of mechanism `mecid` of `netuid` (the devnet has mechanism 0 only).
        fn get_mechagraph(netuid: u16, mecid: u8) -> Option<Metagraph<AccountId32>>;
        /// `netuid`'s pool view.
        fn get_dynamic_info(netuid: u16) -> Option<DynamicInfo<AccountId32>>;
        /// The block that runs `netuid`'s next epoch.
        fn get_next_epoch_start_block(netuid: u16) -> Option<u64>;
    }

    /// Stake by coldkey.
    pub trait StakeInfoRuntimeApi {
        /// Every stake of a coldkey.
        fn get_stake_info_for_coldkey(coldkey_account: AccountId32) -> Vec<StakeInfo<AccountId32>>;
        /// Every stake of each coldkey.
        fn get_stake_info_for_coldkeys(coldkey_accounts: Vec<AccountId32>) -> Vec<(AccountId32, Vec<StakeInfo<AccountId32>>)>;
        /// One coldkey's stake through one hotkey on one subnet.
        fn get_stake_info_for_hotkey_coldkey_netuid(hotkey_account: AccountId32, coldkey_account: AccountId32, netuid: u16) -> Option<StakeInfo<AccountId32>>;
    }

    /// Subnet registration.
    pub trait SubnetRegistrationRuntimeApi {
        /// What `register_network` burns now.
        fn get_network_registration_cost() -> u64;
    }

    /// Alpha prices (the devnet has no pools: 1 TAO per alpha).
    pub trait SwapRuntimeApi {
        /// `netuid`'s alpha price in rao.
        fn current_alpha_price(netuid: u16) -> u64;
        /// Every subnet's alpha price.
        fn current_alpha_price_all() -> Vec<SubnetPrice>;
    }
}
