//! Trains the chapter's autoencoders natively, and checks them against the chapter's Keras run.
//!
//! `cargo run -p model --release --bin fmnist-ae -- train --experiment stacked --epochs 10 --seed 0 --json`
//! `cargo run -p model --release --bin fmnist-ae -- parity --reference ../shared/reference/keras-cpu.json`
//! `cargo run -p model --release --bin fmnist-ae -- bench`

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// The CLI is native-only; this keeps the crate building for wasm32.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::io::Write;
    use std::ops::ControlFlow;
    use std::path::{Path, PathBuf};
    use std::time::Instant;
    use std::process::ExitCode;

    use clap::{Args, Parser, Subcommand, ValueEnum};
    use futures_lite::future::block_on;
    use model::burn::prelude::Device;
    use model::data::{LabeledImages, source};
    use model::embedding::{TsneConfig, knn_accuracy, trustworthiness, tsne};
    use model::{EpochRecord, Experiment, TrainEvent, Trainer, TrainingConfig, read_values};
    use serde::Serialize;

    #[derive(Parser)]
    #[command(about = "Train the chapter's stacked autoencoders on Fashion-MNIST")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Train one experiment.
        Train {
            #[arg(long, default_value = "stacked")]
            experiment: Experiment,
            /// One JSON object per epoch on stdout, nothing else.
            #[arg(long)]
            json: bool,
            #[command(flatten)]
            run: RunArgs,
        },
        /// Train, map the test codes with t-SNE, and measure the map (time, trustworthiness at
        /// k=10, 5-NN label accuracy in 2-D); `--out` writes codes, labels and map as JSON.
        Embed {
            #[arg(long, default_value = "tied")]
            experiment: Experiment,
            #[arg(long)]
            out: Option<PathBuf>,
            #[command(flatten)]
            run: RunArgs,
        },
        /// Time training steps at batch 32 and 256, and one full epoch with validation.
        Bench {
            #[arg(long, default_value = "stacked")]
            experiment: Experiment,
            #[arg(long, value_enum, default_value_t = Backend::Flex)]
            backend: Backend,
            /// Directory with the Fashion-MNIST IDX files (default: $FASHION_MNIST_DIR, then Debian's).
            #[arg(long)]
            data: Option<PathBuf>,
            /// Also write the figures to this JSON file.
            #[arg(long)]
            json: Option<PathBuf>,
        },
        /// Train all four experiments and compare epochs 8-10 with the chapter's Keras run.
        Parity {
            /// The reference results (keras-cpu.json).
            #[arg(long, default_value = "../shared/reference/keras-cpu.json")]
            reference: PathBuf,
            #[command(flatten)]
            run: RunArgs,
        },
    }

    #[derive(Args)]
    struct RunArgs {
        #[arg(long, default_value_t = 10)]
        epochs: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        #[arg(long, default_value_t = 1.5)]
        lr: f64,
        /// Gaussian noise stddev (denoising only; default 0.2).
        #[arg(long)]
        noise_stddev: Option<f64>,
        /// Dropout rate (dropout only; default 0.5).
        #[arg(long)]
        dropout_rate: Option<f64>,
        /// Train on the first N training images only.
        #[arg(long)]
        train_limit: Option<usize>,
        #[arg(long, value_enum, default_value_t = Backend::Flex)]
        backend: Backend,
        /// Directory with the Fashion-MNIST IDX files (default: $FASHION_MNIST_DIR, then Debian's).
        #[arg(long)]
        data: Option<PathBuf>,
    }

    #[derive(Clone, Copy, ValueEnum)]
    enum Backend {
        /// burn's pure-Rust CPU backend.
        Flex,
        /// burn's wgpu backend on the default GPU (Vulkan, Metal or DX12); needs `--features wgpu`.
        Wgpu,
    }

    /// One line of `--json` output.
    #[derive(Serialize)]
    struct JsonRecord<'a> {
        experiment: Experiment,
        #[serde(flatten)]
        record: &'a EpochRecord,
    }

    pub fn main() -> ExitCode {
        let result = match Cli::parse().command {
            Command::Train { experiment, json, run } => train(experiment, json, &run).map(drop),
            Command::Embed { experiment, out, run } => embed(experiment, out.as_deref(), &run),
            Command::Parity { reference, run } => parity(&reference, &run),
            Command::Bench { experiment, backend, data, json } => bench(experiment, backend, data.as_deref(), json.as_deref()),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("fmnist-ae: {message}");
                ExitCode::FAILURE
            }
        }
    }

    fn device(backend: Backend) -> Result<Device, String> {
        match backend {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(model::burn::prelude::DeviceKind::DefaultDevice)),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => Err("this build has no wgpu backend: rebuild with `--features wgpu`".into()),
        }
    }

    fn training_config(experiment: Experiment, run: &RunArgs) -> TrainingConfig {
        let mut model = experiment.model_config();
        if let (Some(stddev), Experiment::Denoising) = (run.noise_stddev, experiment) {
            model.noise_stddev = stddev;
        }
        if let (Some(rate), Experiment::Dropout) = (run.dropout_rate, experiment) {
            model.dropout_rate = rate;
        }
        TrainingConfig::new(model)
            .with_epochs(run.epochs)
            .with_batch_size(run.batch_size)
            .with_learning_rate(run.lr)
            .with_seed(run.seed)
    }

    fn train(experiment: Experiment, json: bool, run: &RunArgs) -> Result<(Trainer, LabeledImages, Vec<EpochRecord>), String> {
        let device = device(run.backend)?;
        let data = load(run.data.as_deref())?;
        let train = match run.train_limit {
            Some(limit) => data.train.slice(0..limit),
            None => data.train,
        };
        let mut trainer = Trainer::new(training_config(experiment, run), &device).map_err(|e| e.to_string())?;
        if !json {
            eprintln!("{experiment}: {} training images, {} test images", train.len(), data.test.len());
        }
        let mut on_event = async |event: TrainEvent| {
            match event {
                TrainEvent::Progress(p) if !json => {
                    eprint!("\repoch {} step {}/{} loss {:.4} rounded accuracy {:.4}", p.epoch, p.step, p.steps, p.loss, p.rounded_accuracy);
                }
                TrainEvent::Epoch(record) if json => {
                    let line = serde_json::to_string(&JsonRecord { experiment, record: &record }).expect("plain numbers");
                    println!("{line}");
                    let _ = std::io::stdout().flush();
                }
                TrainEvent::Epoch(r) => eprintln!(
                    "\repoch {:>2}: loss {:.4} rounded accuracy {:.4} | val loss {:.4} val rounded accuracy {:.4} | {:.1} s",
                    r.epoch, r.loss, r.rounded_accuracy, r.val_loss, r.val_rounded_accuracy, r.seconds
                ),
                TrainEvent::Progress(_) | TrainEvent::Validating { .. } => {}
            }
            ControlFlow::Continue(())
        };
        let records = block_on(trainer.fit(&train, &data.test, &mut on_event)).map_err(|e| e.to_string())?;
        Ok((trainer, data.test, records))
    }

    fn embed(experiment: Experiment, out: Option<&Path>, run: &RunArgs) -> Result<(), String> {
        let (trainer, test, _) = train(experiment, false, run)?;
        let codes = block_on(read_values([trainer.encode(&test)])).map_err(|e| e.to_string())?.concat();
        let dim = codes.len() / test.len();
        let start = Instant::now();
        let map = tsne(&codes, dim, &TsneConfig::default(), |_, _| {});
        let seconds = start.elapsed().as_secs_f64();
        let trust = trustworthiness(&codes, dim, &map, 10);
        let knn = knn_accuracy(&map, 2, test.labels(), 5);
        println!("t-SNE of {} codes: {seconds:.1} s, trustworthiness (k=10) {trust:.4}, 5-NN accuracy in 2-D {knn:.4}", test.len());
        if let Some(path) = out {
            let json = serde_json::json!({ "dim": dim, "codes": codes, "labels": test.labels(), "map": map, "seconds": seconds });
            std::fs::write(path, json.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    fn load(dir: Option<&Path>) -> Result<source::FashionMnist, String> {
        let dir = source::locate(dir, &std::env::temp_dir().join("fashion-mnist")).map_err(|e| e.to_string())?;
        source::load(&dir).map_err(|e| e.to_string())
    }

    /// Steps timed per batch size, after a warm-up of 10 steps.
    const BENCH_STEPS: [(usize, usize); 2] = [(32, 400), (256, 60)];

    fn bench(experiment: Experiment, backend: Backend, data: Option<&Path>, json: Option<&Path>) -> Result<(), String> {
        let device = device(backend)?;
        let data = load(data)?;
        let mut quiet = async |_| ControlFlow::Continue(());
        // Validation on one image: the timings are of the training steps.
        let one_test_image = data.test.slice(0..1);
        let mut figures = serde_json::Map::new();
        figures.insert("experiment".into(), experiment.name().into());
        let backend_name = backend.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        figures.insert("backend".into(), backend_name.into());
        for (batch, steps) in BENCH_STEPS {
            let config = TrainingConfig::new(experiment.model_config()).with_batch_size(batch).with_report_every(steps);
            let mut trainer = Trainer::new(config, &device).map_err(|e| e.to_string())?;
            let images = |steps: usize| data.train.slice(0..steps * batch);
            block_on(trainer.run_epoch(&images(10), &one_test_image, &mut quiet)).map_err(|e| e.to_string())?;
            let start = Instant::now();
            block_on(trainer.run_epoch(&images(steps), &one_test_image, &mut quiet)).map_err(|e| e.to_string())?;
            let ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
            println!("{experiment}, batch {batch:>3}: {ms:.2} ms per training step ({:.0} images/s)", batch as f64 * 1e3 / ms);
            figures.insert(format!("ms_per_step_batch{batch}"), ms.into());
        }
        let mut trainer = Trainer::new(TrainingConfig::new(experiment.model_config()), &device).map_err(|e| e.to_string())?;
        let record = block_on(trainer.run_epoch(&data.train, &data.test, &mut quiet)).map_err(|e| e.to_string())?;
        println!("{experiment}, one epoch of {} images at batch 32 + validation on {}: {:.2} s", data.train.len(), data.test.len(), record.seconds);
        figures.insert("epoch_seconds".into(), record.seconds.into());
        if let Some(path) = json {
            let text = serde_json::to_string_pretty(&figures).expect("plain numbers");
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Tolerances of the parity check, on the mean of epochs 8-10.
    const MAX_VAL_LOSS_EXCESS: f64 = 0.005;
    const MAX_VAL_ACCURACY_SHORTFALL: f64 = 0.01;
    const AVERAGED_EPOCHS: std::ops::RangeInclusive<usize> = 8..=10;

    fn parity(reference: &std::path::Path, run: &RunArgs) -> Result<(), String> {
        if run.epochs < *AVERAGED_EPOCHS.end() {
            return Err(format!("parity averages epochs 8-10: run at least {} epochs", AVERAGED_EPOCHS.end()));
        }
        let text = std::fs::read_to_string(reference).map_err(|e| format!("{}: {e}", reference.display()))?;
        let reference: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", reference.display()))?;
        let mut rows = Vec::new();
        let mut all_pass = true;
        for experiment in Experiment::ALL {
            let (_, _, ours) = train(experiment, false, run)?;
            let theirs: Vec<KerasEpoch> = serde_json::from_value(reference["keras"][experiment.name()]["epochs"].clone())
                .map_err(|e| format!("reference has no usable keras.{experiment}.epochs: {e}"))?;
            let ours_avg = late_average(ours.iter().map(|r| (r.epoch, r.val_loss, r.val_rounded_accuracy)));
            let theirs_avg = late_average(theirs.iter().map(|r| (r.epoch, r.val_loss, r.val_rounded_accuracy)));
            let pass = ours_avg.0 <= theirs_avg.0 + MAX_VAL_LOSS_EXCESS && ours_avg.1 >= theirs_avg.1 - MAX_VAL_ACCURACY_SHORTFALL;
            all_pass &= pass;
            let our_seconds = ours.iter().map(|r| r.seconds).sum::<f64>() / ours.len() as f64;
            let their_seconds = theirs.iter().map(|r| r.epoch_seconds).sum::<f64>() / theirs.len() as f64;
            rows.push(format!(
                "| {experiment} | {:.4} | {:.4} | {:+.4} | {:.4} | {:.4} | {:+.4} | {:.1} | {:.1} | {} |",
                ours_avg.0, theirs_avg.0, ours_avg.0 - theirs_avg.0,
                ours_avg.1, theirs_avg.1, ours_avg.1 - theirs_avg.1,
                our_seconds, their_seconds,
                if pass { "pass" } else { "FAIL" }
            ));
        }
        println!("Mean of epochs 8-10, seed {}, batch {}, lr {}:\n", run.seed, run.batch_size, run.lr);
        println!("| experiment | val loss (ours) | val loss (Keras) | diff | val r-acc (ours) | val r-acc (Keras) | diff | s/epoch (ours) | s/epoch (Keras) | within tolerance |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        rows.iter().for_each(|row| println!("{row}"));
        all_pass.then_some(()).ok_or_else(|| "some experiment is outside the tolerance".to_string())
    }

    /// One epoch of the reference's Keras run.
    #[derive(serde::Deserialize)]
    struct KerasEpoch {
        epoch: usize,
        val_loss: f64,
        val_rounded_accuracy: f64,
        epoch_seconds: f64,
    }

    /// Mean (val loss, val rounded accuracy) over epochs 8-10, where lr 1.5's wobble averages out.
    fn late_average(epochs: impl Iterator<Item = (usize, f64, f64)>) -> (f64, f64) {
        let late: Vec<_> = epochs.filter(|(epoch, ..)| AVERAGED_EPOCHS.contains(epoch)).collect();
        let n = late.len() as f64;
        (late.iter().map(|e| e.1).sum::<f64>() / n, late.iter().map(|e| e.2).sum::<f64>() / n)
    }
}
