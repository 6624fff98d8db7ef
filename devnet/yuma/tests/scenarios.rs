//! subtensor's epoch scenarios (`tests/epoch.rs`), replayed step by step. Every expected number
//! is one subtensor's tests assert (or prints in the trace they carry), written down as data; all
//! comparisons are exact, as upstream.

use kiln_yuma::math::u16_max_upscale;
use kiln_yuma::{EpochInput, EpochOutput, Params, epoch};

const EMISSION: u64 = 1_000_000_000;

/// A subnet's stored state, advanced the way the upstream tests advance it.
struct Net {
    block: u64,
    params: Params,
    stake: Vec<u64>,
    last_update: Vec<u64>,
    reg: Vec<u64>,
    permit: Vec<bool>,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
}

impl Net {
    fn new(stake: &[u64], tempo: u16, block: u64, reg: u64, max_validators: u16) -> Self {
        let n = stake.len();
        Self {
            block,
            params: Params {
                tempo,
                max_allowed_validators: max_validators,
                ..Params::default()
            },
            stake: stake.to_vec(),
            last_update: vec![0; n],
            reg: vec![reg; n],
            permit: vec![false; n],
            weights: vec![Vec::new(); n],
            bonds: vec![Vec::new(); n],
        }
    }

    /// `set_weights` at the current block: values are max-upscaled as subtensor stores them.
    fn set_weights(&mut self, uid: usize, dests: &[u16], values: &[u16]) {
        let mut row: Vec<(u16, u16)> = dests.iter().copied().zip(u16_max_upscale(values)).collect();
        row.sort_unstable();
        self.weights[uid] = row;
        self.last_update[uid] = self.block;
    }

    /// A new hotkey takes over `uid` at the current block, with no stake.
    fn replace(&mut self, uid: usize) {
        self.reg[uid] = self.block;
        self.stake[uid] = 0;
    }

    fn next_block(&mut self) {
        self.block += 1;
    }

    fn epoch(&mut self) -> EpochOutput {
        let out = epoch(&EpochInput {
            block: self.block,
            params: self.params,
            stake: &self.stake,
            last_update: &self.last_update,
            block_at_registration: &self.reg,
            validator_permit: &self.permit,
            weights: &self.weights,
            bonds: &self.bonds,
            owner: None,
            last_epoch_block: None,
            commit_blocks: None,
            emission: EMISSION,
        })
        .unwrap();
        self.bonds = out.bonds.clone();
        self.permit = out.validator_permit.clone();
        out
    }

    fn bond(&self, i: usize, j: u16) -> u16 {
        self.bonds[i]
            .iter()
            .find(|&&(c, _)| c == j)
            .map_or(0, |&(_, b)| b)
    }

    fn bond_column(&self, j: u16, rows: std::ops::Range<usize>) -> Vec<u16> {
        rows.map(|i| self.bond(i, j)).collect()
    }
}

#[test]
fn bonds_accumulate_decay_and_follow_consensus() {
    let mut net = Net::new(&[1, 2, 3, 4, 0, 0, 0, 0], 1, 1, 1, 8);
    let out = net.epoch();
    assert_eq!(
        out.validator_permit,
        [true, true, true, true, false, false, false, false]
    );
    net.next_block();

    for v in 0..4 {
        net.set_weights(v, &[4, 5, 6, 7], &[16383, 32767, 49149, 65535]);
    }
    let out = net.epoch();
    assert_eq!(net.bond_column(4, 0..4), [16383, 32767, 49151, 65535]);
    assert_eq!(
        out.emission,
        [
            49999998, 99999999, 150000000, 200000001, 49998779, 100000610, 149996337, 200004272
        ]
    );

    // Validators 0, 1, 2 in turn move all their weight to themselves (masked: no owner).
    let steps: [(usize, u16, [u16; 4], [u64; 8]); 3] = [
        (
            0,
            4,
            [14582, 32767, 49151, 65535],
            [
                44998351, 101110561, 151667215, 202223870, 49998779, 100000610, 149996337,
                200004272,
            ],
        ),
        (
            1,
            4,
            [12603, 28321, 49151, 65535],
            [
                40496805, 90999783, 157929636, 210573773, 49998779, 100000610, 149996337, 200004272,
            ],
        ),
        (
            2,
            7,
            [12602, 28320, 49150, 65535],
            [99999999, 199999999, 299999999, 399999999, 0, 0, 0, 0],
        ),
    ];
    for (uid, col, bonds, emission) in steps {
        net.set_weights(uid, &[uid as u16], &[u16::MAX]);
        net.next_block();
        let out = net.epoch();
        assert_eq!(
            net.bond_column(col, 0..4),
            bonds,
            "after uid {uid} turned to itself"
        );
        assert_eq!(out.emission, emission, "after uid {uid} turned to itself");
    }

    // Validator 2 backs server 7 alone; then no new weights for three epochs.
    net.set_weights(2, &[7], &[u16::MAX]);
    let tail: [([u16; 4], [u64; 8]); 4] = [
        (
            [10951, 24609, 49150, 65535],
            [36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000],
        ),
        (
            [9559, 21482, 49150, 65535],
            [32799427, 73706612, 168638129, 224855830, 0, 0, 0, 500000000],
        ),
        (
            [8376, 18824, 49150, 65535],
            [29518068, 66336137, 173203134, 230942659, 0, 0, 0, 500000000],
        ),
        (
            [7363, 16549, 49150, 65535],
            [26565175, 59701871, 177311856, 236421095, 0, 0, 0, 500000000],
        ),
    ];
    for (k, (bonds, emission)) in tail.into_iter().enumerate() {
        net.next_block();
        let out = net.epoch();
        assert_eq!(
            net.bond_column(7, 0..4),
            bonds,
            "epoch {k} after the switch"
        );
        assert_eq!(out.emission, emission, "epoch {k} after the switch");
    }
}

