//! Training end to end on synthetic images: it learns, and a seed makes it repeatable.

use std::ops::ControlFlow;
use std::sync::Mutex;

use futures_lite::future::block_on;
use model::burn::prelude::Device;
use model::data::{IMAGE_PIXELS, IMAGE_SIDE, LabeledImages};
use model::{AutoencoderConfig, EpochRecord, Experiment, TrainError, TrainEvent, Trainer, TrainingConfig};

/// burn's CPU backend draws from one global RNG: tests that rely on a seed take turns.
static RNG: Mutex<()> = Mutex::new(());

/// Images with structure to learn: each class is a bright horizontal or vertical bar at its own
/// position, with a pseudo-random background.
fn synthetic(count: usize, salt: u64) -> LabeledImages {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ salt;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut pixels = Vec::with_capacity(count * IMAGE_PIXELS);
    let mut labels = Vec::with_capacity(count);
    for _ in 0..count {
        let label = (next() % 10) as usize;
        for row in 0..IMAGE_SIDE {
            for col in 0..IMAGE_SIDE {
                let along = if label < 5 { row } else { col };
                let on_bar = along / 5 == label % 5;
                pixels.push(if on_bar { 230 } else { (next() % 40) as u8 });
            }
        }
        labels.push(label as u8);
    }
    LabeledImages::new(pixels, labels).unwrap()
}

fn config(experiment: Experiment, epochs: usize, seed: u64) -> TrainingConfig {
    TrainingConfig::new(AutoencoderConfig::of(experiment)).with_epochs(epochs).with_seed(seed).with_report_every(4)
}

fn train(config: TrainingConfig, train: &LabeledImages, test: &LabeledImages) -> Result<Vec<EpochRecord>, TrainError> {
    let mut trainer = Trainer::new(config, &Device::flex())?;
    block_on(trainer.fit(train, test, &mut async |_| ControlFlow::Continue(())))
}

#[test]
fn a_short_run_lowers_the_loss_for_every_experiment() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (train_set, test_set) = (synthetic(1600, 1), synthetic(100, 2));
    for experiment in Experiment::ALL {
        let records = train(config(experiment, 3, 0), &train_set, &test_set).unwrap();
        let (first, last) = (&records[0], &records[2]);
        assert!(last.val_loss < first.val_loss - 0.02, "{experiment}: {records:?}");
        assert!(last.val_loss < 0.5 && last.val_rounded_accuracy > 0.8, "{experiment}: {records:?}");
        assert!(records.iter().all(|r| r.loss.is_finite() && r.seconds > 0.0));
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (train_set, test_set) = (synthetic(128, 3), synthetic(64, 4));
    let without_time = |records: Vec<EpochRecord>| -> Vec<[f64; 4]> {
        records.iter().map(|r| [r.loss, r.rounded_accuracy, r.val_loss, r.val_rounded_accuracy]).collect()
    };
    let run = |seed| without_time(train(config(Experiment::Denoising, 2, seed), &train_set, &test_set).unwrap());
    let first = run(7);
    assert_eq!(first, run(7));
    assert_ne!(first, run(8));
}

#[test]
fn progress_is_reported_and_stop_is_obeyed() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (train_set, test_set) = (synthetic(320, 5), synthetic(32, 6));
    let mut trainer = Trainer::new(config(Experiment::Tied, 2, 0), &Device::flex()).unwrap();
    let mut events = Vec::new();
    let result = block_on(trainer.fit(&train_set, &test_set, &mut async |event| {
        let stop = matches!(&event, TrainEvent::Progress(p) if p.epoch == 2 && p.step >= 4);
        events.push(event);
        if stop { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }));
    assert!(matches!(result, Err(TrainError::Stopped)));
    assert_eq!(trainer.epochs_done(), 1, "the finished epoch is kept");
    // Epoch 1: 10 steps reported every 4 (4, 8, and the last); validation; its record; then
    // epoch 2's first report.
    let steps: Vec<String> = events
        .iter()
        .map(|e| match e {
            TrainEvent::Progress(p) => format!("{}:{}/{}", p.epoch, p.step, p.steps),
            TrainEvent::Validating { epoch, done, total } => format!("validating {epoch}:{done}/{total}"),
            TrainEvent::Epoch(r) => format!("epoch {}", r.epoch),
        })
        .collect();
    assert_eq!(steps, ["1:4/10", "1:8/10", "1:10/10", "validating 1:32/32", "epoch 1", "2:4/10"]);
}

