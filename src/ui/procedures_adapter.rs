//! ProceduresAdapter: browse by field, search, a procedure's detail with a QR to apply online,
//! and "take a ticket for this" for the queue that takes its field.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{
    AppWindow, Choice, Kiosk, ProcedureDetail, ProcedureRow, ProceduresAdapter, qr_image,
    services_adapter,
};
use crate::assistant::compose::Composer;
use crate::catalogue::{self, Procedure};

fn rows(procs: &[&Procedure]) -> ModelRc<ProcedureRow> {
    let rows: Vec<ProcedureRow> = procs
        .iter()
        .map(|p| ProcedureRow {
            code: p.code.clone().into(),
            name: p.name.clone().into(),
            field: p.field.clone().into(),
            online: !p.online.is_empty(),
        })
        .collect();
    ModelRc::new(VecModel::from(rows))
}

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|d| format!("• {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "https://dichvucong.gov.vn/p/home/..." -> "dichvucong.gov.vn".
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Show one procedure's detail.
pub fn open(app: &AppWindow, kiosk: &Kiosk, code: &str) {
    let Some(p) = kiosk.catalogue.iter().find(|p| p.code == code) else {
        return;
    };
    let service = catalogue::service_for(&kiosk.config, p);
    let a = app.global::<ProceduresAdapter>();
    a.set_detail(ProcedureDetail {
        code: p.code.clone().into(),
        name: p.name.clone().into(),
        field: p.field.clone().into(),
        documents: bullets(&p.documents).into(),
        fee: p.fee.clone().into(),
        time: p.time.clone().into(),
        steps: p
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
            .into(),
        online: if p.online.is_empty() {
            SharedString::from("Thủ tục này chỉ nộp trực tiếp tại Bộ phận một cửa.")
        } else {
            // The site's name only: a whole URL breaks over lines and nobody types it; the QR
            // beside it carries the link.
            format!(
                "Có thể nộp trực tuyến: quét mã QR để mở trang nộp hồ sơ ({})",
                host_of(&p.online)
            )
            .into()
        },
        service_vi: service
            .map(|s| s.name.vi.clone())
            .unwrap_or_default()
            .into(),
        service_en: service
            .map(|s| s.name.en.clone())
            .unwrap_or_default()
            .into(),
    });
    a.set_detail_qr(if p.online.is_empty() {
        slint::Image::default()
    } else {
        qr_image(&p.online, 6)
    });
    a.set_can_take_ticket(service.is_some());
    a.set_showing_detail(true);
}

/// "Take a ticket for this procedure": the queue of its field, the field as quota bucket.
pub fn take_ticket(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>, code: &str) {
    let Some(p) = kiosk.catalogue.iter().find(|p| p.code == code) else {
        return;
    };
    if let Some(service) = catalogue::service_for(&kiosk.config, p) {
        // The field is the quota bucket of a ticket taken for a procedure.
        {
            let mut c = choice.borrow_mut();
            c.field = Some(p.field.clone());
            c.procedure = Some(p.code.clone());
        }
        services_adapter::after_choosing(app, kiosk, choice, &service.id);
    }
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) {
    let a = app.global::<ProceduresAdapter>();
    let mut fields: Vec<String> = kiosk.catalogue.iter().map(|p| p.field.clone()).collect();
    fields.sort();
    fields.dedup();
    let fields: Vec<SharedString> = fields.into_iter().map(Into::into).collect();
    a.set_fields(ModelRc::new(VecModel::from(fields)));
    let all: Vec<&Procedure> = kiosk.catalogue.iter().collect();
    a.set_rows(rows(&all));

    // The query typed so far on the on-screen keyboard, to combine with a field chip.
    let composer = Rc::new(RefCell::new(Composer::new(true)));
    let refresh = {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        let composer = Rc::clone(&composer);
        move || {
            if let Some(app) = weak.upgrade() {
                let a = app.global::<ProceduresAdapter>();
                let c = composer.borrow();
                let query = c.text();
                a.set_query(query.clone().into());
                a.set_telex(c.telex());
                let hits = catalogue::search(&kiosk.catalogue, &query, &a.get_field());
                a.set_rows(rows(&hits));
            }
        }
    };
    {
        let (refresh, composer) = (refresh.clone(), Rc::clone(&composer));
        a.on_search(move |text| {
            composer.borrow_mut().set(&text);
            refresh();
        });
    }
    {
        let (refresh, composer) = (refresh.clone(), Rc::clone(&composer));
        a.on_keys(move |keys| {
            for k in keys.chars() {
                composer.borrow_mut().key(k);
            }
            refresh();
        });
    }
    {
        let (refresh, composer) = (refresh.clone(), Rc::clone(&composer));
        a.on_backspace(move || {
            composer.borrow_mut().backspace();
            refresh();
        });
    }
    {
        let (refresh, composer) = (refresh.clone(), Rc::clone(&composer));
        a.on_toggle_telex(move || {
            let on = !composer.borrow().telex();
            composer.borrow_mut().set_telex(on);
            refresh();
        });
    }
    {
        let (refresh, composer, weak) = (refresh.clone(), Rc::clone(&composer), app.as_weak());
        a.on_reset_search(move || {
            let Some(app) = weak.upgrade() else { return };
            let english = app.global::<super::KioskAdapter>().get_language() == "en";
            *composer.borrow_mut() = Composer::new(!english);
            let a = app.global::<ProceduresAdapter>();
            a.set_field(SharedString::new());
            a.set_typing(false);
            refresh();
        });
    }
    {
        let weak = app.as_weak();
        a.on_choose_field(move |field| {
            if let Some(app) = weak.upgrade() {
                app.global::<ProceduresAdapter>().set_field(field);
                refresh();
            }
        });
    }
    {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        a.on_open(move |code| {
            if let Some(app) = weak.upgrade() {
                open(&app, &kiosk, &code);
            }
        });
    }
    {
        let weak = app.as_weak();
        a.on_close_detail(move || {
            if let Some(app) = weak.upgrade() {
                app.global::<ProceduresAdapter>().set_showing_detail(false);
            }
        });
    }
    {
        let weak = app.as_weak();
        let kiosk = kiosk.clone();
        let choice = Rc::clone(choice);
        a.on_take_ticket(move |code| {
            if let Some(app) = weak.upgrade() {
                take_ticket(&app, &kiosk, &choice, &code);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_portal_link_is_shown_by_its_site_name() {
        assert_eq!(
            super::host_of("https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc.html?ma=1"),
            "dichvucong.gov.vn"
        );
        assert_eq!(
            super::host_of("dichvucong.hanoi.gov.vn"),
            "dichvucong.hanoi.gov.vn"
        );
    }
}
