//! Finding the original Fashion-MNIST files on this machine (native only): a directory given on
//! the command line, `$FASHION_MNIST_DIR`, Debian's `dataset-fashion-mnist` package, or the
//! upstream download.

use std::path::{Path, PathBuf};

use crate::idx::{IdxError, parse_idx_images, parse_idx_labels};
use crate::images::LabeledImages;

pub const ENV_VAR: &str = "FASHION_MNIST_DIR";
/// Where Debian's `dataset-fashion-mnist` package puts the files.
pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";
const UPSTREAM_URL: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com";
const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
const FILES: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// How to get the data, for every error that means it is not here.
const HOW_TO_GET_IT: &str = "Get Fashion-MNIST in one of these ways:\n\
  - Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` (installs /usr/share/datasets/fashion-mnist)\n\
  - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and\n\
    t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist into a directory,\n\
    then pass `--from DIR` or set FASHION_MNIST_DIR=DIR";

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{dir}: missing {file}(.gz)\n{HOW_TO_GET_IT}")]
    Missing { dir: PathBuf, file: &'static str },
    #[error("Fashion-MNIST is not installed and the download failed: {why}\n{HOW_TO_GET_IT}")]
    Download { why: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid Fashion-MNIST file: {source}")]
    Idx { path: PathBuf, source: IdxError },
    #[error("{images} and {labels} disagree: {image_count} images, {label_count} labels")]
    Mismatch { images: PathBuf, labels: PathBuf, image_count: usize, label_count: usize },
}

/// Fashion-MNIST's two splits.
pub struct FashionMnist {
    pub train: LabeledImages,
    pub test: LabeledImages,
}

/// Finds the data: `dir` if given, else `$FASHION_MNIST_DIR`, else Debian's package, else the
/// upstream download into `cache`.
pub fn locate(dir: Option<&Path>, cache: &Path) -> Result<PathBuf, SourceError> {
    if let Some(dir) = dir {
        return check_dir(dir);
    }
    if let Some(dir) = std::env::var_os(ENV_VAR) {
        return check_dir(Path::new(&dir));
    }
    if check_dir(Path::new(DEBIAN_DIR)).is_ok() {
        return Ok(DEBIAN_DIR.into());
    }
    if check_dir(cache).is_ok() {
        return Ok(cache.into());
    }
    download(cache)?;
    Ok(cache.into())
}

/// Reads and checks both splits from a directory holding the four IDX files.
pub fn load(dir: &Path) -> Result<FashionMnist, SourceError> {
    Ok(FashionMnist {
        train: load_split(dir, TRAIN_IMAGES, TRAIN_LABELS)?,
        test: load_split(dir, TEST_IMAGES, TEST_LABELS)?,
    })
}

fn load_split(dir: &Path, images: &'static str, labels: &'static str) -> Result<LabeledImages, SourceError> {
    let images = find(dir, images)?;
    let labels = find(dir, labels)?;
    let read = |path: &Path| std::fs::read(path).map_err(|source| SourceError::Io { path: path.into(), source });
    let idx_error = |path: &Path, source| SourceError::Idx { path: path.into(), source };
    let (pixels, image_count) = parse_idx_images(&read(&images)?).map_err(|e| idx_error(&images, e))?;
    let label_bytes = parse_idx_labels(&read(&labels)?).map_err(|e| idx_error(&labels, e))?;
    let label_count = label_bytes.len();
    LabeledImages::new(pixels, label_bytes).ok_or(SourceError::Mismatch { images, labels, image_count, label_count })
}

fn check_dir(dir: &Path) -> Result<PathBuf, SourceError> {
    FILES.iter().try_for_each(|file| find(dir, file).map(drop))?;
    Ok(dir.into())
}

/// The file itself, gzipped (as distributed) or not.
fn find(dir: &Path, file: &'static str) -> Result<PathBuf, SourceError> {
    [format!("{file}.gz"), file.to_string()]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| SourceError::Missing { dir: dir.into(), file })
}

fn download(cache: &Path) -> Result<(), SourceError> {
    let failed = |why: String| SourceError::Download { why };
    std::fs::create_dir_all(cache).map_err(|e| failed(format!("{}: {e}", cache.display())))?;
    for file in FILES {
        let url = format!("{UPSTREAM_URL}/{file}.gz");
        eprintln!("downloading {url}");
        let bytes = ureq::get(&url)
            .call()
            .and_then(|response| response.into_body().with_config().limit(64 << 20).read_to_vec())
            .map_err(|e| failed(format!("{url}: {e}")))?;
        let path = cache.join(format!("{file}.gz"));
        // Write beside and rename, so an interrupted download never looks complete.
        let partial = path.with_extension("gz.partial");
        std::fs::write(&partial, &bytes)
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| failed(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_says_how_to_get_the_data() {
        let error = locate(Some(Path::new("/nonexistent/fashion")), Path::new("/nonexistent/cache")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("missing train-images-idx3-ubyte"), "{message}");
        assert!(message.contains("apt-get install dataset-fashion-mnist"), "{message}");
        assert!(message.contains("--from DIR"), "{message}");
    }
}
