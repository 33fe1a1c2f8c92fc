//! ServicesAdapter and PriorityAdapter: the service tiles (what each is for, waiting, estimate,
//! closed or full and why) and the two ways to a ticket: a tile's tap issues a normal number (or
//! a priority one after the welcome page's priority path chose a group); a procedure's "take a
//! ticket" asks the priority question first (or issues at once when the site has no groups).

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{
    AppWindow, Choice, Kiosk, KioskAdapter, Page, PriorityAdapter, PriorityGroupTile, ServiceTile,
    ServicesAdapter, session, ticket_adapter, wording,
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
            let description = config
                .service(&s.id)
                .map(|c| c.description.clone())
                .unwrap_or_default();
            ServiceTile {
                id: s.id.clone().into(),
                prefix: s.prefix.clone().into(),
                name_vi: s.name_vi.clone().into(),
                name_en: s.name_en.clone().into(),
                description_vi: description.vi.into(),
                description_en: description.en.into(),
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

/// After a procedure's "take a ticket": ask about priority, or issue at once when no groups
/// exist. "Back" returns to the page the citizen came from.
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
    let k = app.global::<KioskAdapter>();
    let p = app.global::<PriorityAdapter>();
    p.set_service_vi(service.name.vi.clone().into());
    p.set_service_en(service.name.en.clone().into());
    p.set_back_to(k.get_page());
    k.set_page(Page::Priority);
}

/// A tile's tap: the ticket at once, with the group chosen on the priority path, if any.
fn tile_tapped(app: &AppWindow, kiosk: &Kiosk, choice: &Rc<RefCell<Choice>>, service_id: &str) {
    let Some(service) = kiosk.config.service(service_id) else {
        app.global::<ServicesAdapter>().set_busy(false);
        return;
    };
    let group = {
        let mut c = choice.borrow_mut();
        c.service_id = Some(service.id.clone());
        c.field = None;
        c.procedure = None;
        c.priority.clone()
    };
    ticket_adapter::issue(app, kiosk, choice, group);
}

/// A group on the priority page: with a service known, the ticket; on the welcome page's path,
/// the service tiles next, marked with the group.
pub(super) fn group_chosen(
    app: &AppWindow,
    kiosk: &Kiosk,
    choice: &Rc<RefCell<Choice>>,
    group: &str,
) {
    if choice.borrow().service_id.is_some() {
        ticket_adapter::issue(app, kiosk, choice, Some(group.to_string()));
        return;
    }
    let Some(g) = kiosk.config.priority_groups.iter().find(|g| g.id == group) else {
        return;
    };
    choice.borrow_mut().priority = Some(g.id.clone());
    let s = app.global::<ServicesAdapter>();
    s.set_priority_vi(g.name.vi.clone().into());
    s.set_priority_en(g.name.en.clone().into());
    app.global::<KioskAdapter>().set_page(Page::Services);
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

    let p = app.global::<PriorityAdapter>();
    {
        let (weak, kiosk, choice) = (app.as_weak(), kiosk.clone(), Rc::clone(choice));
        p.on_issue(move |group| {
            if let Some(app) = weak.upgrade() {
                group_chosen(&app, &kiosk, &choice, &group);
            }
        });
    }
    {
        let (weak, choice) = (app.as_weak(), Rc::clone(choice));
        p.on_start(move || {
            if let Some(app) = weak.upgrade() {
                *choice.borrow_mut() = Choice::default();
                let p = app.global::<PriorityAdapter>();
                p.set_service_vi(Default::default());
                p.set_service_en(Default::default());
                p.set_back_to(Page::Welcome);
                app.global::<KioskAdapter>().set_page(Page::Priority);
            }
        });
    }
    let s = app.global::<ServicesAdapter>();
    {
        let (weak, kiosk, choice) = (app.as_weak(), kiosk.clone(), Rc::clone(choice));
        s.on_choose_service(move |id| {
            if let Some(app) = weak.upgrade() {
                tile_tapped(&app, &kiosk, &choice, &id);
            }
        });
    }
    {
        let (weak, choice) = (app.as_weak(), Rc::clone(choice));
        s.on_cancel_priority(move || {
            if let Some(app) = weak.upgrade() {
                session::go_home(&app, &choice);
            }
        });
    }
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