#[test]
fn active_stake_drives_dividends_and_bonds() {
    let mut net = Net::new(&[1, 1, 1, 1], 1, 0, 0, 4);
    net.epoch();
    net.next_block();
    for v in 0..2 {
        net.set_weights(v, &[2, 3], &[32767, 32767]);
    }
    let out = net.epoch();
    assert_eq!(out.dividends[..2], [32767, 32767]);
    assert_eq!(out.emission, [250000000; 4]);
    for v in 0..2 {
        assert_eq!(net.bond_column(0, v..v + 1), [0]);
        assert_eq!([net.bond(v, 2), net.bond(v, 3)], [65535, 65535]);
    }

    // Only validator 0 stays active (validator 1 last updated 5001 blocks ago).
    net.block = 5002;
    net.set_weights(0, &[2, 3], &[32767, 32767]);
    let out = net.epoch();
    assert_eq!((out.dividends[0], out.emission[0]), (36044, 274999999));
    assert_eq!((out.dividends[1], out.emission[1]), (29490, 224999999));
    assert_eq!([net.bond(0, 2), net.bond(0, 3)], [65535, 65535]);
    assert_eq!([net.bond(1, 2), net.bond(1, 3)], [53619, 53619]);
    assert_eq!(out.emission[2..], [250000000, 250000000]);
    assert_eq!(out.pruning_scores, [65535, 53620, 59577, 59577]);

    // Validator 1 comes back.
    net.set_weights(1, &[2, 3], &[32767, 32767]);
    net.next_block();
    let out = net.epoch();
    assert_eq!((out.dividends[0], out.emission[0]), (35716, 272501132));
    assert_eq!((out.dividends[1], out.emission[1]), (29818, 227498866));
    assert_eq!([net.bond(0, 2), net.bond(0, 3)], [65535, 65535]);
    assert_eq!([net.bond(1, 2), net.bond(1, 3)], [54712, 54712]);
}

#[test]
fn weights_older_than_a_registration_are_ignored() {
    let mut net = Net::new(&[1, 1, 1, 1], 0, 1, 1, 4);
    net.epoch();
    net.next_block();
    for v in 0..2 {
        net.set_weights(v, &[2, 3], &[43690, 21845]);
    }
    for s in 2..4 {
        net.set_weights(s, &[s as u16], &[u16::MAX]);
    }
    assert_eq!(net.weights[0], [(2, 65535), (3, 32768)]);
    let out = net.epoch();
    assert_eq!(out.emission, [250000000, 250000000, 333331637, 166668361]);

    net.replace(3);
    net.next_block();
    net.set_weights(0, &[2, 3], &[43690, 21845]);
    let out = net.epoch();
    assert_eq!((out.dividends[0], out.emission[0]), (32767, 250000000));
    assert_eq!([net.bond(0, 2), net.bond(0, 3)], [65535, 65535]);
    // Validator 1's weight on the new uid 3 predates its registration: only server 2 earns.
    assert_eq!(out.consensus, [0, 0, 43689, 0]);
    assert_eq!(out.emission, [250000000, 250000000, 500000000, 0]);
}

