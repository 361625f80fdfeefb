//! The four experiments side by side: for each, the model trained here in this session, else
//! the pretrained one, with its history and reconstructions of the same test images.

use leptos::prelude::*;
use model::{EpochRecord, Experiment};

use super::{Backend, Data, ShownModel};
use crate::files;
use crate::run;
use crate::settings::Settings;

/// One experiment's model as compared: trained here in this session, or the pretrained one.
#[derive(Clone, Debug, PartialEq)]
pub struct Compared {
    pub experiment: Experiment,
    pub trained_here: bool,
    pub parameters: usize,
    pub history: Vec<EpochRecord>,
    pub originals: Vec<f32>,
    pub outputs: Vec<f32>,
}

/// Builds the comparison; an experiment that cannot be compared is left out with a notice.
pub(super) fn comparison_action(
    settings: RwSignal<Settings>,
    data: Data,
    backend: RwSignal<Option<Backend>, LocalStorage>,
    trained_here: RwSignal<Vec<ShownModel>, LocalStorage>,
    notices: RwSignal<Vec<String>>,
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
                    Ok((ShownModel { trainer, record }, trained_here)) => run::reconstruct(&trainer, &test, &indices)
                        .await
                        .map(|r| Compared {
                            experiment,
                            trained_here,
                            parameters: trainer.config().model.parameter_count(),
                            history: record.history,
                            originals: r.originals,
                            outputs: r.outputs,
                        })
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match row {
                    Ok(row) => rows.push(row),
                    Err(e) => notices.update(|n| n.push(format!("The comparison leaves out {experiment}: {e}"))),
                }
            }
            rows
        }
    })
}
