//! The outer optimizer: SGD on the aggregate, with optional Nesterov momentum (DiLoCo's outer
//! step). With momentum 0 it is stateless and equals [`crate::outer_step`].

use crate::eval::{EvalError, outer_step};
use crate::model::Model;

/// `θ ← θ − lr·(a + μ·m)` after `m ← μ·m + a`, for the aggregate `a` of each window.
#[derive(Debug, Clone)]
pub struct OuterOptimizer {
    lr: f64,
    momentum: f64,
    buffers: Vec<Vec<f32>>,
}

impl OuterOptimizer {
    /// An optimizer with learning rate `lr` and Nesterov momentum `momentum` (0: plain SGD).
    pub fn new(lr: f64, momentum: f64) -> Self {
        Self {
            lr,
            momentum,
            buffers: Vec::new(),
        }
    }

    /// Applies one window's aggregate (tensor name and dense values, always the same tensors in
    /// the same order). An aggregate naming an unknown tensor or of the wrong size changes
    /// nothing.
    pub fn step(&mut self, model: &Model, aggregate: &[(&str, &[f32])]) -> Result<(), EvalError> {
        if self.momentum == 0.0 {
            return outer_step(model, aggregate, self.lr);
        }
        if self.buffers.len() != aggregate.len()
            || self
                .buffers
                .iter()
                .zip(aggregate)
                .any(|(b, (_, a))| b.len() != a.len())
        {
            self.buffers = aggregate.iter().map(|(_, a)| vec![0.0; a.len()]).collect();
        }
        let mu = self.momentum as f32;
        let steps: Vec<Vec<f32>> = self
            .buffers
            .iter()
            .zip(aggregate)
            .map(|(m, (_, a))| {
                m.iter()
                    .zip(a.iter())
                    .map(|(&m, &a)| a + mu * (mu * m + a))
                    .collect()
            })
            .collect();
        let named: Vec<(&str, &[f32])> = aggregate
            .iter()
            .zip(&steps)
            .map(|((name, _), s)| (*name, s.as_slice()))
            .collect();
        outer_step(model, &named, self.lr)?;
        for (m, (_, a)) in self.buffers.iter_mut().zip(aggregate) {
            m.iter_mut()
                .zip(a.iter())
                .for_each(|(m, &a)| *m = mu * *m + a);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use candle_core::Device;

    #[test]
    fn nesterov_matches_the_recurrence_and_zero_momentum_is_sgd() {
        let model = Model::init(&ModelConfig::tiny(), 3, &Device::Cpu).unwrap();
        let name = "model.norm.weight";
        let start = model.flat(name).unwrap();
        let a = vec![0.5f32; start.len()];
        let mut opt = OuterOptimizer::new(0.1, 0.9);
        opt.step(&model, &[(name, &a)]).unwrap();
        opt.step(&model, &[(name, &a)]).unwrap();
        // Step 1: m = a, step = a + 0.9a = 1.9a. Step 2: m = 1.9a, step = a + 0.9·1.9a = 2.71a.
        let moved = model.flat(name).unwrap();
        for (s, m) in start.iter().zip(&moved) {
            assert!(
                (s - m - 0.1 * 0.5 * (1.9 + 2.71)).abs() < 1e-5,
                "{s} -> {m}"
            );
        }
        let plain = Model::init(&ModelConfig::tiny(), 3, &Device::Cpu).unwrap();
        let mut sgd = OuterOptimizer::new(0.1, 0.0);
        sgd.step(&plain, &[(name, &a)]).unwrap();
        sgd.step(&plain, &[(name, &a)]).unwrap();
        for (s, m) in start.iter().zip(&plain.flat(name).unwrap()) {
            assert!((s - m - 0.1).abs() < 1e-6);
        }
    }
}
