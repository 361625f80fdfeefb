//! The catalogues and the messages built from them, in both languages.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use protocol::messages::{BackendWhy, RunError};

/// Every key of a catalogue (dotted), with its text.
fn entries(json: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(&format!("{prefix}{k}."), v, out)),
            Value::String(text) => {
                out.insert(prefix.trim_end_matches('.').to_string(), text.clone());
            }
            other => panic!("{prefix}: not a string: {other}"),
        }
    }
    let mut out = BTreeMap::new();
    walk("", &serde_json::from_str(json).expect("a catalogue is JSON"), &mut out);
    out
}

fn english() -> BTreeMap<String, String> {
    entries(include_str!("../../locales/en.json"))
}

fn chinese() -> BTreeMap<String, String> {
    entries(include_str!("../../locales/zh.json"))
}

/// The `{{ name }}`s a text interpolates.
fn variables(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text.split("{{").skip(1).filter_map(|rest| rest.split("}}").next()).map(str::trim).collect();
    names.sort_unstable();
    names
}

#[test]
fn both_catalogues_have_every_key_and_the_same_blanks() {
    let (en, zh) = (english(), chinese());
    let missing_in_zh: Vec<&String> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    let missing_in_en: Vec<&String> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing_in_zh.is_empty() && missing_in_en.is_empty(), "zh lacks {missing_in_zh:?}; en lacks {missing_in_en:?}");
    for (key, text) in &en {
        assert!(!text.trim().is_empty() && !zh[key].trim().is_empty(), "{key} is empty");
        assert_eq!(variables(text), variables(&zh[key]), "{key} fills different blanks");
    }
}

#[test]
fn the_chinese_catalogue_is_chinese() {
    // Names that stay as they are in Chinese text: the methods, formats and units.
    let same_in_both = ["WebGPU", "Dropout", "t-SNE", "PCA", "Fashion-MNIST", "MB"];
    let en = english();
    for (key, text) in chinese() {
        // Han characters, or Chinese (full-width) punctuation around names.
        let has_han = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{ff01}'..='\u{ff5e}').contains(&c));
        let only_names = same_in_both.iter().any(|name| text.trim() == *name);
        assert!(has_han || only_names, "{key}: {text:?} has no Chinese");
        if !only_names && text.chars().filter(|c| c.is_ascii_alphabetic()).count() > 3 {
            assert_ne!(text, en[&key], "{key} is not translated");
        }
    }
}

#[test]
fn the_chapter_s_terms_are_used() {
    let zh = chinese();
    assert_eq!(zh["experiments.stacked"], "堆叠自编码器");
    assert_eq!(zh["experiments.tied"], "权重绑定");
    assert_eq!(zh["experiments.denoising"], "去噪自编码器");
    assert_eq!(zh["curves.accuracy"], "舍入准确率");
    assert_eq!(zh["controls.learning_rate"], "学习率");
    assert_eq!(zh["controls.batch"], "批大小");
    let classes: Vec<String> = (0..10).map(|label| class_name(Locale::zh, label)).collect();
    assert_eq!(classes, ["T恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"]);
    let english: Vec<String> = (0..10).map(|label| class_name(Locale::en, label)).collect();
    assert_eq!(english, CLASS_NAMES);
}

#[test]
fn errors_and_notices_arrive_translated() {
    let diverged = RunError::Diverged { epoch: 3, step: 17, loss: 9.87e23 };
    let failed = Message::RunFailed { error: diverged, epochs_done: 2 };
    let (en, zh) = (failed.text(Locale::en), failed.text(Locale::zh));
    assert!(en.contains("9.9e23") && en.contains("stays on screen"), "{en}");
    assert!(zh.contains("9.9e23") && zh.contains("训练发散") && zh.contains("保留在页面上"), "{zh}");
    assert!(!zh.contains("diverged") && !en.contains("发散"));
    let lost = Message::RunFailed { error: RunError::Device("device lost".into()), epochs_done: 0 };
    assert!(lost.text(Locale::zh).starts_with("GPU 停止工作了（device lost）"), "{}", lost.text(Locale::zh));
    let note = Message::Pretrained { experiment: Experiment::Tied, epochs: 10, seed: 0, source: "fmnist-ae train".into() };
    assert!(note.text(Locale::zh).starts_with("预训练模型：权重绑定，10 轮"), "{}", note.text(Locale::zh));
    assert!(note.text(Locale::en).starts_with("Pretrained: tied, 10 epochs"), "{}", note.text(Locale::en));
    let moved = Message::Sentence(Box::new(Message::MovedToCpu { why: "lost".into(), kept: 2 }));
    assert!(moved.text(Locale::en).ends_with("from the weights after epoch 2."), "{}", moved.text(Locale::en));
    assert!(moved.text(Locale::zh).ends_with("从第 2 轮后的权重继续训练。"), "{}", moved.text(Locale::zh));
    let stays = Message::Backend(BackendWhy::StaysOnCpu(Box::new(BackendWhy::Timed { batch: 32, gpu_ms: 5.25, cpu_ms: 10.0, adapter: "x".into() })));
    assert!(stays.text(Locale::zh).contains("GPU（x）每个训练步 5.2 毫秒") || stays.text(Locale::zh).contains("5.3 毫秒"), "{}", stays.text(Locale::zh));
}

#[test]
fn figures_read_at_any_size() {
    assert_eq!(figure(0.28914), "0.2891");
    assert_eq!(figure(0.0), "0.0000");
    assert_eq!(figure(9.87e23), "9.9e23");
    assert_eq!(figure(-2.5e-7), "-2.5e-7");
    assert_eq!(figure(f64::INFINITY), "inf");
    assert_eq!(group_thousands(222_384), "222,384");
    assert_eq!(percent(0.8126), "81.3%");
}

#[test]
fn class_counts_read_in_both_languages() {
    let counts = ClassCounts::of([7, 5, 7, 7]);
    assert_eq!(counts.text(Locale::en), "Sneaker (3), Sandal (1)");
    assert_eq!(counts.text(Locale::zh), "运动鞋（3）、凉鞋（1）");
}

#[test]
fn the_static_skeleton_says_what_the_page_says() {
    // index.html paints before any wasm runs; its words are the catalogues', in both languages.
    let html = include_str!("../../../index.html");
    for catalogue in [english(), chinese()] {
        for key in ["page.title", "page.lede", "page.curves", "page.reconstructions"] {
            assert!(html.contains(&catalogue[key]), "index.html's skeleton lacks {key}: {:?}", catalogue[key]);
        }
    }
}