#[test]
fn divergence_is_reported_not_hidden() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (train_set, test_set) = (synthetic(64, 7), synthetic(16, 8));
    let result = train(config(Experiment::Stacked, 1, 0).with_learning_rate(1e30), &train_set, &test_set);
    assert!(matches!(result, Err(TrainError::Diverged { .. })), "{result:?}");
}

#[test]
fn divergence_keeps_the_last_good_weights() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (train_set, test_set) = (synthetic(64, 7), synthetic(16, 8));
    let device = Device::flex();
    let diverging = config(Experiment::Tied, 1, 3).with_learning_rate(1e30);
    let mut trainer = Trainer::new(diverging.clone(), &device).unwrap();
    let result = block_on(trainer.fit(&train_set, &test_set, &mut async |_| ControlFlow::Continue(())));
    assert!(matches!(result, Err(TrainError::Diverged { .. })), "{result:?}");
    assert_eq!(trainer.epochs_done(), 0);
    // No epoch finished, so the kept weights are the initial ones: finite, and a fresh
    // trainer's with the same seed.
    let fresh = Trainer::new(diverging, &device).unwrap();
    let outputs = |t: &Trainer| block_on(model::read_values([t.reconstruct(&test_set, &[0, 1]).1])).unwrap().concat();
    let kept = outputs(&trainer);
    assert!(kept.iter().all(|v| v.is_finite()));
    assert_eq!(kept, outputs(&fresh));
}

#[test]
fn bad_settings_are_errors() {
    let bad = |config: TrainingConfig| matches!(Trainer::new(config, &Device::flex()), Err(_));
    assert!(bad(config(Experiment::Tied, 1, 0).with_batch_size(0)));
    assert!(bad(config(Experiment::Tied, 1, 0).with_learning_rate(-1.0)));
    assert!(bad(config(Experiment::Tied, 1, 0).with_learning_rate(f64::NAN)));
    let empty = LabeledImages::default();
    assert!(matches!(train(config(Experiment::Tied, 1, 0), &empty, &synthetic(4, 9)), Err(TrainError::NoData(_))));
}

#[test]
fn reconstructions_show_the_corrupted_input_the_model_sees() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let images = synthetic(8, 10);
    let clean = images.batch_pixels(&[0, 1]);
    let values = |t: model::burn::prelude::Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    for (experiment, corrupted) in [(Experiment::Tied, false), (Experiment::Denoising, true), (Experiment::Dropout, true)] {
        let trainer = Trainer::new(config(experiment, 1, 0), &Device::flex()).unwrap();
        let (seen, reconstruction) = trainer.reconstruct(&images, &[0, 1]);
        assert_eq!(values(seen) != clean, corrupted, "{experiment}");
        let reconstruction = values(reconstruction);
        assert_eq!(reconstruction.len(), 2 * IMAGE_PIXELS);
        assert!(reconstruction.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}

#[test]
fn codes_cover_every_image_in_chunks() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let images = synthetic(1003, 11);
    let trainer = Trainer::new(config(Experiment::Stacked, 1, 0), &Device::flex()).unwrap();
    let codes = trainer.encode(&images);
    assert_eq!(codes.dims(), [1003, 32]);
    let values = codes.into_data().try_to_vec::<f32>().unwrap();
    assert!(values.iter().all(|&v| v >= 0.0 && v.is_finite()), "ReLU codes");
    // The chunk boundary changes nothing: image 1000 alone encodes to the same code (up to the
    // rounding of a matrix product of another shape).
    let alone = trainer.encode(&images.slice(1000..1001)).into_data().try_to_vec::<f32>().unwrap();
    assert!(alone.iter().zip(&values[1000 * 32..1001 * 32]).all(|(a, b)| (a - b).abs() < 1e-5));
}

