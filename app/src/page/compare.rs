//! The four experiments side by side: for each, the model trained here in this session, else
//! the pretrained one, with its history and reconstructions of the same test images.

use leptos::prelude::*;
use model::neighbours::nearest_neighbour_accuracy;
use model::{EpochRecord, Experiment, TrainError, read_values};

use super::{Backend, Data, ShownModel};
use crate::embedding::KNN_ROWS;
use crate::files;
use crate::run;
use crate::settings::Settings;
use crate::text::Message;

/// One experiment's model as compared: trained here in this session, or the pretrained one.
#[derive(Clone, Debug, PartialEq)]
pub struct Compared {
    pub experiment: Experiment,
    pub trained_here: bool,
    pub parameters: usize,
    pub history: Vec<EpochRecord>,
    /// How often the nearest code shares the class (first [`KNN_ROWS`] test images).
    pub code_accuracy: f64,
    pub originals: Vec<f32>,
    pub outputs: Vec<f32>,
}

/// Builds the comparison; an experiment that cannot be compared is left out with a notice.
pub(super) fn comparison_action(
    settings: RwSignal<Settings>,
    data: Data,
    backend: RwSignal<Option<Backend>, LocalStorage>,
    trained_here: RwSignal<Vec<ShownModel>, LocalStorage>,
    notices: RwSignal<Vec<Message>>,
) -> Action<(), Vec<Compared>> {
    Action::new_local(move |_: &()| {
        let (test, device) = (data.test(), backend.with_untracked(|b| b.as_ref().map(|b| b.device.clone())));
        let indices = settings.with_untracked(super::sample_of);
        async move {
            let (Some(test), Some(device)) = (test, device) else { return Vec::new() };
            let mut rows = Vec::new();
            for experiment in Experiment::ALL {
                let here = trained_here.with_untracked(|runs| runs.iter().find(|m| m.record.experiment == experiment).cloned());
                let model = match here {
                    Some(model) => Ok((model, true)),
                    None => files::pretrained_model(experiment, &device)
                        .await
                        .map(|(trainer, record)| (ShownModel { trainer: trainer.into(), record }, false)),
                };
                let row = match model {
                    Ok((ShownModel { trainer, record }, trained_here)) => {
                        let measured = async {
                            let r = run::reconstruct(&trainer, &test, &indices).await?;
                            let known = test.slice(0..KNN_ROWS.min(test.len()));
                            let codes = read_values([trainer.encode(&known)]).await?.concat();
                            let dim = trainer.config().model.layer_sizes.last().copied().unwrap_or(1);
                            let code_accuracy = nearest_neighbour_accuracy(&codes, dim, known.labels(), KNN_ROWS);
                            Ok::<_, TrainError>(Compared {
                                experiment,
                                trained_here,
                                parameters: trainer.config().model.parameter_count(),
                                history: record.history,
                                code_accuracy,
                                originals: r.originals,
                                outputs: r.outputs,
                            })
                        };
                        measured.await.map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e),
                };
                match row {
                    Ok(row) => rows.push(row),
                    Err(e) => notices.update(|n| n.push(Message::ComparisonLeavesOut { experiment, why: e.to_string() })),
                }
            }
            rows
        }
    })
}
