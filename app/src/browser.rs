//! The browser, as plain functions: timers, fetching, files, the address bar, the clipboard.
//! A leaf: it imports nothing from the rest of the page.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, File, HtmlAnchorElement, Response, Url};

/// A JS error as text.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// The body of `url` (relative to the page), or why not.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let failed = |why: String| format!("could not load {url}: {why}");
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| failed(describe(&e)))?;
    let response: Response = response.dyn_into().map_err(|_| failed("not a response".into()))?;
    if !response.ok() {
        return Err(failed(format!("HTTP {} {}", response.status(), response.status_text())));
    }
    let buffer = response.array_buffer().map_err(|e| failed(describe(&e)))?;
    let buffer = JsFuture::from(buffer).await.map_err(|e| failed(describe(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Offers `bytes` to the visitor as a file called `name`.
pub fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let failed = |e: JsValue| format!("could not save {name}: {}", describe(&e));
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(failed)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let link: HtmlAnchorElement = document.create_element("a").map_err(failed)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    Url::revoke_object_url(&url).map_err(failed)
}

/// The contents of a file the visitor picked.
pub async fn read_file(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("could not read {}: {}", file.name(), describe(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The address's query as (key, value) pairs, in order.
pub fn query_pairs() -> Vec<(String, String)> {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return Vec::new() };
    let entries = js_sys::try_iter(&params).ok().flatten().into_iter().flatten();
    entries
        .filter_map(|entry| {
            let entry: Array = entry.ok()?.into();
            Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
        })
        .collect()
}

/// Puts `pairs` in the address bar as its query, without a new history entry.
pub fn replace_query(pairs: &[(&str, String)]) {
    let Some(window) = web_sys::window() else { return };
    let Ok(params) = web_sys::UrlSearchParams::new() else { return };
    for (key, value) in pairs {
        params.append(key, value);
    }
    let search = String::from(params.to_string());
    let path = window.location().pathname().unwrap_or_default();
    let url = if search.is_empty() { path } else { format!("{path}?{search}") };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// The page's address, copied to the clipboard (the copy finishes in the background).
pub fn copy_address() -> Option<String> {
    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let _ = window.navigator().clipboard().write_text(&href);
    Some(href)
}

/// `count` distinct numbers below `of`, at random.
pub fn random_sample(count: usize, of: usize) -> Vec<usize> {
    let mut chosen = Vec::with_capacity(count);
    while chosen.len() < count.min(of) {
        let index = (js_sys::Math::random() * of as f64) as usize;
        if !chosen.contains(&index) {
            chosen.push(index);
        }
    }
    chosen
}

/// Reflects the page's state on `<body data-state>`, for tests and styles.
pub fn set_body_state(state: &str) {
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-state", state);
    }
}


/// The visitor's browser asks pages to save data (a metered or slow connection).
pub fn saves_data() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"connection".into()).ok())
        .and_then(|c| js_sys::Reflect::get(&c, &"saveData".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The browser believes it has a network (false: surely offline; true: perhaps online).
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Calls `changed` with [`online`] whenever the browser goes offline or back online.
pub fn on_network_change(changed: impl Fn(bool) + 'static) {
    let Some(window) = web_sys::window() else { return };
    let handler = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || changed(online()));
    for event in ["online", "offline"] {
        let _ = window.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    }
    handler.forget();
}

/// The page came from the copy its service worker keeps on this device (see public/sw.js), so
/// it works without a network.
pub fn has_offline_copy() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"serviceWorker".into()).ok())
        .filter(|container| !container.is_undefined())
        .and_then(|container| js_sys::Reflect::get(&container, &"controller".into()).ok())
        .is_some_and(|controller| controller.is_object())
}

/// Calls `task` once, at the visitor's first click, key, touch or scroll.
pub fn on_first_input(task: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else { return };
    let task = std::rc::Rc::new(std::cell::Cell::new(Some(task)));
    let handler = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        if let Some(task) = task.take() {
            task();
        }
    });
    let options = web_sys::AddEventListenerOptions::new();
    options.set_once(true);
    options.set_passive(true);
    for event in ["pointerdown", "keydown", "wheel", "touchstart", "scroll"] {
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(event, handler.as_ref().unchecked_ref(), &options);
    }
    handler.forget();
}

/// Removes the element with this id, if there is one.
pub fn remove_element(id: &str) {
    if let Some(element) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) {
        element.remove();
    }
}

/// A canvas' next drawing, made in a task of its own after the next frame is painted. The frame
/// has laid the page out by then, so reading the canvas' size forces no layout, and the drawing
/// never lengthens the frame's own task (or the mount's): each chart of the first view is a
/// short task of its own rather than part of one long one, which a phone feels as a frozen page.
/// Only the latest drawing asked for is made: one replaced before its turn is dropped with its
/// data (a hidden tab gets no frames, and would otherwise keep every drawing of a run).
#[derive(Clone, Default)]
pub struct NextPaint(Rc<RefCell<Option<Box<dyn FnOnce()>>>>);

impl NextPaint {
    pub fn draw(&self, draw: impl FnOnce() + 'static) {
        let waiting = self.0.replace(Some(Box::new(draw))).is_some();
        if !waiting {
            let slot = self.0.clone();
            leptos::prelude::request_animation_frame(move || {
                leptos::prelude::set_timeout(
                    move || {
                        if let Some(draw) = slot.take() {
                            draw();
                        }
                    },
                    std::time::Duration::ZERO,
                )
            });
        }
    }
}