#[test]
fn step_timing_and_profile_measure_real_steps() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let per_step = block_on(model::seconds_per_step(&Device::flex(), model::StepEngine::Auto, 32, 2, 5)).unwrap();
    assert!(per_step > 0.0 && per_step < 5.0, "{per_step} s per step");
    // A bigger batch costs more per step: the timing measures work, not overhead alone.
    let per_big_step = block_on(model::seconds_per_step(&Device::flex(), model::StepEngine::Auto, 512, 2, 5)).unwrap();
    assert!(per_big_step > per_step, "batch 512: {per_big_step} s, batch 32: {per_step} s");

    // Both CPU steps' profiles: the CPU step's (Auto) and burn autodiff's.
    for engine in [model::StepEngine::Auto, model::StepEngine::Autodiff] {
        let mut trainer = Trainer::new(config(Experiment::Tied, 1, 0).with_engine(engine), &Device::flex()).unwrap();
        let profile = trainer.profile(&synthetic(100, 12), 6).unwrap();
        assert_eq!(profile.steps, 6);
        for phase in [profile.upload, profile.forward, profile.loss, profile.backward, profile.update] {
            assert!(phase > 0.0 && phase.is_finite(), "{engine:?}: {profile:?}");
        }
        // The profile trained the model for real.
        let probe = synthetic(4, 13);
        let codes = |trainer: &Trainer| trainer.encode(&probe).into_data().try_to_vec::<f32>().unwrap();
        let fresh = Trainer::new(config(Experiment::Tied, 1, 0).with_engine(engine), &Device::flex()).unwrap();
        assert_ne!(codes(&trainer), codes(&fresh), "{engine:?}");
    }
}

#[test]
fn latent_tools_agree_with_the_model() {
    let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let images = synthetic(4, 11);
    let trainer = Trainer::new(config(Experiment::Tied, 1, 0), &Device::flex()).unwrap();
    let read = |t: model::burn::prelude::Tensor<2>| block_on(model::read_values([t])).unwrap().concat();
    let pixels = images.batch_pixels(&[0, 1, 2, 3]);
    let codes = read(trainer.encode_pixels(&pixels));
    assert_eq!(codes, read(trainer.encode(&images)));
    // Decoding the codes is reconstructing without corruption.
    let decoded = read(trainer.decode_codes(&codes));
    let (seen, reconstructed) = trainer.reconstruct_corrupted(&pixels, model::latent::Corruption::default());
    assert_eq!(read(seen), pixels);
    let reconstructed = read(reconstructed);
    assert!(decoded.iter().zip(&reconstructed).all(|(a, b)| (a - b).abs() < 1e-6));
    // A walk from one code to another starts and ends at their images.
    let walk = model::latent::interpolate(&codes[..32], &codes[32..64], 5);
    let images_on_walk = read(trainer.decode_codes(&walk));
    assert_eq!(images_on_walk.len(), 5 * IMAGE_PIXELS);
    assert!(images_on_walk[..IMAGE_PIXELS].iter().zip(&decoded[..IMAGE_PIXELS]).all(|(a, b)| (a - b).abs() < 1e-6));
    assert!(images_on_walk[4 * IMAGE_PIXELS..].iter().zip(&decoded[IMAGE_PIXELS..2 * IMAGE_PIXELS]).all(|(a, b)| (a - b).abs() < 1e-6));
}

