//! Fuzzing the URL-parameter parser (see docs/fuzzing.md): arbitrary keys and values, and valid
//! links, must never panic; whatever settings a link yields must stay within the page's bounds
//! and make a link that reads back to the same settings with no warnings.

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::*;

const KEYS: [&str; 19] = [
    "experiment", "epochs", "batch", "lr", "seed", "noise", "dropout", "train_limit", "backend", "autostart", "hide",
    "images", "palette", "lang", "from", "map", "perplexity", "prefetch",
    "sw",
];

/// `default` cases unless `PROPTEST_CASES` says otherwise.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..200).prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        (0.0f64..12.0).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:e}")),
        prop::sample::select(vec![
            "NaN", "nan", "inf", "-inf", "+Inf", "infinity", "1e309", "-1e309", "1e-320", "-0", "+0", "0", "+5", " 7 ",
            "0x10", "1_000", "١٢", "99999999999999999999999999", "18446744073709551616", "1.", ".5", "5e", "",
        ])
        .prop_map(String::from),
    ]
}

/// Comma-separated lists: short or thousands of entries, numbers or panel names, with stray
/// spaces, empty items and unknown names.
fn list() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        4 => (0usize..12_000).prop_map(|v| v.to_string()),
        3 => prop::sample::select(Panel::ALL.to_vec()).prop_map(|p| p.name().to_string()),
        1 => prop::sample::select(Panel::ALL.to_vec()).prop_map(|p| format!(" {} ", p.name().to_uppercase())),
        1 => number(),
        1 => "\\PC{0,6}",
    ];
    prop_oneof![
        4 => prop::collection::vec(item.clone(), 0..8),
        1 => prop::collection::vec(item, 0..3000),
    ]
    .prop_map(|items| items.join(","))
}

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "stacked", "TIED", " denoising ", "Dropout", "convolutional", "webgpu", "gpu", "CPU", "auto", "tpu", "1", "0",
        "true", "yes", "no", "maybe", "chapter", "safe", "SAFE", "zh", "EN", "fr", "tied", "scratch", "tsne", "PCA",
        "pixels", "umap",
    ])
    .prop_map(String::from)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![3 => number(), 2 => list(), 2 => word(), 1 => "\\PC{0,24}", 1 => any::<String>()]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![9 => prop::sample::select(KEYS.to_vec()).prop_map(String::from), 1 => "\\PC{0,12}"]
}

/// The settings are within the bounds the page accepts.
fn in_bounds(s: &Settings) -> Result<(), TestCaseError> {
    prop_assert!((1..=MAX_EPOCHS).contains(&s.epochs));
    prop_assert!((1..=MAX_BATCH).contains(&s.batch_size));
    prop_assert!(s.learning_rate.is_finite() && s.learning_rate > 0.0 && s.learning_rate <= MAX_LEARNING_RATE);
    prop_assert!((0.0..=MAX_NOISE_STDDEV).contains(&s.noise_stddev));
    prop_assert!((0.0..=MAX_DROPOUT_RATE).contains(&s.dropout_rate));
    prop_assert!(s.train_limit.is_none_or(|limit| limit >= 1));
    prop_assert!((MIN_PERPLEXITY..=MAX_PERPLEXITY).contains(&s.perplexity), "{}", s.perplexity);
    if let Some(images) = &s.images {
        prop_assert!((1..=6).contains(&images.len()) && images.iter().all(|&i| i < TEST_IMAGES), "{images:?}");
    }
    Ok(())
}

/// The link made from `settings` reads back to them (but for `autostart`, which links leave
/// out), with no warnings, and makes the same link again.
fn round_trips(settings: &Settings) -> Result<(), TestCaseError> {
    let query = settings.to_query();
    let (again, warnings) = Settings::from_query(query.iter().map(|(k, v)| (*k, v.as_str())));
    prop_assert!(warnings.is_empty(), "{query:?}: {warnings:?}");
    prop_assert_eq!(&again, &Settings { autostart: false, ..settings.clone() }, "{:?}", query);
    prop_assert_eq!(again.to_query(), query);
    Ok(())
}