#[test]
fn zero_and_outdated_weights_fall_back_to_stake() {
    let mut net = Net::new(&[1, 0], u16::MAX - 1, 1, 1, 100);
    assert_eq!(net.epoch().emission, [1_000_000_000, 0]);
    net.set_weights(1, &[1], &[u16::MAX]);
    assert_eq!(net.epoch().emission, [1_000_000_000, 0]);

    net.next_block();
    net.set_weights(0, &[1], &[u16::MAX]);
    net.replace(1);
    assert_eq!(net.epoch().emission, [1_000_000_000, 0]);

    net.next_block();
    net.set_weights(0, &[1], &[u16::MAX]);
    let out = net.epoch();
    assert_eq!(out.emission, [500_000_000, 500_000_000]);
    assert_eq!(out.dividends, [65535, 0]);
    assert_eq!(out.incentive, [0, 65535]);
    assert_eq!(net.bond(0, 1), 65535);
}

#[test]
fn self_weights_only_earn_nothing_but_stake() {
    let mut net = Net::new(&[1; 10], u16::MAX - 1, 1, 0, 100);
    for u in 0..10 {
        net.set_weights(u, &[u as u16], &[u16::MAX]);
    }
    let out = net.epoch();
    assert_eq!(out.emission, [99_999_999; 10]);
    for v in [
        &out.rank,
        &out.trust,
        &out.consensus,
        &out.incentive,
        &out.dividends,
    ] {
        assert_eq!(v, &[0; 10]);
    }
}

#[test]
fn large_graph_of_64_validators_and_448_servers() {
    let (n, v) = (512usize, 64usize);
    let stake: Vec<u64> = (0..n)
        .map(|i| if i < v { 328_125_000_000_000 } else { 0 })
        .collect();
    let mut net = Net::new(&stake, u16::MAX - 1, 1, 0, v as u16);
    let servers: Vec<u16> = (v as u16..n as u16).collect();
    for uid in 0..v {
        net.set_weights(uid, &servers, &vec![127; servers.len()]);
    }
    let mut out = net.epoch();
    for _ in 0..2 {
        out = net.epoch();
    }
    for uid in 0..v {
        assert_eq!(
            (
                out.rank[uid],
                out.trust[uid],
                out.consensus[uid],
                out.incentive[uid]
            ),
            (0, 0, 0, 0)
        );
        assert_eq!((out.dividends[uid], out.emission[uid]), (1023, 7_812_500));
        assert_eq!((net.bond(uid, 0), net.bond(uid, v as u16)), (0, 65535));
    }
    for uid in v..n {
        assert_eq!(
            (
                out.rank[uid],
                out.trust[uid],
                out.consensus[uid],
                out.incentive[uid]
            ),
            (146, 65535, 146, 146)
        );
        assert_eq!((out.dividends[uid], out.emission[uid]), (0, 1_116_071));
        assert!(net.bonds[uid].is_empty());
    }
}

#[test]
fn validator_permits_follow_stake_above_the_threshold() {
    for (n, v) in [(2usize, 1usize), (4, 2), (8, 4)] {
        let layouts: [Vec<usize>; 3] = [
            (0..v).collect(),
            (0..n).step_by(n / v).collect(),
            (0..n).rev().step_by(2).take(v).collect(),
        ];
        for validators in layouts {
            for assignment in 0..2 {
                let is_validator = |u: usize| validators.contains(&u);
                let stake: Vec<u64> = (0..n)
                    .map(|u| match (assignment, is_validator(u)) {
                        (0, true) => 1,
                        (0, false) => 0,
                        (_, true) => (u + n) as u64,
                        (_, false) => u as u64,
                    })
                    .collect();
                let mut net = Net::new(&stake, u16::MAX - 1, 1, 0, v as u16);
                net.params.stake_threshold = v as u64;
                let out = net.epoch();
                for u in 0..n {
                    let want = is_validator(u) && stake[u] >= v as u64;
                    assert_eq!(
                        out.validator_permit[u], want,
                        "n {n} uid {u} stake {stake:?}"
                    );
                }
                for u in (0..n).filter(|&u| !is_validator(u)) {
                    net.stake[u] += 2 * n as u64;
                }
                let out = net.epoch();
                for u in 0..n {
                    assert_eq!(out.validator_permit[u], !is_validator(u), "n {n} uid {u}");
                }
            }
        }
    }
}

#[test]
fn mismatched_inputs_are_typed_errors() {
    let net = Net::new(&[1, 1], 1, 1, 0, 2);
    let err = epoch(&EpochInput {
        block: 1,
        params: net.params,
        stake: &net.stake,
        last_update: &[0],
        block_at_registration: &net.reg,
        validator_permit: &net.permit,
        weights: &net.weights,
        bonds: &net.bonds,
        owner: None,
        last_epoch_block: None,
        commit_blocks: None,
        emission: EMISSION,
    })
    .unwrap_err();
    assert_eq!(
        err,
        kiln_yuma::EpochError::Length {
            field: "last_update",
            got: 1,
            n: 2
        }
    );
}
