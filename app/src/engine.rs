//! The engine's client on the page: starts the engine's worker when something first needs it,
//! sends requests and hands each reply to whoever asked (a run's events to its handler), and
//! passes on what the engine pushes (the backend, the data). If the worker fails (its files do
//! not load, it crashes, it speaks another version), every request still waiting fails with
//! why, the page hears it, and the next request starts a fresh worker.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Array, Uint8Array};
use protocol::messages::{
    BackendNote, Control, DataStatus, FromEngine, Reply, Request, RequestId, RunEvent, ToEngine, VERSION,
};
use protocol::wire;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser::describe;

/// Built by trunk from engine/ (see index.html), started by public/engine_boot.js; relative,
/// for any sub-path.
const ENGINE_URL: &str = "./engine_boot.js";

/// What the engine tells the page unasked.
pub enum Push {
    Backend(BackendNote),
    Data(DataStatus),
    /// The engine failed; the requests waiting on it failed with this.
    Failed(String),
}

/// A reply, or why there is none.
pub type Answer = Result<Reply, Failure>;

/// Why a request has no reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The engine answered that it could not do it (in the model crate's words).
    Refused(String),
    /// The engine itself failed: the page was told once ([`Push::Failed`]), so whoever asked
    /// need not say it again.
    EngineDown(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(why) | Self::EngineDown(why) => f.write_str(why),
        }
    }
}

#[derive(Clone)]
pub struct Engine(Rc<Inner>);

struct Inner {
    worker: RefCell<Option<Running>>,
    pending: RefCell<HashMap<RequestId, Pending>>,
    next_id: Cell<RequestId>,
    on_push: Box<dyn Fn(Push)>,
}

/// A started worker, the messages waiting for it to listen, and the handlers that must live as
/// long as it does.
struct Running {
    worker: Worker,
    /// Sent once the engine says it is ready.
    queue: Option<Vec<ToEngine>>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
    _on_message_error: Closure<dyn Fn(MessageEvent)>,
}

struct Pending {
    reply: oneshot::Sender<Answer>,
    on_event: Option<Box<dyn Fn(RunEvent)>>,
}

impl Engine {
    pub fn new(on_push: impl Fn(Push) + 'static) -> Self {
        Self(Rc::new(Inner { worker: RefCell::new(None), pending: RefCell::default(), next_id: Cell::new(0), on_push: Box::new(on_push) }))
    }

    /// Starts the worker, if it is not running: its files download and compile off the page.
    pub fn start(&self) {
        if self.0.worker.borrow().is_some() {
            return;
        }
        let running = match self.spawn() {
            Ok(running) => running,
            Err(why) => return self.fail(format!("the engine could not start: {why}")),
        };
        *self.0.worker.borrow_mut() = Some(running);
    }

    /// Sends `request` (starting the engine if need be) and waits for its answer.
    pub async fn ask(&self, request: Request) -> Answer {
        self.send_request(request, None).1.await.unwrap_or_else(|_| Err(Failure::EngineDown("the engine stopped".into())))
    }

    /// Starts a run; `on_event` hears its events. Returns the run's id (for [`control`](Self::control))
    /// and its end.
    pub fn run(&self, request: Request, on_event: impl Fn(RunEvent) + 'static) -> (RequestId, impl Future<Output = Answer>) {
        let (id, answer) = self.send_request(request, Some(Box::new(on_event)));
        (id, async move { answer.await.unwrap_or_else(|_| Err(Failure::EngineDown("the engine stopped".into()))) })
    }

    pub fn control(&self, run: RequestId, control: Control) {
        self.send(ToEngine::Control { run, control });
    }

    /// The page no longer needs the model made here: the engine can let it go.
    pub fn forget(&self, model: u32) {
        if self.0.worker.borrow().is_some() {
            self.send(ToEngine::Forget(model));
        }
    }

    fn send_request(&self, request: Request, on_event: Option<Box<dyn Fn(RunEvent)>>) -> (RequestId, oneshot::Receiver<Answer>) {
        let id = self.0.next_id.get();
        self.0.next_id.set(id.wrapping_add(1));
        let (reply, answer) = oneshot::channel();
        self.0.pending.borrow_mut().insert(id, Pending { reply, on_event });
        self.start();
        self.send(ToEngine::Request { id, request });
        (id, answer)
    }

