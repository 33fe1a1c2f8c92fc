//! HelpAdapter: the digital-citizen guides (both languages; the page picks), with a QR to
//! continue on a phone.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{AppWindow, GuideRow, HelpAdapter, Kiosk, qr_image};
use crate::guides::Guide;

fn strings(items: &[String]) -> ModelRc<SharedString> {
    let v: Vec<SharedString> = items.iter().map(|s| s.clone().into()).collect();
    ModelRc::new(VecModel::from(v))
}

/// Show one guide.
pub fn open(app: &AppWindow, guides: &[Guide], id: &str) {
    let Some(g) = guides.iter().find(|g| g.id == id) else {
        return;
    };
    let h = app.global::<HelpAdapter>();
    h.set_title_vi(g.title_vi.clone().into());
    h.set_title_en(g.title_en.clone().into());
    h.set_steps_vi(strings(&g.steps_vi));
    h.set_steps_en(strings(&g.steps_en));
    h.set_link_text(g.link_text.clone().into());
    h.set_qr(qr_image(&g.link, 6));
    h.set_showing_guide(true);
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk) {
    let h = app.global::<HelpAdapter>();
    let rows: Vec<GuideRow> = kiosk
        .guides
        .iter()
        .map(|g| GuideRow {
            id: g.id.clone().into(),
            title_vi: g.title_vi.clone().into(),
            title_en: g.title_en.clone().into(),
            summary_vi: g.summary_vi.clone().into(),
            summary_en: g.summary_en.clone().into(),
        })
        .collect();
    h.set_guides(ModelRc::new(VecModel::from(rows)));
    {
        let weak = app.as_weak();
        let guides = kiosk.guides.clone();
        h.on_open(move |id| {
            if let Some(app) = weak.upgrade() {
                open(&app, &guides, &id);
            }
        });
    }
    let weak = app.as_weak();
    h.on_close_guide(move || {
        if let Some(app) = weak.upgrade() {
            app.global::<HelpAdapter>().set_showing_guide(false);
        }
    });
}