/// The fast steps against burn's autodiff on the CPU, the reference, from the same weights: the
/// CPU step (burn's flex backend) and the fused kernels on burn's wgpu backend (natively on
/// Vulkan; lavapipe where there is no GPU).
mod against_autodiff {
    use super::*;
    use model::{StepEngine, weights};
    use safetensors::SafeTensors;

    /// Trainers for `config` on the CPU (autodiff) and on `device` (its fast step), with the
    /// CPU's weights.
    fn pair(config: TrainingConfig, device: &Device) -> (Trainer, Trainer) {
        let reference = Trainer::new(config.clone().with_engine(StepEngine::Autodiff), &Device::flex()).unwrap();
        let bytes = block_on(weights::to_safetensors(&reference.model(), &config.model, Default::default())).unwrap();
        let fast = Trainer::from_weights(config.with_engine(StepEngine::Auto), &bytes, 0, device).unwrap();
        (reference, fast)
    }

    /// Every parameter, by tensor name.
    fn parameters(trainer: &Trainer) -> Vec<(String, Vec<f32>)> {
        let bytes = block_on(weights::to_safetensors(&trainer.model(), &trainer.config().model, Default::default())).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let mut tensors: Vec<_> = file
            .tensors()
            .into_iter()
            .map(|(name, view)| (name, view.data().chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()))
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        tensors
    }

    fn epoch(trainer: &mut Trainer, train: &LabeledImages, test: &LabeledImages) -> EpochRecord {
        block_on(trainer.run_epoch(train, test, &mut async |_| ControlFlow::Continue(()))).unwrap()
    }

    pub fn one_step_has_autodiffs_gradients(device: &Device) {
        let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // 27 images in one batch: rows that fill no whole 16 x 16 tile (GPU) or 8-lane vector.
        let (train_set, test_set) = (synthetic(27, 3), synthetic(40, 4));
        for experiment in [Experiment::Stacked, Experiment::Tied] {
            let config = config(experiment, 1, 0).with_batch_size(27);
            let (mut reference, mut fast) = pair(config.clone(), device);
            let before = parameters(&reference);
            let (expected, actual) = (epoch(&mut reference, &train_set, &test_set), epoch(&mut fast, &train_set, &test_set));
            assert!((expected.loss - actual.loss).abs() < 1e-5, "{experiment}: {expected:?} {actual:?}");
            assert!((expected.rounded_accuracy - actual.rounded_accuracy).abs() < 1e-5, "{experiment}");
            assert!((expected.val_loss - actual.val_loss).abs() < 1e-5, "{experiment}: {expected:?} {actual:?}");
            assert!((expected.val_rounded_accuracy - actual.val_rounded_accuracy).abs() < 1e-5, "{experiment}");
            // The step's change of each parameter over the learning rate is its gradient.
            let gradient = |after: &[(String, Vec<f32>)]| -> Vec<(String, Vec<f32>)> {
                before
                    .iter()
                    .zip(after)
                    .map(|((name, b), (_, a))| (name.clone(), b.iter().zip(a).map(|(b, a)| (b - a) / config.learning_rate as f32).collect()))
                    .collect()
            };
            let (reference_gradient, fast_gradient) = (gradient(&parameters(&reference)), gradient(&parameters(&fast)));
            for ((name, expected), (_, actual)) in reference_gradient.iter().zip(&fast_gradient) {
                let scale = expected.iter().fold(0.0f32, |m, g| m.max(g.abs()));
                let error = expected.iter().zip(actual).fold(0.0f32, |m, (e, a)| m.max((e - a).abs()));
                assert!(scale > 0.0, "{experiment} {name}: no gradient");
                assert!(error < 1e-5 && error < 1e-2 * scale, "{experiment} {name}: gradient off by {error} (largest {scale})");
            }
        }
    }

