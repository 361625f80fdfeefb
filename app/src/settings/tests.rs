//! The URL's settings: parsing, bounds, warnings and links.

use super::*;
use crate::text;

/// The settings, and the warnings as an English reader sees them.
fn parse(query: &[(&'static str, &'static str)]) -> (Settings, Vec<String>) {
    let (settings, warnings) = Settings::from_query(query.iter().copied());
    (settings, warnings.iter().map(|w| text::warning(Locale::en, w)).collect())
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
    assert_eq!(settings.shape().noise_stddev, 0.3);
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
    let config = Settings::default().run_settings(None, Vec::new());
    assert_eq!((config.epochs, config.batch_size, config.learning_rate), (10, 32, 1.5));
}

#[test]
fn language_start_and_map_are_read_and_linked() {
    let (settings, warnings) = parse(&[("lang", "zh"), ("from", "tied"), ("map", "pixels"), ("perplexity", "50")]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(settings.lang, Some(Locale::zh));
    assert!(settings.from_tied);
    assert_eq!(settings.map, MapMethod::PcaPixels);
    assert_eq!(settings.perplexity, 50.0);
    let query = settings.to_query();
    assert!(query.contains(&("lang", "zh".into())) && query.contains(&("from", "tied".into())), "{query:?}");
    assert_eq!(Settings::from_query(query.iter().map(|(k, v)| (*k, v.as_str()))).0, settings);
    // No lang= unless one was chosen: a shared link follows each reader's browser.
    assert!(Settings::default().to_query().iter().all(|(k, _)| *k != "lang"));
}

#[test]
fn bad_language_start_and_map_are_explained_in_both_languages() {
    let query = [("lang", "fr"), ("from", "nowhere"), ("map", "umap"), ("perplexity", "1")];
    let (settings, warnings) = Settings::from_query(query.iter().copied());
    assert_eq!(settings, Settings::default());
    let english: Vec<String> = warnings.iter().map(|w| text::warning(Locale::en, w)).collect();
    let chinese: Vec<String> = warnings.iter().map(|w| text::warning(Locale::zh, w)).collect();
    assert!(english[0].contains("lang=\"fr\"") && english[0].contains("zh, en"), "{english:?}");
    assert!(english[3].contains("from 5 to 100"), "{english:?}");
    assert!(chinese[0].contains("已忽略 URL 参数 lang=\"fr\"") && chinese[0].contains("zh, en"), "{chinese:?}");
    assert!(chinese[3].contains("5 到 100"), "{chinese:?}");
}

#[test]
fn the_offline_copy_is_on_unless_the_link_says_sw_0() {
    assert!(Settings::default().offline_copy);
    let (settings, warnings) = parse(&[("sw", "0")]);
    assert!(warnings.is_empty() && !settings.offline_copy);
    // Kept in links, so a reload or a copied link keeps it off.
    assert_eq!(settings.to_query(), vec![("sw", "0".to_string())]);
    let (settings, warnings) = parse(&[("sw", "maybe")]);
    assert!(settings.offline_copy);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}
