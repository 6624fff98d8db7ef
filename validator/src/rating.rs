//! Skill ratings over loss scores: the Weng–Lin Bayesian approximation of the Plackett–Luce
//! model (one-player teams), as Python openskill's `PlackettLuce` computes it. Pure.
//!
//! Each window's evaluated miners form one match ranked by loss score (higher is better; equal
//! scores share a rank). Before the update every σ grows by τ (`σ ← √(σ² + τ²)`) so ratings keep
//! moving; `ordinal = μ − 3σ` is the conservative skill used for weights.

/// A miner's skill belief.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    /// Mean skill.
    pub mu: f64,
    /// Uncertainty.
    pub sigma: f64,
}

impl Default for Rating {
    /// openskill's prior: μ = 25, σ = 25/3.
    fn default() -> Self {
        Rating {
            mu: 25.0,
            sigma: 25.0 / 3.0,
        }
    }
}

impl Rating {
    /// `μ − 3σ`: a skill the miner very likely exceeds.
    pub fn ordinal(&self) -> f64 {
        self.mu - 3.0 * self.sigma
    }
}

/// The model's constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlackettLuce {
    /// Performance noise β.
    pub beta: f64,
    /// Additive dynamics τ.
    pub tau: f64,
    /// Floor of the σ shrink factor κ.
    pub kappa: f64,
}

impl Default for PlackettLuce {
    /// Templar's settings: β = 7, τ = 0.1 (κ = 0.0001 as openskill).
    fn default() -> Self {
        PlackettLuce {
            beta: 7.0,
            tau: 0.1,
            kappa: 1e-4,
        }
    }
}

impl PlackettLuce {
    /// The ratings after one match in which player `i` scored `scores[i]` (higher wins).
    /// Non-finite scores rank last. Fewer than two players change nothing but τ.
    pub fn rate(&self, players: &[Rating], scores: &[f64]) -> Vec<Rating> {
        assert_eq!(players.len(), scores.len(), "one score per player");
        let players: Vec<Rating> = players
            .iter()
            .map(|p| Rating {
                mu: p.mu,
                sigma: (p.sigma * p.sigma + self.tau * self.tau).sqrt(),
            })
            .collect();
        let n = players.len();
        if n < 2 {
            return players;
        }
        let score = |i: usize| {
            if scores[i].is_finite() {
                scores[i]
            } else {
                f64::NEG_INFINITY
            }
        };
        // Competition ranks: 0 is best, tied scores share the rank.
        let rank: Vec<usize> = (0..n)
            .map(|i| (0..n).filter(|&j| score(j) > score(i)).count())
            .collect();
        let c = players
            .iter()
            .map(|p| p.sigma * p.sigma + self.beta * self.beta)
            .sum::<f64>()
            .sqrt();
        let e: Vec<f64> = players.iter().map(|p| (p.mu / c).exp()).collect();
        let sum_q: Vec<f64> = (0..n)
            .map(|q| (0..n).filter(|&i| rank[i] >= rank[q]).map(|i| e[i]).sum())
            .collect();
        let a: Vec<f64> = (0..n)
            .map(|q| (0..n).filter(|&s| rank[s] == rank[q]).count() as f64)
            .collect();
        (0..n)
            .map(|i| {
                let (mut omega, mut delta) = (0.0, 0.0);
                for q in (0..n).filter(|&q| rank[q] <= rank[i]) {
                    let p = e[i] / sum_q[q];
                    delta += p * (1.0 - p) / a[q];
                    omega += if q == i { 1.0 - p } else { -p } / a[q];
                }
                let s2 = players[i].sigma * players[i].sigma;
                omega *= s2 / c;
                delta *= s2 / (c * c);
                delta *= players[i].sigma / c;
                Rating {
                    mu: players[i].mu + omega,
                    sigma: players[i].sigma * (1.0 - delta).max(self.kappa).sqrt(),
                }
            })
            .collect()
    }
}
