//! Compiles the catalogues in `locales/` into the `i18n` module (leptos_i18n's code generator),
//! with interpolated messages available as plain strings for a given locale (`td_string!`), which
//! the page's pure modules and their native tests use.

use std::path::PathBuf;

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?).join("i18n");
    let config = Config::new("en")?.add_locale("zh")?.parse_options(ParseOptions::default().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
