//! The page's layout. Its state and what a visitor can do live in [`Page`], which every panel
//! reads from context.

use leptos::prelude::*;

use crate::components::{
    ComparePanel, Controls, Curves, EmbeddingPanel, ExplorePanel, HistoryTable, ReconstructionPanel, StatusPanel, WeightsControls,
};
use crate::page::Page;
use crate::settings::Panel;

#[component]
pub fn App() -> impl IntoView {
    let page = Page::new();
    provide_context(page);
    page.boot();

    // Parts a course page left out with hide=; fixed at load.
    let hidden = move |panel: Panel| !page.settings.with_untracked(|s| s.shows(panel));

    view! {
        <header class:omitted=hidden(Panel::Header)>
            <h1>"See autoencoders learn"</h1>
            <p class="lede">
                "Four stacked autoencoders from the textbook chapter, trained on Fashion-MNIST right here in your browser."
            </p>
        </header>
        <main>
            <section class="panel controls" aria-label="Settings" class:omitted=hidden(Panel::Controls)>
                <Controls />
                <WeightsControls />
            </section>
            <section class="panel status" aria-label="Status" class:omitted=hidden(Panel::Status)>
                <StatusPanel />
            </section>
            <section class="panel curves" aria-label="Learning curves" class:omitted=hidden(Panel::Curves)>
                <h2>"Learning curves"</h2>
                <Curves />
            </section>
            <section class="panel recon" aria-label="Reconstructions" class:omitted=hidden(Panel::Reconstructions)>
                <h2>"Reconstructions"</h2>
                <ReconstructionPanel />
            </section>
            <section class="panel embed" aria-label="Embedding" class:omitted=hidden(Panel::Map)>
                <h2>"Map of the codes"</h2>
                <EmbeddingPanel />
            </section>
            <section class="panel explore" aria-label="Explore the codes" class:omitted=hidden(Panel::Explore)>
                <h2>"Explore the codes"</h2>
                <ExplorePanel />
            </section>
            <section class="panel compare" aria-label="Compare the four experiments" class:omitted=hidden(Panel::Compare)>
                <h2>"Compare the four experiments"</h2>
                <ComparePanel />
            </section>
            <section class="panel table" aria-label="History" class:omitted=hidden(Panel::Table)>
                <HistoryTable />
            </section>
        </main>
    }
}
