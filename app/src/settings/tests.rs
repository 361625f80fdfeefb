//! The URL's settings: parsing, bounds, warnings and links.

use super::*;

fn parse(query: &[(&'static str, &'static str)]) -> (Settings, Vec<String>) {
    Settings::from_query(query.iter().copied())
}

#[test]
fn reads_every_parameter() {
    let (settings, warnings) = parse(&[
        ("experiment", "denoising"),
        ("epochs", "1"),
        ("batch", "64"),
        ("lr", "0.5"),
        ("seed", "7"),
        ("noise", "0.3"),
        ("train_limit", "2048"),
        ("backend", "cpu"),
        ("autostart", "1"),
    ]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        settings,
        Settings {
            experiment: Experiment::Denoising,
            epochs: 1,
            batch_size: 64,
            learning_rate: 0.5,
            seed: 7,
            noise_stddev: 0.3,
            train_limit: Some(2048),
            backend: BackendChoice::Cpu,
            autostart: true,
            ..Settings::default()
        }
    );
    assert_eq!(settings.training_config().model.noise_stddev, 0.3);
}

#[test]
fn bad_values_fall_back_to_defaults_with_a_message() {
    let (settings, warnings) = parse(&[
        ("experiment", "convolutional"),
        ("epochs", "0"),
        ("lr", "NaN"),
        ("batch", "-3"),
        ("backend", "tpu"),
        ("dropout", "1"),
        ("train_limit", "lots"),
        ("unrelated", "kept out of it"),
    ]);
    assert_eq!(settings, Settings::default());
    assert_eq!(warnings.len(), 7, "{warnings:?}");
    assert!(warnings[0].contains("experiment=\"convolutional\"") && warnings[0].contains("stacked, tied"));
    assert!(warnings[1].contains("from 1 to 100"));
}

#[test]
fn links_round_trip_and_stay_short() {
    assert!(Settings::default().to_query().is_empty());
    let (settings, warnings) = parse(&[
        ("experiment", "dropout"),
        ("dropout", "0.3"),
        ("lr", "0.75"),
        ("seed", "3"),
        ("backend", "webgpu"),
        ("hide", "header,Table"),
        ("images", "5,9999,0"),
        ("palette", "safe"),
    ]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(settings.hide, vec![Panel::Header, Panel::Table]);
    assert_eq!(settings.palette, Palette::ColorBlindSafe);
    assert!(!settings.shows(Panel::Table) && settings.shows(Panel::Map));
    let query = settings.to_query();
    let (again, warnings) = Settings::from_query(query.iter().map(|(k, v)| (*k, v.as_str())));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(again, settings);
}

#[test]
fn bad_panels_and_images_are_explained() {
    let (settings, warnings) = parse(&[("hide", "curves,sidebar"), ("images", "1,2,10000")]);
    assert_eq!((settings.hide, settings.images), (Vec::new(), None));
    assert!(warnings[0].contains("\"sidebar\"") && warnings[0].contains("reconstructions"), "{warnings:?}");
    assert!(warnings[1].contains("from 0 to 9999"), "{warnings:?}");
    assert!(parse(&[("images", "1,2,3,4,5,6,7")]).1[0].contains("up to 6"));
}

#[test]
fn the_defaults_are_the_chapters() {
    let config = Settings::default().training_config();
    assert_eq!((config.epochs, config.batch_size, config.learning_rate), (10, 32, 1.5));
}