proptest! {
    #![proptest_config(config(6_000))]

    #[test]
    fn any_query_is_read_within_bounds_and_round_trips(
        pairs in prop::collection::vec((key(), value()), 0..12),
    ) {
        let (settings, warnings) = Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert!(warnings.len() <= pairs.len());
        in_bounds(&settings)?;
        let _ = settings.run_settings(None, Vec::new());
        round_trips(&settings)?;
    }
}

/// A valid value for each key, in random order and case, some keys repeated.
fn valid_pair() -> impl Strategy<Value = (String, String)> {
    let case = |s: &str, upper: bool| if upper { s.to_uppercase() } else { s.to_string() };
    prop_oneof![
        (prop::sample::select(Experiment::ALL.to_vec()), any::<bool>())
            .prop_map(move |(e, upper)| ("experiment".into(), case(e.name(), upper))),
        (1..=MAX_EPOCHS).prop_map(|v| ("epochs".into(), v.to_string())),
        (1..=MAX_BATCH).prop_map(|v| ("batch".into(), v.to_string())),
        (f64::MIN_POSITIVE..=MAX_LEARNING_RATE).prop_map(|v| ("lr".into(), v.to_string())),
        any::<u64>().prop_map(|v| ("seed".into(), v.to_string())),
        (0.0..=MAX_NOISE_STDDEV).prop_map(|v| ("noise".into(), v.to_string())),
        (0.0..=MAX_DROPOUT_RATE).prop_map(|v| ("dropout".into(), v.to_string())),
        (1usize..).prop_map(|v| ("train_limit".into(), v.to_string())),
        prop::sample::select(vec!["webgpu", "gpu", "cpu", "auto", "CPU"]).prop_map(|v| ("backend".into(), v.into())),
        prop::sample::select(vec!["1", "0", "true", "false", "yes", "no"]).prop_map(|v| ("autostart".into(), v.into())),
        prop::sample::select(vec!["1", "0", "true", "false", "yes", "no"]).prop_map(|v| ("prefetch".into(), v.into())),
        prop::sample::select(vec!["1", "0", "true", "false", "yes", "no"]).prop_map(|v| ("sw".into(), v.into())),
        prop::collection::vec(prop::sample::select(Panel::ALL.to_vec()), 0..12).prop_map(|panels| {
            ("hide".into(), panels.iter().map(|p| p.name()).collect::<Vec<_>>().join(","))
        }),
        prop::collection::vec(0..TEST_IMAGES, 1..=6).prop_map(|images| {
            ("images".into(), images.iter().map(usize::to_string).collect::<Vec<_>>().join(", "))
        }),
    ]
}

proptest! {
    #![proptest_config(config(20_000))]

    #[test]
    fn valid_links_are_read_without_warnings_and_round_trip(
        pairs in prop::collection::vec(valid_pair(), 0..16),
    ) {
        let (settings, warnings) = Settings::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert!(warnings.is_empty(), "{pairs:?}: {warnings:?}");
        in_bounds(&settings)?;
        // The last value given for a key is the one read.
        let last = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        if let Some(epochs) = last("epochs") {
            prop_assert_eq!(settings.epochs.to_string(), epochs);
        }
        if let Some(lr) = last("lr") {
            prop_assert_eq!(settings.learning_rate, lr.parse::<f64>().unwrap());
        }
        if let Some(seed) = last("seed") {
            prop_assert_eq!(settings.seed.to_string(), seed);
        }
        if let Some(images) = last("images") {
            let expected: Vec<usize> = images.split(',').map(|i| i.trim().parse().unwrap()).collect();
            prop_assert_eq!(settings.images.as_ref(), Some(&expected));
        }
        round_trips(&settings)?;
    }
}

#[test]
fn thousands_of_images_are_one_warning() {
    let images: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    let images = images.join(",");
    let (settings, warnings) = Settings::from_query([("images", images.as_str()), ("hide", &"map,".repeat(5000))]);
    assert_eq!(settings.images, None);
    assert_eq!(settings.hide.len(), 5000);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    round_trips(&settings).unwrap();
}
