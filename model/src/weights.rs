//! Trained weights as `.safetensors`, readable by Keras, PyTorch or numpy users.
//!
//! Tensor names and layouts (all `F32`):
//! - `encoder.{i}.kernel` `[inputs, outputs]` and `encoder.{i}.bias` `[outputs]`, for the
//!   encoder's layers i = 0, 1, 2 (784→128→64→32);
//! - `decoder.{i}.bias` for the decoder's layers i = 0, 1, 2 (32→64→128→784), and
//!   `decoder.{i}.kernel` `[inputs, outputs]` unless the model is tied (then decoder layer i
//!   uses `encoder.{2-i}.kernel` transposed).
//!
//! Kernels are laid out as Keras' `Dense` kernels (`y = x · kernel + bias`); PyTorch's
//! `nn.Linear.weight` is the transpose. The file's metadata names the experiment, the layer sizes
//! and whether the model is tied.

use std::collections::{BTreeMap, HashMap};

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::{Autoencoder, AutoencoderConfig, TrainError, read_values};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightsError {
    #[error("not a readable .safetensors file ({0})")]
    Format(String),
    #[error("the file has no tensor `{0}`, which this model needs")]
    Missing(String),
    #[error("the file has a tensor `{0}` this model does not use (weights of another model?)")]
    Unexpected(String),
    #[error("tensor `{name}` has shape {found:?}, this model needs {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("tensor `{name}` is {found}, this model needs F32")]
    Dtype { name: String, found: String },
    #[error("tensor `{0}` holds a value that is not a finite number")]
    NotFinite(String),
    #[error("could not write the weights file ({0})")]
    Write(String),
}

/// A run's record beside its weights (`<experiment>.json`, and inside its first-view pack).
pub use protocol::RunRecord;

/// A parameter's name and shape in the file.
struct Entry {
    name: String,
    shape: Vec<usize>,
}

impl Autoencoder {
    /// The parameters as the file stores them, flattened to 1-D, in a fixed order.
    fn entries(&self) -> Vec<(Entry, Tensor<1>)> {
        let mut entries = Vec::new();
        let mut push = |name: String, tensor: Tensor<1>, shape: Vec<usize>| entries.push((Entry { name, shape }, tensor));
        for (i, layer) in self.encoder.iter().enumerate() {
            let kernel = layer.weight.val();
            let shape = kernel.dims().to_vec();
            push(format!("encoder.{i}.kernel"), kernel.flatten(0, 1), shape);
            if let Some(bias) = &layer.bias {
                push(format!("encoder.{i}.bias"), bias.val(), bias.dims().to_vec());
            }
        }
        for (i, layer) in self.decoder.iter().enumerate() {
            if let Some(kernel) = &layer.kernel {
                let shape = kernel.dims().to_vec();
                push(format!("decoder.{i}.kernel"), kernel.val().flatten(0, 1), shape);
            }
            push(format!("decoder.{i}.bias"), layer.bias.val(), layer.bias.dims().to_vec());
        }
        entries
    }
}

/// The model's weights as a `.safetensors` file; `metadata` goes in its header. Reads the
/// tensors back without blocking (safe on WebGPU).
pub async fn to_safetensors(
    model: &Autoencoder,
    config: &AutoencoderConfig,
    mut metadata: HashMap<String, String>,
) -> Result<Vec<u8>, TrainError> {
    let (entries, tensors): (Vec<Entry>, Vec<Tensor<1>>) = model.entries().into_iter().unzip();
    let values = read_values(tensors).await?;
    let bytes: Vec<Vec<u8>> = values.iter().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views = entries.iter().zip(&bytes).map(|(entry, bytes)| {
        let view = TensorView::new(Dtype::F32, entry.shape.clone(), bytes).expect("shape matches the data read");
        (entry.name.clone(), view)
    });
    metadata.insert("layer_sizes".into(), format!("{:?}", config.layer_sizes));
    metadata.insert("tied".into(), config.tied.to_string());
    safetensors::serialize(views, Some(metadata)).map_err(|e| WeightsError::Write(e.to_string()).into())
}

