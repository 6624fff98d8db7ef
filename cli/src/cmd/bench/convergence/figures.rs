//! The benchmark's summary figures, pure functions of the measured curves.

/// A held-out loss curve: `loss[w]` after `w` windows (`loss[0]` is the shared start), with the
/// tokens the arm had trained on by then, `tokens[w]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curve {
    pub(crate) loss: Vec<f64>,
    pub(crate) tokens: Vec<u64>,
}

impl Curve {
    /// The loss after the last window.
    pub(crate) fn last(&self) -> f64 {
        *self
            .loss
            .last()
            .expect("a curve starts with its initial loss")
    }

    /// The drop from the start to the last window.
    pub(crate) fn drop(&self) -> f64 {
        self.loss[0] - self.last()
    }

    /// Tokens this arm needed to first reach `target`, linearly interpolated between the two
    /// windows around the crossing; `None` when it never did.
    pub(crate) fn tokens_to_reach(&self, target: f64) -> Option<f64> {
        if self.loss[0] <= target {
            return Some(self.tokens[0] as f64);
        }
        self.loss.windows(2).enumerate().find_map(|(w, pair)| {
            let (a, b) = (pair[0], pair[1]);
            (b <= target).then(|| {
                let t0 = self.tokens[w] as f64;
                let t1 = self.tokens[w + 1] as f64;
                let frac = if a > b { (a - target) / (a - b) } else { 1.0 };
                t0 + frac * (t1 - t0)
            })
        })
    }
}

/// The network's loss drop ÷ the single trainer's over the same windows (0 when the single
/// trainer made no progress).
pub(crate) fn progress_ratio(network: &Curve, single: &Curve) -> f64 {
    let d = single.drop();
    if d > 0.0 { network.drop() / d } else { 0.0 }
}

/// Tokens the data-parallel trainer needed to reach the network's final loss ÷ the tokens the
/// network used; `None` when the data-parallel trainer never reached it (the network is then
/// more than 1.0 efficient).
pub(crate) fn token_efficiency(network: &Curve, ddp: &Curve) -> Option<f64> {
    let used = *network.tokens.last()? as f64;
    ddp.tokens_to_reach(network.last()).map(|t| t / used)
}

/// How far the network's final loss is above the dense reference's, relative to it
/// (negative: below).
pub(crate) fn gap_to(network: &Curve, reference: &Curve) -> f64 {
    (network.last() - reference.last()) / reference.last()
}

/// The share of indicators equal to `want`, over windows `1..` (the first window is
/// excluded: at the start one update helps every row alike).
pub(crate) fn share(indicators: &[Vec<i8>], want: i8) -> f64 {
    let later: Vec<i8> = indicators
        .iter()
        .flat_map(|per_window| per_window.iter().skip(1).copied())
        .collect();
    if later.is_empty() {
        return 0.0;
    }
    later.iter().filter(|&&i| i == want).count() as f64 / later.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(loss: &[f64], per_window: u64) -> Curve {
        Curve {
            loss: loss.to_vec(),
            tokens: (0..loss.len() as u64).map(|w| w * per_window).collect(),
        }
    }

    #[test]
    fn tokens_to_reach_interpolates_the_crossing() {
        let c = curve(&[6.0, 5.0, 4.0, 3.0], 100);
        assert_eq!(c.tokens_to_reach(6.5), Some(0.0));
        assert_eq!(c.tokens_to_reach(4.0), Some(200.0));
        assert!((c.tokens_to_reach(4.5).unwrap() - 150.0).abs() < 1e-9);
        assert_eq!(c.tokens_to_reach(2.0), None);
        // A curve that rises before it falls crosses at its first descent below the target.
        let bumpy = curve(&[6.0, 6.5, 4.0], 10);
        assert!((bumpy.tokens_to_reach(5.0).unwrap() - 16.0).abs() < 1e-9);
    }

    #[test]
    fn ratios_compare_drops_and_tokens() {
        let single = curve(&[6.0, 5.5, 5.0], 10);
        let network = curve(&[6.0, 5.0, 4.5], 40);
        let ddp = curve(&[6.0, 4.75, 4.0], 40);
        assert!((progress_ratio(&network, &single) - 1.5).abs() < 1e-12);
        // ddp reaches 4.5 at 40 + (4.75 − 4.5)/(0.75)·40 tokens; the network used 80.
        let expect = (40.0 + 40.0 / 3.0) / 80.0;
        assert!((token_efficiency(&network, &ddp).unwrap() - expect).abs() < 1e-12);
        assert_eq!(token_efficiency(&ddp, &network), None);
        assert!((gap_to(&network, &ddp) - 0.125).abs() < 1e-12);
        assert_eq!(progress_ratio(&network, &curve(&[6.0, 6.0], 1)), 0.0);
    }

    #[test]
    fn shares_skip_the_first_window() {
        let ind = vec![vec![-1, 1, 1, -1], vec![-1, 1, 1, 1]];
        assert!((share(&ind, 1) - 5.0 / 6.0).abs() < 1e-12);
        assert!((share(&ind, -1) - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(share(&[vec![1]], 1), 0.0);
    }
}
