//! The four experiments side by side: for each, the model trained here in this session, else
//! the pretrained one, with its history and reconstructions of the same test images.

use leptos::prelude::*;
use protocol::messages::{ModelRef, Reply, Request};
use protocol::{EpochRecord, Experiment};

use super::ShownModel;
use crate::engine::Engine;
use crate::settings::Settings;
use crate::text::Message;

/// One experiment's model as compared: trained here in this session, or the pretrained one.
#[derive(Clone, Debug, PartialEq)]
pub struct Compared {
    pub experiment: Experiment,
    pub trained_here: bool,
    pub parameters: usize,
    pub history: Vec<EpochRecord>,
    /// How often the nearest code shares the class (first [`protocol::messages::KNN_ROWS`] test images).
    pub code_accuracy: f64,
    pub originals: Vec<f32>,
    pub outputs: Vec<f32>,
}

/// Builds the comparison; an experiment that cannot be compared is left out with a notice.
pub(super) fn comparison_action(
    settings: RwSignal<Settings>,
    engine: StoredValue<Engine, LocalStorage>,
    trained_here: RwSignal<Vec<ShownModel>, LocalStorage>,
    notices: RwSignal<Vec<Message>>,
) -> Action<(), Vec<Compared>> {
    Action::new_local(move |_: &()| {
        let indices = settings.with_untracked(super::sample_of);
        async move {
            let engine = engine.get_value();
            let mut rows = Vec::new();
            for experiment in Experiment::ALL {
                let here = trained_here.with_untracked(|runs| runs.iter().find(|m| m.record.experiment == experiment).cloned());
                let model = match here {
                    Some(model) => Ok((model.model, model.record.history, true)),
                    None => super::shown::pretrained_view(experiment).await.map(|view| (ModelRef::Pretrained(experiment), view.record.history, false)),
                };
                let row = match model {
                    Ok((model, history, trained_here)) => match engine.ask(Request::Measure { model, indices: indices.clone() }).await {
                        Ok(Reply::Measured { reconstructions, code_accuracy }) => Ok(Compared {
                            experiment,
                            trained_here,
                            parameters: experiment.shape().total_parameters(),
                            history,
                            code_accuracy,
                            originals: reconstructions.originals,
                            outputs: reconstructions.outputs,
                        }),
                        Ok(_) => Err("the engine answered something else".to_string()),
                        Err(failure) => Err(failure.to_string()),
                    },
                    Err(why) => Err(why),
                };
                match row {
                    Ok(row) => rows.push(row),
                    Err(why) => notices.update(|n| n.push(Message::ComparisonLeavesOut { experiment, why })),
                }
            }
            rows
        }
    })
}