    pub fn two_hundred_steps_track_autodiff(device: &Device) {
        let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // 200 steps of 32, the last one short.
        let (train_set, test_set) = (synthetic(199 * 32 + 13, 5), synthetic(300, 6));
        for experiment in Experiment::ALL {
            let (mut reference, mut fast) = pair(config(experiment, 1, 0), device);
            let (expected, actual) = (epoch(&mut reference, &train_set, &test_set), epoch(&mut fast, &train_set, &test_set));
            // The corrupted experiments draw their noise in another order.
            assert!((expected.loss - actual.loss).abs() < 0.01, "{experiment}: {expected:?} {actual:?}");
            assert!((expected.val_loss - actual.val_loss).abs() < 0.01, "{experiment}: {expected:?} {actual:?}");
            assert!(actual.val_loss < 0.5 && actual.val_rounded_accuracy > 0.8, "{experiment}: {actual:?}");
        }
    }

    pub fn codes_and_reconstructions_are_the_models(device: &Device) {
        let _turn = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let images = synthetic(20, 7);
        let (reference, fast) = pair(config(Experiment::Denoising, 1, 0), device);
        let read = |t: model::burn::prelude::Tensor<2>| block_on(model::read_values([t])).unwrap().concat();
        let close = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-4);
        assert!(close(&read(reference.encode(&images)), &read(fast.encode(&images))));
        let codes = read(reference.encode(&images));
        assert!(close(&read(reference.decode_codes(&codes)), &read(fast.decode_codes(&codes))));
        let pixels = images.batch_pixels(&[0, 1]);
        assert!(close(&read(reference.encode_pixels(&pixels)), &read(fast.encode_pixels(&pixels))));
        // The fast trainer shows the noisy input it trains on, as the reference does, and
        // rebuilds it as the model does.
        let indices = [0, 1, 2];
        let (seen, rebuilt) = fast.reconstruct(&images, &indices);
        let seen = read(seen);
        let noise: Vec<f32> = seen.iter().zip(images.batch_pixels(&indices)).map(|(s, p)| s - p).collect();
        let std = (noise.iter().map(|v| v * v).sum::<f32>() / noise.len() as f32).sqrt();
        assert!((std - 0.2).abs() < 0.02, "noise stddev {std}");
        assert!(close(&read(rebuilt), &read(reference.model().forward(fast_rows(&seen)))));
    }

    fn fast_rows(values: &[f32]) -> model::burn::prelude::Tensor<2> {
        use model::burn::prelude::{Tensor, TensorData};
        Tensor::from_data(TensorData::new(values.to_vec(), [values.len() / IMAGE_PIXELS, IMAGE_PIXELS]), &Device::flex())
    }
}

/// The CPU step (burn's flex backend, natively and in the page's wasm) against autodiff.
mod cpu_step {
    use super::*;

    #[test]
    fn one_cpu_step_has_autodiffs_gradients() {
        against_autodiff::one_step_has_autodiffs_gradients(&Device::flex());
    }

    #[test]
    fn two_hundred_cpu_steps_track_autodiff() {
        against_autodiff::two_hundred_steps_track_autodiff(&Device::flex());
    }

    #[test]
    fn cpu_codes_and_reconstructions_are_the_models() {
        against_autodiff::codes_and_reconstructions_are_the_models(&Device::flex());
    }
}

/// The fused kernels on burn's wgpu backend against autodiff.
#[cfg(feature = "wgpu")]
mod fused {
    use super::*;
    use model::burn::prelude::DeviceKind;

    fn gpu() -> Device {
        Device::wgpu(DeviceKind::DefaultDevice)
    }

    #[test]
    fn one_fused_step_has_autodiffs_gradients() {
        against_autodiff::one_step_has_autodiffs_gradients(&gpu());
    }

    #[test]
    fn two_hundred_fused_steps_track_autodiff() {
        against_autodiff::two_hundred_steps_track_autodiff(&gpu());
    }

    #[test]
    fn fused_codes_and_reconstructions_are_the_models() {
        against_autodiff::codes_and_reconstructions_are_the_models(&gpu());
    }
}
