//! The inner optimizer: AdamW with decoupled weight decay, global grad-norm clipping, and a
//! linear warm-up + cosine learning-rate schedule.

use crate::model::{Model, ModelError};
use candle_core::Tensor;
use thiserror::Error;

/// Why an optimizer step was refused.
#[derive(Debug, Error)]
pub enum OptimError {
    /// The model math failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The gradients contain NaN or infinity; nothing was changed.
    #[error("gradient norm is not finite ({0})")]
    NonFiniteGradient(f64),
    /// The gradients do not match the optimizer's parameters.
    #[error("{got} gradients for {expected} parameters")]
    GradientCount {
        /// Parameters.
        expected: usize,
        /// Gradients given.
        got: usize,
    },
}

impl From<candle_core::Error> for OptimError {
    fn from(e: candle_core::Error) -> Self {
        Self::Model(e.into())
    }
}

/// AdamW's constants (the learning rate comes from the [`Schedule`] each step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay, applied to matrices only (norm weights are not decayed).
    pub weight_decay: f64,
}

/// AdamW state for every parameter of one model, in the model's parameter order.
#[derive(Debug)]
pub struct AdamW {
    config: AdamWConfig,
    steps: u64,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    decay: Vec<bool>,
}

impl AdamW {
    /// Zero moments for `model`'s parameters.
    pub fn new(model: &Model, config: AdamWConfig) -> Result<Self, OptimError> {
        let zeros = || -> Result<Vec<Tensor>, candle_core::Error> {
            model
                .params()
                .iter()
                .map(|(_, v)| v.as_tensor().zeros_like())
                .collect()
        };
        Ok(Self {
            config,
            steps: 0,
            m: zeros()?,
            v: zeros()?,
            decay: model.params().iter().map(|(_, v)| v.rank() >= 2).collect(),
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One update with learning rate `lr`: `θ ← θ·(1 − lr·wd) − lr·m̂/(√v̂ + ε)`.
    pub fn step(&mut self, model: &Model, grads: &[Tensor], lr: f64) -> Result<(), OptimError> {
        if grads.len() != self.m.len() {
            return Err(OptimError::GradientCount {
                expected: self.m.len(),
                got: grads.len(),
            });
        }
        let c = self.config;
        let t = (self.steps + 1) as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2 = 1.0 - c.beta2.powi(t);
        for (i, ((_, var), g)) in model.params().iter().zip(grads).enumerate() {
            let m = ((&self.m[i] * c.beta1)? + (g * (1.0 - c.beta1))?)?;
            let v = ((&self.v[i] * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let denom = ((&v / bias2)?.sqrt()? + c.eps)?;
            let step = ((&m / bias1)? / denom)?;
            let decay = if self.decay[i] {
                1.0 - lr * c.weight_decay
            } else {
                1.0
            };
            let theta = ((var.as_tensor() * decay)? - (step * lr)?)?;
            var.set(&theta)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        self.steps += 1;
        Ok(())
    }
}

/// The global L2 norm of `grads` (summed in f32 per tensor, then in f64).
pub fn grad_norm(grads: &[Tensor]) -> Result<f64, OptimError> {
    let mut sum = 0f64;
    for g in grads {
        sum += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
    }
    Ok(sum.sqrt())
}

/// Scales `grads` so their global norm is at most `max_norm`; returns the norm before clipping.
/// A non-finite norm is an error and leaves `grads` untouched.
pub fn clip_grad_norm(grads: &mut [Tensor], max_norm: f64) -> Result<f64, OptimError> {
    let norm = grad_norm(grads)?;
    if !norm.is_finite() {
        return Err(OptimError::NonFiniteGradient(norm));
    }
    if norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for g in grads.iter_mut() {
            *g = (&*g * scale)?;
        }
    }
    Ok(norm)
}

/// Linear warm-up to `peak_lr`, then cosine decay to `min_ratio·peak_lr` at `total_steps`, flat
/// after. Steps count across windows, so the schedule spans the whole run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// The learning rate at the end of warm-up.
    pub peak_lr: f64,
    /// Warm-up steps.
    pub warmup_steps: u64,
    /// The step at which the cosine reaches its floor.
    pub total_steps: u64,
    /// The floor as a fraction of the peak.
    pub min_ratio: f64,
}

impl Schedule {
    /// The learning rate of (zero-based) step `step`.
    pub fn lr_at(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
        let progress = ((step - self.warmup_steps) as f64 / span as f64).min(1.0);
        let floor = self.min_ratio * self.peak_lr;
        floor + (self.peak_lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use candle_core::Device;
    use proptest::prelude::*;

    const SCHEDULE: Schedule = Schedule {
        peak_lr: 1e-3,
        warmup_steps: 10,
        total_steps: 110,
        min_ratio: 0.1,
    };

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        assert!((SCHEDULE.lr_at(0) - 1e-4).abs() < 1e-12);
        assert!((SCHEDULE.lr_at(9) - 1e-3).abs() < 1e-12);
        assert!((SCHEDULE.lr_at(10) - 1e-3).abs() < 1e-12);
        assert!((SCHEDULE.lr_at(60) - 5.5e-4).abs() < 1e-12);
        assert!((SCHEDULE.lr_at(110) - 1e-4).abs() < 1e-12);
        assert!((SCHEDULE.lr_at(10_000) - 1e-4).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn schedule_is_bounded_and_decays_after_warmup(a in 10u64..500, b in 10u64..500) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(SCHEDULE.lr_at(hi) <= SCHEDULE.lr_at(lo));
            prop_assert!(SCHEDULE.lr_at(a) >= 1e-4 - 1e-15 && SCHEDULE.lr_at(a) <= 1e-3);
        }
    }

    #[test]
    fn clipping_caps_the_global_norm_and_rejects_nan() {
        let d = Device::Cpu;
        let mut g = vec![
            Tensor::new(&[3f32, 0.0], &d).unwrap(),
            Tensor::new(&[4f32], &d).unwrap(),
        ];
        assert!((clip_grad_norm(&mut g, 1.0).unwrap() - 5.0).abs() < 1e-6);
        assert!((grad_norm(&g).unwrap() - 1.0).abs() < 1e-5);
        let mut bad = vec![Tensor::new(&[f32::NAN], &d).unwrap()];
        assert!(matches!(
            clip_grad_norm(&mut bad, 1.0),
            Err(OptimError::NonFiniteGradient(_))
        ));
    }

    #[test]
    fn first_adamw_step_moves_each_weight_by_lr() {
        // With bias correction, step 1 moves every coordinate by lr·sign(g) (plus decay).
        let m = Model::init(&ModelConfig::tiny(), 1, &Device::Cpu).unwrap();
        let config = AdamWConfig {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-12,
            weight_decay: 0.0,
        };
        let mut opt = AdamW::new(&m, config).unwrap();
        let before = m.flat("model.norm.weight").unwrap();
        let grads: Vec<Tensor> = m
            .params()
            .iter()
            .map(|(_, v)| v.as_tensor().ones_like().unwrap())
            .collect();
        opt.step(&m, &grads, 0.01).unwrap();
        let after = m.flat("model.norm.weight").unwrap();
        for (a, b) in after.iter().zip(&before) {
            assert!((b - a - 0.01).abs() < 1e-6, "{b} -> {a}");
        }
        assert_eq!(opt.steps(), 1);
        assert!(matches!(
            opt.step(&m, &grads[1..], 0.01),
            Err(OptimError::GradientCount { .. })
        ));
    }
}
