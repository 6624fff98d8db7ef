//! subtensor's runtime APIs for reading a subnet, under subtensor's trait, method and argument
//! names, so Bittensor SDKs read the devnet's metagraph as they read finney's (`state_call`
//! `NeuronInfoRuntimeApi_get_neurons_lite`, subxt's `runtime_api()`, ...).

use crate::subtensor::info::{Metagraph, NeuronInfoLite};
use alloc::vec::Vec;
use sp_runtime::AccountId32;

sp_api::decl_runtime_apis! {
    /// Neurons of a subnet.
    pub trait NeuronInfoRuntimeApi {
        /// Every neuron of `netuid`, by uid.
        fn get_neurons_lite(netuid: u16) -> Vec<NeuronInfoLite<AccountId32>>;
        /// Neuron `uid` of `netuid`.
        fn get_neuron_lite(netuid: u16, uid: u16) -> Option<NeuronInfoLite<AccountId32>>;
    }

    /// Whole subnets.
    pub trait SubnetInfoRuntimeApi {
        /// Parameters and per-uid state of `netuid`.
        fn get_metagraph(netuid: u16) -> Option<Metagraph<AccountId32>>;
    }
}
