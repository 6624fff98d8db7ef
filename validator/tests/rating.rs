//! The Plackett–Luce update against Python openskill 6.0.2 (`fixtures/make_openskill.py`), and
//! its invariants.

use kiln_validator::rating::{PlackettLuce, Rating};
use proptest::prelude::*;

type Case = (&'static [(f64, f64)], &'static [f64], &'static [(f64, f64)]);

const CASES: &[Case] = &[
    // fresh_five
    (
        &[
            (25.0, 8.333333333333334),
            (25.0, 8.333333333333334),
            (25.0, 8.333333333333334),
            (25.0, 8.333333333333334),
            (25.0, 8.333333333333334),
        ],
        &[0.012, -0.004, 0.031, 0.0005, -0.02],
        &[
            (26.569647197694767, 8.275579939200096),
            (24.19139386785421, 8.195616894670417),
            (27.283123196646933, 8.307116489072218),
            (25.618345865758545, 8.23804695673919),
            (21.337489872045545, 8.195616894670417),
        ],
    ),
    // mixed
    (
        &[(31.2, 2.5), (18.0, 6.0), (25.0, 8.333), (40.0, 1.2)],
        &[0.2, 0.5, -0.1, 0.05],
        &[
            (31.35672896010094, 2.500548309386248),
            (19.795204497649195, 5.987915587006155),
            (22.26589481133687, 8.097252397296037),
            (39.948494660788974, 1.2040231689248455),
        ],
    ),
    // integer_ties (openskill honours ties for integer scores)
    (
        &[
            (25.0, 8.333333333333334),
            (27.0, 4.0),
            (22.0, 7.0),
            (25.0, 3.0),
        ],
        &[3.0, 1.0, 3.0, 0.0],
        &[
            (25.933926430111953, 8.260881721708246),
            (27.16659249682893, 3.9919907828150194),
            (22.75983464864345, 6.9683057582106045),
            (24.64540426515183, 2.998823360032441),
        ],
    ),
    // two
    (
        &[(25.0, 8.333333333333334), (25.0, 8.333333333333334)],
        &[1.0, -99.0],
        &[
            (27.256209212552754, 8.166896460213735),
            (22.743790787447246, 8.166896460213735),
        ],
    ),
];

#[test]
fn matches_python_openskill() {
    let model = PlackettLuce::default();
    for (players, scores, expected) in CASES {
        let players: Vec<Rating> = players
            .iter()
            .map(|&(mu, sigma)| Rating { mu, sigma })
            .collect();
        let got = model.rate(&players, scores);
        for (g, &(mu, sigma)) in got.iter().zip(expected.iter()) {
            assert!((g.mu - mu).abs() < 1e-9, "mu {} vs {mu}", g.mu);
            assert!(
                (g.sigma - sigma).abs() < 1e-9,
                "sigma {} vs {sigma}",
                g.sigma
            );
        }
    }
}

proptest! {
    #[test]
    fn better_scores_gain_more_and_uncertainty_shrinks(
        scores in prop::collection::vec(-1.0f64..1.0, 2..24),
    ) {
        let model = PlackettLuce::default();
        let players = vec![Rating::default(); scores.len()];
        let after = model.rate(&players, &scores);
        for i in 0..scores.len() {
            prop_assert!(after[i].sigma <= (players[i].sigma.powi(2) + 0.01).sqrt());
            prop_assert!(after[i].mu.is_finite() && after[i].sigma > 0.0);
            for j in 0..scores.len() {
                if scores[i] > scores[j] {
                    prop_assert!(after[i].mu > after[j].mu);
                }
            }
        }
        // Equal priors: the updates are zero-sum in μ.
        let total: f64 = after.iter().map(|r| r.mu - 25.0).sum();
        prop_assert!(total.abs() < 1e-9, "{total}");
    }
}

#[test]
fn non_finite_scores_rank_last() {
    let model = PlackettLuce::default();
    let p = vec![Rating::default(); 3];
    let a = model.rate(&p, &[0.1, f64::NAN, -0.5]);
    let b = model.rate(&p, &[0.1, -99.0, -0.5]);
    assert_eq!(a, b);
}
