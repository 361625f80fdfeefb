//! Writes the Fashion-MNIST shards and manifest that the page fetches.
//!
//! `cargo run -p fmnist-data --release -- --out public/data/fashion-mnist`

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// The CLI is native-only; this keeps the crate building for wasm32.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use clap::Parser;
    use fmnist_data::{MANIFEST_FILE, source, write_shards};

    #[derive(Parser)]
    #[command(about = "Write Fashion-MNIST as the page's shards and manifest.json")]
    struct Args {
        /// Directory with the four IDX files (.gz or raw). Default: $FASHION_MNIST_DIR, then
        /// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist), then a download.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Where to write the shards.
        #[arg(long, default_value = "public/data/fashion-mnist")]
        out: PathBuf,
        /// Where a download goes.
        #[arg(long, default_value_os_t = default_cache())]
        cache: PathBuf,
    }

    fn default_cache() -> PathBuf {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("fashion-mnist")
    }

    pub fn main() -> ExitCode {
        match run(Args::parse()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("fmnist-data: {message}");
                ExitCode::FAILURE
            }
        }
    }

    fn run(args: Args) -> Result<(), String> {
        let dir = source::locate(args.from.as_deref(), &args.cache).map_err(|e| e.to_string())?;
        let data = source::load(&dir).map_err(|e| e.to_string())?;
        let (manifest, files) = write_shards(&data.test, &data.train);
        let write = |name: &str, bytes: &[u8]| {
            let path = args.out.join(name);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        for (name, bytes) in &files {
            write(name, bytes)?;
        }
        // The manifest last: a page never sees it before the shards it lists.
        write(MANIFEST_FILE, manifest.to_json().as_bytes())?;
        println!(
            "{}: {} test + {} train images from {} in {} shards, {:.1} MB",
            args.out.display(),
            data.test.len(),
            data.train.len(),
            dir.display(),
            files.len(),
            manifest.total_bytes() as f64 / 1e6
        );
        Ok(())
    }
}