    fn send(&self, message: ToEngine) {
        let mut worker = self.0.worker.borrow_mut();
        let Some(running) = worker.as_mut() else { return };
        match &mut running.queue {
            Some(queue) => queue.push(message),
            None => post(&running.worker, &message),
        }
    }

    fn spawn(&self) -> Result<Running, String> {
        let worker = Worker::new(ENGINE_URL).map_err(|e| describe(&e))?;
        let engine = Rc::downgrade(&self.0);
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(engine) = engine.upgrade() else { return };
            let bytes = event.data().dyn_into::<Uint8Array>().map(|a| a.to_vec()).unwrap_or_default();
            match wire::decode::<FromEngine>(&bytes) {
                Ok(message) => Engine(engine).receive(message),
                Err(e) => Engine(engine).fail(format!("the engine sent something this page cannot read ({e})")),
            }
        });
        let engine = Rc::downgrade(&self.0);
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            if let Some(engine) = engine.upgrade() {
                let why = Some(event.message()).filter(|m| !m.is_empty()).unwrap_or_else(|| "its script or WebAssembly did not load".into());
                Engine(engine).fail(format!("the engine failed: {why}"));
            }
        });
        let engine = Rc::downgrade(&self.0);
        let on_message_error = Closure::<dyn Fn(MessageEvent)>::new(move |_| {
            if let Some(engine) = engine.upgrade() {
                Engine(engine).fail("a message from the engine could not be received".into());
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        worker.set_onmessageerror(Some(on_message_error.as_ref().unchecked_ref()));
        Ok(Running { worker, queue: Some(Vec::new()), _on_message: on_message, _on_error: on_error, _on_message_error: on_message_error })
    }

    fn receive(&self, message: FromEngine) {
        match message {
            FromEngine::Ready { version } if version == VERSION => {
                let mut worker = self.0.worker.borrow_mut();
                if let Some(running) = worker.as_mut() {
                    for message in running.queue.take().unwrap_or_default() {
                        post(&running.worker, &message);
                    }
                }
            }
            FromEngine::Ready { version } => self.fail(format!(
                "the engine is from another version of the page ({version}, this page speaks {VERSION}): a cached file? Reload the page"
            )),
            FromEngine::Backend(note) => (self.0.on_push)(Push::Backend(note)),
            FromEngine::Data(status) => (self.0.on_push)(Push::Data(status)),
            FromEngine::Run { id, event } => {
                // The handler may send (Stop, say): nothing stays borrowed while it runs.
                let handler = self.0.pending.borrow_mut().get_mut(&id).and_then(|p| p.on_event.take());
                if let Some(handler) = handler {
                    handler(event);
                    if let Some(pending) = self.0.pending.borrow_mut().get_mut(&id) {
                        pending.on_event = Some(handler);
                    }
                }
            }
            FromEngine::Done { id, reply } => {
                if let Some(pending) = self.0.pending.borrow_mut().remove(&id) {
                    let _ = pending.reply.send(reply.map_err(Failure::Refused));
                }
            }
            FromEngine::Crashed { why } => self.fail(format!("the engine crashed: {why}")),
        }
    }

    /// Ends the worker and every request waiting on it, and tells the page why.
    fn fail(&self, why: String) {
        if let Some(running) = self.0.worker.borrow_mut().take() {
            running.worker.set_onmessage(None);
            running.worker.set_onerror(None);
            running.worker.set_onmessageerror(None);
            running.worker.terminate();
        }
        let pending: Vec<Pending> = self.0.pending.borrow_mut().drain().map(|(_, p)| p).collect();
        for waiting in pending {
            let _ = waiting.reply.send(Err(Failure::EngineDown(why.clone())));
        }
        (self.0.on_push)(Push::Failed(why));
    }
}

/// Sends `message` as bytes in a buffer of its own, handed over rather than copied.
fn post(worker: &Worker, message: &ToEngine) {
    let bytes = Uint8Array::from(&wire::encode(message)[..]);
    let _ = worker.post_message_with_transfer(&bytes, &Array::of1(&bytes.buffer()));
}

/// Runs `task` when the page is idle (after the first view is drawn and input is handled), or
/// soon where the browser cannot say.
pub fn when_idle(task: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else { return };
    let task = Closure::once_into_js(task);
    let idle = js_sys::Reflect::get(&window, &"requestIdleCallback".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match idle {
        Some(request) => {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"timeout".into(), &JsValue::from(2000));
            let _ = request.call2(&window, &task, &options);
        }
        None => {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(task.unchecked_ref(), 200);
        }
    }
}
