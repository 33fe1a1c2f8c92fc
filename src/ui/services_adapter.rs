//! ServicesAdapter: the service tiles (waiting, estimate, closed or full and why) and the choice
//! of a service, which leads to the priority question (or straight to a ticket when the site
//! has no priority groups).

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{
    AppWindow, Choice, Kiosk, KioskAdapter, Page, PriorityAdapter, PriorityGroupTile, ServiceTile,
    ServicesAdapter, ticket_adapter, wording,
};
use crate::config::Config;
use crate::hub::Status;

pub fn apply_status(app: &AppWindow, config: &Config, status: &Status) {
    let tiles: Vec<ServiceTile> = status
        .services
        .iter()
        .map(|s| {
            let (wait_vi, wait_en) = wording::wait_text(s.wait_for_new);
            let (reason_vi, reason_en) = s
                .refusal
                .map(|r| wording::refusal(r, config))
                .unwrap_or_default();
            let fields = config
                .service(&s.id)
                .map(|c| c.fields.join(", "))
                .unwrap_or_default();
            ServiceTile {
                id: s.id.clone().into(),
                prefix: s.prefix.clone().into(),
                name_vi: s.name_vi.clone().into(),
                name_en: s.name_en.clone().into(),
                fields: fields.into(),
                waiting: s.counts.waiting as i32,
                wait_vi: wait_vi.into(),
                wait_en: wait_en.into(),
                available: s.accepting,
                reason_vi: reason_vi.into(),
                reason_en: reason_en.into(),
            }
        })
        .collect();
    app.global::<ServicesAdapter>()
        .set_tiles(ModelRc::new(VecModel::from(tiles)));
}

/// After a service is chosen: ask about priority, or issue at once when no groups exist.
pub fn after_choosing(
    app: &AppWindow,
    kiosk: &Kiosk,
    choice: &Rc<RefCell<Choice>>,
    service_id: &str,
) {
    let Some(service) = kiosk.config.service(service_id) else {
        return;
    };
    choice.borrow_mut().service_id = Some(service.id.clone());
    if kiosk.config.priority_groups.is_empty() {
        app.global::<ServicesAdapter>().set_busy(true);
        ticket_adapter::issue(app, kiosk, choice, None);
        return;
    }
    let p = app.global::<PriorityAdapter>();
    p.set_service_vi(service.name.vi.clone().into());
    p.set_service_en(service.name.en.clone().into());
    app.global::<KioskAdapter>().set_page(Page::Priority);
}

pub fn connect(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>) {
    let groups: Vec<PriorityGroupTile> = kiosk
        .config
        .priority_groups
        .iter()
        .map(|g| PriorityGroupTile {
            id: g.id.clone().into(),
            name_vi: g.name.vi.clone().into(),
            name_en: g.name.en.clone().into(),
            icon: g.id.clone().into(),
            symbol: initials(&g.name.vi).into(),
        })
        .collect();
    app.global::<PriorityAdapter>()
        .set_groups(ModelRc::new(VecModel::from(groups)));

    let weak = app.as_weak();
    let kiosk2 = kiosk.clone();
    let choice2 = Rc::clone(choice);
    app.global::<ServicesAdapter>()
        .on_choose_service(move |id| {
            if let Some(app) = weak.upgrade() {
                choice2.borrow_mut().field = None;
                after_choosing(&app, &kiosk2, &choice2, &id);
            }
        });
}

/// Initials of a group's name, drawn when there is no pictogram for its id
/// ("Người có công" -> "NCC").
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_of_vietnamese_names() {
        assert_eq!(super::initials("Người có công"), "NCC");
        assert_eq!(super::initials("Đảng viên 50 năm tuổi Đảng"), "ĐV5");
    }
}