/// A model built from `config` with the weights in `bytes`, on `device`. Every tensor the model
/// needs must be there with its shape, and nothing else: any mismatch is an error and nothing
/// is built.
pub fn from_safetensors(config: &AutoencoderConfig, bytes: &[u8], device: &Device) -> Result<Autoencoder, WeightsError> {
    check_offsets(bytes)?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| WeightsError::Format(e.to_string()))?;
    let mut model = config.init(device);
    let expected: Vec<Entry> = model.entries().into_iter().map(|(entry, _)| entry).collect();
    // Sorted: the file's own order is a hash map's, and the message should not vary.
    let mut names = file.names();
    names.sort_unstable();
    for name in names {
        if !expected.iter().any(|entry| entry.name == name) {
            return Err(WeightsError::Unexpected(name.to_string()));
        }
    }
    let mut load = |entry: &Entry| -> Result<TensorData, WeightsError> {
        let view = file.tensor(&entry.name).map_err(|_| WeightsError::Missing(entry.name.clone()))?;
        if view.dtype() != Dtype::F32 {
            return Err(WeightsError::Dtype { name: entry.name.clone(), found: format!("{:?}", view.dtype()) });
        }
        if view.shape() != entry.shape.as_slice() {
            return Err(WeightsError::Shape { name: entry.name.clone(), expected: entry.shape.clone(), found: view.shape().to_vec() });
        }
        let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(WeightsError::NotFinite(entry.name.clone()));
        }
        Ok(TensorData::new(values, entry.shape.clone()))
    };
    // Read and check every tensor before touching the model.
    let data: Vec<TensorData> = expected.iter().map(&mut load).collect::<Result<_, _>>()?;
    let mut data = data.into_iter();
    let mut next = || data.next().expect("one tensor per entry");
    for layer in &mut model.encoder {
        set_linear(layer, next(), next(), device);
    }
    for layer in &mut model.decoder {
        if layer.kernel.is_some() {
            layer.kernel = Some(Param::from_tensor(Tensor::from_data(next(), device)));
        }
        layer.bias = Param::from_tensor(Tensor::from_data(next(), device));
    }
    Ok(model)
}

/// Refuses tensors that end past the end of the file. safetensors 0.8 adds the last tensor's
/// end offset to the header length unchecked: offsets near `usize::MAX` overflow there (a panic
/// in debug builds). Anything else wrong with the header is left to safetensors to explain.
fn check_offsets(bytes: &[u8]) -> Result<(), WeightsError> {
    /// safetensors' own limit on the header; a longer one is its error to report.
    const MAX_HEADER: usize = 100_000_000;
    let Some((length, rest)) = bytes.split_first_chunk::<8>() else { return Ok(()) };
    let length = usize::try_from(u64::from_le_bytes(*length)).unwrap_or(usize::MAX);
    let Some(header) = rest.get(..length).filter(|_| length <= MAX_HEADER) else { return Ok(()) };
    // Name order, so the message names the same tensor every time.
    let Ok(tensors) = serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(header) else { return Ok(()) };
    let data = (rest.len() - header.len()) as u64;
    for (name, info) in &tensors {
        let end = info.get("data_offsets").and_then(|offsets| offsets.get(1)).and_then(serde_json::Value::as_u64);
        if end.is_some_and(|end| end > data) {
            return Err(WeightsError::Format(format!("tensor `{name}` ends past the end of the file")));
        }
    }
    Ok(())
}

fn set_linear(layer: &mut Linear, kernel: TensorData, bias: TensorData, device: &Device) {
    layer.weight = Param::from_tensor(Tensor::from_data(kernel, device));
    layer.bias = Some(Param::from_tensor(Tensor::from_data(bias, device)));
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;
    use crate::Experiment;

    fn codes(model: &Autoencoder) -> Vec<f32> {
        let device = Device::flex();
        let images = Tensor::<2>::ones([2, 784], &device).mul_scalar(0.5);
        model.encode(images).into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn weights_round_trip_for_every_experiment() {
        let device = Device::flex();
        for experiment in Experiment::ALL {
            let config = AutoencoderConfig::of(experiment);
            let model = config.init(&device);
            let bytes = block_on(to_safetensors(&model, &config, HashMap::new())).unwrap();
            let loaded = from_safetensors(&config, &bytes, &device).unwrap();
            assert_eq!(codes(&loaded), codes(&model), "{experiment}");
            let names = SafeTensors::deserialize(&bytes).unwrap().names().len();
            assert_eq!(names, if config.tied { 9 } else { 12 }, "{experiment}");
        }
    }

    #[test]
    fn bad_files_are_explained() {
        let device = Device::flex();
        let (stacked, tied) = (AutoencoderConfig::of(Experiment::Stacked), AutoencoderConfig::of(Experiment::Tied));
        let bytes = block_on(to_safetensors(&stacked.init(&device), &stacked, HashMap::new())).unwrap();
        // Truncated, or not safetensors at all.
        assert!(matches!(from_safetensors(&stacked, &bytes[..bytes.len() / 2], &device), Err(WeightsError::Format(_))));
        assert!(matches!(from_safetensors(&stacked, b"hello", &device), Err(WeightsError::Format(_))));
        // A stacked model's file into a tied model: extra decoder kernels.
        assert_eq!(from_safetensors(&tied, &bytes, &device).unwrap_err(), WeightsError::Unexpected("decoder.0.kernel".into()));
        // A tied model's file into a stacked model: missing decoder kernels.
        let tied_bytes = block_on(to_safetensors(&tied.init(&device), &tied, HashMap::new())).unwrap();
        assert_eq!(from_safetensors(&stacked, &tied_bytes, &device).unwrap_err(), WeightsError::Missing("decoder.0.kernel".into()));
        // Another code size: shapes differ.
        let wide = AutoencoderConfig::new().with_layer_sizes(vec![784, 128, 64, 16]);
        let wide_bytes = block_on(to_safetensors(&wide.init(&device), &wide, HashMap::new())).unwrap();
        assert!(matches!(from_safetensors(&stacked, &wide_bytes, &device), Err(WeightsError::Shape { .. })));
    }
}
