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
    use model::embedding::{Repulsion, TsneConfig, knn_accuracy, trustworthiness, tsne};
    use model::weights::RunRecord;
    use model::{AutoencoderConfig, EpochRecord, Experiment, StepEngine, TrainEvent, Trainer, TrainingConfig, read_values};
    use protocol::{FirstView, RECONSTRUCTIONS_SHOWN};
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
            /// Map the codes of a file an earlier `--out` wrote instead of training.
            #[arg(long)]
            codes: Option<PathBuf>,
            /// How t-SNE approximates the repulsive forces.
            #[arg(long, value_enum, default_value_t = RepulsionArg::Interpolated)]
            repulsion: RepulsionArg,
            /// Barnes-Hut's accuracy/speed trade-off.
            #[arg(long, default_value_t = 0.5)]
            theta: f32,
            /// Gradient-descent iterations (the first 250 with early exaggeration).
            #[arg(long, default_value_t = 1000)]
            iterations: usize,
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
        /// Train all four experiments and write what the page shows before any training: for
        /// each, `<experiment>.safetensors` (weights) and `<experiment>.view.bin`, its first-view
        /// pack (its record: history, settings, the t-SNE map of the test codes; its
        /// reconstructions of the first test images; the test labels).
        Pretrain {
            #[arg(long, default_value = "public/pretrained")]
            out: PathBuf,
            #[command(flatten)]
            run: RunArgs,
        },
        /// Write the first-view packs again from the weights and records already in `dir` (after
        /// the pack's format changed), without training.
        Pack {
            #[arg(long, default_value = "public/pretrained")]
            dir: PathBuf,
            /// Directory with the Fashion-MNIST IDX files (default: $FASHION_MNIST_DIR, then Debian's).
            #[arg(long)]
            data: Option<PathBuf>,
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
    enum RepulsionArg {
        /// Barnes-Hut quadtree (scikit-learn's method).
        BarnesHut,
        /// FIt-SNE's grid interpolation (the page's).
        Interpolated,
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
            Command::Embed { experiment, out, codes, repulsion, theta, iterations, run } => {
                let repulsion = match repulsion {
                    RepulsionArg::BarnesHut => Repulsion::BarnesHut { theta },
                    RepulsionArg::Interpolated => Repulsion::Interpolated,
                };
                let config = TsneConfig { repulsion, iterations, ..TsneConfig::default() };
                embed(experiment, out.as_deref(), codes.as_deref(), &config, &run)
            }
            Command::Parity { reference, run } => parity(&reference, &run),
            Command::Pretrain { out, run } => pretrain(&out, &run),
            Command::Pack { dir, data } => pack(&dir, data.as_deref()),
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
        let mut model = AutoencoderConfig::of(experiment);
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

    fn pretrain(out: &Path, run: &RunArgs) -> Result<(), String> {
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let arguments: Vec<String> = std::env::args().skip(1).collect();
        let command = format!("fmnist-ae {}", arguments.join(" "));
        for experiment in Experiment::ALL {
            eprintln!("== {experiment}");
            let (trainer, test, history) = train(experiment, false, run)?;
            let codes = block_on(read_values([trainer.encode(&test)])).map_err(|e| e.to_string())?.concat();
            let map = tsne(&codes, codes.len() / test.len(), &TsneConfig::default(), |_, _| {});
            let source = format!("`{command}` at commit {commit}");
            let record = RunRecord {
                // Two decimals are finer than a pixel of the drawn map.
                map: map.iter().map(|v| (v * 100.0).round() / 100.0).collect(),
                ..trainer.record(experiment, source, history)
            };
            let weights = block_on(trainer.weights(&record)).map_err(|e| e.to_string())?;
            write(&out.join(format!("{experiment}.safetensors")), &weights)?;
            write_pack(out, &trainer, record, &test)?;
        }
        eprintln!("wrote the four experiments' weights and first-view packs to {}", out.display());
        Ok(())
    }

    fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
        std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes `record`'s first-view pack into `dir`: the record, the model's reconstructions of
    /// the test images the page shows first, and the test labels.
    fn write_pack(dir: &Path, trainer: &Trainer, record: RunRecord, test: &LabeledImages) -> Result<(), String> {
        let sample: Vec<usize> = (0..RECONSTRUCTIONS_SHOWN).collect();
        let reconstructions = block_on(trainer.reconstructions(test, &sample)).map_err(|e| e.to_string())?;
        let path = dir.join(FirstView::file_name(record.experiment));
        let view = FirstView { record, sample, reconstructions, labels: test.labels().to_vec() };
        write(&path, &view.to_bytes())?;
        eprintln!("wrote {} ({} bytes)", path.display(), view.to_bytes().len());
        Ok(())
    }

    /// Rewrites the packs in `dir` from its weights and the records in its packs (or in the
    /// `<experiment>.json` records earlier versions wrote).
    fn pack(dir: &Path, data: Option<&Path>) -> Result<(), String> {
        let test = load(data)?.test;
        for experiment in Experiment::ALL {
            let read = |name: String| {
                let path = dir.join(name);
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
            };
            let record: RunRecord = match read(FirstView::file_name(experiment)) {
                Ok(bytes) => FirstView::from_bytes(&bytes).map_err(|e| format!("{experiment}: {e}"))?.record,
                Err(_) => serde_json::from_slice(&read(format!("{experiment}.json"))?).map_err(|e| format!("{experiment}.json: {e}"))?,
            };
            let config = TrainingConfig::new(AutoencoderConfig::of(experiment))
                .with_batch_size(record.batch_size)
                .with_learning_rate(record.learning_rate)
                .with_seed(record.seed);
            let weights = read(format!("{experiment}.safetensors"))?;
            let trainer = Trainer::from_weights(config, &weights, record.epochs, &Device::flex()).map_err(|e| format!("{experiment}: {e}"))?;
            write_pack(dir, &trainer, record, &test)?;
        }
        Ok(())
    }

    /// The codes and labels `embed --out` writes.
    #[derive(serde::Deserialize)]
    struct CodesFile {
        dim: usize,
        codes: Vec<f32>,
        labels: Vec<u8>,
    }

    fn embed(experiment: Experiment, out: Option<&Path>, codes_file: Option<&Path>, config: &TsneConfig, run: &RunArgs) -> Result<(), String> {
        let CodesFile { dim, codes, labels } = match codes_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => {
                let (trainer, test, _) = train(experiment, false, run)?;
                let codes = block_on(read_values([trainer.encode(&test)])).map_err(|e| e.to_string())?.concat();
                CodesFile { dim: codes.len() / test.len(), codes, labels: test.labels().to_vec() }
            }
        };
        if dim == 0 || codes.len() != dim * labels.len() {
            return Err("the codes file's dim, codes and labels do not agree".into());
        }
        let start = Instant::now();
        let mut affinities_seconds = None;
        let map = tsne(&codes, dim, config, |_, _| {
            affinities_seconds.get_or_insert(start.elapsed().as_secs_f64());
        });
        let seconds = start.elapsed().as_secs_f64();
        // Before the first iteration: neighbours and affinities; after it: the gradient descent.
        println!("t-SNE: {:.1} s to the first iteration (neighbours, affinities)", affinities_seconds.unwrap_or(0.0));
        let trust = trustworthiness(&codes, dim, &map, 10);
        let knn = knn_accuracy(&map, 2, &labels, 5);
        println!("t-SNE of {} codes ({:?}, {} iterations): {seconds:.1} s, trustworthiness (k=10) {trust:.4}, 5-NN accuracy in 2-D {knn:.4}", labels.len(), config.repulsion, config.iterations);
        if let Some(path) = out {
            let json = serde_json::json!({ "dim": dim, "codes": codes, "labels": labels, "map": map, "seconds": seconds });
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
        let mut figures = serde_json::Map::new();
        figures.insert("experiment".into(), experiment.name().into());
        let backend_name = backend.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        figures.insert("backend".into(), backend_name.into());
        match backend {
            Backend::Flex => cpu_step_figures(experiment, &device, &data, &mut figures)?,
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => gpu::step_figures(experiment, &device, &data, &mut figures)?,
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => unreachable!("device() refuses wgpu in a build without it"),
        }
        let mut trainer = Trainer::new(TrainingConfig::new(AutoencoderConfig::of(experiment)), &device).map_err(|e| e.to_string())?;
        let record = block_on(trainer.run_epoch(&data.train, &data.test, &mut quiet)).map_err(|e| e.to_string())?;
        println!("{experiment}, one epoch of {} images at batch 32 + validation on {}: {:.2} s", data.train.len(), data.test.len(), record.seconds);
        figures.insert("epoch_seconds".into(), record.seconds.into());
        if let Some(path) = json {
            let text = serde_json::to_string_pretty(&figures).expect("plain numbers");
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// What a training step costs on a GPU: for burn's autodiff step and the fused one, at batch
    /// 32 and 256, the time per step, the kernel launches and queue submits per step, and the
    /// host's own time per step (cubecl's dry run: every kernel compiled and recorded, none
    /// run); then the validation of the test set with the fused kernels.
    #[cfg(feature = "wgpu")]
    mod gpu {
        use std::collections::BTreeMap;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        use std::time::Instant;

        use cubecl::config::{TypeNameFormatLevel, type_name_format};
        use cubecl::dry_run::DryRun;
        use cubecl::logging::{LaunchObservation, LaunchObserver};
        use futures_lite::future::block_on;
        use model::burn::prelude::Device;
        use model::data::source::FashionMnist;
        use model::{AutoencoderConfig, Experiment, StepEngine, Trainer, TrainingConfig};

        /// Steps timed per batch size, after a warm-up that compiles every kernel.
        const TIMED_STEPS: [(usize, usize); 2] = [(32, 200), (256, 40)];
        const WARMUP_STEPS: usize = 10;
        /// Steps whose launches and submits are counted: twice this many minus this many, so
        /// what a run of steps costs once (the order's upload, zeroing the sums) cancels out.
        const COUNTED_STEPS: usize = 10;

        /// Counts kernel launches by name.
        #[derive(Default)]
        struct Launches(Mutex<BTreeMap<String, usize>>);

        impl LaunchObserver for Launches {
            fn launched(&self, kernel: &'static str) {
                let name = type_name_format(kernel, TypeNameFormatLevel::Short);
                *self.0.lock().expect("no panics while counting").entry(name).or_default() += 1;
            }
        }

        /// Counts wgpu's queue submits, from its trace log.
        struct Submits(AtomicUsize);

        static SUBMITS: Submits = Submits(AtomicUsize::new(0));

        impl log::Log for Submits {
            fn enabled(&self, metadata: &log::Metadata) -> bool {
                metadata.target().starts_with("wgpu_core")
            }

            fn log(&self, record: &log::Record) {
                if self.enabled(record.metadata()) && record.args().to_string() == "Queue::submit" {
                    self.0.fetch_add(1, Ordering::Relaxed);
                }
            }

            fn flush(&self) {}
        }

        /// Launches (by kernel) and submits of `steps` steps, the device drained after them.
        fn count(trainer: &mut Trainer, device: &Device, data: &FashionMnist, steps: usize) -> Result<(BTreeMap<String, usize>, usize), String> {
            let launches = Arc::new(Launches::default());
            let submits_before = SUBMITS.0.load(Ordering::Relaxed);
            log::set_max_level(log::LevelFilter::Trace);
            let observation = LaunchObservation::new(launches.clone());
            trainer.train_steps(&data.train, steps).map_err(|e| e.to_string())?;
            device.sync().map_err(|e| format!("{e:?}"))?;
            drop(observation);
            log::set_max_level(log::LevelFilter::Off);
            let submits = SUBMITS.0.load(Ordering::Relaxed) - submits_before;
            let launches = launches.0.lock().expect("counting is over").clone();
            Ok((launches, submits))
        }

        fn seconds(run: impl FnOnce() -> Result<(), String>) -> Result<f64, String> {
            let start = Instant::now();
            run()?;
            Ok(start.elapsed().as_secs_f64())
        }

        pub fn step_figures(
            experiment: Experiment,
            device: &Device,
            data: &FashionMnist,
            figures: &mut serde_json::Map<String, serde_json::Value>,
        ) -> Result<(), String> {
            // Installed once; it lets nothing through until a count raises the level.
            let _ = log::set_logger(&SUBMITS);
            log::set_max_level(log::LevelFilter::Off);
            println!("| engine | batch | ms/step | launches/step | submits/step | host-only ms/step |");
            println!("|---|---|---|---|---|---|");
            let mut kernels = Vec::new();
            for (engine, engine_name) in [(StepEngine::Autodiff, "autodiff"), (StepEngine::Auto, "fused")] {
                for (batch, steps) in TIMED_STEPS {
                    let config = TrainingConfig::new(AutoencoderConfig::of(experiment)).with_batch_size(batch).with_engine(engine);
                    let mut trainer = Trainer::new(config, device).map_err(|e| e.to_string())?;
                    let sync = || device.sync().map_err(|e| format!("{e:?}"));
                    let run = |trainer: &mut Trainer, steps: usize| trainer.train_steps(&data.train, steps).map_err(|e| e.to_string());
                    run(&mut trainer, WARMUP_STEPS)?;
                    sync()?;
                    let ms = seconds(|| { run(&mut trainer, steps)?; sync() })? * 1e3 / steps as f64;
                    let (once, submits_once) = count(&mut trainer, device, data, COUNTED_STEPS)?;
                    let (twice, submits_twice) = count(&mut trainer, device, data, 2 * COUNTED_STEPS)?;
                    let per_step = |name: &String| (twice[name] - once.get(name).copied().unwrap_or(0)) as f64 / COUNTED_STEPS as f64;
                    let launches: f64 = twice.keys().map(per_step).sum();
                    let submits = submits_twice.saturating_sub(submits_once) as f64 / COUNTED_STEPS as f64;
                    let dry_run = DryRun::new();
                    let host_ms = seconds(|| { run(&mut trainer, steps)?; sync() })? * 1e3 / steps as f64;
                    drop(dry_run);
                    println!("| {engine_name} | {batch} | {ms:.2} | {launches:.1} | {submits:.1} | {host_ms:.3} |");
                    let key = format!("{engine_name}_batch{batch}");
                    figures.insert(format!("{key}_ms_per_step"), ms.into());
                    figures.insert(format!("{key}_launches_per_step"), launches.into());
                    figures.insert(format!("{key}_submits_per_step"), submits.into());
                    figures.insert(format!("{key}_host_ms_per_step"), host_ms.into());
                    if batch == 32 {
                        let by_kernel: BTreeMap<String, f64> = twice.keys().map(|name| (name.clone(), per_step(name))).filter(|(_, n)| *n > 0.0).collect();
                        kernels.push((engine_name, by_kernel));
                    }
                }
            }
            for (engine_name, by_kernel) in kernels {
                let list: Vec<String> = by_kernel.iter().map(|(name, n)| format!("{name} {n}")).collect();
                println!("{engine_name} launches per batch-32 step: {}", list.join(", "));
            }

            let mut quiet = async |_| std::ops::ControlFlow::Continue(());
            let mut trainer = Trainer::new(TrainingConfig::new(AutoencoderConfig::of(experiment)), device).map_err(|e| e.to_string())?;
            // Validation alone: an "epoch" of one batch, then the whole test set.
            let one_batch = data.train.slice(0..32);
            block_on(trainer.run_epoch(&one_batch, &data.test, &mut quiet)).map_err(|e| e.to_string())?;
            let validation = seconds(|| block_on(trainer.run_epoch(&one_batch, &data.test, &mut quiet)).map(drop).map_err(|e| e.to_string()))?;
            println!("validation of {} test images (fused, after warm-up): {validation:.2} s", data.test.len());
            figures.insert("validation_seconds".into(), validation.into());
            Ok(())
        }
    }

    /// Milliseconds per step on the CPU at batch 32 and 256 (whole epochs, timed after a
    /// warm-up), and where a batch-32 step's time goes.
    fn cpu_step_figures(
        experiment: Experiment,
        device: &Device,
        data: &source::FashionMnist,
        figures: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), String> {
        let mut quiet = async |_| ControlFlow::Continue(());
        // Validation on one image: the timings are of the training steps.
        let one_test_image = data.test.slice(0..1);
        for (batch, steps) in BENCH_STEPS {
            let config = TrainingConfig::new(AutoencoderConfig::of(experiment)).with_batch_size(batch).with_report_every(steps);
            let mut trainer = Trainer::new(config, device).map_err(|e| e.to_string())?;
            let images = |steps: usize| data.train.slice(0..steps * batch);
            block_on(trainer.run_epoch(&images(10), &one_test_image, &mut quiet)).map_err(|e| e.to_string())?;
            let start = Instant::now();
            block_on(trainer.run_epoch(&images(steps), &one_test_image, &mut quiet)).map_err(|e| e.to_string())?;
            let ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
            println!("{experiment}, batch {batch:>3}: {ms:.2} ms per training step ({:.0} images/s)", batch as f64 * 1e3 / ms);
            figures.insert(format!("ms_per_step_batch{batch}"), ms.into());
        }
        // The CPU step the trainer runs, and burn's autodiff step it replaced (the reference).
        for (engine, name, key) in [(StepEngine::Auto, "the CPU step", "profile_batch32"), (StepEngine::Autodiff, "burn's autodiff", "profile_batch32_autodiff")] {
            let config = TrainingConfig::new(AutoencoderConfig::of(experiment)).with_engine(engine);
            let mut trainer = Trainer::new(config, device).map_err(|e| e.to_string())?;
            let profile = trainer.profile(&data.train, PROFILE_STEPS).map_err(|e| e.to_string())?;
            print_profile(name, &profile);
            figures.insert(key.into(), serde_json::to_value(&profile).expect("plain numbers"));
        }
        Ok(())
    }

    /// Steps timed phase by phase (CPU only: a GPU backend's phases only queue work).
    const PROFILE_STEPS: usize = 500;

    fn print_profile(engine: &str, profile: &model::StepProfile) {
        let phases = [
            ("upload", profile.upload),
            ("forward", profile.forward),
            ("loss, accuracy", profile.loss),
            ("backward", profile.backward),
            ("SGD update", profile.update),
        ];
        let total: f64 = phases.iter().map(|(_, s)| s).sum();
        println!("where a batch-32 step of {engine} spends its {:.3} ms ({} steps):", total * 1e3 / profile.steps as f64, profile.steps);
        for (name, seconds) in phases {
            println!("  {name:<15} {:>6.3} ms  {:>4.1}%", seconds * 1e3 / profile.steps as f64, 100.0 * seconds / total);
        }
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
